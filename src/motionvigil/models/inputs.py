"""From clips to encoder inputs: normalised features (TMR) or motion images (ViT).

A :class:`MotionInputs` holds the normalisation statistics fitted on training clips
and turns clips into padded batches ``(x, mask)``:

- ``"tmr"``: HumanML3D features ``[T-1, 263]`` z-scored per dimension, ``x [B, T, 263]``;
- ``"vit"``: motion images ``[3, T, 80]`` z-scored per point, padded to a multiple of
  16 frames, ``x [B, 3, T, 80]``;
- ``"vit_native"``: the same motion images built from each clip's OWN skeleton
  (``clip.meta["native_joints"]``, its layout's chains; see
  :mod:`motionvigil.datasets.native`) instead of the SMPL-22 retargeting;
- ``"unik"``: SMPL-22 joints (canonical frame) z-scored per coordinate, ``x [B, T, 66]``.

Clips longer than ``max_frames`` are cropped: at a random offset when a generator is
given (training), else centred (evaluation).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from motionvigil.datasets.clip import Clip
from motionvigil.datasets.native import native_skeleton
from motionvigil.features.normalize import Normalizer
from motionvigil.features.patches import chain_points, fit_point_stats
from motionvigil.io.layouts import SMPL22

PATCH = 16
_IMAGE_KINDS = ("vit", "vit_native")


def pad_arrays(seqs: Sequence[np.ndarray], length: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Stack ``[L_i, W]`` arrays into float32 ``[B, length, W]``, zero-padded after each one
    (``length``: default the longest), and the bool ``[B, length]`` mask of their rows."""
    length = max(len(s) for s in seqs) if length is None else length
    out = np.zeros((len(seqs), length, seqs[0].shape[-1]), dtype=np.float32)
    mask = np.zeros((len(seqs), length), dtype=bool)
    for i, s in enumerate(seqs):
        out[i, : len(s)] = s
        mask[i, : len(s)] = True
    return out, mask


def _native_points(clip: Clip) -> np.ndarray:
    """Chain points ``[T, 80, 3]`` of the clip's own skeleton."""
    joints, layout = native_skeleton(clip)
    return chain_points(joints, layout)


class MotionInputs:
    def __init__(self, kind: str, normalizer: Normalizer, max_frames: int):
        if kind not in ("tmr", "vit", "unik", "vit_native"):
            raise ValueError(f"unknown encoder input kind {kind!r}")
        self.kind = kind
        self.normalizer = normalizer
        self.max_frames = max_frames

    # ---- fitting and state ----------------------------------------------------------
    @classmethod
    def fit(cls, kind: str, clips: Sequence[Clip], max_frames: int) -> "MotionInputs":
        """Fit normalisation statistics on (training) clips."""
        if not clips:
            raise ValueError("cannot fit input statistics on an empty clip list")
        if kind == "tmr":
            normalizer = Normalizer.fit(c.get_features() for c in clips)
        elif kind == "unik":
            normalizer = Normalizer.fit(c.joints.reshape(c.num_frames, -1) for c in clips)
        elif kind == "vit_native":
            normalizer = fit_point_stats(_native_points(c) for c in clips)
        else:
            normalizer = fit_point_stats(chain_points(c.joints, SMPL22) for c in clips)
        return cls(kind, normalizer, max_frames)

    def state(self) -> dict[str, Any]:
        """JSON-serialisable description (statistics go in as tensors, see ``tensors``)."""
        return {"kind": self.kind, "max_frames": self.max_frames}

    def tensors(self) -> dict[str, torch.Tensor]:
        return {"inputs.mean": torch.from_numpy(self.normalizer.mean), "inputs.std": torch.from_numpy(self.normalizer.std)}

    @classmethod
    def from_state(cls, state: dict[str, Any], tensors: dict[str, torch.Tensor]) -> "MotionInputs":
        normalizer = Normalizer(tensors["inputs.mean"].numpy(), tensors["inputs.std"].numpy())
        return cls(state["kind"], normalizer, int(state["max_frames"]))

    # ---- per clip -------------------------------------------------------------------
    def sequence(self, clip: Clip) -> np.ndarray:
        """The full normalised input sequence of a clip, time first: ``[T, F]``."""
        if self.kind == "tmr":
            return self.normalizer.normalize(clip.get_features())
        if self.kind == "unik":
            return self.normalizer.normalize(clip.joints.reshape(clip.num_frames, -1))
        if self.kind == "vit_native":
            return self.normalizer.normalize(_native_points(clip).reshape(clip.num_frames, -1))
        points = chain_points(clip.joints, SMPL22).reshape(clip.num_frames, -1)
        return self.normalizer.normalize(points)

    def crop(self, seq: np.ndarray, rng: np.random.Generator | None) -> np.ndarray:
        excess = len(seq) - self.max_frames
        if excess <= 0:
            return seq
        start = int(rng.integers(0, excess + 1)) if rng is not None else excess // 2
        return seq[start : start + self.max_frames]

    # ---- batches --------------------------------------------------------------------
    def collate(self, seqs: Sequence[np.ndarray]) -> tuple[torch.Tensor, torch.Tensor]:
        """Pad cropped sequences into ``(x, mask)`` model inputs."""
        frames = max(len(s) for s in seqs)
        if self.kind in _IMAGE_KINDS:
            frames = -(-frames // PATCH) * PATCH
        x, mask = pad_arrays(seqs, frames)
        xt = torch.from_numpy(x)
        if self.kind in _IMAGE_KINDS:  # [B, T, 80*3] -> [B, 3, T, 80]
            xt = xt.reshape(len(seqs), frames, -1, 3).permute(0, 3, 1, 2).contiguous()
        return xt, torch.from_numpy(mask)
