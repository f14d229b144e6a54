"""Forward kinematics of a parsed BVH file: world joint positions, vectorised over frames.

Conventions (see :mod:`motionvigil.io.bvh`): a joint's local translation is its
``OFFSET`` with each position channel replacing its component; rotation channels are
intrinsic Euler angles in degrees in the order listed; ``R_global = R_parent_global @
R_local`` and ``p = p_parent + R_parent_global @ local_translation``.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial.transform import Rotation

from motionvigil.io.bvh_parse import BvhData, BvhJoint

__all__ = ["forward_kinematics"]


def forward_kinematics(data: BvhData) -> np.ndarray:
    """World positions ``[frames, joints, 3]`` (float64, raw file units) of every joint.

    Vectorised over frames; the only Python loop is over joints (parents come first).
    """
    values = data.values
    num_frames = values.shape[0]
    positions = np.empty((num_frames, len(data.joints), 3), dtype=np.float64)
    global_rot: list[np.ndarray | None] = []  # None = identity (a root without rotation)
    for index, joint in enumerate(data.joints):
        local_rot = _local_rotations(joint, values)
        translation = _local_translations(joint, values)  # [3] or [T, 3]
        if joint.parent < 0:
            positions[:, index] = translation
            global_rot.append(local_rot)
            continue
        parent_rot = global_rot[joint.parent]
        if parent_rot is None:
            positions[:, index] = positions[:, joint.parent] + translation
        elif translation.ndim == 1:
            positions[:, index] = positions[:, joint.parent] + parent_rot @ translation
        else:
            positions[:, index] = positions[:, joint.parent] + np.einsum("tij,tj->ti", parent_rot, translation)
        if local_rot is None:
            global_rot.append(parent_rot)
        elif parent_rot is None:
            global_rot.append(local_rot)
        else:
            global_rot.append(parent_rot @ local_rot)
    return positions


def _local_rotations(joint: BvhJoint, values: np.ndarray) -> np.ndarray | None:
    """``[T, 3, 3]`` local rotation matrices of ``joint``, or ``None`` if it has no rotation channels."""
    order = joint.rotation_order
    if not order:
        return None
    angles = values[:, joint.columns("rotation")]
    return Rotation.from_euler(order, angles, degrees=True).as_matrix()


def _local_translations(joint: BvhJoint, values: np.ndarray) -> np.ndarray:
    """The joint's offset ``[3]``, or ``[T, 3]`` with position channels replacing components."""
    offset = np.asarray(joint.offset, dtype=np.float64)
    axes = joint.position_axes()
    if not axes:
        return offset
    translation = np.repeat(offset[None, :], values.shape[0], axis=0)
    translation[:, axes] = values[:, joint.columns("position")]
    return translation
