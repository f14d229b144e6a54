"""Reader for UTD-MHAD skeleton files (Chen, Jafari and Kehtarnavaz, ICIP 2015).

``aA_sS_tT_skeleton.mat``: MATLAB v5, one variable ``d_skel`` of shape
``20 x 3 x frames`` (joint, xyz, frame), Kinect v1 at 30 fps. Findings verified on the
real files (``shared/data/utd_mhad``, 861 files, 41-125 frames each, no NaN and no
all-zero frames):

* **Joint order** is the dataset's ``Skeleton_joint_order.txt``: head, shoulder centre,
  spine, hip centre, then left arm, right arm, left leg, right leg (shoulder/hip, elbow/
  knee, wrist/ankle, hand/foot): neither the MSR nor the Kinect SDK order, so it has
  its own layout ``KINECT_UTD`` (same joint names, so it retargets by name).
* **Units and axes**: metres, Y up, Z the distance from the sensor, the same
  right-handed camera frame as MSR Action3D and UTKinect (see :mod:`motionvigil.io.kinect`):
  the person faces the sensor (``up x (right_hip - left_hip)`` points to -Z) and the
  right shoulder has the larger X. Coordinates are used as stored.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from motionvigil.errors import MotionFileError
from motionvigil.io.kinect import lost_frames, repair_lost_frames, require_tracked
from motionvigil.io.layouts import KINECT_UTD
from motionvigil.io.motion import Motion, is_real

VARIABLE = "d_skel"
UTD_FPS = 30.0
_NAME = re.compile(r"^a(\d+)_s(\d+)_t(\d+)_skeleton\.mat$", re.IGNORECASE)


def parse_utd_name(name: str) -> dict[str, int]:
    """``a13_s1_t2_skeleton.mat`` -> ``{"action": 13, "subject": 1, "take": 2}``; else ``{}``."""
    m = _NAME.match(name)
    if not m:
        return {}
    return {"action": int(m.group(1)), "subject": int(m.group(2)), "take": int(m.group(3))}


def _load_mat(path: Path) -> dict:
    """The variables of a MATLAB v5 file (:mod:`motionvigil.io.matv5`, which never crashes
    on a damaged file the way ``scipy.io.loadmat`` can); any problem is one MotionFileError."""
    from motionvigil.io.matv5 import MatFormatError, read_mat_arrays

    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise MotionFileError(path, f"cannot read file ({exc.strerror or exc})") from None
    head = raw[:128]
    if not head:
        raise MotionFileError(path, "file is empty (expected a MATLAB .mat file)")
    if head.startswith(b"\x89HDF") or b"MATLAB 7.3" in head:
        raise MotionFileError(path, "MATLAB v7.3 (HDF5) file: save it with -v7 (MATLAB v5 format) to read it")
    try:
        return read_mat_arrays(raw)
    except MatFormatError as exc:
        raise MotionFileError(path, f"cannot read MATLAB file ({exc})") from None


def read_utd_mhad(path: str | Path, *, fps: float = UTD_FPS) -> Motion:
    """Read a UTD-MHAD ``*_skeleton.mat`` file into a one-person motion.

    Frames whose joints are all zero (Kinect lost the skeleton; none in the shipped
    files) are repaired as in MSR Action3D: gaps interpolated, lost ends trimmed
    (``meta["lost_frames"]``, ``meta["kept_rows"]``); a file more than half lost is refused.

    Returns:
        A :class:`Motion` with layout ``KINECT_UTD`` (metres, Y up) and meta ``units``,
        ``dataset``, ``lost_frames``, ``kept_rows`` and, when the name matches
        ``aA_sS_tT_skeleton.mat``, ``action``, ``subject`` and ``take``.

    Raises:
        MotionFileError: unreadable, empty or not a MATLAB v5 file; no ``d_skel``
            variable; ``d_skel`` not a real ``20 x 3 x frames`` array; NaN/inf values;
            fewer than 2 frames; every frame, or more than half of them, all zeros.
    """
    path = Path(path)
    variables = _load_mat(path)
    if VARIABLE not in variables:
        found = ", ".join(k for k in variables if not k.startswith("__")) or "none"
        raise MotionFileError(path, f"no {VARIABLE!r} variable (found: {found})")
    if variables[VARIABLE] is None:
        raise MotionFileError(path, f"{VARIABLE!r} must hold real numbers (it is not a real numeric matrix)")
    skel = np.asarray(variables[VARIABLE])
    if not is_real(skel.dtype):
        raise MotionFileError(path, f"{VARIABLE!r} must hold real numbers, got dtype {skel.dtype}")
    if skel.ndim == 2 and skel.shape == (KINECT_UTD.num_joints, 3):
        skel = skel[:, :, None]  # MATLAB drops a trailing singleton: one frame
    if skel.ndim != 3 or skel.shape[:2] != (KINECT_UTD.num_joints, 3):
        raise MotionFileError(
            path, f"{VARIABLE!r} must have shape {KINECT_UTD.num_joints} x 3 x frames, got {' x '.join(map(str, skel.shape))}"
        )
    joints = np.transpose(skel, (2, 0, 1))
    meta: dict = {"dataset": "utd_mhad", "units": "m", **parse_utd_name(path.name)}
    if joints.shape[0] >= 1 and np.isfinite(joints).all():  # else Motion names the bad value
        lost = lost_frames(joints)
        require_tracked(path, lost, len(joints), trim=True)
        joints, kept = repair_lost_frames(joints, lost, trim=True)
        meta.update(lost_frames=lost, kept_rows=(kept.start, kept.stop))
    return Motion(joints=joints, fps=fps, layout=KINECT_UTD, source=str(path), meta=meta)
