"""Named joint mappings from each supported skeleton to the SMPL-22 layout.

Each SMPL joint is a weighted mix of source joints (weights sum to 1), so a mapping is
a ``[22, J]`` matrix applied to every frame. Joints a layout lacks are interpolated
along the body (e.g. SMPL's three spine joints between the Kinect hip and shoulder
centres, at the fractions of SMPL's reference spine: 0.20, 0.46, 0.57).

Per layout (source joint names):

- ``kinect_msr`` / ``kinect_sdk`` / ``kinect_utd`` (Kinect v1, 20 joints, three file orders): hips, knees, ankles,
  shoulders, elbows, wrists, head map one to one; SMPL feet = Kinect feet; pelvis = hip
  centre; neck = shoulder centre; spine1-3 interpolated hip centre -> shoulder centre;
  collars halfway between shoulder centre and each shoulder. Kinect hands are dropped.
- ``kinect_sbu15`` (SBU Kinect Interaction, OpenNI/NITE 15 joints: no hip centre, spine,
  wrists or ankles): pelvis = midpoint of the hips; neck, head, shoulders, elbows,
  hips, knees one to one; spine1-3 interpolated from the pelvis to the neck at the
  Kinect fractions (0.20, 0.46, 0.57); collars halfway between neck and each shoulder;
  wrist = NITE hand (it sits at the wrist); ankle = NITE foot (it sits at the ankle);
  SMPL foot = the shin carried on 15% past the ankle (``1.15 foot - 0.15 knee``, about
  6 cm below the ankle): the file has no toe, so the foot bone points down the shin
  rather than forward.
- ``bandai_bvh`` (Bandai Namco, 22 joints): Hips -> pelvis, UpperLeg/LowerLeg/Foot/Toes
  -> hip/knee/ankle/foot, Spine -> spine1, Chest -> spine2, spine3 = 0.7 Chest + 0.3 Neck,
  Neck, Head, Shoulder -> collar, UpperArm/LowerArm/Hand -> shoulder/elbow/wrist.
  joint_Root (the floor projection) is dropped.
- ``cmu_asf`` (CMU/HDM05 ASF, joints at bone ends): root -> pelvis, lhipjoint/lfemur/
  ltibia/lfoot -> hip/knee/ankle/foot, lowerback/upperback/thorax -> spine1/2/3,
  lowerneck -> neck, head = midpoint of upperneck and head (the ASF head bone ends at
  the top of the skull), collar = midpoint of thorax and clavicle end, lclavicle/
  lhumerus/lradius -> shoulder/elbow/wrist; same for the right side.
- ``mediapipe33`` (MediaPipe Pose / BlazePose, 33 landmarks, no pelvis, spine or neck
  landmark): hips, knees, ankles, shoulders, elbows, wrists map one to one; the trunk
  joints lie on the line from the hip midpoint to the shoulder midpoint at the fractions
  measured on the HumanML3D sample 012314 (median over its frames: pelvis 0.17, spine1
  0.39, spine2 0.67, spine3 0.76); head = midpoint of the ears (inside the skull at the
  level of its base, near SMPL's head joint); neck halfway between the shoulder midpoint
  and the head (0.50 on the sample); collar 0.4 of the way from the shoulder midpoint to
  each shoulder (0.34 / 0.40 on the sample); foot = 0.8 foot_index (tip of the big toe)
  + 0.2 ankle, near the ball of the foot where SMPL's foot joint sits. Face, hand and
  heel landmarks are dropped.
"""

from __future__ import annotations

import numpy as np

from motionvigil.io.joint_map import Mix
from motionvigil.io.layouts import SMPL22_NAMES
from motionvigil.io.motion import Layout



def _sided(template: dict[str, str | Mix], sides: dict[str, str]) -> dict[str, str | Mix]:
    """Expand ``{side}`` placeholders for the left and right side."""
    out: dict[str, str | Mix] = {}
    for smpl, src in template.items():
        for side, tag in sides.items():
            key = smpl.format(side=side)
            if isinstance(src, str):
                out[key] = src.format(side=tag)
            else:
                out[key] = {name.format(side=tag): w for name, w in src.items()}
    return out


_TRUNK_JOINTS = ("pelvis", "spine1", "spine2", "spine3", "neck", "head")
_LIMB_SLOTS = ("hip", "knee", "ankle", "foot", "collar", "shoulder", "elbow", "wrist")


def _smpl_map(trunk: tuple, limbs: tuple, sides: tuple[str, str]) -> dict[str, str | Mix]:
    """A mapping from the sources of the trunk joints (:data:`_TRUNK_JOINTS` order) and of
    one side's limb joints (:data:`_LIMB_SLOTS` order; ``None``: given separately), where
    ``{side}`` in a limb source's names is the side's tag in ``sides`` (left, right)."""
    template = {f"{{side}}_{slot}": src for slot, src in zip(_LIMB_SLOTS, limbs) if src is not None}
    return {**dict(zip(_TRUNK_JOINTS, trunk)), **_sided(template, {"left": sides[0], "right": sides[1]})}


_KINECT = _smpl_map(
    trunk=("hip_centre", {"hip_centre": 0.80, "shoulder_centre": 0.20},
           {"hip_centre": 0.54, "shoulder_centre": 0.46}, {"hip_centre": 0.43, "shoulder_centre": 0.57},
           "shoulder_centre", "head"),
    limbs=("{side}_hip", "{side}_knee", "{side}_ankle", "{side}_foot",
           {"shoulder_centre": 0.5, "{side}_shoulder": 0.5},
           "{side}_shoulder", "{side}_elbow", "{side}_wrist"),
    sides=("left", "right"),
)

def _hips_to_neck(fraction: float) -> Mix:
    """The point ``fraction`` of the way from the hip midpoint to the neck (SBU)."""
    low = (1.0 - fraction) / 2
    return {"left_hip": low, "right_hip": low, "neck": fraction}


_SBU15 = _smpl_map(
    trunk=({"left_hip": 0.5, "right_hip": 0.5}, _hips_to_neck(0.20), _hips_to_neck(0.46), _hips_to_neck(0.57), "neck", "head"),
    limbs=("{side}_hip", "{side}_knee", "{side}_foot", {"{side}_foot": 1.15, "{side}_knee": -0.15},
           {"neck": 0.5, "{side}_shoulder": 0.5}, "{side}_shoulder", "{side}_elbow", "{side}_hand"),
    sides=("left", "right"),
)

_BANDAI = _smpl_map(
    trunk=("Hips", "Spine", "Chest", {"Chest": 0.7, "Neck": 0.3}, "Neck", "Head"),
    limbs=("UpperLeg_{side}", "LowerLeg_{side}", "Foot_{side}", "Toes_{side}",
           "Shoulder_{side}", "UpperArm_{side}", "LowerArm_{side}", "Hand_{side}"),
    sides=("L", "R"),
)

_CMU = _smpl_map(
    trunk=("root", "lowerback", "upperback", "thorax", "lowerneck", {"upperneck": 0.5, "head": 0.5}),
    limbs=("{side}hipjoint", "{side}femur", "{side}tibia", "{side}foot",
           {"thorax": 0.5, "{side}clavicle": 0.5}, "{side}clavicle", "{side}humerus", "{side}radius"),
    sides=("l", "r"),
)


def _trunk(fraction: float) -> Mix:
    """The point ``fraction`` of the way from the hip midpoint to the shoulder midpoint."""
    low, high = (1.0 - fraction) / 2, fraction / 2
    return {"left_hip": low, "right_hip": low, "left_shoulder": high, "right_shoulder": high}


_MEDIAPIPE = {
    **_smpl_map(
        trunk=(_trunk(0.17), _trunk(0.39), _trunk(0.67), _trunk(0.76),
               {"left_shoulder": 0.25, "right_shoulder": 0.25, "left_ear": 0.25, "right_ear": 0.25},
               {"left_ear": 0.5, "right_ear": 0.5}),
        limbs=("{side}_hip", "{side}_knee", "{side}_ankle", {"{side}_foot_index": 0.8, "{side}_ankle": 0.2},
               None, "{side}_shoulder", "{side}_elbow", "{side}_wrist"),
        sides=("left", "right"),
    ),
    # collar = 0.6 shoulder midpoint + 0.4 shoulder of its side
    "left_collar": {"left_shoulder": 0.7, "right_shoulder": 0.3},
    "right_collar": {"right_shoulder": 0.7, "left_shoulder": 0.3},
}

_IDENTITY: dict[str, str | Mix] = {name: name for name in SMPL22_NAMES}

MAPPINGS: dict[str, dict[str, str | Mix]] = {
    "smpl22": _IDENTITY,
    "kinect_msr": _KINECT,
    "kinect_sdk": _KINECT,
    "kinect_utd": _KINECT,
    "kinect_sbu15": _SBU15,
    "bandai_bvh": _BANDAI,
    "cmu_asf": _CMU,
    "mediapipe33": _MEDIAPIPE,
}


def mapping_matrix(layout: Layout) -> np.ndarray:
    """The ``[22, J]`` matrix taking ``layout``'s joints to SMPL-22 joints.

    Raises:
        KeyError: no mapping is known for ``layout.name``, or a named source joint is
            missing from the layout.
    """
    if layout.name not in MAPPINGS:
        known = ", ".join(sorted(MAPPINGS))
        raise KeyError(f"no SMPL-22 mapping for skeleton layout {layout.name!r}; known layouts: {known}")
    spec = MAPPINGS[layout.name]
    matrix = np.zeros((len(SMPL22_NAMES), layout.num_joints))
    for row, smpl_name in enumerate(SMPL22_NAMES):
        source = spec[smpl_name]
        mix = {source: 1.0} if isinstance(source, str) else source
        for src_name, weight in mix.items():
            matrix[row, layout.index(src_name)] += weight
    return matrix
