"""HumanML3D's 263-dimensional motion representation (Guo et al., CVPR 2022) and its inverse.

Layout of one feature row (frame ``t``, 22 joints):

====================  =====  ==============================================================
block                 dims   content
====================  =====  ==============================================================
root angular vel.       1    half-angle of the root yaw change from ``t`` to ``t+1`` (rad)
root linear vel.        2    root XZ displacement ``t -> t+1`` in the facing frame of ``t+1``
root height             1    pelvis Y
ric                    63    joints 1..21 relative to the root (XZ), in the facing frame
rotations             126    continuous 6D rotation of joints 1..21 (HumanML3D's IK)
local velocity         66    displacement ``t -> t+1`` of all 22 joints, facing frame of ``t``
foot contacts           4    left ankle, left toe, right ankle, right toe (1 = static)
====================  =====  ==============================================================

``T`` input frames give ``T - 1`` rows. The pipeline is HumanML3D's ``process_file``:
retarget to the reference skeleton, floor, XZ origin, face +Z, then the blocks above.
"""

from __future__ import annotations

import numpy as np

from motionvigil.skeleton.canonical import canonicalize
from motionvigil.skeleton.quaternion import qfix, qinv, qmul, qrot, quat_to_cont6d
from motionvigil.skeleton.smpl22 import (
    FOOT_LEFT,
    FOOT_RIGHT,
    NUM_JOINTS,
    inverse_kinematics,
    to_reference_skeleton,
)

FEATURE_DIM = 263
CONTACT_THRESHOLD = 0.002  # squared per-frame displacement (m^2) below which a foot is static

# Slices of the feature vector, for code that needs one block.
ROOT_ROT_VEL = slice(0, 1)
ROOT_LIN_VEL = slice(1, 3)
ROOT_HEIGHT = slice(3, 4)
RIC = slice(4, 4 + (NUM_JOINTS - 1) * 3)
ROTATIONS = slice(RIC.stop, RIC.stop + (NUM_JOINTS - 1) * 6)
LOCAL_VEL = slice(ROTATIONS.stop, ROTATIONS.stop + NUM_JOINTS * 3)
CONTACTS = slice(LOCAL_VEL.stop, LOCAL_VEL.stop + 4)
BLOCKS = {
    "root_rot_vel": ROOT_ROT_VEL,
    "root_lin_vel": ROOT_LIN_VEL,
    "root_height": ROOT_HEIGHT,
    "ric": RIC,
    "rotations": ROTATIONS,
    "local_vel": LOCAL_VEL,
    "contacts": CONTACTS,
}
assert CONTACTS.stop == FEATURE_DIM


def _check_joints(joints: np.ndarray) -> np.ndarray:
    joints = np.asarray(joints, dtype=np.float64)
    if joints.ndim != 3 or joints.shape[1:] != (NUM_JOINTS, 3):
        raise ValueError(f"expected SMPL-22 joints [T, 22, 3], got shape {joints.shape}")
    if joints.shape[0] < 2:
        raise ValueError(f"need at least 2 frames to compute features, got {joints.shape[0]}")
    if not np.isfinite(joints).all():
        raise ValueError("joints contain NaN or inf")
    return joints


def foot_contacts(joints: np.ndarray, threshold: float = CONTACT_THRESHOLD) -> np.ndarray:
    """Static-foot flags ``[T-1, 4]`` (left ankle, left toe, right ankle, right toe)."""
    feet = joints[:, list(FOOT_LEFT + FOOT_RIGHT)]
    speed2 = ((feet[1:] - feet[:-1]) ** 2).sum(-1)
    return (speed2 < threshold).astype(np.float64)


def joints_to_features(joints: np.ndarray, *, retarget: bool = True) -> np.ndarray:
    """HumanML3D features ``[T-1, 263]`` (float32) of SMPL-22 joints ``[T, 22, 3]`` (metres, Y up).

    Args:
        joints: joint positions at the rate the features should describe (20 Hz for
            HumanML3D and TMR).
        retarget: first move the joints to HumanML3D's reference bone lengths (what the
            dataset does); turn off only for joints already on that skeleton.

    Raises:
        ValueError: wrong shape, fewer than 2 frames, or non-finite values.
    """
    joints = _check_joints(joints)
    if retarget:
        joints = to_reference_skeleton(joints)
    positions = canonicalize(joints)
    n = len(positions)

    contacts = foot_contacts(positions)

    quats = inverse_kinematics(positions, smooth_forward=True)
    cont6d = quat_to_cont6d(quats)
    root_rot = qfix(quats[:, 0])

    root_vel = qrot(root_rot[1:], positions[1:, 0] - positions[:-1, 0])
    root_turn = qmul(root_rot[1:], qinv(root_rot[:-1]))
    root_rot_vel = np.arcsin(np.clip(root_turn[:, 2:3], -1.0, 1.0))

    ric = positions.copy()
    ric[..., 0] -= ric[:, :1, 0]
    ric[..., 2] -= ric[:, :1, 2]
    ric = qrot(root_rot[:, None], ric)

    local_vel = qrot(root_rot[:-1, None], positions[1:] - positions[:-1])

    features = np.concatenate(
        [
            root_rot_vel,
            root_vel[:, [0, 2]],
            ric[:-1, 0, 1:2],
            ric[:-1, 1:].reshape(n - 1, -1),
            cont6d[:-1, 1:].reshape(n - 1, -1),
            local_vel.reshape(n - 1, -1),
            contacts,
        ],
        axis=-1,
    )
    return features.astype(np.float32)


def recover_root(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Root yaw quaternions ``[..., T, 4]`` and root positions ``[..., T, 3]`` from features."""
    features = np.asarray(features, dtype=np.float64)
    rot_vel = features[..., 0]
    angle = np.zeros_like(rot_vel)
    angle[..., 1:] = np.cumsum(rot_vel[..., :-1], axis=-1)
    quat = np.zeros(features.shape[:-1] + (4,))
    quat[..., 0] = np.cos(angle)
    quat[..., 2] = np.sin(angle)

    step = np.zeros(features.shape[:-1] + (3,))
    step[..., 1:, 0] = features[..., :-1, 1]
    step[..., 1:, 2] = features[..., :-1, 2]
    root = np.cumsum(qrot(qinv(quat), step), axis=-2)
    root[..., 1] = features[..., 3]
    return quat, root


def features_to_joints(features: np.ndarray) -> np.ndarray:
    """Joint positions ``[..., T, 22, 3]`` (float32) from features ``[..., T, 263]`` (via the ric block)."""
    features = np.asarray(features, dtype=np.float64)
    if features.shape[-1] != FEATURE_DIM:
        raise ValueError(f"expected {FEATURE_DIM}-dim features, got last dimension {features.shape[-1]}")
    quat, root = recover_root(features)
    ric = features[..., RIC].reshape(features.shape[:-1] + (NUM_JOINTS - 1, 3))
    joints = qrot(qinv(quat)[..., None, :], ric)
    joints[..., 0] += root[..., None, 0]
    joints[..., 2] += root[..., None, 2]
    return np.concatenate([root[..., None, :], joints], axis=-2).astype(np.float32)
