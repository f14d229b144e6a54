"""Retargeting every real format to SMPL-22 at 20 Hz, checked by geometry."""

from __future__ import annotations

import numpy as np
import pytest

from motionvigil.errors import MotionFileError
from motionvigil.io import SMPL22, Motion, load_motion
from motionvigil.io.motion import Layout
from motionvigil.skeleton import mapping_matrix, resample_joints, to_smpl22

I = {name: i for i, name in enumerate(SMPL22.joint_names)}

REAL_FILES = {
    "bandai_bvh": "bandai2/data/dataset-2_walk_normal_001.bvh",
    "cmu_asf": "hdm05/train/6/HDM_bd_kickLFront1Reps_001_120.amc",
    "kinect_msr": "msr_action3d/skeletons/a14_s01_e01_skeleton3D.txt",
    "kinect_sdk": "utkinect/joints/joints_s01_e01.txt",
    "kinect_utd": "utd_mhad/skeleton/a26_s2_t1_skeleton.mat",
    "smpl22": "humanml3d/new_joints/012314.npy",
}


@pytest.fixture(scope="module", params=sorted(REAL_FILES))
def retargeted(request, data_path):
    source = load_motion(data_path(REAL_FILES[request.param]))
    assert source.layout.name == request.param
    return source, to_smpl22(source)


def test_layout_rate_and_length(retargeted):
    source, smpl = retargeted
    assert smpl.layout == SMPL22 and smpl.fps == 20.0
    expected = int(np.floor((source.num_frames - 1) * 20.0 / source.fps + 1e-6)) + 1
    assert smpl.num_frames == expected


def test_head_above_pelvis_above_feet(retargeted):
    _, smpl = retargeted
    j = smpl.joints
    assert (j[:, I["head"], 1] > j[:, I["pelvis"], 1]).mean() >= 0.9
    feet = j[:, [I["left_ankle"], I["right_ankle"]], 1].min(1)
    assert (j[:, I["pelvis"], 1] > feet).mean() >= 0.9


def test_floor_origin_and_facing(retargeted):
    _, smpl = retargeted
    j = smpl.joints
    assert abs(j[..., 1].min()) < 1e-5
    np.testing.assert_allclose(j[0, I["pelvis"], [0, 2]], 0.0, atol=1e-5)
    # facing +Z: the person's left is +X (SMPL convention)
    assert j[0, I["left_hip"], 0] > j[0, I["right_hip"], 0]
    assert j[0, I["left_shoulder"], 0] > j[0, I["right_shoulder"], 0]


def test_not_mirrored_toes_point_forward(retargeted):
    """Left/right labels and facing come from the hips; the toes are independent
    evidence: a mirrored skeleton would have its feet pointing backwards."""
    _, smpl = retargeted
    j = smpl.joints.astype(np.float64)
    across = (j[:, I["right_hip"]] - j[:, I["left_hip"]]) + (j[:, I["right_shoulder"]] - j[:, I["left_shoulder"]])
    forward = np.cross([0.0, 1.0, 0.0], across)
    forward /= np.linalg.norm(forward, axis=-1, keepdims=True)
    for side in ("left", "right"):
        toe = j[:, I[f"{side}_foot"]] - j[:, I[f"{side}_ankle"]]
        assert (np.einsum("tc,tc->t", toe, forward) > 0).mean() >= 0.8, side


def test_plausible_bone_lengths(retargeted):
    _, smpl = retargeted
    j = smpl.joints
    for side in ("left", "right"):
        femur = np.median(np.linalg.norm(j[:, I[f"{side}_knee"]] - j[:, I[f"{side}_hip"]], axis=-1))
        shin = np.median(np.linalg.norm(j[:, I[f"{side}_ankle"]] - j[:, I[f"{side}_knee"]], axis=-1))
        upper_arm = np.median(np.linalg.norm(j[:, I[f"{side}_elbow"]] - j[:, I[f"{side}_shoulder"]], axis=-1))
        assert 0.3 < femur < 0.6, (side, femur)
        assert 0.3 < shin < 0.6, (side, shin)
        assert 0.2 < upper_arm < 0.4, (side, upper_arm)


def test_mapping_rows_are_convex_mixes():
    from motionvigil.io.layouts import KINECT_MSR, KINECT_SBU15, KINECT_SDK, KINECT_UTD

    for layout in (SMPL22, KINECT_MSR, KINECT_SDK, KINECT_UTD):
        m = mapping_matrix(layout)
        assert m.shape == (22, layout.num_joints)
        np.testing.assert_allclose(m.sum(1), 1.0)
        assert (m >= 0).all()
    np.testing.assert_array_equal(mapping_matrix(SMPL22), np.eye(22))
    # SBU has no toes: only SMPL's feet extrapolate the shin past the ankle (rows still sum to 1)
    m = mapping_matrix(KINECT_SBU15)
    np.testing.assert_allclose(m.sum(1), 1.0)
    assert sorted(SMPL22.joint_names[r] for r in np.flatnonzero((m < 0).any(1))) == ["left_foot", "right_foot"]


def test_resample_120_to_20_is_every_sixth_frame():
    x = np.random.default_rng(0).normal(size=(121, 3, 3))
    np.testing.assert_allclose(resample_joints(x, 120, 20), x[::6], atol=1e-6)


def test_resample_15_to_20_interpolates_linearly():
    t = np.arange(16) / 15.0
    x = np.stack([t, 2 * t, -t], -1)[:, None, :]  # linear in time
    y = resample_joints(x, 15, 20)
    assert len(y) == 21
    np.testing.assert_allclose(y[:, 0, 0], np.arange(21) / 20.0, atol=1e-6)


def test_unknown_layout_and_too_short_are_clear_errors():
    weird = Motion(np.zeros((10, 2, 3)), 30.0, Layout("mystery", ("a", "b"), (-1, 0)), source="x.npz")
    with pytest.raises(MotionFileError, match="x.npz.*no SMPL-22 mapping"):
        to_smpl22(weird)
    short = Motion(np.random.default_rng(0).normal(size=(2, 22, 3)), 120.0, SMPL22, source="short.npz")
    with pytest.raises(MotionFileError, match="short.npz.*too short"):
        to_smpl22(short)
