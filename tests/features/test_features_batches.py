"""Descriptors of a batch of windows: each row is what its window alone gives, whatever
the batch holds (other lengths, other motion), so batching for speed changes no score."""

from __future__ import annotations

import numpy as np
import pytest

from motionvigil.detect.head import kinematic_matrix
from motionvigil.detect.model import pair_matrix, person_matrix
from motionvigil.features.interaction import interaction_features
from motionvigil.features.kinematics import kinematic_features, rows_by_length, strike_features


def walkers(n: int, seed: int) -> list[np.ndarray]:
    """``n`` random smooth motions of 22 joints, of lengths 12-70 frames."""
    rng = np.random.default_rng(seed)
    base = rng.normal(0.0, 0.4, (22, 3)) + [0.0, 1.0, 0.0]
    return [(base + np.cumsum(rng.normal(0.0, 0.02, (int(rng.integers(12, 70)), 22, 3)), axis=0)).astype(np.float32)
            for _ in range(n)]


@pytest.mark.parametrize("features", [kinematic_features, strike_features])
def test_a_batch_row_is_its_window_alone(features):
    windows = [w for w in walkers(9, 1) if len(w) >= 2]
    same = [w[:12] for w in windows]
    rows = features(np.stack(same))
    for w, row in zip(same, rows):
        np.testing.assert_allclose(row, features(w), rtol=1e-6, atol=1e-6)
    assert rows.shape == (len(same), features(same[0]).size)


def test_interaction_rows_follow_their_own_pair():
    a, b = walkers(6, 2), walkers(6, 3)
    a, b = np.stack([w[:12] for w in a]), np.stack([w[:12] for w in b])
    rows = interaction_features(a, b)
    for i in range(len(a)):
        np.testing.assert_allclose(rows[i], interaction_features(a[i], b[i]), rtol=1e-6, atol=1e-6)
    with pytest.raises(ValueError, match="interaction"):
        interaction_features(a, b[:3])


def test_matrices_of_mixed_lengths_keep_the_input_order():
    windows = walkers(15, 4)
    person = person_matrix(windows)
    for i in (0, 7, 14):
        np.testing.assert_allclose(person[i], person_matrix([windows[i]])[0], rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(kinematic_matrix(windows)[3], kinematic_features(windows[3]), rtol=1e-6, atol=1e-6)
    others = walkers(15, 5)
    pairs = pair_matrix(windows, [o[: len(w)] if len(o) >= len(w) else np.resize(o, w.shape)
                                  for w, o in zip(windows, others)])
    assert pairs.shape[0] == 15 and np.isfinite(pairs).all()


def test_rows_by_length_splits_large_groups_into_chunks():
    windows = [np.full((3, 2), i, np.float64) for i in range(7)]
    rows = rows_by_length(lambda b: b[:, 0, :1] * 2.0, windows, width=1, chunk=3)
    np.testing.assert_array_equal(rows[:, 0], np.arange(7) * 2.0)


def test_a_bad_batch_names_the_descriptors():
    with pytest.raises(ValueError, match="kinematic features need SMPL-22"):
        kinematic_features(np.zeros((2, 5, 21, 3)))
    bad = np.zeros((2, 5, 22, 3))
    bad[1, 2, 3, 0] = np.nan
    with pytest.raises(ValueError, match="strike features need finite"):
        strike_features(bad)
