"""The 22-joint SMPL/HumanML3D skeleton: kinematic chains, rest directions, the
reference bone lengths, and the inverse/forward kinematics used by HumanML3D.

Conventions (HumanML3D, Guo et al. 2022): quaternions ``(w, x, y, z)``; the rotation
stored at joint ``j`` turns the rest direction ``RAW_OFFSETS[j]`` of the bone that
ends at ``j``; every chain starts from the root rotation (the arm chains too, not from
the spine); the first frame's root rotation is the identity.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import gaussian_filter1d

from motionvigil.io.layouts import SMPL22_PARENTS
from motionvigil.skeleton.quaternion import qbetween, qinv, qmul, qrot

NUM_JOINTS = 22

# Joint indices used by the feature pipeline.
PELVIS, L_HIP, R_HIP = 0, 1, 2
L_SHOULDER, R_SHOULDER = 16, 17
R_KNEE, R_ANKLE = 5, 8
FOOT_LEFT = (7, 10)  # left ankle, left foot (toe)
FOOT_RIGHT = (8, 11)  # right ankle, right foot (toe)

KINEMATIC_CHAINS: tuple[tuple[int, ...], ...] = (
    (0, 2, 5, 8, 11),  # right leg
    (0, 1, 4, 7, 10),  # left leg
    (0, 3, 6, 9, 12, 15),  # spine, neck, head
    (9, 14, 17, 19, 21),  # right arm (from spine3)
    (9, 13, 16, 18, 20),  # left arm (from spine3)
)

# Rest-pose bone directions (unit vectors; the person faces +Z, left is +X, up is +Y).
RAW_OFFSETS = np.array(
    [
        [0, 0, 0], [1, 0, 0], [-1, 0, 0], [0, 1, 0], [0, -1, 0], [0, -1, 0], [0, 1, 0],
        [0, -1, 0], [0, -1, 0], [0, 1, 0], [0, 0, 1], [0, 0, 1], [0, 1, 0], [1, 0, 0],
        [-1, 0, 0], [0, 0, 1], [0, -1, 0], [0, -1, 0], [0, -1, 0], [0, -1, 0], [0, -1, 0],
        [0, -1, 0],
    ],
    dtype=np.float64,
)  # fmt: skip

# Bone lengths (metres) of HumanML3D's reference skeleton, for the bone ending at joint
# 1..21. Every HumanML3D ``new_joints`` file has exactly these lengths; they were read
# off ``new_joints/012314.npy`` (median over frames, spread < 1e-6) and a test checks them.
REFERENCE_BONE_LENGTHS = np.array(
    [
        0.103074, 0.109883, 0.131568, 0.393623, 0.390188, 0.143190, 0.432433, 0.425643,
        0.057365, 0.143382, 0.149419, 0.219360, 0.137487, 0.143383, 0.103039, 0.131614,
        0.122984, 0.256840, 0.263092, 0.266012, 0.269876,
    ]
)  # fmt: skip

FORWARD_SMOOTHING_SIGMA = 20.0  # frames; HumanML3D smooths the facing direction over time


def reference_offsets() -> np.ndarray:
    """Rest offsets ``[22, 3]`` of the HumanML3D reference skeleton."""
    offsets = RAW_OFFSETS.copy()
    offsets[1:] *= REFERENCE_BONE_LENGTHS[:, None]
    return offsets


def bone_lengths(joints: np.ndarray) -> np.ndarray:
    """Per-frame bone lengths ``[T, 21]`` of SMPL-22 joints ``[T, 22, 3]``."""
    parents = np.array(SMPL22_PARENTS[1:])
    return np.linalg.norm(joints[:, 1:] - joints[:, parents], axis=-1)


def facing_direction(joints: np.ndarray, humanml3d_quirk: bool = False) -> np.ndarray:
    """Unit forward directions ``[T, 3]`` in the ground plane from hips and shoulders.

    ``across = (right_hip - left_hip) + (right_shoulder - left_shoulder)`` and
    ``forward = up x across``. HumanML3D's inverse kinematics swaps the two hip indices
    (``across`` then uses ``left_hip - right_hip``); ``humanml3d_quirk=True`` reproduces
    that so that features match the published dataset and its statistics.
    """
    hips = joints[:, L_HIP] - joints[:, R_HIP] if humanml3d_quirk else joints[:, R_HIP] - joints[:, L_HIP]
    across = hips + joints[:, R_SHOULDER] - joints[:, L_SHOULDER]
    across = across / np.maximum(np.linalg.norm(across, axis=-1, keepdims=True), 1e-12)
    return np.cross(np.array([0.0, 1.0, 0.0]), across)


def inverse_kinematics(joints: np.ndarray, smooth_forward: bool = False) -> np.ndarray:
    """Joint rotations ``[T, 22, 4]`` that reproduce the bone directions of ``joints``.

    Follows HumanML3D exactly (including its hip-index quirk and identity first root
    rotation) because the 6D-rotation block of the features depends on it.
    """
    joints = np.asarray(joints, dtype=np.float64)
    forward = facing_direction(joints, humanml3d_quirk=True)
    if smooth_forward:
        forward = gaussian_filter1d(forward, FORWARD_SMOOTHING_SIGMA, axis=0, mode="nearest")
    forward = forward / np.maximum(np.linalg.norm(forward, axis=-1, keepdims=True), 1e-12)
    root_quat = qbetween(forward, np.array([0.0, 0.0, 1.0]))
    root_quat[0] = (1.0, 0.0, 0.0, 0.0)

    quats = np.zeros(joints.shape[:-1] + (4,))
    quats[:, 0] = root_quat
    for chain in KINEMATIC_CHAINS:
        global_rot = root_quat
        for parent, child in zip(chain[:-1], chain[1:]):
            bone = joints[:, child] - joints[:, parent]
            bone = bone / np.maximum(np.linalg.norm(bone, axis=-1, keepdims=True), 1e-12)
            target_rot = qbetween(RAW_OFFSETS[child], bone)
            local = qmul(qinv(global_rot), target_rot)
            quats[:, child] = local
            global_rot = qmul(global_rot, local)
    return quats


def forward_kinematics(quats: np.ndarray, root_positions: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Joint positions ``[T, 22, 3]`` from rotations ``[T, 22, 4]``, root ``[T, 3]``, offsets ``[22, 3]``."""
    joints = np.zeros(quats.shape[:-1] + (3,))
    joints[:, 0] = root_positions
    for chain in KINEMATIC_CHAINS:
        global_rot = quats[:, 0]
        for parent, child in zip(chain[:-1], chain[1:]):
            global_rot = qmul(global_rot, quats[:, child])
            joints[:, child] = qrot(global_rot, offsets[child]) + joints[:, parent]
    return joints


def to_reference_skeleton(joints: np.ndarray, target_offsets: np.ndarray | None = None) -> np.ndarray:
    """Retarget SMPL-22 joints to fixed bone lengths, keeping every bone's direction.

    The root trajectory is scaled by the ratio of leg lengths (femur + tibia of the
    right leg, measured in the first frame), as in HumanML3D.
    """
    joints = np.asarray(joints, dtype=np.float64)
    target = reference_offsets() if target_offsets is None else np.asarray(target_offsets, dtype=np.float64)
    first = bone_lengths(joints[:1])[0]
    src_leg = first[R_KNEE - 1] + first[R_ANKLE - 1]
    tgt_leg = np.linalg.norm(target[R_KNEE]) + np.linalg.norm(target[R_ANKLE])
    root = joints[:, 0] * (tgt_leg / max(src_leg, 1e-9))
    return forward_kinematics(inverse_kinematics(joints), root, target)
