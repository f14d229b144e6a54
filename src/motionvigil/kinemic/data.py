"""Clips -> normalised, cropped, padded feature batches for the denoiser."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from motionvigil.datasets.clip import Clip
from motionvigil.features.normalize import Normalizer

MIN_FRAMES = 8  # shorter feature sequences are not used for training


def clip_sequences(clips: Sequence[Clip], normalizer: Normalizer) -> list[np.ndarray]:
    """Normalised HumanML3D features ``[T-1, 263]`` of each clip."""
    return [normalizer.normalize(c.get_features()) for c in clips]


def crop(seq: np.ndarray, max_frames: int, rng: np.random.Generator | None) -> np.ndarray:
    """A ``max_frames`` window of ``seq``: random offset with ``rng``, else centred."""
    excess = len(seq) - max_frames
    if excess <= 0:
        return seq
    start = int(rng.integers(0, excess + 1)) if rng is not None else excess // 2
    return seq[start : start + max_frames]


def pad_batch(seqs: Sequence[np.ndarray]) -> tuple[torch.Tensor, torch.Tensor]:
    """``(x [B, T, F], valid [B, T])`` with zeros on padding."""
    frames = max(len(s) for s in seqs)
    x = np.zeros((len(seqs), frames, seqs[0].shape[-1]), np.float32)
    valid = np.zeros((len(seqs), frames), bool)
    for i, s in enumerate(seqs):
        x[i, : len(s)] = s
        valid[i, : len(s)] = True
    return torch.from_numpy(x), torch.from_numpy(valid)


def valid_mask(lengths: Sequence[int]) -> torch.Tensor:
    """``[B, max(lengths)]`` bool mask of the given sequence lengths."""
    n = max(lengths)
    return torch.arange(n)[None, :] < torch.as_tensor(list(lengths))[:, None]
