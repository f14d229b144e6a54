"""Put a motion in HumanML3D's canonical frame: feet on the floor, start at the XZ
origin, initially facing +Z."""

from __future__ import annotations

import numpy as np

from motionvigil.skeleton.quaternion import qbetween, qrot
from motionvigil.skeleton.smpl22 import facing_direction


def canonicalize(joints: np.ndarray) -> np.ndarray:
    """Return SMPL-22 joints ``[T, 22, 3]`` (float64) with

    - the lowest joint over the whole clip at height 0,
    - the first frame's pelvis at X = Z = 0,
    - the first frame facing +Z (from hips and shoulders).
    """
    out = np.array(joints, dtype=np.float64)
    out[..., 1] -= out[..., 1].min()
    out -= out[0, 0] * np.array([1.0, 0.0, 1.0])
    forward = facing_direction(out[:1])[0]
    forward /= max(np.linalg.norm(forward), 1e-12)
    turn = qbetween(forward, np.array([0.0, 0.0, 1.0]))
    return qrot(turn, out)
