"""SBU Kinect Interaction ``skeleton_pos.txt`` reader: two persons in one frame."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

from damage import damage_ops, damaged

from motionvigil.errors import MotionFileError
from motionvigil.io import Motion, load_motion
from motionvigil.io.layouts import KINECT_SBU15, SMPL22
from motionvigil.io.sbu import metres_to_sbu, read_sbu, sbu_to_metres
from motionvigil.skeleton.retarget import to_smpl22

APPROACH = "sbu_kinect/s01s02/01/001/skeleton_pos.txt"  # approaching, 45 frames
KICK = "sbu_kinect/s03s04/03/001/skeleton_pos.txt"
HUG = "sbu_kinect/s01s02/06/001/skeleton_pos.txt"


def _idx(name: str) -> int:
    return KINECT_SBU15.index(name)


def _standing_pair(frames: int, seed: int = 0) -> np.ndarray:
    """Two plausible bodies ``[2, T, 15, 3]`` in metres, 1.5 m apart, facing each other."""
    rng = np.random.default_rng(seed)
    body = np.array([
        [0, 1.6, 0], [0, 1.4, 0], [0, 1.15, 0], [0, 1.4, 0.18], [0, 1.15, 0.2], [0.1, 0.95, 0.2],
        [0, 1.4, -0.18], [0, 1.15, -0.2], [0.1, 0.95, -0.2], [0, 0.9, 0.1], [0, 0.48, 0.1], [0, 0.08, 0.1],
        [0, 0.9, -0.1], [0, 0.48, -0.1], [0, 0.08, -0.1],
    ])  # fmt: skip
    a = body + [-0.75, 0, 2.5]
    b = body * [-1, 1, -1] + [0.75, 0, 2.5]
    pair = np.stack([np.repeat(a[None], frames, 0), np.repeat(b[None], frames, 0)])
    return pair + rng.normal(0, 0.005, pair.shape)


def _sbu_text(pair: np.ndarray, first_frame: int = 10) -> str:
    norm = metres_to_sbu(pair)  # [2, T, 15, 3]
    lines = []
    for t in range(pair.shape[1]):
        values = norm[:, t].ravel()
        lines.append(",".join([str(first_frame + t)] + [f"{v:.6f}" for v in values]))
    return "\n".join(lines) + "\n"


def _write(tmp_path: Path, text: str | bytes, name: str = "skeleton_pos.txt") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return path


def _forward(joints: np.ndarray) -> np.ndarray:
    """``up x (right_hip - left_hip)`` for ``[..., 15, 3]`` joints."""
    return np.cross([0.0, 1.0, 0.0], joints[..., _idx("right_hip"), :] - joints[..., _idx("left_hip"), :])


# --------------------------------------------------------------------------- real files


def test_real_file_two_persons_rate_and_conversion(data_path):
    path = data_path(APPROACH)
    first = [float(v) for v in path.read_text().splitlines()[0].split(",")]
    motion = read_sbu(path)
    assert motion.layout is KINECT_SBU15
    assert motion.joints.shape == (2, 45, 15, 3) and motion.num_persons == 2
    assert motion.person_ids == (0, 1) and motion.present is None and motion.fps == 15.0
    x, y, z = first[1:4]  # person 0's head in frame 0
    expected = [(1280 - x * 2560) / 1000, (960 - y * 1920) / 1000, z * 10000 / 7.8125 / 1000]
    np.testing.assert_allclose(motion.joints[0, 0, 0], expected, rtol=1e-6)
    assert motion.meta["frame_numbers"][0] == int(first[0])
    assert np.all(np.diff(motion.meta["frame_numbers"]) == 1)
    assert motion.meta["take"] == "s01s02/01/001"


@pytest.mark.parametrize("rel", [APPROACH, KICK, HUG])
def test_real_file_joint_order_units_and_mirror(data_path, rel):
    motion = read_sbu(data_path(rel))
    for body in motion.bodies.astype(np.float64):
        y = body[..., 1]
        if rel == APPROACH:  # standing and walking: the head is the highest joint
            assert (y.argmax(axis=1) == _idx("head")).mean() >= 0.95
        hips = (y[:, _idx("left_hip")] + y[:, _idx("right_hip")]) / 2
        upright = (y[:, _idx("head")] > y[:, _idx("neck")]) & (y[:, _idx("neck")] > y[:, _idx("torso")])
        assert (upright & (y[:, _idx("torso")] > hips)).mean() >= 0.95  # Y up, trunk order right
        femur = np.median(np.linalg.norm(body[:, _idx("left_knee")] - body[:, _idx("left_hip")], axis=-1))
        assert 0.38 <= femur <= 0.48, femur
        for child, parent in [("knee", "hip"), ("foot", "knee"), ("elbow", "shoulder"), ("hand", "elbow")]:
            left = np.median(np.linalg.norm(body[:, _idx(f"left_{child}")] - body[:, _idx(f"left_{parent}")], axis=-1))
            right = np.median(np.linalg.norm(body[:, _idx(f"right_{child}")] - body[:, _idx(f"right_{parent}")], axis=-1))
            assert abs(left - right) < 0.06, (child, left, right)


def test_real_approach_persons_face_each_other_and_close_in(data_path):
    motion = read_sbu(data_path(APPROACH))
    joints = motion.bodies.astype(np.float64)
    torso = joints[:, :, _idx("torso")]
    towards_other = torso[::-1] - torso  # [2, T, 3]
    facing = np.sum(_forward(joints) * towards_other, axis=-1) > 0
    assert facing.mean() >= 0.95  # right-handed, left/right as labelled
    gap = np.linalg.norm(torso[0] - torso[1], axis=-1)
    assert 1.2 <= gap[0] <= 2.0 and 0.3 <= gap[-1] <= 0.7  # a real distance in one shared frame
    assert abs(np.median(joints[0, :, _idx("left_foot"), 1]) - np.median(joints[1, :, _idx("left_foot"), 1])) < 0.15


def test_real_file_retargets_keeping_persons(data_path):
    motion = load_motion(data_path(APPROACH))
    smpl = to_smpl22(motion, canonical=False)
    assert smpl.layout is SMPL22 and smpl.joints.shape == (2, (45 - 1) * 20 // 15 + 1, 22, 3)
    assert smpl.person_ids == (0, 1)
    # shared frame kept: SMPL pelvis is the hip midpoint of each body
    hips = (motion.joints[:, 0, _idx("left_hip")] + motion.joints[:, 0, _idx("right_hip")]) / 2
    np.testing.assert_allclose(smpl.joints[:, 0, SMPL22.index("pelvis")], hips, atol=1e-5)


def test_load_motion_sniffs_renamed_sbu_file(tmp_path):
    pair = _standing_pair(3)
    motion = load_motion(_write(tmp_path, _sbu_text(pair), name="take.txt"))
    assert motion.layout is KINECT_SBU15 and motion.num_persons == 2
    np.testing.assert_allclose(motion.bodies, pair, atol=1e-5)


# --------------------------------------------------------------------------- bad input


def _lines(pair_frames: int = 3) -> list[str]:
    return _sbu_text(_standing_pair(pair_frames)).splitlines()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "file holds no data lines"),
        ("\n".join(_lines()[:1]), "1 frame(s); at least 2"),
        ("\n".join(_lines()[:1] + [_lines()[1].rsplit(",", 1)[0]]), "line 2: expected 91 values, found 90"),
        ("\n".join(_lines()[:2] + [_lines()[2] + ",0.5"]), "line 3: expected 91 values, found 92"),
        ("\n".join(_lines()[:1] + [_lines()[1].replace(",", ",abc,", 1).rsplit(",", 1)[0]]), "line 2: 'abc' is not"),
        ("\n".join(_lines()[:1] + [_lines()[1].replace(",", ",nan,", 1).rsplit(",", 1)[0]]), "non-finite value"),
        ("\n".join([_lines()[0], _lines()[0]]), "frame number 10 repeats"),
        ("\n".join([_lines()[1], _lines()[0]]), "frame number 10 is below"),
        ("\n".join(["1.5" + ln[2:] for ln in _lines()]), "is not a non-negative integer"),
        ("a,b\x00c", "not a text file"),
    ],
)
def test_bad_files_are_one_line_errors(tmp_path, text, message):
    path = _write(tmp_path, text)
    with pytest.raises(MotionFileError) as err:
        load_motion(path)
    assert message in str(err.value) and str(path) in str(err.value) and "\n" not in str(err.value)


def test_person_never_tracked_is_an_error(tmp_path):
    pair = _standing_pair(3)
    text = _sbu_text(pair).splitlines()
    zeroed = [",".join(ln.split(",")[:46] + ["0"] * 45) for ln in text]
    with pytest.raises(MotionFileError, match="person 1 is all zeros in every frame"):
        read_sbu(_write(tmp_path, "\n".join(zeroed)))


def test_person_lost_in_some_frames_is_marked_absent_and_filled(tmp_path):
    pair = _standing_pair(5)
    pair[0, 3:] += [0.0, 0.0, 0.2]  # moves, so filler is told from the real frames
    lines = _sbu_text(pair).splitlines()
    lines[1] = ",".join(lines[1].split(",")[:1] + ["0"] * 45 + lines[1].split(",")[46:])
    lines[3] = ",".join(lines[3].split(",")[:1] + ["0"] * 45 + lines[3].split(",")[46:])
    motion = read_sbu(_write(tmp_path, "\n".join(lines)))
    assert motion.present.tolist() == [[True, False, True, False, True], [True] * 5]
    np.testing.assert_allclose(motion.joints[0, 1], motion.joints[0, 0])  # nearest seen frame (earlier on ties)
    np.testing.assert_allclose(motion.joints[0, 3], motion.joints[0, 2])
    np.testing.assert_allclose(motion.joints[1], pair[1], atol=1e-5)  # the other person is untouched


def test_conversion_formula_round_trips():
    pair = _standing_pair(2)
    np.testing.assert_allclose(sbu_to_metres(metres_to_sbu(pair)), pair, atol=1e-12)


_OPS = damage_ops(b"0123456789.,-+eE \t\nnaif")
_VALID = _sbu_text(_standing_pair(3, seed=3)).encode()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=_OPS)
def test_damaged_files_give_motion_or_motion_file_error(ops):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "skeleton_pos.txt"
        path.write_bytes(damaged(_VALID, ops))
        try:
            motion: Motion = read_sbu(path)
        except MotionFileError as exc:
            assert exc.path == str(path) and "\n" not in str(exc)
            return
    assert motion.joints.shape[0] == 2 and motion.joints.shape[2:] == (15, 3) and motion.num_frames >= 2
    assert np.isfinite(motion.joints).all()
    assert np.all(np.diff(motion.meta["frame_numbers"]) > 0)


def test_joint_lost_alone_is_interpolated(tmp_path):
    pair = _standing_pair(5)
    pair[1, :, :, 0] += np.linspace(0, 0.4, 5)[:, None]  # person 1 walks along X
    lines = [ln.split(",") for ln in _sbu_text(pair).splitlines()]
    elbow = 1 + 45 + 3 * _idx("left_elbow")  # person 1's left elbow, frame 2
    lines[2][elbow : elbow + 3] = ["0", "0", "0"]
    motion = read_sbu(_write(tmp_path, "\n".join(",".join(ln) for ln in lines)))
    assert motion.present is None and motion.meta["lost_joints"] == 1
    np.testing.assert_allclose(motion.joints[1, 2, _idx("left_elbow")], pair[1, 2, _idx("left_elbow")], atol=0.02)


def test_joint_never_tracked_is_an_error(tmp_path):
    lines = [ln.split(",") for ln in _sbu_text(_standing_pair(3)).splitlines()]
    for ln in lines:
        ln[1 + 3 * _idx("head") : 4 + 3 * _idx("head")] = ["0", "0", "0"]
    with pytest.raises(MotionFileError, match="person 0: joint head is all zeros in every frame"):
        read_sbu(_write(tmp_path, "\n".join(",".join(ln) for ln in lines)))
