"""Joint layouts of the fixed-topology skeletons that motionvigil reads.

Hierarchies read from files (BVH, ASF) build their own :class:`Layout`; the layouts
here are for formats that store bare joint positions (Kinect, HumanML3D). Kinect v1
layouts use the same joint names in both file orders, so retargeting works by name.
"""

from __future__ import annotations

from motionvigil.io.motion import Layout

SMPL22_NAMES = (
    "pelvis", "left_hip", "right_hip", "spine1", "left_knee", "right_knee", "spine2",
    "left_ankle", "right_ankle", "spine3", "left_foot", "right_foot", "neck",
    "left_collar", "right_collar", "head", "left_shoulder", "right_shoulder",
    "left_elbow", "right_elbow", "left_wrist", "right_wrist",
)  # fmt: skip
SMPL22_PARENTS = (-1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 12, 13, 14, 16, 17, 18, 19)
SMPL22 = Layout("smpl22", SMPL22_NAMES, SMPL22_PARENTS)


def _layout_from_edges(name: str, names: tuple[str, ...], child_parent: dict[str, str]) -> Layout:
    parents = tuple(names.index(child_parent[n]) if n in child_parent else -1 for n in names)
    return Layout(name, names, parents)


# Kinect v1 (20 joints); parents follow the bone list of MSR Action3D's body_model.mat.
_KINECT_PARENT = {
    "spine": "hip_centre", "shoulder_centre": "spine", "head": "shoulder_centre",
    "left_shoulder": "shoulder_centre", "right_shoulder": "shoulder_centre",
    "left_elbow": "left_shoulder", "right_elbow": "right_shoulder",
    "left_wrist": "left_elbow", "right_wrist": "right_elbow",
    "left_hand": "left_wrist", "right_hand": "right_wrist",
    "left_hip": "hip_centre", "right_hip": "hip_centre",
    "left_knee": "left_hip", "right_knee": "right_hip",
    "left_ankle": "left_knee", "right_ankle": "right_knee",
    "left_foot": "left_ankle", "right_foot": "right_ankle",
}  # fmt: skip

# MSR Action3D file order (1-based in its body_model.mat; 0-based here).
KINECT_MSR = _layout_from_edges(
    "kinect_msr",
    (
        "left_shoulder", "right_shoulder", "shoulder_centre", "spine", "left_hip", "right_hip",
        "hip_centre", "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_hand",
        "right_hand", "left_knee", "right_knee", "left_ankle", "right_ankle", "left_foot",
        "right_foot", "head",
    ),
    _KINECT_PARENT,
)  # fmt: skip

# Kinect SDK order (NUI_SKELETON_POSITION_INDEX), used by UTKinect-Action3D.
KINECT_SDK = _layout_from_edges(
    "kinect_sdk",
    (
        "hip_centre", "spine", "shoulder_centre", "head", "left_shoulder", "left_elbow",
        "left_wrist", "left_hand", "right_shoulder", "right_elbow", "right_wrist", "right_hand",
        "left_hip", "left_knee", "left_ankle", "left_foot", "right_hip", "right_knee",
        "right_ankle", "right_foot",
    ),
    _KINECT_PARENT,
)  # fmt: skip

# UTD-MHAD order (its Skeleton_joint_order.txt): trunk top-down, then left arm, right
# arm, left leg, right leg, 4 joints each. Same Kinect v1 joints, a third file order.
KINECT_UTD = _layout_from_edges(
    "kinect_utd",
    (
        "head", "shoulder_centre", "spine", "hip_centre", "left_shoulder", "left_elbow",
        "left_wrist", "left_hand", "right_shoulder", "right_elbow", "right_wrist", "right_hand",
        "left_hip", "left_knee", "left_ankle", "left_foot", "right_hip", "right_knee",
        "right_ankle", "right_foot",
    ),
    _KINECT_PARENT,
)  # fmt: skip

# SBU Kinect Interaction (OpenNI/NITE, 15 joints per person). NITE's "torso" is the
# midpoint of the hip midpoint and the neck (measured: 0.50 of the way, median over the
# set), its "hand" sits at the wrist and its "foot" at the ankle.
KINECT_SBU15 = _layout_from_edges(
    "kinect_sbu15",
    (
        "head", "neck", "torso", "left_shoulder", "left_elbow", "left_hand", "right_shoulder",
        "right_elbow", "right_hand", "left_hip", "left_knee", "left_foot", "right_hip",
        "right_knee", "right_foot",
    ),
    {
        "neck": "torso", "head": "neck", "left_shoulder": "neck", "right_shoulder": "neck",
        "left_elbow": "left_shoulder", "right_elbow": "right_shoulder",
        "left_hand": "left_elbow", "right_hand": "right_elbow",
        "left_hip": "torso", "right_hip": "torso", "left_knee": "left_hip", "right_knee": "right_hip",
        "left_foot": "left_knee", "right_foot": "right_knee",
    },
)  # fmt: skip

# MediaPipe Pose / BlazePose (33 landmarks), in MediaPipe's landmark order. MediaPipe
# draws no bone between the face and the body, so the layout has two roots: the left
# hip (body) and the nose (face points).
MEDIAPIPE33_NAMES = (
    "nose", "left_eye_inner", "left_eye", "left_eye_outer", "right_eye_inner", "right_eye",
    "right_eye_outer", "left_ear", "right_ear", "mouth_left", "mouth_right", "left_shoulder",
    "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_pinky",
    "right_pinky", "left_index", "right_index", "left_thumb", "right_thumb", "left_hip",
    "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle", "left_heel",
    "right_heel", "left_foot_index", "right_foot_index",
)  # fmt: skip

_MEDIAPIPE_PARENT = {
    "left_eye_inner": "nose", "right_eye_inner": "nose", "mouth_left": "nose", "mouth_right": "mouth_left",
    "right_hip": "left_hip",
    **{
        f"{side}_{child}": f"{side}_{parent}"
        for side in ("left", "right")
        for child, parent in (
            ("eye", "eye_inner"), ("eye_outer", "eye"), ("ear", "eye_outer"),
            ("shoulder", "hip"), ("elbow", "shoulder"), ("wrist", "elbow"), ("pinky", "wrist"),
            ("index", "wrist"), ("thumb", "wrist"), ("knee", "hip"), ("ankle", "knee"),
            ("heel", "ankle"), ("foot_index", "ankle"),
        )
    },
}  # fmt: skip
MEDIAPIPE33 = _layout_from_edges("mediapipe33", MEDIAPIPE33_NAMES, _MEDIAPIPE_PARENT)
