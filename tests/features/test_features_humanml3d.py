"""HumanML3D 263-dim features against the real reference sample 012314."""

from __future__ import annotations

import numpy as np
import pytest

from motionvigil.features.humanml3d import (
    BLOCKS,
    CONTACTS,
    FEATURE_DIM,
    LOCAL_VEL,
    features_to_joints,
    joints_to_features,
    recover_root,
)
from motionvigil.skeleton.quaternion import qinv, qrot
from motionvigil.skeleton.smpl22 import REFERENCE_BONE_LENGTHS, bone_lengths

SAMPLE = "012314.npy"


@pytest.fixture(scope="module")
def sample(data_path):
    joints = np.load(data_path(f"humanml3d/new_joints/{SAMPLE}"))
    feats = np.load(data_path(f"humanml3d/new_joint_vecs/{SAMPLE}"))
    return joints, feats


def full_length_joints(joints: np.ndarray, feats: np.ndarray) -> np.ndarray:
    """HumanML3D stores T feature rows for T+1 processed frames; ``new_joints`` keeps T of
    them. The missing last frame follows from the last row's local velocity."""
    quat, _ = recover_root(feats)
    step = qrot(qinv(quat[-1])[None], feats[-1, LOCAL_VEL].reshape(22, 3))
    return np.concatenate([joints, (joints[-1] + step)[None]], axis=0)


def test_reference_bone_lengths_match_the_sample(sample):
    joints, _ = sample
    lengths = bone_lengths(joints.astype(np.float64))
    assert np.abs(lengths - REFERENCE_BONE_LENGTHS).max() < 2e-6


def test_features_match_reference_on_full_clip(sample):
    joints, ref = sample
    feats = joints_to_features(full_length_joints(joints, ref))
    assert feats.shape == ref.shape == (170, FEATURE_DIM)
    for name, block in BLOCKS.items():
        err = np.abs(feats[:, block] - ref[:, block]).max()
        assert err < 1e-4, f"block {name}: max abs error {err}"


def test_features_from_new_joints_row_for_row(sample):
    """Plain ``new_joints`` (one frame short): rows agree except where HumanML3D's temporal
    smoothing of the facing direction (sigma 20 frames) reaches the missing last frame."""
    joints, ref = sample
    feats = joints_to_features(joints)
    assert feats.shape == (len(joints) - 1, FEATURE_DIM)
    ref = ref[: len(feats)]
    for name in ("root_rot_vel", "root_lin_vel", "root_height", "ric", "local_vel"):
        block = BLOCKS[name]
        assert np.abs(feats[:120, block] - ref[:120, block]).max() < 1e-3, name
        assert np.abs(feats[:, block] - ref[:, block]).max() < 1e-2, name
    contacts_equal = (feats[:, CONTACTS] == ref[:, CONTACTS]).mean()
    assert contacts_equal >= 0.95


def test_recover_joints_from_reference_features(sample):
    joints, ref = sample
    recovered = features_to_joints(ref)
    assert recovered.shape == joints.shape
    assert np.abs(recovered - joints).max() < 1e-3


def test_features_are_invariant_to_start_position_and_heading(sample):
    joints, ref = sample
    base = joints_to_features(full_length_joints(joints, ref))
    angle = 1.1
    rot = np.array([[np.cos(angle), 0, np.sin(angle)], [0, 1, 0], [-np.sin(angle), 0, np.cos(angle)]])
    moved = full_length_joints(joints, ref) @ rot.T + np.array([3.0, 0.5, -2.0])
    assert np.abs(joints_to_features(moved) - base).max() < 1e-4


def test_round_trip_on_other_skeleton_keeps_reference_bone_lengths(sample):
    joints, _ = sample
    stretched = joints.astype(np.float64) * 1.15  # a taller person
    recovered = features_to_joints(joints_to_features(stretched))
    assert np.abs(bone_lengths(recovered.astype(np.float64)) - REFERENCE_BONE_LENGTHS).max() < 1e-4


def test_bad_joint_arrays_are_rejected():
    with pytest.raises(ValueError, match="22, 3"):
        joints_to_features(np.zeros((10, 20, 3)))
    with pytest.raises(ValueError, match="at least 2 frames"):
        joints_to_features(np.zeros((1, 22, 3)))
    bad = np.random.default_rng(0).normal(size=(5, 22, 3))
    bad[2, 3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        joints_to_features(bad)
    with pytest.raises(ValueError, match="263"):
        features_to_joints(np.zeros((4, 262)))
