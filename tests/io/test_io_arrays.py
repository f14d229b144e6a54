"""numpy joint arrays: HumanML3D new_joints .npy, generic .npz read/write."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from motionvigil.errors import MotionFileError
from motionvigil.io import KINECT_SDK, SMPL22, Layout, Motion, load_motion
from motionvigil.io.arrays import read_humanml3d_joints, read_npz, save_npz

HML_JOINTS = "humanml3d/new_joints/012314.npy"
HML_VECS = "humanml3d/new_joint_vecs/012314.npy"


def _joints(num_frames: int = 5, num_joints: int = 22, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(num_frames, num_joints, 3)).astype(np.float32)


# --------------------------------------------------------------------------- HumanML3D


def test_humanml3d_real_joints(data_path):
    path = data_path(HML_JOINTS)
    motion = read_humanml3d_joints(path)
    assert motion.joints.shape == (170, 22, 3)
    assert motion.layout is SMPL22 and motion.fps == 20.0
    assert motion.source == str(path)
    np.testing.assert_array_equal(motion.joints, np.load(path))
    # Y up, metres: head about 1.2-1.8 m above the floor, above the pelvis in every frame.
    y = motion.joints[..., 1]
    assert np.all(y[:, SMPL22.index("head")] > y[:, SMPL22.index("pelvis")])
    assert 1.2 < np.median(y[:, SMPL22.index("head")] - y.min(axis=1)) < 1.8


def test_humanml3d_feature_file_is_recognised(data_path):
    path = data_path(HML_VECS)
    with pytest.raises(MotionFileError, match="features") as info:
        read_humanml3d_joints(path)
    assert "new_joint_vecs" in info.value.problem and info.value.path == str(path)


@pytest.mark.parametrize(
    ("array", "message"),
    [
        (np.zeros((5, 263), np.float32), "features"),
        (np.zeros((5, 21, 3), np.float32), r"\[frames, 22, 3\]"),
        (np.zeros((5, 66), np.float32), r"\[frames, 22, 3\]"),
        (np.zeros((1, 22, 3), np.float32), "at least 2"),
        (np.zeros((0, 22, 3), np.float32), "at least 2"),
        (np.full((3, 22, 3), np.nan, np.float32), "non-finite"),
        (np.full((3, 22, 3), 1e300), "float32 range"),
        (np.zeros((3, 22, 3), bool), "real numbers"),
        (np.zeros((3, 22, 3), complex), "real numbers"),
    ],
)
def test_humanml3d_bad_arrays(tmp_path, array, message):
    path = tmp_path / "bad.npy"
    np.save(path, array)
    with pytest.raises(MotionFileError, match=message) as info:
        read_humanml3d_joints(path)
    assert info.value.path == str(path)


def test_humanml3d_unloadable_files(tmp_path):
    pickled = tmp_path / "objects.npy"
    np.save(pickled, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(MotionFileError, match="object array"):
        read_humanml3d_joints(pickled)
    text = tmp_path / "text.npy"
    text.write_text("1 2 3\n")
    with pytest.raises(MotionFileError, match="neither a .npy nor an .npz"):
        read_humanml3d_joints(text)
    truncated = tmp_path / "truncated.npy"
    np.save(truncated, _joints())
    truncated.write_bytes(truncated.read_bytes()[:-50])
    with pytest.raises(MotionFileError, match="cannot be loaded"):
        read_humanml3d_joints(truncated)
    archive = tmp_path / "archive.npy"
    with open(archive, "wb") as fh:
        np.savez(fh, joints=_joints())
    with pytest.raises(MotionFileError, match="npz archive"):
        read_humanml3d_joints(archive)
    with pytest.raises(MotionFileError):
        read_humanml3d_joints(tmp_path / "absent.npy")


# --------------------------------------------------------------------------- npz round trip


def test_npz_round_trip_smpl22_with_extras(tmp_path):
    motion = Motion(_joints(), fps=20.0, layout=SMPL22, source="orig/012314.npy")
    confidence = np.linspace(0, 1, 5 * 22, dtype=np.float32).reshape(5, 22)
    path = tmp_path / "sub" / "m.npz"
    save_npz(path, motion, confidence=confidence, label=np.array("kick"))
    assert [p.name for p in path.parent.iterdir()] == ["m.npz"]  # no temporary left behind
    back = read_npz(path)
    np.testing.assert_array_equal(back.joints, motion.joints)
    assert back.fps == 20.0
    assert back.layout == SMPL22
    assert back.source == str(path)
    assert back.meta["original_source"] == "orig/012314.npy"
    np.testing.assert_array_equal(back.meta["confidence"], confidence)
    assert str(back.meta["label"]) == "kick"


def test_npz_round_trip_custom_layout(tmp_path):
    layout = Layout("bandai_bvh", ("root", "spine", "head", "arm"), (-1, 0, 1, 1))
    motion = Motion(_joints(num_joints=4), fps=29.97, layout=layout)
    path = tmp_path / "custom.npz"
    save_npz(path, motion)
    back = load_motion(path)
    assert back.layout == layout and back.fps == pytest.approx(29.97)
    np.testing.assert_array_equal(back.joints, motion.joints)
    assert "original_source" not in back.meta


def test_npz_round_trip_kinect_layout(tmp_path):
    motion = Motion(_joints(num_joints=20), fps=30.0, layout=KINECT_SDK)
    path = tmp_path / "k.npz"
    save_npz(path, motion)
    assert read_npz(path).layout == KINECT_SDK


def test_save_npz_rejects_reserved_or_object_extras(tmp_path):
    motion = Motion(_joints(), fps=20.0, layout=SMPL22)
    with pytest.raises(ValueError, match="reserved"):
        save_npz(tmp_path / "a.npz", motion, fps=np.array(1.0))
    with pytest.raises(ValueError, match="objects"):
        save_npz(tmp_path / "b.npz", motion, notes=np.array([{"x": 1}], dtype=object))
    with pytest.raises(ValueError, match=".npz"):
        save_npz(tmp_path / "c.npy", motion)
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------- npz defaults


def test_npz_22_joints_without_names_is_smpl22(tmp_path):
    path = tmp_path / "plain.npz"
    np.savez(path, joints=_joints(), fps=np.float32(20))
    assert read_npz(path).layout is SMPL22


def test_npz_other_joint_count_without_names_is_generic(tmp_path):
    path = tmp_path / "plain.npz"
    np.savez(path, joints=_joints(num_joints=5), fps=30)
    layout = read_npz(path).layout
    assert layout.name == "generic"
    assert layout.joint_names == ("joint_0", "joint_1", "joint_2", "joint_3", "joint_4")
    assert layout.parents == (-1,) * 5


def test_npz_names_without_parents(tmp_path):
    path = tmp_path / "named.npz"
    np.savez(path, joints=_joints(num_joints=3), fps=30, joint_names=np.array(["a", "b", "c"]))
    assert read_npz(path).layout.parents == (-1, -1, -1)
    path2 = tmp_path / "named_sdk.npz"
    np.savez(path2, joints=_joints(num_joints=20), fps=30, joint_names=np.array(KINECT_SDK.joint_names))
    assert read_npz(path2).layout == KINECT_SDK  # known names give the known parents


def test_npz_known_layout_name_supplies_joints(tmp_path):
    path = tmp_path / "k.npz"
    np.savez(path, joints=_joints(num_joints=20), fps=30, layout=np.array("kinect_sdk"))
    assert read_npz(path).layout == KINECT_SDK


# --------------------------------------------------------------------------- npz errors


@pytest.mark.parametrize(
    ("arrays", "message"),
    [
        ({"fps": 30}, "no 'joints' array"),
        ({"joints": _joints()}, "no 'fps' array"),
        ({"joints": _joints()[0], "fps": 30}, r"shape \[frames, joints, 3\]"),
        ({"joints": _joints()[..., :2], "fps": 30}, r"shape \[frames, joints, 3\]"),
        ({"joints": np.full((4, 22, 3), np.nan), "fps": 30}, "non-finite"),
        ({"joints": _joints(num_frames=1), "fps": 30}, "at least 2"),
        ({"joints": _joints().astype(str), "fps": 30}, "real numbers"),
        ({"joints": _joints().astype(np.complex64), "fps": 30}, "real numbers"),
        ({"joints": _joints().astype(bool), "fps": 30}, "real numbers"),
        ({"joints": _joints(), "fps": np.array([20, 30])}, "single number"),
        ({"joints": _joints(), "fps": 0}, "frame rate"),
        ({"joints": _joints(), "fps": np.nan}, "frame rate"),
        ({"joints": _joints(), "fps": "fast"}, "real numbers"),
        (
            {"joints": _joints(num_joints=3), "fps": 30, "joint_names": np.array(["a", "b"])},
            "2 names but joints has 3",
        ),
        ({"joints": _joints(num_joints=2), "fps": 30, "joint_names": np.array([1, 2])}, "string array"),
        ({"joints": _joints(num_joints=2), "fps": 30, "joint_names": np.array(["a", "a"])}, "repeated"),
        (
            {"joints": _joints(num_joints=3), "fps": 30, "parents": np.array([-1, 0])},
            "2 entries but joints has 3",
        ),
        ({"joints": _joints(num_joints=3), "fps": 30, "parents": np.array([-1, 0, 5])}, "invalid parent 5"),
        ({"joints": _joints(num_joints=3), "fps": 30, "parents": np.array([-1, 2, 1])}, "cycle"),
        ({"joints": _joints(num_joints=3), "fps": 30, "parents": np.array([-1.0, 0, 0])}, "integer array"),
        ({"joints": _joints(num_joints=21), "fps": 30, "layout": np.array("smpl22")}, "has 22 joints but"),
        ({"joints": _joints(), "fps": 30, "layout": np.array(3)}, "single string"),
    ],
)
def test_npz_bad_contents(tmp_path, arrays, message):
    path = tmp_path / "bad.npz"
    np.savez(path, **arrays)
    with pytest.raises(MotionFileError, match=message) as info:
        read_npz(path)
    assert info.value.path == str(path)


def test_npz_object_arrays_are_never_unpickled(tmp_path):
    path = tmp_path / "pickled.npz"
    names = np.array(["a", "b", "c"], dtype=object)
    np.savez(path, joints=_joints(num_joints=3), fps=30, joint_names=names)  # pickled inside
    with pytest.raises(MotionFileError, match="'joint_names' .*object array"):
        read_npz(path)
    path2 = tmp_path / "pickled_joints.npz"
    np.savez(path2, joints=np.empty((2, 3, 3), dtype=object), fps=30)
    with pytest.raises(MotionFileError, match="object array"):
        read_npz(path2)


def test_npz_not_an_archive(tmp_path):
    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(b"PK\x03\x04 this is not really a zip file")
    with pytest.raises(MotionFileError, match="cannot be loaded"):
        read_npz(garbage)
    single = tmp_path / "single.npz"
    with open(single, "wb") as fh:
        np.save(fh, _joints())
    with pytest.raises(MotionFileError, match="single .npy array"):
        read_npz(single)
    truncated = tmp_path / "truncated.npz"
    save_npz(truncated, Motion(_joints(), fps=20.0, layout=SMPL22))
    truncated.write_bytes(truncated.read_bytes()[:-40])
    with pytest.raises(MotionFileError):
        read_npz(truncated)


# --------------------------------------------------------------------------- dispatch


def test_load_motion_dispatches_arrays(data_path, tmp_path):
    motion = load_motion(data_path(HML_JOINTS))
    assert motion.layout is SMPL22 and motion.num_frames == 170
    with pytest.raises(MotionFileError, match="features"):
        load_motion(data_path(HML_VECS))
    path = tmp_path / "copy.npz"
    save_npz(path, motion)
    back = load_motion(path)
    np.testing.assert_array_equal(back.joints, motion.joints)
    assert back.layout == SMPL22 and back.meta["original_source"] == motion.source


def test_load_motion_npy_fps_override(data_path):
    assert load_motion(Path(data_path(HML_JOINTS)), fps=10.0).fps == 10.0


# --------------------------------------------------------------------------- robustness

_SMALL = Motion(_joints(num_frames=3, num_joints=22, seed=3), fps=20.0, layout=SMPL22, source="x")


def _damage(data: bytes, ops: list[tuple[int, int]], cut: int | None) -> bytes:
    buf = bytearray(data)
    for position, value in ops:
        buf[position % len(buf)] = value
    return bytes(buf[: cut % len(buf)] if cut is not None else buf)


_DAMAGE = dict(
    ops=st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), max_size=3),
    cut=st.none() | st.integers(0, 10**6),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(**_DAMAGE)
def test_damaged_npz_and_npy_give_motion_or_motion_file_error(ops, cut):
    with tempfile.TemporaryDirectory() as tmp:
        npz = Path(tmp) / "m.npz"
        save_npz(npz, _SMALL)
        npy = Path(tmp) / "m.npy"
        np.save(npy, _SMALL.joints)
        for path, reader in ((npz, read_npz), (npy, read_humanml3d_joints)):
            path.write_bytes(_damage(path.read_bytes(), ops, cut))
            try:
                motion = reader(path)
            except MotionFileError as exc:
                assert exc.path == str(path)
                continue
            assert motion.joints.shape[1:] == (22, 3) and np.isfinite(motion.joints).all()


def test_validate_joints_rejects_non_real_dtypes_and_reports_overflow():
    from motionvigil.io.motion import validate_joints

    for dtype in (np.complex64, bool):
        with pytest.raises(MotionFileError, match="real numbers"):
            validate_joints(np.zeros((5, 3, 3), dtype=dtype), "clip.npz")
    huge = np.zeros((5, 3, 3), dtype=np.longdouble)
    huge[2, 1, 0] = np.finfo(np.longdouble).max
    with pytest.raises(MotionFileError, match="frame 2, joint 1"):
        validate_joints(huge, "clip.npz")


# --------------------------------------------------------------------------- persons axis


def _pair(num_frames: int = 6) -> Motion:
    joints = np.stack([_joints(num_frames, 15, seed=1), _joints(num_frames, 15, seed=2) + 1.5])
    present = np.ones((2, num_frames), dtype=bool)
    present[1, :2] = False
    from motionvigil.io.layouts import KINECT_SBU15

    return Motion(joints=joints, fps=15.0, layout=KINECT_SBU15, person_ids=(3, 7), present=present)


def test_npz_round_trip_multi_person(tmp_path):
    motion = _pair()
    path = tmp_path / "pair.npz"
    save_npz(path, motion)
    back = load_motion(path)
    assert back.num_persons == 2 and back.joints.shape == (2, 6, 15, 3)
    seen = motion.presence
    np.testing.assert_array_equal(back.joints[seen], motion.joints[seen])  # absent frames hold filler (docs/persons.md)
    assert back.person_ids == (3, 7)
    np.testing.assert_array_equal(back.present, motion.present)
    assert back.layout == motion.layout and back.fps == 15.0
    assert "person_ids" not in back.meta and "present" not in back.meta


def test_npz_single_person_writes_no_persons_entries(tmp_path):
    path = tmp_path / "one.npz"
    save_npz(path, Motion(_joints(), fps=20.0, layout=SMPL22))
    with np.load(path) as z:
        assert "person_ids" not in z.files and "present" not in z.files and z["joints"].ndim == 3
    back = read_npz(path)
    assert back.num_persons == 1 and back.person_ids == (0,) and back.present is None


@pytest.mark.parametrize(
    ("arrays", "message"),
    [
        ({"person_ids": np.array([0])}, r"'person_ids' must be 2 integer"),
        ({"person_ids": np.array([0.0, 1.0])}, r"'person_ids' must be 2 integer"),
        ({"person_ids": np.array([4, 4])}, "unique non-negative person ids"),
        ({"person_ids": np.array([-1, 4])}, "unique non-negative person ids"),
        ({"present": np.ones((2, 5), dtype=bool)}, r"'present' must be booleans of shape \[persons, frames\] = \[2, 6\]"),
        ({"present": np.full((2, 6), 2)}, "booleans"),
        ({"present": np.full((2, 6), 0.5)}, "booleans"),
    ],
)
def test_npz_bad_persons_entries(tmp_path, arrays, message):
    path = tmp_path / "bad.npz"
    np.savez(path, joints=_pair().joints, fps=15.0, **arrays)
    with pytest.raises(MotionFileError, match=message) as info:
        read_npz(path)
    assert info.value.path == str(path)


def test_npz_multi_person_beyond_float32_names_the_person(tmp_path):
    joints = _pair().joints.astype(np.float64)
    joints[1, 4, 2, 0] = 1e300
    path = tmp_path / "big.npz"
    np.savez(path, joints=joints, fps=15.0)
    with pytest.raises(MotionFileError, match="at person 1, frame 4, joint 2"):
        read_npz(path)
