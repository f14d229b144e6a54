"""Forward kinematics of an ASF skeleton driven by AMC values, vectorised over frames.

Per bone (conventions in :mod:`motionvigil.io.asf_amc`): ``C`` = rotation of its
``axis``; ``M`` = rotation of its AMC values in the order its ``dof`` lists them; local
``L = C @ M @ C^-1``; global ``G = G_parent @ L``; bone end = parent end +
``G @ (direction * length)``; the root rotates by ``C_o @ M_root @ C_o^-1`` and moves by
its ``position`` plus its TX TY TZ values.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial.transform import Rotation

from motionvigil.io.asf import ROTATION_DOFS, AsfSkeleton

__all__ = ["forward_kinematics"]

_AXIS_INDEX = {"x": 0, "y": 1, "z": 2}


def _euler_matrix(order: str, angles_xyz: np.ndarray, degrees: bool) -> np.ndarray:
    """Rotation matrix (or ``[T, 3, 3]`` stack) for angles about X, Y, Z applied in ``order``."""
    seq = order.lower()
    angles = np.asarray(angles_xyz, dtype=np.float64)[..., [_AXIS_INDEX[c] for c in seq]]
    return Rotation.from_euler(seq, angles, degrees=degrees).as_matrix()


def forward_kinematics(
    skeleton: AsfSkeleton, channels: dict[str, np.ndarray], *, degrees: bool = True
) -> np.ndarray:
    """Joint positions ``[T, 1 + B, 3]`` in metres: the root, then each bone's end point.

    Args:
        skeleton: the ASF skeleton.
        channels: ``"root"`` -> ``[T, len(root_order)]`` values in root-order; each bone
            name -> ``[T, len(dof)]`` values in dof order. Absent bones keep their rest pose.
        degrees: whether the rotation values are in degrees (else radians).

    Vectorised over frames; the Python loop runs over bones only.
    """
    root = np.asarray(channels["root"], dtype=np.float64)
    n_frames = root.shape[0]
    translation = np.zeros((n_frames, 3))
    rotation = np.zeros((n_frames, 3))
    for col, ch in enumerate(skeleton.root_order):
        target = translation if ch[0] == "T" else rotation
        target[:, _AXIS_INDEX[ch[1].lower()]] = root[:, col]
    c_root = _euler_matrix(skeleton.root_axis, skeleton.root_orientation, degrees=True)
    m_root = _euler_matrix(skeleton.root_axis, rotation, degrees=degrees)
    g_root = c_root @ m_root @ c_root.T
    p_root = skeleton.root_position + translation * skeleton.metres_per_unit

    n_bones = skeleton.num_bones
    out = np.empty((n_frames, 1 + n_bones, 3))
    out[:, 0] = p_root
    rotations: list[np.ndarray | None] = [None] * n_bones
    offsets = skeleton.directions * skeleton.lengths[:, None]
    for b in skeleton.fk_order:
        parent = skeleton.parents[b]
        g_parent = g_root if parent < 0 else rotations[parent]
        assert g_parent is not None
        g_bone = g_parent
        rot_cols = [i for i, d in enumerate(skeleton.dofs[b]) if d in ROTATION_DOFS]
        values = channels.get(skeleton.bone_names[b])
        if rot_cols and values is not None:
            seq = "".join(skeleton.dofs[b][i][1] for i in rot_cols)
            m = Rotation.from_euler(seq, np.asarray(values, dtype=np.float64)[:, rot_cols], degrees=degrees)
            c = _euler_matrix(skeleton.axis_orders[b], skeleton.axis_angles[b], degrees=True)
            g_bone = g_parent @ (c @ m.as_matrix() @ c.T)
        rotations[b] = g_bone
        out[:, b + 1] = out[:, parent + 1] + g_bone @ offsets[b]
    return out
