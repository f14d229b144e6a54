"""Bring any supported motion to the SMPL-22 layout at 20 Hz, in HumanML3D's frame."""

from __future__ import annotations

import numpy as np

from motionvigil.errors import MotionFileError
from motionvigil.io.layouts import SMPL22
from motionvigil.io.motion import Motion
from motionvigil.skeleton.canonical import canonicalize
from motionvigil.skeleton.mappings import mapping_matrix
from motionvigil.skeleton.resample import resample_joints

TARGET_FPS = 20.0


def to_smpl22(motion: Motion, fps: float = TARGET_FPS, canonical: bool = True) -> Motion:
    """Retarget ``motion`` to SMPL-22 joints, resampled to ``fps``.

    Args:
        motion: any motion whose layout has a mapping (see ``skeleton.mappings``).
        fps: output frame rate (20 Hz, as HumanML3D and TMR expect).
        canonical: put the lowest joint on the floor, start at the XZ origin and face
            +Z in the first frame. Bone lengths are the performer's own; the feature
            step moves them to HumanML3D's reference skeleton.

    Raises:
        MotionFileError: the layout has no mapping, or resampling leaves < 2 frames.
    """
    try:
        matrix = mapping_matrix(motion.layout)
    except KeyError as exc:
        raise MotionFileError(motion.source, str(exc.args[0])) from None
    joints = np.einsum("sj,tjc->tsc", matrix, motion.joints.astype(np.float64))
    joints = resample_joints(joints, motion.fps, fps)
    if len(joints) < 2:
        raise MotionFileError(
            motion.source, f"motion of {motion.duration:.3f} s is too short for {fps:g} Hz (needs 2 frames)"
        )
    if canonical:
        joints = canonicalize(joints)
    meta = dict(motion.meta, source_layout=motion.layout.name, source_fps=motion.fps)
    return Motion(joints=joints, fps=fps, layout=SMPL22, source=motion.source, meta=meta)
