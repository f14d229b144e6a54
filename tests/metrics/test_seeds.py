"""The interval over training seeds."""

from __future__ import annotations

import math

import numpy as np
from scipy.stats import t

from motionvigil.metrics.seeds import seed_interval


def test_student_t_interval_over_three_seeds():
    res = seed_interval([0.80, 0.90, 1.00])
    half = t.ppf(0.975, 2) * np.std([0.8, 0.9, 1.0], ddof=1) / math.sqrt(3)
    assert res["n"] == 3 and math.isclose(res["mean"], 0.9)
    assert np.allclose(res["ci"], [0.9 - half, 0.9 + half])
    assert 4.30 < t.ppf(0.975, 2) < 4.31  # wide on purpose with three seeds


def test_nan_values_are_skipped_and_one_value_has_no_interval():
    res = seed_interval([0.5, float("nan")])
    assert res["n"] == 1 and res["mean"] == 0.5 and all(math.isnan(v) for v in res["ci"])
    assert seed_interval([])["n"] == 0


def test_rate_intervals_are_clipped_to_their_range():
    res = seed_interval([0.99, 1.0, 0.90], bounds=(0.0, 1.0))
    assert res["ci"][1] == 1.0 and res["ci"][0] < res["mean"]
    assert seed_interval([0.99, 1.0, 0.90])["ci"][1] > 1.0
