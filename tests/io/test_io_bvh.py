"""Tests of the BVH reader: real Bandai Namco files, an independent FK check, bad input."""

from __future__ import annotations

import math
import re
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from motionvigil.errors import MotionFileError
from motionvigil.io.bvh import BANDAI_JOINT_NAMES, parse_bvh, read_bvh
from motionvigil.io.load import load_motion
from motionvigil.io.motion import Motion

BANDAI_WALK = "bandai2/data/dataset-2_walk_normal_001.bvh"
MIRRORED_PAIRS = [
    ("Shoulder_L", "Shoulder_R"), ("UpperArm_L", "UpperArm_R"), ("LowerArm_L", "LowerArm_R"),
    ("Hand_L", "Hand_R"), ("UpperLeg_L", "UpperLeg_R"), ("LowerLeg_L", "LowerLeg_R"),
    ("Foot_L", "Foot_R"), ("Toes_L", "Toes_R"),
]  # fmt: skip


# --------------------------------------------------------------------------- helpers

# A small hierarchy in centimetres: non-trivial rotation orders (ZXY root, YXZ chest,
# XZY leg, XZY head with a lone Yposition channel that replaces the OFFSET's Y only).
SMALL_HIERARCHY = """HIERARCHY
ROOT Hips
{
\tOFFSET 0.0 0.0 0.0
\tCHANNELS 6 Xposition Yposition Zposition Zrotation Xrotation Yrotation
\tJOINT Chest
\t{
\t\tOFFSET 0.0 20.0 0.0
\t\tCHANNELS 3 Yrotation Xrotation Zrotation
\t\tJOINT Head
\t\t{
\t\t\tOFFSET 1.0 30.0 5.0
\t\t\tCHANNELS 4 Xrotation Yposition Zrotation Yrotation
\t\t\tEnd Site
\t\t\t{
\t\t\t\tOFFSET 0.0 15.0 0.0
\t\t\t}
\t\t}
\t}
\tJOINT LeftLeg
\t{
\t\tOFFSET 10.0 -5.0 0.0
\t\tCHANNELS 3 Xrotation Zrotation Yrotation
\t\tEnd Site
\t\t{
\t\t\tOFFSET 0.0 -90.0 0.0
\t\t}
\t}
}
"""
SMALL_CHANNELS = 6 + 3 + 4 + 3


def small_values(frames: int, seed: int = 0) -> np.ndarray:
    """Random but plausible channel values ``[frames, 16]`` for ``SMALL_HIERARCHY``."""
    rng = np.random.default_rng(seed)
    values = rng.uniform(-170.0, 170.0, size=(frames, SMALL_CHANNELS))
    values[:, 0:3] = rng.uniform(-50.0, 50.0, size=(frames, 3)) + [0.0, 95.0, 0.0]  # root position
    values[:, 10] = rng.uniform(25.0, 35.0, size=frames)  # Head Yposition
    return np.round(values, 4)


def small_bvh(values: np.ndarray, frame_time: str = "0.05", declared: int | None = None) -> str:
    """The text of a valid BVH with ``SMALL_HIERARCHY`` and the given channel values."""
    lines = [SMALL_HIERARCHY + "MOTION", f"Frames: {len(values) if declared is None else declared}"]
    lines.append(f"Frame Time: {frame_time}")
    lines += [" ".join(repr(float(v)) for v in row) for row in values]
    return "\n".join(lines) + "\n"


def write(tmp_path: Path, text: str | bytes, name: str = "clip.bvh") -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    return path


def rot(axis: str, degrees: float) -> np.ndarray:
    """Right-handed rotation matrix about one axis, built from cos/sin (column vectors)."""
    c, s = math.cos(math.radians(degrees)), math.sin(math.radians(degrees))
    if axis == "X":
        return np.array([[1, 0, 0], [0, c, -s], [0, s, c]], dtype=np.float64)
    if axis == "Y":
        return np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]], dtype=np.float64)
    return np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]], dtype=np.float64)


def euler(order: str, angles) -> np.ndarray:
    """BVH rotation: the product of the axis rotations in the order the channels are listed."""
    result = np.eye(3)
    for axis, angle in zip(order, angles):
        result = result @ rot(axis, float(angle))
    return result


def expected_small_positions(values: np.ndarray) -> np.ndarray:
    """Hand-written FK of ``SMALL_HIERARCHY``, one frame at a time: ``[T, 4, 3]`` in cm."""
    out = np.zeros((len(values), 4, 3))
    for t, v in enumerate(values):
        hips = v[0:3]
        r_hips = euler("ZXY", v[3:6])
        chest = hips + r_hips @ np.array([0.0, 20.0, 0.0])
        r_chest = r_hips @ euler("YXZ", v[6:9])
        head = chest + r_chest @ np.array([1.0, v[10], 5.0])  # Yposition replaces the offset's Y
        leg = hips + r_hips @ np.array([10.0, -5.0, 0.0])
        out[t] = [hips, chest, head, leg]
    return out


def header_frame_count(path: Path) -> int:
    match = re.search(r"^Frames:\s*(\d+)", path.read_text(), flags=re.MULTILINE)
    assert match is not None
    return int(match.group(1))


# --------------------------------------------------------------------------- real Bandai data


@pytest.fixture(scope="module")
def bandai_walk(data_path) -> tuple[Path, Motion]:
    path = data_path(BANDAI_WALK)
    return path, read_bvh(path)


def test_bandai_shape_rate_units_layout(bandai_walk):
    path, motion = bandai_walk
    assert motion.num_joints == 22
    assert motion.joints.shape == (header_frame_count(path), 22, 3)
    assert motion.joints.dtype == np.float32
    assert motion.fps == 30.0
    assert motion.meta["scale_to_metres"] == 0.01
    assert motion.layout.name == "bandai_bvh"
    assert set(motion.layout.joint_names) == BANDAI_JOINT_NAMES
    assert motion.layout.parents[motion.layout.index("Head")] == motion.layout.index("Neck")
    assert motion.source == str(path)


def test_bandai_body_proportions(bandai_walk):
    _, motion = bandai_walk
    layout, joints = motion.layout, motion.joints
    head = joints[:, layout.index("Head")]
    hips = joints[:, layout.index("Hips")]
    feet = joints[:, [layout.index(n) for n in ("Foot_L", "Foot_R", "Toes_L", "Toes_R")]]
    # The Bandai "Head" joint sits at the base of the skull (its End Site offset is 0),
    # about 0.15-0.25 m below the top of the head, so for an adult walking upright the
    # head-joint height above the lowest foot joint is about 1.2-1.6 m (1.36 m here).
    # Inches read as cm, or metres read as cm, would land far outside this range.
    height0 = head[0, 1] - feet[0, :, 1].min()
    assert 1.2 <= height0 <= 1.6
    assert 0.8 <= hips[0, 1] - feet[0, :, 1].min() <= 1.1
    assert (head[:, 1] > hips[:, 1]).all()


def test_bandai_left_right_bone_lengths_mirror(bandai_walk):
    _, motion = bandai_walk
    layout, joints = motion.layout, motion.joints

    def bone_length(name: str) -> float:
        i = layout.index(name)
        return float(np.linalg.norm(joints[:, i] - joints[:, layout.parents[i]], axis=-1).mean())

    for left, right in MIRRORED_PAIRS:
        assert bone_length(left) > 0.03
        assert abs(bone_length(left) - bone_length(right)) < 0.01, (left, right)


def test_bandai_channels_match_pypi_bvh_package(data_path):
    bvh = pytest.importorskip("bvh")
    path = data_path(BANDAI_WALK)
    theirs = bvh.Bvh(path.read_text())
    ours = parse_bvh(path)
    assert ours.num_frames == theirs.nframes == len(theirs.frames)
    assert list(ours.joint_names) == theirs.get_joints_names()
    for joint in ours.joints:
        assert list(joint.channels) == theirs.joint_channels(joint.name)
        assert joint.parent == theirs.joint_parent_index(joint.name)
    assert ours.frame_time == theirs.frame_time
    np.testing.assert_array_equal(ours.values[0], [float(v) for v in theirs.frames[0]])
    np.testing.assert_array_equal(ours.values[-1], [float(v) for v in theirs.frames[-1]])


def test_bandai_via_load_motion(data_path):
    motion = load_motion(data_path(BANDAI_WALK))
    assert motion.layout.name == "bandai_bvh"


def test_bandai_truncated_in_half(data_path, tmp_path):
    raw = data_path(BANDAI_WALK).read_bytes()
    path = write(tmp_path, raw[: len(raw) // 2], "half_walk.bvh")
    with pytest.raises(MotionFileError, match="half_walk.bvh"):
        read_bvh(path)


# --------------------------------------------------------------------------- independent FK


def test_fk_matches_hand_built_rotation_matrices(tmp_path):
    values = small_values(6)
    motion = read_bvh(write(tmp_path, small_bvh(values)))
    assert motion.layout.joint_names == ("Hips", "Chest", "Head", "LeftLeg")  # End Sites excluded
    assert motion.layout.parents == (-1, 0, 1, 0)
    assert motion.layout.name == "bvh"
    assert motion.fps == 20.0
    assert motion.meta["scale_to_metres"] == 0.01  # rest-pose height 160 (cm)
    np.testing.assert_allclose(motion.joints, expected_small_positions(values) * 0.01, atol=2e-6)


def test_fk_known_quarter_turn(tmp_path):
    values = np.zeros((2, SMALL_CHANNELS))
    values[:, 1] = 100.0  # root at Y = 1 m
    values[:, 10] = 30.0  # Head Yposition equal to its offset
    values[1, 3] = 90.0  # frame 1: root Zrotation +90 deg turns +Y into -X
    motion = read_bvh(write(tmp_path, small_bvh(values)))
    chest = motion.joints[:, motion.layout.index("Chest")]
    np.testing.assert_allclose(chest[0], [0.0, 1.2, 0.0], atol=1e-6)
    np.testing.assert_allclose(chest[1], [-0.2, 1.0, 0.0], atol=1e-6)
    assert motion.meta["end_sites"] == {2: [[0.0, 0.15, 0.0]], 3: [[0.0, -0.9, 0.0]]}


def test_explicit_and_metre_scales(tmp_path):
    values = small_values(3)
    path = write(tmp_path, small_bvh(values))
    as_mm = read_bvh(path, scale=0.001)
    assert as_mm.meta["scale_to_metres"] == 0.001
    np.testing.assert_allclose(as_mm.joints, expected_small_positions(values) * 0.001, atol=1e-6)
    in_metres = re.sub(
        r"OFFSET (\S+) (\S+) (\S+)",
        lambda m: "OFFSET " + " ".join(str(float(v) / 100) for v in m.groups()),
        SMALL_HIERARCHY,
    )
    values[:, [0, 1, 2, 10]] /= 100  # position channels in metres too
    text = small_bvh(values).replace(SMALL_HIERARCHY, in_metres)
    assert read_bvh(write(tmp_path, text, "metres.bvh")).meta["scale_to_metres"] == 1.0


def test_units_that_cannot_be_inferred_ask_for_scale(tmp_path):
    text = small_bvh(small_values(3)).replace("-90.0", "-2000000.0")  # 2 km tall in mm
    with pytest.raises(MotionFileError, match="--scale"):
        read_bvh(write(tmp_path, text, "giant.bvh"))


@pytest.mark.parametrize(
    ("leg", "units", "scale"),
    [("-2000.0", "millimetres", 0.001), ("-5.0", "inches", 0.0254), ("-2.0", "metres", 1.0)],
)
def test_millimetres_inches_and_metres_are_inferred(tmp_path, leg, units, scale):
    text = small_bvh(small_values(3)).replace("-90.0", leg)
    if units == "metres":  # every offset in metres
        text = small_bvh(small_values(3)).replace(SMALL_HIERARCHY, re.sub(
            r"OFFSET (\S+) (\S+) (\S+)",
            lambda m: "OFFSET " + " ".join(str(float(v) / 100) for v in m.groups()), SMALL_HIERARCHY))
    motion = read_bvh(write(tmp_path, text, f"{units}.bvh"))
    assert motion.meta["units"] == units and motion.meta["scale_to_metres"] == scale


def test_degenerate_offsets_use_frame_zero(tmp_path):
    text = """HIERARCHY
ROOT A
{
  OFFSET 0 0 0
  CHANNELS 6 Xposition Yposition Zposition Xrotation Yrotation Zrotation
  JOINT B
  {
    OFFSET 0 0 0
    CHANNELS 6 Zposition Yposition Xposition Yrotation Xrotation Zrotation
  }
}
MOTION
Frames: 2
Frame Time: 0.0333333
0 0 0 0 0 0 0 170 0 0 0 0
0 0 0 0 0 0 0 170 0 0 0 0
"""
    motion = read_bvh(write(tmp_path, text))
    assert motion.meta["scale_to_metres"] == 0.01
    np.testing.assert_allclose(motion.joints[0, 1], [0.0, 1.7, 0.0], atol=1e-6)
    assert motion.fps == 30.0


# --------------------------------------------------------------------------- bad input


def _broken(kind: str) -> str | bytes:
    """A small BVH broken in one way."""
    good = small_bvh(small_values(4))
    lines = good.splitlines()
    motion_at = lines.index("MOTION")
    if kind == "truncated_in_half":
        return good[: len(good) // 2 + len(good) // 3]  # ends inside the frame data
    if kind == "truncated_mid_line":
        return good[:-20]
    if kind == "missing_frame":
        return "\n".join(lines[:-1]) + "\n"
    if kind == "wrong_value_count":
        lines[motion_at + 4] += " 1.0"
        return "\n".join(lines)
    if kind == "unknown_channel":
        return good.replace("Yrotation Xrotation Zrotation", "Yrotation Wrotation Zrotation")
    if kind == "nan_value":
        lines[motion_at + 5] = lines[motion_at + 5].replace(lines[motion_at + 5].split()[7], "nan", 1)
        return "\n".join(lines)
    if kind == "inf_value":
        lines[motion_at + 5] = "inf " + " ".join(lines[motion_at + 5].split()[1:])
        return "\n".join(lines)
    if kind == "non_numeric":
        lines[motion_at + 4] = "abc " + " ".join(lines[motion_at + 4].split()[1:])
        return "\n".join(lines)
    if kind == "one_frame":
        return small_bvh(small_values(1))
    if kind == "zero_frames":
        return small_bvh(small_values(0))
    if kind == "empty":
        return ""
    if kind == "blank":
        return "  \n\n\t\n"
    if kind == "missing_motion":
        return SMALL_HIERARCHY
    if kind == "missing_hierarchy":
        return good.replace("HIERARCHY\n", "")
    if kind == "no_hierarchy_at_all":
        return good[good.index("MOTION") :]
    if kind == "extra_close_brace":
        return good.replace("MOTION", "}\nMOTION")
    if kind == "missing_close_brace":
        return good.replace("}\nMOTION", "MOTION")
    if kind == "channels_count_not_int":
        return good.replace("CHANNELS 3 Yrotation", "CHANNELS three Yrotation")
    if kind == "channels_count_too_small":
        return good.replace("CHANNELS 3 Yrotation", "CHANNELS 2 Yrotation")
    if kind == "channels_count_too_large":
        return good.replace("CHANNELS 3 Xrotation Zrotation Yrotation", "CHANNELS 4 Xrotation Zrotation Yrotation")
    if kind == "channels_count_absurd":
        return good.replace("CHANNELS 3 Yrotation", "CHANNELS 99 Yrotation")
    if kind == "channels_count_unicode_digit":
        return good.replace("CHANNELS 3 Yrotation", "CHANNELS \u00b3 Yrotation")
    if kind == "offset_not_numeric":
        return good.replace("OFFSET 10.0 -5.0 0.0", "OFFSET 10.0 x 0.0")
    if kind == "frame_time_zero":
        return small_bvh(small_values(4), frame_time="0")
    if kind == "frame_time_negative":
        return small_bvh(small_values(4), frame_time="-0.033")
    if kind == "frame_time_nan":
        return small_bvh(small_values(4), frame_time="nan")
    if kind == "declared_absurd":
        return small_bvh(small_values(4), declared=10**15)
    if kind == "declared_huge_but_plausible":
        return small_bvh(small_values(4), declared=50_000_000)
    if kind == "declared_too_few":
        return small_bvh(small_values(4), declared=3)
    if kind == "frames_not_int":
        return good.replace("Frames: 4", "Frames: 4.5")
    if kind == "missing_frame_time":
        return good.replace("Frame Time: 0.05\n", "")
    if kind == "end_site_with_channels":
        return good.replace("OFFSET 0.0 15.0 0.0", "OFFSET 0.0 15.0 0.0 CHANNELS 3 Xrotation Yrotation Zrotation")
    if kind == "duplicate_joint":
        return good.replace("JOINT LeftLeg", "JOINT Chest")
    if kind == "offset_absurd":
        return good.replace("OFFSET 10.0 -5.0 0.0", "OFFSET 1e300 -5.0 0.0")
    if kind == "binary_garbage":
        return bytes(range(256)) * 4
    raise AssertionError(kind)


BROKEN_KINDS = [
    "truncated_in_half", "truncated_mid_line", "missing_frame", "wrong_value_count",
    "unknown_channel", "nan_value", "inf_value", "non_numeric", "one_frame", "zero_frames",
    "empty", "blank", "missing_motion", "missing_hierarchy", "no_hierarchy_at_all",
    "extra_close_brace", "missing_close_brace", "channels_count_not_int",
    "channels_count_too_small", "channels_count_too_large", "channels_count_absurd",
    "channels_count_unicode_digit",
    "offset_not_numeric", "frame_time_zero", "frame_time_negative", "frame_time_nan",
    "declared_absurd", "declared_huge_but_plausible", "declared_too_few", "frames_not_int",
    "missing_frame_time", "end_site_with_channels", "duplicate_joint", "offset_absurd", "binary_garbage",
]  # fmt: skip

EXPECTED_PROBLEM = {
    "truncated_in_half": "truncated",
    "truncated_mid_line": "truncated",
    "missing_frame": "truncated",
    "wrong_value_count": "17 values, expected 16",
    "unknown_channel": "unknown channel name 'Wrotation'",
    "nan_value": "non-finite",
    "inf_value": "non-finite",
    "non_numeric": "non-numeric value 'abc'",
    "one_frame": "1 frame",
    "zero_frames": "0 frame",
    "empty": "empty",
    "blank": "empty",
    "missing_motion": "MOTION",
    "missing_hierarchy": "HIERARCHY",
    "no_hierarchy_at_all": "HIERARCHY",
    "extra_close_brace": "unbalanced braces",
    "missing_close_brace": "unbalanced braces",
    "channels_count_not_int": "bad CHANNELS count",
    "channels_count_too_small": "bad CHANNELS count",
    "channels_count_too_large": "bad CHANNELS count",
    "channels_count_absurd": "bad CHANNELS count",
    "channels_count_unicode_digit": "bad CHANNELS count",
    "frame_time_zero": "Frame Time",
    "frame_time_negative": "Frame Time",
    "frame_time_nan": "Frame Time",
    "declared_absurd": "absurdly large",
    "declared_huge_but_plausible": "truncated",
    "declared_too_few": "declares 3 frames but 4",
    "missing_frame_time": "Frame Time",
    "offset_absurd": "OFFSET or position values",
}


@pytest.mark.parametrize("kind", BROKEN_KINDS)
def test_bad_input_raises_motion_file_error_naming_file(tmp_path, kind):
    path = write(tmp_path, _broken(kind), f"broken_{kind}.bvh")
    with pytest.raises(MotionFileError) as info:
        read_bvh(path)
    message = str(info.value)
    assert f"broken_{kind}.bvh" in message
    assert info.value.path == str(path)
    if kind in EXPECTED_PROBLEM:
        assert EXPECTED_PROBLEM[kind] in message


def test_missing_file_and_bad_scale(tmp_path):
    with pytest.raises(MotionFileError, match="nope.bvh"):
        read_bvh(tmp_path / "nope.bvh")
    path = write(tmp_path, small_bvh(small_values(3)))
    for scale in (0.0, -1.0, float("nan"), "cm"):
        with pytest.raises(MotionFileError, match="scale"):
            read_bvh(path, scale=scale)


def test_crlf_and_blank_lines_are_accepted(tmp_path):
    values = small_values(3)
    text = small_bvh(values).replace("\n", "\r\n").replace("MOTION", "\r\nMOTION\r\n")
    motion = read_bvh(write(tmp_path, text))
    np.testing.assert_allclose(motion.joints, expected_small_positions(values) * 0.01, atol=2e-6)


# --------------------------------------------------------------------------- property test

_VALID_SMALL = small_bvh(small_values(5, seed=1)).encode()


@st.composite
def corrupted_bvh(draw) -> bytes:
    """The small valid BVH truncated at a random point, with random bytes replaced and/or
    a short random Unicode string (e.g. '³', 'nan', '}') inserted."""
    data = bytearray(_VALID_SMALL)
    if draw(st.booleans()):
        data = data[: draw(st.integers(0, len(data)))]
    flips = draw(st.lists(st.tuples(st.integers(0, 10**9), st.integers(0, 255)), max_size=4))
    for position, byte in flips:
        if data:
            data[position % len(data)] = byte
    if draw(st.booleans()):
        position = draw(st.integers(0, len(data)))
        insert = draw(st.one_of(st.text(max_size=4), st.sampled_from(["nan", "inf", "1e308", "}", "{", "-"])))
        data[position:position] = insert.encode("utf-8", errors="surrogatepass")
    return bytes(data)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(corrupted_bvh())
def test_corrupted_files_give_motion_or_motion_file_error(blob):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "fuzz.bvh"
        path.write_bytes(blob)
        try:
            motion = read_bvh(path)
        except MotionFileError as exc:
            assert "fuzz.bvh" in str(exc)
            return
    assert isinstance(motion, Motion)
    assert motion.num_frames >= 2
    assert np.isfinite(motion.joints).all()
