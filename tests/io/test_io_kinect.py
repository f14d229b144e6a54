"""Kinect v1 readers: MSR Action3D, UTKinect-Action3D joints and UTKinect action labels."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

from damage import damage_ops, damaged

from motionvigil.errors import MotionFileError
from motionvigil.io import KINECT_MSR, KINECT_SDK, Motion, load_motion
from motionvigil.io.kinect import read_msr_action3d, read_utkinect, read_utkinect_labels

MSR_FILE = "msr_action3d/skeletons/a05_s08_e01_skeleton3D.txt"
UTK_FILE = "utkinect/joints/joints_s01_e01.txt"
UTK_LABELS = "utkinect/joints/actionLabel.txt"
UTK_ACTIONS = {
    "walk", "sitDown", "standUp", "pickUp", "carry", "throw", "push", "pull", "waveHands", "clapHands",
}  # fmt: skip


# --------------------------------------------------------------------------- helpers


def _synthetic_joints(num_frames: int, seed: int = 0) -> np.ndarray:
    """Finite joint positions around 2.5 m in front of the sensor (geometry irrelevant)."""
    rng = np.random.default_rng(seed)
    joints = rng.uniform(-1.0, 1.0, size=(num_frames, 20, 3))
    joints[..., 2] += 2.5
    return joints


def _msr_text(joints: np.ndarray, confidence: np.ndarray | None = None) -> str:
    """MSR Action3D text: one ``x y z confidence`` line per joint, 20 per frame."""
    if confidence is None:
        confidence = np.ones(joints.shape[:2])
    rows = np.concatenate([joints.reshape(-1, 3), confidence.reshape(-1, 1)], axis=1)
    return "".join(f"{x:.6f} {y:.6f} {z:.6f} {c:.6f}\n" for x, y, z, c in rows)


def _utk_text(frame_numbers: list[int], joints: np.ndarray) -> str:
    """UTKinect text: ``frame x1 y1 z1 ... x20 y20 z20`` per line."""
    lines = []
    for number, frame in zip(frame_numbers, joints):
        lines.append(f"{number}  " + "  ".join(f"{v:.6f}" for v in frame.ravel()))
    return "\n".join(lines) + "\n"


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def _median_bone(motion: Motion, child: str, parent: str) -> float:
    layout = motion.layout
    bone = motion.joints[:, layout.index(child)] - motion.joints[:, layout.index(parent)]
    return float(np.median(np.linalg.norm(bone, axis=1)))


def _check_body_geometry(motion: Motion, femur_range: tuple[float, float]) -> None:
    """Checks that any correctly ordered, Y-up, metric, right-handed Kinect skeleton passes."""
    layout = motion.layout
    joints = motion.joints.astype(np.float64)
    y = joints[..., 1]
    head_above_hip = y[:, layout.index("head")] > y[:, layout.index("hip_centre")]
    assert head_above_hip.mean() >= 0.9
    shoulders_above_hip = y[:, layout.index("shoulder_centre")] > y[:, layout.index("hip_centre")]
    assert shoulders_above_hip.mean() >= 0.9
    femur = _median_bone(motion, "left_knee", "left_hip")
    assert femur_range[0] <= femur <= femur_range[1], femur
    for child, parent in [("knee", "hip"), ("ankle", "knee"), ("elbow", "shoulder"), ("wrist", "elbow")]:
        left = _median_bone(motion, f"left_{child}", f"left_{parent}")
        right = _median_bone(motion, f"right_{child}", f"right_{parent}")
        assert abs(left - right) < 0.05, (child, left, right)


def _check_right_handed(motion: Motion, min_foot_fraction: float) -> None:
    """forward = up x (right_hip - left_hip) must face the camera (-Z) and lead the feet."""
    joints = motion.joints.astype(np.float64)
    get = lambda name: joints[:, motion.layout.index(name)]  # noqa: E731
    forward = np.cross([0.0, 1.0, 0.0], get("right_hip") - get("left_hip"))
    assert (forward[:, 2] < 0).mean() >= 0.9  # the subjects face the sensor
    foot_ahead = np.concatenate(
        [np.sum((get(f"{s}_foot") - get(f"{s}_ankle")) * forward, axis=1) > 0 for s in ("left", "right")]
    )
    assert foot_ahead.mean() >= min_foot_fraction
    # and the person's right side is at larger X (the sensor's left)
    assert (get("right_shoulder")[:, 0] > get("left_shoulder")[:, 0]).mean() >= 0.9


# --------------------------------------------------------------------------- MSR Action3D


def test_msr_real_file_counts_and_meta(data_path):
    path = data_path(MSR_FILE)
    lines = [ln for ln in path.read_text().splitlines() if ln.strip()]
    motion = read_msr_action3d(path)
    assert motion.layout is KINECT_MSR
    assert motion.joints.shape == (len(lines) // 20, 20, 3) == (40, 20, 3)
    assert motion.joints.dtype == np.float32
    assert motion.fps == 15.0
    assert (motion.meta["action"], motion.meta["subject"], motion.meta["repetition"]) == (5, 8, 1)
    confidence = motion.meta["confidence"]
    assert confidence.dtype == np.float32 and confidence.shape == (40, 20)
    expected = np.array([float(ln.split()[3]) for ln in lines], dtype=np.float32).reshape(40, 20)
    np.testing.assert_array_equal(confidence, expected)
    first = np.array([float(v) for v in lines[0].split()[:3]], dtype=np.float32)
    np.testing.assert_array_equal(motion.joints[0, 0], first)  # left shoulder, stored as is
    assert motion.source == str(path)
    assert len(motion.meta["lost_frames"]) == 0


def test_msr_real_file_geometry_and_handedness(data_path):
    motion = read_msr_action3d(data_path(MSR_FILE))
    # MSR's hip joints sit wide and high, so its femur is long: measured 0.62-0.64 m in
    # this file and 0.47-0.64 m (per-subject medians) over the whole dataset.
    _check_body_geometry(motion, femur_range=(0.35, 0.70))
    _check_right_handed(motion, min_foot_fraction=0.9)


def test_msr_lost_frames_trimmed_and_interpolated(data_path):
    # a07_s04_e01: the skeleton is lost in the first 36 of 45 frames -> cut off
    path = data_path("msr_action3d/skeletons/a07_s04_e01_skeleton3D.txt")
    raw = np.loadtxt(path).reshape(-1, 20, 4)
    expected = np.flatnonzero(~raw[..., :3].reshape(len(raw), -1).any(axis=1))
    assert len(expected) == 36
    motion = read_msr_action3d(path)
    np.testing.assert_array_equal(motion.meta["lost_frames"], expected)
    assert motion.num_frames == len(raw) - 36 and motion.meta["kept_rows"] == (36, 45)
    np.testing.assert_allclose(motion.joints, raw[36:, :, :3], atol=1e-6)
    # a13_s06_e03: 9 lost frames inside the clip -> interpolated, none all-zero any more
    path = data_path("msr_action3d/skeletons/a13_s06_e03_skeleton3D.txt")
    raw = np.loadtxt(path).reshape(-1, 20, 4)[..., :3]
    motion = read_msr_action3d(path)
    lost = motion.meta["lost_frames"]
    assert len(lost) == 9 and motion.num_frames == len(raw)
    assert motion.joints.reshape(len(raw), -1).any(axis=1).all()
    gap = lost[0]
    before, after = gap - 1, next(i for i in range(gap, len(raw)) if i not in set(lost))
    w = (gap - before) / (after - before)
    np.testing.assert_allclose(motion.joints[gap], (1 - w) * raw[before] + w * raw[after], atol=1e-5)


def test_msr_mostly_lost_span_is_an_error(data_path):
    path = data_path("msr_action3d/skeletons/a20_s02_e03_skeleton3D.txt")
    with pytest.raises(MotionFileError, match="33 of 53 frames.*cannot be repaired"):
        read_msr_action3d(path)


def test_msr_all_frames_lost_is_an_error(data_path):
    path = data_path("msr_action3d/skeletons/a13_s09_e02_skeleton3D.txt")
    with pytest.raises(MotionFileError, match="all zeros"):
        read_msr_action3d(path)


def test_msr_synthetic_round_values(tmp_path):
    joints = _synthetic_joints(3)
    joints[1] = 0.0  # one lost frame
    path = _write(tmp_path, "a12_s03_e02_skeleton3D.txt", _msr_text(joints))
    motion = read_msr_action3d(path, fps=30.0)
    repaired = joints.copy()
    repaired[1] = 0.5 * (joints[0] + joints[2])
    np.testing.assert_allclose(motion.joints, repaired, atol=1e-6)
    assert motion.fps == 30.0
    assert motion.meta["lost_frames"].tolist() == [1]
    assert (motion.meta["action"], motion.meta["subject"], motion.meta["repetition"]) == (12, 3, 2)


def test_msr_name_without_pattern_has_no_ids(tmp_path):
    path = _write(tmp_path, "capture.txt", _msr_text(_synthetic_joints(2)))
    motion = read_msr_action3d(path)
    assert "action" not in motion.meta and "subject" not in motion.meta


def _msr_lines(num_frames: int = 3) -> list[str]:
    return _msr_text(_synthetic_joints(num_frames)).splitlines()


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda ls: ls[:-1], "multiple of 20"),  # truncated
        (lambda ls: ls[:5] + [ls[5] + " 1.0"] + ls[6:], "line 6: expected 4 values, found 5"),
        (lambda ls: ls[:7] + [" ".join(ls[7].split()[:3])] + ls[8:], "line 8: expected 4 values, found 3"),
        (lambda ls: ls[:2] + ["0.1 abc 0.3 1.0"] + ls[3:], "line 3: 'abc' is not a number"),
        (lambda ls: ls[:4] + ["0.1 nan 0.3 1.0"] + ls[5:], "non-finite"),
        (lambda ls: ls[:4] + ["0.1 0.2 0.3 NaN"] + ls[5:], "non-finite"),  # NaN confidence
        (lambda ls: ls[:4] + ["0.1 0.2 inf 1.0"] + ls[5:], "non-finite"),
        (lambda ls: ls[:20], "at least 2"),  # one frame only
        (lambda ls: [], "no data lines"),
    ],
)
def test_msr_bad_files(tmp_path, mutate, message):
    path = _write(tmp_path, "a01_s01_e01_skeleton3D.txt", "\n".join(mutate(_msr_lines())) + "\n")
    with pytest.raises(MotionFileError, match=message) as info:
        read_msr_action3d(path)
    assert info.value.path == str(path)
    assert "a01_s01_e01_skeleton3D.txt" in str(info.value)


def test_msr_binary_garbage_and_missing_file(tmp_path):
    path = tmp_path / "a01_s01_e01_skeleton3D.txt"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe")
    with pytest.raises(MotionFileError, match="not a text file|not a UTF-8"):
        read_msr_action3d(path)
    with pytest.raises(MotionFileError, match="cannot read"):
        read_msr_action3d(tmp_path / "absent.txt")


# --------------------------------------------------------------------------- UTKinect


def test_utkinect_real_file_counts_frames_and_meta(data_path):
    path = data_path(UTK_FILE)
    raw = np.loadtxt(path)
    motion = read_utkinect(path)
    assert motion.layout is KINECT_SDK
    assert motion.fps == 30.0
    assert (motion.meta["subject"], motion.meta["episode"]) == (1, 1)
    numbers = motion.meta["frame_numbers"]
    assert numbers.dtype.kind == "i"
    np.testing.assert_array_equal(numbers, np.unique(raw[:, 0]).astype(int))  # first of each kept
    assert np.all(np.diff(numbers) > 0)
    assert motion.num_frames == len(numbers) == 545
    assert motion.meta["dropped_duplicates"] == len(raw) - len(numbers) == 15
    assert (numbers[0], numbers[-1]) == (190, 2290)
    # The kept row of a duplicated number is the first one in the file.
    first_rows = np.unique(raw[:, 0], return_index=True)[1]
    np.testing.assert_allclose(motion.joints, raw[first_rows, 1:].reshape(-1, 20, 3), atol=1e-6)


def test_utkinect_real_file_geometry_and_handedness(data_path):
    motion = read_utkinect(data_path(UTK_FILE))
    _check_body_geometry(motion, femur_range=(0.30, 0.55))  # measured: left 0.43, right 0.44 m
    # UTKinect's foot joints are short (~9 cm) and noisy: 88% of foot vectors lead here.
    _check_right_handed(motion, min_foot_fraction=0.75)


def test_utkinect_joint_order_is_kinect_sdk(data_path):
    """The head is the highest joint in standing frames only when read in SDK order."""
    motion = read_utkinect(data_path(UTK_FILE))
    highest = motion.joints[..., 1].argmax(axis=1)
    assert (highest == KINECT_SDK.index("head")).mean() >= 0.9
    # Read in MSR order, the MSR "head" slot (index 19, SDK right_foot) is never highest,
    # and the MSR "femur" (slots 4 -> 13) would be implausibly long.
    assert (highest == KINECT_MSR.index("head")).mean() < 0.1
    knee, hip = KINECT_MSR.index("left_knee"), KINECT_MSR.index("left_hip")
    msr_femur = np.linalg.norm(motion.joints[:, knee] - motion.joints[:, hip], axis=1)
    assert np.median(msr_femur) > 0.7


def test_utkinect_duplicates_dropped_keep_first(tmp_path):
    joints = _synthetic_joints(4)
    path = _write(tmp_path, "joints_s03_e02.txt", _utk_text([10, 12, 12, 16], joints))
    motion = read_utkinect(path)
    assert motion.meta["frame_numbers"].tolist() == [10, 12, 16]
    assert motion.meta["dropped_duplicates"] == 1
    np.testing.assert_allclose(motion.joints, joints[[0, 1, 3]], atol=1e-6)
    assert (motion.meta["subject"], motion.meta["episode"]) == (3, 2)


@pytest.mark.parametrize(
    ("numbers", "message"),
    [
        ([10, 8, 12], "below the previous"),
        ([10, 11.5, 12], "not a non-negative integer"),
        ([-2, 0, 2], "not a non-negative integer"),
        ([4, 4, 4], "at least 2"),  # all duplicates: one frame left
    ],
)
def test_utkinect_bad_frame_numbers(tmp_path, numbers, message):
    path = _write(tmp_path, "joints_s01_e01.txt", _utk_text(numbers, _synthetic_joints(len(numbers))))
    with pytest.raises(MotionFileError, match=message):
        read_utkinect(path)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda ls: ls[:1] + [ls[1].rsplit(None, 1)[0]] + ls[2:], "line 2: expected 61 values, found 60"),
        (lambda ls: ls[:2] + [ls[2][: len(ls[2]) // 2]], "line 3: expected 61 values"),  # truncated
        (
            lambda ls: ls[:1] + [" ".join(["4", "1.2.3", *ls[1].split()[2:]])] + ls[2:],
            "line 2: '1.2.3' is not",
        ),
        (lambda ls: ls[:1] + [ls[1].rsplit(None, 1)[0] + " nan"] + ls[2:], "non-finite"),
        (lambda ls: ["hello world"], "line 1: expected 61 values, found 2"),
    ],
)
def test_utkinect_bad_files(tmp_path, mutate, message):
    lines = _utk_text([2, 4, 6], _synthetic_joints(3)).splitlines()
    path = _write(tmp_path, "joints_s02_e01.txt", "\n".join(mutate(lines)) + "\n")
    with pytest.raises(MotionFileError, match=message) as info:
        read_utkinect(path)
    assert "joints_s02_e01.txt" in str(info.value)


# --------------------------------------------------------------------------- UTKinect labels


def test_utkinect_labels_real_file(data_path, shared_data):
    labels = read_utkinect_labels(data_path(UTK_LABELS))
    assert len(labels) == 20
    assert labels["s01_e01"][0] == ("walk", 252, 390)
    assert set(labels) == {f"s{s:02d}_e{e:02d}" for s in range(1, 11) for e in (1, 2)}
    for sequence, segments in labels.items():
        actions = [a for a, _, _ in segments]
        if sequence == "s10_e02":
            # The shipped file says "carry:  NaN NaN" here: the segment is skipped.
            assert set(actions) == UTK_ACTIONS - {"carry"}
        else:
            assert set(actions) == UTK_ACTIONS and len(actions) == 10, sequence
        joints_file = shared_data / "utkinect" / "joints" / f"joints_{sequence}.txt"
        numbers = read_utkinect(joints_file).meta["frame_numbers"]
        for action, start, end in segments:
            assert numbers[0] <= start <= end <= numbers[-1], (sequence, action, start, end)
            assert np.count_nonzero((numbers >= start) & (numbers <= end)) >= 2


def _labels_file(tmp_path: Path, text: str) -> Path:
    return _write(tmp_path, "actionLabel.txt", text)


def test_utkinect_labels_nan_segment_skipped(tmp_path):
    path = _labels_file(tmp_path, "s01_e01\nwalk: 10 20\ncarry:  NaN NaN\n\ns01_e02\nsitDown: 5 9 \n")
    assert read_utkinect_labels(path) == {"s01_e01": [("walk", 10, 20)], "s01_e02": [("sitDown", 5, 9)]}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("walk: 1 2\ns01_e01\n", "line 1: action segment before"),
        ("s01_e01\nwalk: 1 2\nthis is not a label\n", "line 3: expected"),
        ("s01_e01\nwalk: 1 x2\n", "line 2: frame number 'x2'"),
        ("s01_e01\nwalk: 1.5 3\n", "line 2: frame number '1.5'"),
        ("s01_e01\nwalk: 9 3\n", "line 2: segment start 9 is after its end 3"),
        ("s01_e01\nwalk: 1 2\ns01_e01\n", "line 3: sequence 's01_e01' appears twice"),
        ("s01_e01\nwalk: 1 2\nwalk: 3 4\n", "line 3: action 'walk' appears twice"),
        ("s01_e01\nwalk: 1 2 3\n", "line 2: expected"),
        ("\n\n", "no 'sXX_eYY' sequence"),
    ],
)
def test_utkinect_labels_bad_structure(tmp_path, text, message):
    path = _labels_file(tmp_path, text)
    with pytest.raises(MotionFileError, match=message) as info:
        read_utkinect_labels(path)
    assert "actionLabel.txt" in str(info.value)


# --------------------------------------------------------------------------- dispatch


def test_load_motion_dispatches_kinect_files(data_path, tmp_path):
    msr = load_motion(data_path(MSR_FILE))
    assert msr.layout is KINECT_MSR and msr.meta["action"] == 5
    utk = load_motion(data_path(UTK_FILE), fps=15.0)
    assert utk.layout is KINECT_SDK and utk.fps == 15.0
    # Unrecognised names are sniffed from the first line's value count.
    renamed_msr = _write(tmp_path, "take1.txt", _msr_text(_synthetic_joints(2)))
    assert load_motion(renamed_msr).layout is KINECT_MSR
    renamed_utk = _write(tmp_path, "take2.txt", _utk_text([0, 2], _synthetic_joints(2)))
    assert load_motion(renamed_utk).layout is KINECT_SDK


# --------------------------------------------------------------------------- robustness


_OPS = damage_ops()
_MSR_BYTES = _msr_text(_synthetic_joints(3, seed=1), np.full((3, 20), 0.5)).encode()
_UTK_BYTES = _utk_text([30, 32, 32, 36], _synthetic_joints(4, seed=2)).encode()


def _read_or_error(reader, name: str, data: bytes) -> Motion | None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        path.write_bytes(data)
        try:
            return reader(path)
        except MotionFileError as exc:
            assert exc.path == str(path)
            return None


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=_OPS)
def test_msr_reader_damaged_files_give_motion_or_motion_file_error(ops):
    motion = _read_or_error(read_msr_action3d, "a01_s01_e01_skeleton3D.txt", damaged(_MSR_BYTES, ops))
    if motion is not None:
        assert motion.joints.shape[1:] == (20, 3) and motion.num_frames >= 2
        assert np.isfinite(motion.joints).all()
        assert motion.meta["confidence"].shape == (motion.num_frames, 20)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=_OPS)
def test_utkinect_reader_damaged_files_give_motion_or_motion_file_error(ops):
    motion = _read_or_error(read_utkinect, "joints_s01_e01.txt", damaged(_UTK_BYTES, ops))
    if motion is not None:
        assert motion.joints.shape[1:] == (20, 3) and motion.num_frames >= 2
        assert np.isfinite(motion.joints).all()
        numbers = motion.meta["frame_numbers"]
        assert len(numbers) == motion.num_frames and np.all(np.diff(numbers) > 0)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=_OPS)
def test_utkinect_labels_damaged_files_give_labels_or_motion_file_error(ops):
    data = damaged(b"s01_e01\nwalk: 252 390\ncarry:  NaN NaN\ns01_e02\npush: 10 20\n", ops)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "actionLabel.txt"
        path.write_bytes(data)
        try:
            labels = read_utkinect_labels(path)
        except MotionFileError:
            return
    for segments in labels.values():
        assert all(0 <= start <= end for _, start, end in segments)
