"""Curve and easing helpers of the synthetic action library.

Everything here maps times or phases (numpy arrays) to curve values; the noise helper
draws from the ``numpy.random.Generator`` it is given, so it stays deterministic.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.ndimage import gaussian_filter1d


def smoothstep(x: np.ndarray) -> np.ndarray:
    """0 -> 1 with zero slope at both ends (x clipped to [0, 1])."""
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


def track(t: np.ndarray, times: Any, values: Any) -> np.ndarray:
    """Keyframe curve: ``values[i]`` at ``times[i]``, smoothstep between keys, held outside."""
    times = np.asarray(times, dtype=np.float64)
    values = np.asarray(values, dtype=np.float64)
    i = np.clip(np.searchsorted(times, t, side="right") - 1, 0, len(times) - 2)
    span = np.maximum(times[i + 1] - times[i], 1e-6)
    return values[i] + (values[i + 1] - values[i]) * smoothstep((t - times[i]) / span)


def bump(phase: np.ndarray, power: float = 2.0) -> np.ndarray:
    """Periodic bump in [0, 1], 1 at phase 0 (mod 2 pi)."""
    return ((1.0 + np.cos(phase)) / 2.0) ** power


def smooth_noise(rng: np.random.Generator, shape: tuple[int, ...], sigma: float) -> np.ndarray:
    """Low-pass gaussian noise along axis 0 with unit standard deviation."""
    white = rng.standard_normal(shape)
    out = gaussian_filter1d(white, sigma, axis=0, mode="reflect")
    return out / max(float(out.std()), 1e-9)
