"""Long motions made by joining short clips end to end (for detection on sequences)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def stitch(parts: Sequence[np.ndarray], blend: int = 6) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """Concatenate ``[T_i, J, 3]`` motions, each moved horizontally to start where the
    previous one ends, with a ``blend``-frame linear cross-fade.

    Returns the joints (float32) and each part's ``[start, end)`` frames in the result
    (a cross-fade is split between its two parts at its middle).
    """
    if not parts:
        raise ValueError("nothing to stitch")
    out = np.asarray(parts[0], dtype=np.float64)
    bounds = [(0, len(out))]
    for part in parts[1:]:
        p = np.array(part, dtype=np.float64)
        p[..., [0, 2]] += out[-1, 0, [0, 2]] - p[0, 0, [0, 2]]
        k = min(blend, len(out) - 1, len(p) - 1)
        start = len(out) - k
        if k > 0:
            w = ((np.arange(k) + 1.0) / (k + 1.0))[:, None, None]
            out = np.concatenate([out[:-k], (1 - w) * out[-k:] + w * p[:k], p[k:]])
        else:
            out = np.concatenate([out, p])
        bounds[-1] = (bounds[-1][0], start + k // 2)
        bounds.append((start + k // 2, len(out)))
    return out.astype(np.float32), bounds
