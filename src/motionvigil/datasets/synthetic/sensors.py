"""Render SMPL-22 motion as another sensor's skeleton (for streaming/cross-layout tests)."""

from __future__ import annotations

import numpy as np

from motionvigil.io.layouts import KINECT_SDK, SMPL22

_KINECT_FROM_SMPL = {"hip_centre": "pelvis", "spine": "spine2", "shoulder_centre": "neck", "head": "head"}


def as_kinect_sdk(joints: np.ndarray) -> np.ndarray:
    """Kinect v1 frames ``[T, 20, 3]`` in SDK order from SMPL-22 joints ``[T, 22, 3]``.

    Limb joints map by name; hip/shoulder centres, spine and head from the SMPL torso;
    the Kinect hands are extrapolated 30 % of the forearm beyond the wrists.
    """
    names = list(SMPL22.joint_names)
    out = np.zeros((len(joints), KINECT_SDK.num_joints, 3), np.float32)
    for k, name in enumerate(KINECT_SDK.joint_names):
        side = name.split("_")[0]
        if name in _KINECT_FROM_SMPL:
            out[:, k] = joints[:, names.index(_KINECT_FROM_SMPL[name])]
        elif name.endswith("_hand"):
            wrist, elbow = joints[:, names.index(f"{side}_wrist")], joints[:, names.index(f"{side}_elbow")]
            out[:, k] = wrist + 0.3 * (wrist - elbow)
        else:
            out[:, k] = joints[:, names.index(name)]
    return out
