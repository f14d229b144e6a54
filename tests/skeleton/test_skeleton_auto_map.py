"""Automatic SMPL-22 mapping of BVH hierarchies from joint names, tree and geometry.

The fixtures (tests/fixtures/bvh/, see tests/fixtures/README) are one made-up body under
each naming family's hierarchy: a rest frame and moved frames. Both poses go through the
same geometric checks as the real-data retargeting tests.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import test_skeleton_retarget as geometry
from motionvigil.cli import main
from motionvigil.errors import MotionFileError
from motionvigil.io import SMPL22, Motion, load_motion
from motionvigil.io.layouts import SMPL22_NAMES
from motionvigil.io.motion import Layout
from motionvigil.skeleton.auto_map import MappingError, auto_map, check_joint_map, split_name
from motionvigil.skeleton.retarget import smpl22_mapping, to_smpl22

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "bvh"
FAMILIES = {
    "cmu_bvh": "CMU BVH units (inches / 0.45)",
    "mixamo": "centimetres",
    "lafan1": "centimetres",
    "unreal": "centimetres",
    "smpl_named": "metres",
    "bandai": "centimetres",
    "rokoko": "centimetres",
    "truebones_biped": "inches",
    "sides_from_geometry": "centimetres",
}
I = {name: i for i, name in enumerate(SMPL22_NAMES)}


def poses(motion: Motion) -> dict[str, Motion]:
    """The rest frame held still, and the moved frames."""
    rest = Motion(np.repeat(motion.joints[:1], 8, axis=0), motion.fps, motion.layout, motion.source, dict(motion.meta))
    moved = Motion(motion.joints[1:], motion.fps, motion.layout, motion.source, dict(motion.meta))
    return {"rest": rest, "moved": moved}


@pytest.fixture(scope="module", params=sorted(FAMILIES))
def family(request):
    return request.param, load_motion(FIXTURES / f"{request.param}.bvh")


def test_every_family_converts_without_flags(family, tmp_path, capsys):
    name, motion = family
    assert motion.meta["units"] == FAMILIES[name]
    assert main(["convert", str(FIXTURES / f"{name}.bvh"), "-o", str(tmp_path / "out.npz")]) == 0
    with np.load(tmp_path / "out.npz") as out:
        assert out["joints"].shape[1:] == (22, 3)


@pytest.mark.parametrize("pose", ["rest", "moved"])
def test_geometry_of_rest_and_moved_poses(family, pose):
    _, motion = family
    source = poses(motion)[pose]
    smpl = to_smpl22(source)
    pair = (source, smpl)
    geometry.test_head_above_pelvis_above_feet(pair)
    geometry.test_floor_origin_and_facing(pair)
    geometry.test_not_mirrored_toes_point_forward(pair)
    geometry.test_plausible_bone_lengths(pair)
    j = smpl.joints
    assert (j[:, I["head"], 1] > j[:, I["pelvis"], 1]).mean() >= 0.95


def test_sides_from_geometry_alone():
    """Limbs named ``.A``/``.B`` with A the body's right, the body facing +X."""
    motion = load_motion(FIXTURES / "sides_from_geometry.bvh")
    mapping = smpl22_mapping(motion).describe()
    assert mapping["left_hip"] == "Thigh.B" and mapping["right_hip"] == "Thigh.A"
    assert mapping["left_shoulder"] == "UpperArm.B" and mapping["right_wrist"] == "Hand.A"


@pytest.mark.parametrize(
    ("name", "side", "key"),
    [("mixamorig:LeftUpLeg", "left", "upleg"), ("thigh_r", "right", "thigh"), ("Bip01 L Calf", "left", "calf"),
     ("L_Shoulder", "left", "shoulder"), ("RHipJoint", "right", "hipjoint"), ("LowerBack", None, "lowerback"),
     ("Character1_RightHand", "right", "hand"), ("hand.L", "left", "hand"), ("Spine1", None, "spine1"),
     ("Shoulder_L", "left", "shoulder"), ("LeftToe_End", "left", "toeend")],
)
def test_split_name(name, side, key):
    parsed = split_name(name)
    assert (parsed.side, parsed.key) == (side, key)


def test_ambiguous_names_settled_by_the_limb():
    smpl = smpl22_mapping(load_motion(FIXTURES / "smpl_named.bvh")).describe()
    assert (smpl["left_collar"], smpl["left_shoulder"], smpl["left_wrist"]) == ("L_Collar", "L_Shoulder", "L_Wrist")
    assert (smpl["left_ankle"], smpl["left_foot"]) == ("L_Ankle", "L_Foot")
    mixamo = smpl22_mapping(load_motion(FIXTURES / "mixamo.bvh")).describe()
    assert (mixamo["left_collar"], mixamo["left_shoulder"]) == ("mixamorig:LeftShoulder", "mixamorig:LeftArm")
    assert (mixamo["left_ankle"], mixamo["left_foot"]) == ("mixamorig:LeftFoot", "mixamorig:LeftToeBase")


def test_bandai_real_file_auto_map_agrees_with_the_fixed_map(data_path):
    motion = load_motion(data_path("bandai2/data/dataset-2_walk_normal_001.bvh"))
    fixed = to_smpl22(motion).joints
    generic = Motion(motion.joints, motion.fps, Layout("bvh", motion.layout.joint_names, motion.layout.parents),
                     motion.source, dict(motion.meta))
    auto = to_smpl22(generic).joints
    limbs = [I[f"{s}_{p}"] for s in ("left", "right") for p in ("hip", "knee", "ankle", "foot", "shoulder",
                                                                "elbow", "wrist", "collar")]
    np.testing.assert_allclose(auto[:, limbs + [I["head"], I["neck"], I["pelvis"]]],
                               fixed[:, limbs + [I["head"], I["neck"], I["pelvis"]]], atol=1e-5)
    assert np.abs(auto - fixed).max() < 0.08  # the spine joints are interpolated differently


# --------------------------------------------------------------------------- errors and hostile input


def _renamed_fixture(tmp_path: Path, mapping: dict[str, str]) -> Path:
    text = (FIXTURES / "lafan1.bvh").read_text()
    for old, new in mapping.items():
        text = text.replace(f"JOINT {old}\n", f"JOINT {new}\n").replace(f"ROOT {old}\n", f"ROOT {new}\n")
    path = tmp_path / "odd.bvh"
    path.write_text(text)
    return path


def test_unmappable_file_is_one_line_naming_the_missing_joints(tmp_path, capsys):
    path = _renamed_fixture(tmp_path, {"LeftUpLeg": "J1", "RightUpLeg": "J2"})
    assert main(["convert", str(path), "-o", str(tmp_path / "x.npz")]) == 3
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "odd.bvh" in err
    assert "could not match left_hip, right_hip" in err and "J1" in err and "--joint-map" in err
    assert not (tmp_path / "x.npz").exists()


def test_joint_map_file_settles_the_missing_joints(tmp_path, capsys):
    path = _renamed_fixture(tmp_path, {"LeftUpLeg": "J1", "RightUpLeg": "J2"})
    jmap = tmp_path / "map.json"
    jmap.write_text(json.dumps({"left_hip": "J1", "right_hip": "J2"}))
    assert main(["convert", str(path), "-o", str(tmp_path / "x.npz"), "--joint-map", str(jmap)]) == 0
    assert main(["info", str(path), "--joint-map", str(jmap), "--json"]) == 0
    info = json.loads(capsys.readouterr().out.strip().splitlines()[-1])["files"][0]
    assert info["mapping"]["left_hip"] == "J1" and info["units"] == "centimetres" and info["scale_to_metres"] == 0.01
    jmap.write_text(json.dumps({"left_hip": "Nope"}))
    assert main(["info", str(path), "--joint-map", str(jmap), "--json"]) == 0  # info reports the problem per file
    assert "Nope" in json.loads(capsys.readouterr().out)["files"][0]["mapping_error"]
    jmap.write_text(json.dumps({"left_knees": "J1"}))
    assert main(["convert", str(path), "-o", str(tmp_path / "y.npz"), "--joint-map", str(jmap)]) == 3
    assert "left_knees" in capsys.readouterr().err


def test_scale_flag_overrides_units(tmp_path, capsys):
    path = FIXTURES / "lafan1.bvh"
    assert main(["info", str(path), "--scale", "0.02", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)["files"][0]
    assert info["scale_to_metres"] == 0.02


def test_check_joint_map_rejects_bad_values():
    assert check_joint_map({"pelvis": "Hips", "head": {"A": 0.5, "B": 0.5}})["head"] == {"A": 0.5, "B": 0.5}
    for bad in ({"pelvis": 3}, {"pelvis": {"A": 0.3}}, ["pelvis"], {"pelvis": ""}):
        with pytest.raises(MotionFileError):
            check_joint_map(bad, "m.json")


def test_duplicate_names_cycles_and_no_legs():
    with pytest.raises(MappingError, match="duplicate joint names 'Spine'"):
        auto_map(["Hips", "Spine", "Spine"], [-1, 0, 1])
    with pytest.raises(MappingError, match="cycle"):
        auto_map(["Hips", "Spine", "Head"], [2, 0, 1])
    names = ["Hips", "Spine", "Neck", "Head", "LeftArm", "LeftForeArm", "LeftHand", "RightArm", "RightForeArm",
             "RightHand"]
    with pytest.raises(MappingError) as info:
        auto_map(names, [-1, 0, 1, 2, 1, 4, 5, 1, 7, 8])
    message = str(info.value)
    assert "left_hip, right_hip, left_knee" in message and "Hips, Spine, Neck" in message
    assert "\n" not in message


def test_mirrored_names_are_caught(tmp_path):
    """Left/right names that contradict the toes' direction: an error, not a mirrored body."""
    text = (FIXTURES / "lafan1.bvh").read_text()
    swapped = text.replace("Left", "TMP").replace("Right", "Left").replace("TMP", "Right")
    path = tmp_path / "mirrored.bvh"
    path.write_text(swapped)
    with pytest.raises(MotionFileError, match="mirrored.bvh.*on the body's right"):
        to_smpl22(load_motion(path))


NAME_POOL = ["Hips", "Spine", "Neck", "Head", "LeftUpLeg", "LeftLeg", "LeftFoot", "RightUpLeg", "RightLeg",
             "RightFoot", "LeftArm", "LeftForeArm", "LeftHand", "RightArm", "RightHand", "X", "pelvis", "thigh_l"]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=st.data(),
    n=st.integers(min_value=1, max_value=14),
)
def test_hostile_hierarchies_raise_mapping_error_or_map(data, n):
    names = data.draw(st.lists(st.sampled_from(NAME_POOL) | st.text(max_size=6), min_size=n, max_size=n))
    parents = data.draw(st.lists(st.integers(min_value=-1, max_value=n - 1), min_size=n, max_size=n))
    joints = data.draw(st.none() | st.just(np.random.default_rng(n).normal(size=(4, n, 3))))
    try:
        result = auto_map(names, parents, joints)
    except MappingError as exc:
        assert "\n" not in str(exc)
        return
    matrix = result.matrix(names)
    assert matrix.shape == (22, n)
    np.testing.assert_allclose(matrix.sum(1), 1.0)


def test_mapping_of_a_fixed_layout_is_reported_too():
    motion = Motion(np.random.default_rng(0).normal(size=(4, 22, 3)), 20.0, SMPL22)
    assert smpl22_mapping(motion).describe()["head"] == "head"


def _rotated(motion: Motion, rotation: np.ndarray, frames: slice = slice(None)) -> Motion:
    joints = motion.joints.astype(np.float64).copy()
    joints[frames] = joints[frames] @ rotation.T
    return Motion(joints, motion.fps, motion.layout, motion.source, dict(motion.meta))


def test_lying_down_clip_maps_by_its_upright_rest_pose():
    motion = load_motion(FIXTURES / "lafan1.bvh")
    lie_down = np.array([[1.0, 0, 0], [0, 0, -1.0], [0, 1.0, 0]])  # Y -> -Z: the body lies on its back
    lying = _rotated(motion, lie_down, slice(1, None))
    assert smpl22_mapping(lying).describe()["left_hip"] == "LeftUpLeg"


def test_z_up_file_is_refused():
    motion = load_motion(FIXTURES / "lafan1.bvh")
    z_up = np.array([[1.0, 0, 0], [0, 0, -1.0], [0, 1.0, 0]])
    meta = dict(motion.meta)
    meta["offsets"] = np.asarray(meta["offsets"]) @ z_up.T
    rotated = _rotated(motion, z_up)
    rotated.meta = meta
    with pytest.raises(MotionFileError, match="lafan1.bvh.*head .*above the pelvis.*Y-up"):
        smpl22_mapping(rotated)


def test_kinect_v2_style_names_without_geometry():
    """``ShoulderLeft`` with no ``Arm`` joint is the shoulder joint; the collar is interpolated."""
    tree = {"SpineBase": None, "SpineMid": "SpineBase", "SpineShoulder": "SpineMid", "Neck": "SpineShoulder",
            "Head": "Neck"}
    for side in ("Left", "Right"):
        tree.update({f"Shoulder{side}": "SpineShoulder", f"Elbow{side}": f"Shoulder{side}",
                     f"Wrist{side}": f"Elbow{side}", f"Hand{side}": f"Wrist{side}", f"Hip{side}": "SpineBase",
                     f"Knee{side}": f"Hip{side}", f"Ankle{side}": f"Knee{side}", f"Foot{side}": f"Ankle{side}"})
    names = list(tree)
    mapping = auto_map(names, [-1 if p is None else names.index(p) for p in tree.values()]).describe()
    assert mapping["pelvis"] == "SpineBase" and mapping["left_shoulder"] == "ShoulderLeft"
    assert mapping["left_wrist"] == "WristLeft" and mapping["right_foot"] == "FootRight"
    assert set(mapping["left_collar"]) == {"SpineMid", "SpineShoulder", "ShoulderLeft"}
