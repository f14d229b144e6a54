"""Per-dimension feature normalisation statistics (mean / std).

Reads and writes the two published conventions:

- HumanML3D: ``Mean.npy`` / ``Std.npy`` (numpy arrays),
- TMR: ``mean.pt`` / ``std.pt`` (torch tensors, loaded with ``weights_only=True``),

and motionvigil's own ``stats.npz`` (``mean``, ``std``), written atomically.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from motionvigil.atomic import atomic_path
from motionvigil.errors import MotionFileError
from motionvigil.features.humanml3d import BLOCKS

MIN_STD = 1e-8


@dataclass(frozen=True)
class Normalizer:
    """``(x - mean) / std`` over the last dimension, and its inverse."""

    mean: np.ndarray
    std: np.ndarray

    def __post_init__(self) -> None:
        mean = np.asarray(self.mean, dtype=np.float32).reshape(-1)
        std = np.asarray(self.std, dtype=np.float32).reshape(-1)
        if mean.shape != std.shape:
            raise ValueError(f"mean has {mean.size} dims but std has {std.size}")
        if not (np.isfinite(mean).all() and np.isfinite(std).all()):
            raise ValueError("normalisation statistics contain NaN or inf")
        if (std <= 0).any():
            raise ValueError("normalisation std must be positive in every dimension")
        object.__setattr__(self, "mean", mean)
        object.__setattr__(self, "std", std)

    @property
    def dim(self) -> int:
        return int(self.mean.size)

    def normalize(self, x: np.ndarray) -> np.ndarray:
        return ((np.asarray(x, dtype=np.float32) - self.mean) / self.std).astype(np.float32)

    def denormalize(self, x: np.ndarray) -> np.ndarray:
        return (np.asarray(x, dtype=np.float32) * self.std + self.mean).astype(np.float32)

    # ---- construction ------------------------------------------------------------------
    @classmethod
    def fit(cls, features: Iterable[np.ndarray], group_std: bool = False) -> "Normalizer":
        """Statistics over the rows of all ``features`` arrays (``[T_i, D]`` each).

        Args:
            group_std: replace the std of each HumanML3D block (root rotation velocity,
                root linear velocity, root height, ric, rotations, local velocity,
                contacts) by its mean over the block, as HumanML3D's released ``Std.npy``
                does; only valid for 263-dim features.

        Computed in float64 with running sums, so the clips need not fit in memory at once.
        """
        count, total, total_sq = 0, None, None
        for arr in features:
            arr = np.asarray(arr, dtype=np.float64)
            if arr.ndim != 2:
                raise ValueError(f"features must be [frames, dims], got shape {arr.shape}")
            if total is None:
                total, total_sq = np.zeros(arr.shape[1]), np.zeros(arr.shape[1])
            elif arr.shape[1] != total.size:
                raise ValueError(f"feature arrays disagree in width: {arr.shape[1]} vs {total.size}")
            count += arr.shape[0]
            total += arr.sum(0)
            total_sq += (arr**2).sum(0)
        if count < 2:
            raise ValueError("need at least 2 feature rows to compute statistics")
        mean = total / count
        std = np.sqrt(np.maximum(total_sq / count - mean**2, 0.0) * count / (count - 1))
        if group_std:
            if std.size != max(b.stop for b in BLOCKS.values()):
                raise ValueError("group_std needs 263-dim HumanML3D features")
            for block in BLOCKS.values():
                std[block] = std[block].mean()
        return cls(mean, np.maximum(std, MIN_STD))

    # ---- files -------------------------------------------------------------------------
    def save(self, path: str | Path) -> None:
        """Write ``mean`` and ``std`` to an ``.npz`` file atomically."""
        with atomic_path(path) as tmp:
            with open(tmp, "wb") as fh:
                np.savez(fh, mean=self.mean, std=self.std)

    @classmethod
    def load(cls, path: str | Path) -> "Normalizer":
        """Load statistics from a folder or file in any supported convention.

        ``path`` may be: a folder with ``Mean.npy``/``Std.npy`` (HumanML3D) or
        ``mean.pt``/``std.pt`` (TMR), or a motionvigil ``.npz`` file.
        """
        path = Path(path)
        if path.is_dir():
            for mean_name, std_name in (("Mean.npy", "Std.npy"), ("mean.pt", "std.pt")):
                if (path / mean_name).is_file() and (path / std_name).is_file():
                    return cls._from_pair(path / mean_name, path / std_name)
            raise MotionFileError(path, "no Mean.npy/Std.npy or mean.pt/std.pt in this folder")
        if not path.is_file():
            raise MotionFileError(path, "no such file")
        try:
            with np.load(path, allow_pickle=False) as data:
                return cls._checked(path, data["mean"], data["std"])
        except (OSError, ValueError, KeyError) as exc:
            raise MotionFileError(path, f"not a statistics .npz with 'mean' and 'std' ({exc})") from None

    @classmethod
    def _from_pair(cls, mean_path: Path, std_path: Path) -> "Normalizer":
        return cls._checked(mean_path, _load_array(mean_path), _load_array(std_path))

    @classmethod
    def _checked(cls, path: Path, mean: np.ndarray, std: np.ndarray) -> "Normalizer":
        try:
            return cls(mean, std)
        except ValueError as exc:
            raise MotionFileError(path, str(exc)) from None


def _load_array(path: Path) -> np.ndarray:
    """A 1-D float array from ``.npy`` (no pickles) or ``.pt`` (``weights_only=True``)."""
    try:
        if path.suffix == ".pt":
            import torch

            value = torch.load(path, map_location="cpu", weights_only=True)
            if not isinstance(value, torch.Tensor):
                raise ValueError(f"expected a tensor, found {type(value).__name__}")
            return value.detach().cpu().double().numpy()
        return np.load(path, allow_pickle=False)
    except Exception as exc:  # torch and numpy raise many types for corrupt files
        raise MotionFileError(path, f"cannot read statistics ({exc})") from None
