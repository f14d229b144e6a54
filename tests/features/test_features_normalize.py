"""Normalisation statistics: fitting, saving, and loading the published files."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from motionvigil.errors import MotionFileError
from motionvigil.features.humanml3d import BLOCKS, FEATURE_DIM
from motionvigil.features.normalize import Normalizer


def test_fit_matches_numpy_over_concatenated_rows():
    rng = np.random.default_rng(1)
    parts = [rng.normal(2.0, 3.0, size=(n, 5)) for n in (7, 30, 2)]
    stats = Normalizer.fit(parts)
    allrows = np.concatenate(parts)
    np.testing.assert_allclose(stats.mean, allrows.mean(0), rtol=1e-5)
    np.testing.assert_allclose(stats.std, allrows.std(0, ddof=1), rtol=1e-5)
    z = stats.normalize(allrows)
    np.testing.assert_allclose(stats.denormalize(z), allrows, rtol=1e-5, atol=1e-5)


def test_group_std_averages_each_humanml3d_block():
    rng = np.random.default_rng(2)
    stats = Normalizer.fit([rng.normal(size=(50, FEATURE_DIM)) * rng.uniform(0.1, 5, FEATURE_DIM)], group_std=True)
    for name, block in BLOCKS.items():
        assert np.unique(stats.std[block]).size == 1, name


def test_save_load_round_trip(tmp_path):
    stats = Normalizer(np.arange(4.0), np.ones(4) * 2)
    stats.save(tmp_path / "stats.npz")
    again = Normalizer.load(tmp_path / "stats.npz")
    np.testing.assert_array_equal(again.mean, stats.mean)
    np.testing.assert_array_equal(again.std, stats.std)
    assert [p.name for p in tmp_path.iterdir()] == ["stats.npz"]  # no temp files left


def test_load_humanml3d_and_tmr_statistics(shared_data):
    hml = Normalizer.load(shared_data / "humanml3d")
    tmr = Normalizer.load(shared_data / "tmr_stats" / "humanml3d")
    kit = Normalizer.load(shared_data / "tmr_stats" / "kitml")
    assert hml.dim == tmr.dim == kit.dim == FEATURE_DIM
    # HumanML3D's released Std.npy is averaged per block (7 distinct values), TMR's is not
    assert np.unique(hml.std).size == len(BLOCKS)
    assert np.unique(tmr.std).size > 200
    # both describe the same data: root height mean ~ pelvis height of a standing adult
    assert 0.8 < hml.mean[3] < 1.0 and 0.8 < tmr.mean[3] < 1.0


def test_reference_sample_is_in_distribution(data_path, shared_data):
    feats = np.load(data_path("humanml3d/new_joint_vecs/012314.npy"))
    z = Normalizer.load(shared_data / "tmr_stats" / "humanml3d").normalize(feats)
    assert np.abs(z).mean() < 1.5


def test_bad_statistics_files_are_clear_errors(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(MotionFileError, match="no Mean.npy"):
        Normalizer.load(tmp_path / "empty")
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "mean.pt").write_bytes(b"not a torch file")
    torch.save(torch.ones(3), bad / "std.pt")
    with pytest.raises(MotionFileError, match="mean.pt"):
        Normalizer.load(bad)
    zero = tmp_path / "zero"
    zero.mkdir()
    np.save(zero / "Mean.npy", np.zeros(3))
    np.save(zero / "Std.npy", np.array([1.0, 0.0, 1.0]))
    with pytest.raises(MotionFileError, match="positive"):
        Normalizer.load(zero)
