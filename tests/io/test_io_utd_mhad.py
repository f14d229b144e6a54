"""UTD-MHAD ``*_skeleton.mat`` reader: real files, geometry, bad and damaged input."""

from __future__ import annotations

import io
import tempfile
from pathlib import Path

import numpy as np
import pytest
import scipy.io
from hypothesis import HealthCheck, given, settings

from damage import damage_ops, damaged

from motionvigil.errors import MotionFileError
from motionvigil.io import Motion, load_motion
from motionvigil.io.layouts import KINECT_UTD, SMPL22
from motionvigil.io.utd_mhad import parse_utd_name, read_utd_mhad
from motionvigil.skeleton.retarget import to_smpl22

BOXING = "utd_mhad/skeleton/a13_s1_t1_skeleton.mat"  # front boxing, 80 frames
SQUAT = "utd_mhad/skeleton/a27_s8_t1_skeleton.mat"


def _bone(motion: Motion, child: str, parent: str) -> np.ndarray:
    j = motion.joints.astype(np.float64)
    return np.linalg.norm(j[:, KINECT_UTD.index(child)] - j[:, KINECT_UTD.index(parent)], axis=-1)


def _mat_bytes(**variables) -> bytes:
    buf = io.BytesIO()
    scipy.io.savemat(buf, variables)
    return buf.getvalue()


def _write_mat(tmp_path: Path, name: str = "a1_s1_t1_skeleton.mat", **variables) -> Path:
    path = tmp_path / name
    path.write_bytes(_mat_bytes(**variables))
    return path


def _skel(frames: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    skel = rng.uniform(-1, 1, size=(20, 3, frames))
    skel[:, 2] += 3.0
    return skel


# --------------------------------------------------------------------------- real files


def test_real_file_shape_rate_and_values(data_path):
    path = data_path(BOXING)
    raw = scipy.io.loadmat(path)["d_skel"]
    motion = read_utd_mhad(path)
    assert motion.layout is KINECT_UTD and motion.num_persons == 1
    assert motion.joints.shape == (80, 20, 3) and motion.fps == 30.0
    np.testing.assert_allclose(motion.joints[5], raw[:, :, 5].astype(np.float32))  # used as stored
    assert (motion.meta["action"], motion.meta["subject"], motion.meta["take"]) == (13, 1, 1)
    assert motion.meta["units"] == "m" and motion.source == str(path)


@pytest.mark.parametrize("rel", [BOXING, SQUAT])
def test_real_file_joint_order_and_axes(data_path, rel):
    """Head highest (Y up, order right), metres (femur), mirror twins, facing the sensor."""
    motion = read_utd_mhad(data_path(rel))
    y = motion.joints[..., 1]
    head_highest = y.argmax(axis=1) == KINECT_UTD.index("head")
    assert head_highest.mean() >= 0.9
    femur = float(np.median(_bone(motion, "left_knee", "left_hip")))
    assert 0.30 <= femur <= 0.55, femur
    for child, parent in [("knee", "hip"), ("ankle", "knee"), ("elbow", "shoulder"), ("wrist", "elbow")]:
        left = np.median(_bone(motion, f"left_{child}", f"left_{parent}"))
        right = np.median(_bone(motion, f"right_{child}", f"right_{parent}"))
        assert abs(left - right) < 0.05, (child, left, right)
    get = lambda name: motion.joints[:, KINECT_UTD.index(name)].astype(np.float64)  # noqa: E731
    forward = np.cross([0.0, 1.0, 0.0], get("right_hip") - get("left_hip"))
    assert (forward[:, 2] < 0).mean() >= 0.9  # faces the sensor
    assert (get("right_shoulder")[:, 0] > get("left_shoulder")[:, 0]).mean() >= 0.9


def test_real_file_retargets_to_smpl22(data_path):
    motion = load_motion(data_path(BOXING))
    smpl = to_smpl22(motion)
    assert smpl.layout is SMPL22 and smpl.fps == 20.0
    assert smpl.joints.shape == ((80 - 1) * 20 // 30 + 1, 22, 3)
    assert smpl.joints[..., 1].argmax(axis=1).tolist().count(SMPL22.index("head")) >= 0.9 * smpl.num_frames


def test_name_parsing():
    assert parse_utd_name("a27_s8_t4_skeleton.mat") == {"action": 27, "subject": 8, "take": 4}
    assert parse_utd_name("take.mat") == {}


# --------------------------------------------------------------------------- bad input


def test_synthetic_file_round_trip(tmp_path):
    skel = _skel(4)
    motion = load_motion(_write_mat(tmp_path, d_skel=skel))
    np.testing.assert_allclose(motion.joints, np.transpose(skel, (2, 0, 1)).astype(np.float32))


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ({"skeleton": _skel(3)}, "no 'd_skel' variable (found: skeleton)"),
        ({"d_skel": _skel(3)[:, :2]}, "must have shape 20 x 3 x frames, got 20 x 2 x 3"),
        ({"d_skel": _skel(3)[:19]}, "must have shape 20 x 3 x frames, got 19 x 3 x 3"),
        ({"d_skel": np.zeros((20, 3, 2, 2))}, "got 20 x 3 x 2 x 2"),
        ({"d_skel": "head"}, "real numbers"),
        ({"d_skel": _skel(3) + 1j}, "real numbers"),
        ({"d_skel": _skel(1)[:, :, 0]}, "1 frame(s); at least 2"),
        ({"d_skel": np.zeros((20, 3, 0))}, "0 frame(s); at least 2"),
    ],
)
def test_bad_variables_are_one_line_errors(tmp_path, variables, message):
    path = _write_mat(tmp_path, **variables)
    with pytest.raises(MotionFileError) as err:
        load_motion(path)
    assert message in str(err.value) and str(path) in str(err.value)
    assert "\n" not in str(err.value)


def test_non_finite_value_names_the_frame(tmp_path):
    skel = _skel(5)
    skel[7, 1, 3] = np.nan
    with pytest.raises(MotionFileError, match=r"at frame 3, joint 7"):
        read_utd_mhad(_write_mat(tmp_path, d_skel=skel))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "file is empty"),
        (b"head 0.1 0.2 0.3\n", "not a MATLAB v5 .mat file"),
        (b"\x89HDF\r\n\x1a\n" + bytes(600), "MATLAB v7.3 (HDF5)"),
        (_mat_bytes(d_skel=_skel(3))[:200], "cannot read MATLAB file"),
    ],
)
def test_not_matlab_empty_or_truncated(tmp_path, data, message):
    path = tmp_path / "a1_s1_t1_skeleton.mat"
    path.write_bytes(data)
    with pytest.raises(MotionFileError) as err:
        load_motion(path)
    assert message in str(err.value) and str(path) in str(err.value)


_OPS = damage_ops(b"")
_VALID = _mat_bytes(d_skel=_skel(3, seed=4))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=_OPS)
def test_damaged_files_give_motion_or_motion_file_error(ops):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "a1_s1_t1_skeleton.mat"
        path.write_bytes(damaged(_VALID, ops))
        try:
            motion = read_utd_mhad(path)
        except MotionFileError as exc:
            assert exc.path == str(path) and "\n" not in str(exc)
            return
    assert motion.joints.shape[1:] == (20, 3) and motion.num_frames >= 2
    assert np.isfinite(motion.joints).all()


def test_lost_frames_are_repaired_or_refused(tmp_path):
    skel = _skel(6)
    skel[:, :, [0, 3]] = 0.0  # Kinect lost the skeleton in frames 0 and 3
    motion = read_utd_mhad(_write_mat(tmp_path, d_skel=skel))
    assert motion.num_frames == 5 and motion.meta["lost_frames"].tolist() == [0, 3]
    assert motion.meta["kept_rows"] == (1, 6)
    np.testing.assert_allclose(motion.joints[2], (skel[:, :, 2] + skel[:, :, 4]).astype(np.float32) / 2, atol=1e-6)
    skel = _skel(6)
    skel[:, :, 1:5] = 0.0  # 4 of the 6 frames between the first and last tracked one
    with pytest.raises(MotionFileError, match="cannot be repaired"):
        read_utd_mhad(_write_mat(tmp_path, name="a1_s1_t2_skeleton.mat", d_skel=skel))
    with pytest.raises(MotionFileError, match="never tracked"):
        read_utd_mhad(_write_mat(tmp_path, name="a1_s1_t3_skeleton.mat", d_skel=np.zeros((20, 3, 4))))
