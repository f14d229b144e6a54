"""DeepMimic humanoid clips: frame layout, geometry on SMPL-22, and hostile input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from motionvigil.errors import MotionFileError
from motionvigil.io import load_motion
from motionvigil.io.deepmimic import FRAME_WIDTH, read_deepmimic
from motionvigil.skeleton.retarget import to_smpl22

IDENTITY = [1.0, 0.0, 0.0, 0.0]


def rest_frame(duration: float = 1 / 30, root_y: float = 0.85, elbow: float = 0.0) -> list[float]:
    """A frame with every joint at rest (the humanoid stands upright facing +X)."""
    f = [duration, 0.0, root_y, 0.0] + IDENTITY * 3  # root pos, root, chest, neck
    side = IDENTITY + [0.0] + IDENTITY + IDENTITY + [elbow]  # hip, knee, ankle, shoulder, elbow
    f += side + side
    assert len(f) == FRAME_WIDTH
    return f


def write(path: Path, frames) -> Path:
    path.write_text(json.dumps({"Loop": "none", "Frames": frames}))
    return path


def test_rest_pose_is_an_upright_human_facing_plus_x_with_left_at_minus_z(tmp_path):
    m = read_deepmimic(write(tmp_path / "rest.txt", [rest_frame()] * 5 + [rest_frame(0.0)]))
    assert m.layout.name == "smpl22" and m.fps == pytest.approx(30.0)
    j = m.joints[0]
    assert j[15, 1] > j[12, 1] > j[9, 1] > j[0, 1] > j[4, 1] > j[7, 1]  # head > neck > chest > pelvis > knee > ankle
    assert j[1, 2] < 0 < j[2, 2] and j[16, 2] < 0 < j[17, 2]  # left hip/shoulder at -Z
    assert j[10, 0] > j[7, 0]  # toes point forward (+X)
    femur, shin = np.linalg.norm(j[1] - j[4]), np.linalg.norm(j[4] - j[7])
    upper_arm = np.linalg.norm(j[16] - j[18])
    assert 0.35 < femur < 0.5 and 0.35 < shin < 0.5 and 0.22 < upper_arm < 0.35
    # after retargeting (canonical frame: facing +Z, left at +X) the left side is +X
    s = to_smpl22(m).joints[0]
    assert s[1, 0] > s[2, 0] and s[16, 0] > s[17, 0]


def test_a_bent_elbow_moves_only_the_wrist(tmp_path):
    m = read_deepmimic(write(tmp_path / "bend.txt", [rest_frame(), rest_frame(0.0, elbow=1.5)]))
    moved = np.linalg.norm(m.joints[1] - m.joints[0], axis=1)
    assert set(np.flatnonzero(moved > 1e-6)) == {20, 21}


def test_load_motion_tells_deepmimic_from_kinect_text(tmp_path):
    m = load_motion(write(tmp_path / "humanoid3d_rest.txt", [rest_frame()] * 3))
    assert m.meta["format"] == "deepmimic"


@pytest.mark.parametrize("frames, problem", [
    ([[0.1] * 43, [0.1] * 43], "width"),
    ("not a list", "Frames"),
    ([rest_frame()], "at least 2"),
])  # fmt: skip
def test_malformed_clips_are_one_line_errors(tmp_path, frames, problem):
    with pytest.raises(MotionFileError, match=problem) as err:
        read_deepmimic(write(tmp_path / "bad.txt", frames))
    assert "\n" not in str(err.value) and "bad.txt" in str(err.value)


def test_truncated_nan_zero_quaternion_and_duration_are_refused(tmp_path):
    text = json.dumps({"Frames": [rest_frame(), rest_frame()]})
    (tmp_path / "cut.txt").write_text(text[: len(text) // 2])
    with pytest.raises(MotionFileError, match="invalid JSON"):
        read_deepmimic(tmp_path / "cut.txt")
    nan = [rest_frame(), rest_frame()]
    nan[1][5] = float("nan")
    (tmp_path / "nan.txt").write_text(json.dumps({"Frames": nan}).replace("NaN", "NaN"))
    with pytest.raises(MotionFileError, match="NaN"):
        read_deepmimic(tmp_path / "nan.txt")
    zero = [rest_frame(), rest_frame()]
    zero[0][4:8] = [0.0] * 4
    with pytest.raises(MotionFileError, match="zero quaternion"):
        read_deepmimic(write(tmp_path / "zero.txt", zero))
    with pytest.raises(MotionFileError, match="duration"):
        read_deepmimic(write(tmp_path / "dur.txt", [rest_frame(0.0), rest_frame(0.0)]))


@settings(max_examples=40, deadline=None)
@given(st.lists(st.lists(st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=2)),
                         min_size=0, max_size=46), min_size=0, max_size=4))
def test_any_frames_give_a_motion_or_a_motion_file_error(tmp_path_factory, frames):
    path = tmp_path_factory.mktemp("dm") / "x.txt"
    path.write_text(json.dumps({"Frames": frames}))
    try:
        m = read_deepmimic(path)
    except MotionFileError as exc:
        assert "\n" not in str(exc)
    else:
        assert np.isfinite(m.joints).all()


def test_shipped_pybullet_clips_read_as_upright_humans():
    pybullet_data = pytest.importorskip("pybullet_data", reason="pybullet (dev extra) not installed")
    folder = Path(pybullet_data.getDataPath()) / "data" / "motions"
    names = {p.stem.removeprefix("humanoid3d_") for p in folder.glob("humanoid3d_*.txt")}
    assert {"punch", "kick", "spinkick", "walk"} <= names and len(names) == 15
    for name in ("punch", "kick", "walk"):
        j = to_smpl22(read_deepmimic(folder / f"humanoid3d_{name}.txt")).joints
        assert (j[:, 15, 1] > j[:, 0, 1]).mean() >= 0.95
        height = np.median(j[:, 15, 1] - j[:, :, 1].min(axis=1))
        assert 1.2 < height < 1.8
