"""Spread over independent training seeds: mean and a 95% confidence interval.

A headline row repeats every trained part (pre-training, meta-training, supervised
head) with a few seeds. With n seeds the interval is the Student-t one,
``mean +- t(0.975, n-1) * sd / sqrt(n)`` (sample sd, ``ddof=1``): it assumes the seed-to-
seed values are roughly normal, which a bootstrap over three values could not check
either, and it is wide on purpose (t = 4.30 for n = 3).
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
from scipy.stats import t as student_t


def seed_interval(values: Iterable[float], level: float = 0.95,
                  bounds: tuple[float, float] | None = None) -> dict[str, float | int | list[float]]:
    """``{"mean", "ci": [lo, hi], "n", "values"}`` over the finite values (NaN skipped).

    ``bounds``: the metric's range (e.g. ``(0, 1)`` for a rate); the interval is clipped
    to it. One value gives an interval of ``[nan, nan]`` (no spread can be estimated)."""
    vals = [float(v) for v in values if v is not None and math.isfinite(float(v))]
    n = len(vals)
    if n == 0:
        return {"mean": float("nan"), "ci": [float("nan"), float("nan")], "n": 0, "values": []}
    mean = float(np.mean(vals))
    if n == 1:
        return {"mean": mean, "ci": [float("nan"), float("nan")], "n": 1, "values": vals}
    half = float(student_t.ppf(0.5 + level / 2, n - 1) * np.std(vals, ddof=1) / math.sqrt(n))
    lo, hi = mean - half, mean + half
    if bounds is not None:
        lo, hi = max(lo, bounds[0]), min(hi, bounds[1])
    return {"mean": mean, "ci": [lo, hi], "n": n, "values": vals}


__all__ = ["seed_interval"]
