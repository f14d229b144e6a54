"""Reader for SBU Kinect Interaction skeletons (Yun et al., CVPR Workshops 2012).

``<set>/<class>/<take>/skeleton_pos.txt``: one CSV line per frame = the original frame
number, then 2 persons x 15 joints x (x, y, z), normalised. The dataset's README gives
the way back to millimetres::

    X = 1280 - x * 2560,   Y = 960 - y * 1920,   Z = z * 10000 / 7.8125

Findings verified on the real files (``shared/data/sbu_kinect``: 147 takes, 10-45
frames, frame numbers consecutive, no zero or NaN values):

* **Units and up axis**: the formula gives millimetres with Y up (``y`` grows downwards
  in the image; ``960 - y * 1920`` turns it round): the head is the highest joint in
  82-100% of frames (10th percentile to median over takes; lower only while kicking or
  bending in a hug), and the median femur (hip-knee) is 0.39-0.47 m per take (0.42 m
  overall), the shin 0.41 m. Divided by 1000: metres.
* **Handedness**: the two people face each other, so with
  ``forward = up x (right_hip - left_hip)`` the forward of each points at the other
  person in 100% of the frames of every approaching take, and in exactly half of the
  departing ones (one of the two turns round and walks away). Right-handed, left and
  right as labelled: no flip.
* **One frame for both**: both persons are in the same camera frame, so distances
  between them are real: chest-to-chest 1.45 m at the start of an approach, 0.54 m at
  its end, 0.23 m in a hug (medians over takes).
* Joint order per person (``KINECT_SBU15``): head, neck, torso, left shoulder, left
  elbow, left hand, right shoulder, right elbow, right hand, left hip, left knee, left
  foot, right hip, right knee, right foot.

Lost tracking (none in the shipped files): a person whose 15 joints are all exactly
zero in a frame was not tracked there (a lost Kinect skeleton): that frame is marked
absent for that person in ``present`` and filled with the nearest tracked frame
(:func:`motionvigil.io.motion.fill_absent`). A single joint that is exactly zero while
the rest of its body is tracked was lost alone: it is interpolated in time from the
frames where it was tracked (``meta["lost_joints"]`` counts them).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from motionvigil.errors import MotionFileError
from motionvigil.io.layouts import KINECT_SBU15
from motionvigil.io.motion import Motion, fill_absent
from motionvigil.io.text_table import check_finite, frame_numbers, read_table

SBU_FPS = 15.0
NUM_PERSONS = 2
NUM_SBU_JOINTS = 15
SBU_PERSON_IDS = (0, 1)
FILE_NAME = "skeleton_pos.txt"
_WIDTH = 1 + NUM_PERSONS * NUM_SBU_JOINTS * 3


def sbu_to_metres(normalised: np.ndarray) -> np.ndarray:
    """Normalised ``[..., 3]`` SBU coordinates -> metres (Y up), by the dataset's formula."""
    x, y, z = normalised[..., 0], normalised[..., 1], normalised[..., 2]
    mm = np.stack([1280.0 - x * 2560.0, 960.0 - y * 1920.0, z * 10000.0 / 7.8125], axis=-1)
    return mm / 1000.0


def metres_to_sbu(joints: np.ndarray) -> np.ndarray:
    """The inverse of :func:`sbu_to_metres` (for writing test files)."""
    mm = np.asarray(joints, dtype=np.float64) * 1000.0
    return np.stack([(1280.0 - mm[..., 0]) / 2560.0, (960.0 - mm[..., 1]) / 1920.0, mm[..., 2] * 7.8125 / 10000.0], -1)


def sbu_take_id(path: Path) -> str:
    """``.../s01s02/03/002/skeleton_pos.txt`` -> ``"s01s02/03/002"`` (the last three folders)."""
    parts = Path(path).parent.parts[-3:]
    return "/".join(parts)


def _fill_lost_joints(path: Path, person: int, body: np.ndarray, seen: np.ndarray,
                      tracked: np.ndarray) -> tuple[np.ndarray, int]:
    """Interpolate joints lost alone (``seen`` False in a ``tracked`` frame) over time.

    Returns the body and how many joint-frames were filled.

    Raises:
        MotionFileError: a joint never seen in any tracked frame of the person.
    """
    lost = ~seen & tracked[:, None]  # [T, J]
    if not lost.any():
        return body, 0
    body = body.copy()
    frames = np.arange(len(body))
    for joint in np.flatnonzero(lost.any(axis=0)):
        good = seen[:, joint] & tracked
        if not good.any():
            raise MotionFileError(
                path, f"person {person}: joint {KINECT_SBU15.joint_names[joint]} is all zeros in every frame"
            )
        for axis in range(3):
            body[lost[:, joint], joint, axis] = np.interp(frames[lost[:, joint]], frames[good], body[good, joint, axis])
    return body, int(lost.sum())


def read_sbu(path: str | Path, *, fps: float = SBU_FPS) -> Motion:
    """Read an SBU Kinect Interaction ``skeleton_pos.txt`` into a two-person motion.

    Returns:
        A :class:`Motion` with ``joints [2, T, 15, 3]`` (metres, Y up, one shared camera
        frame), layout ``KINECT_SBU15``, ``person_ids`` ``(0, 1)`` (the file's first and
        second skeleton), ``present`` (``None`` unless a person is lost in some frames)
        and meta ``frame_numbers``, ``units``, ``dataset`` and ``take`` (set/class/take).

    Raises:
        MotionFileError: unreadable or non-text file; a line without exactly 91 values;
            a value that is not a number, NaN or inf; frame numbers that are not
            increasing non-negative integers; fewer than 2 frames; a person never tracked.
    """
    path = Path(path)
    table = read_table(path, _WIDTH, sep=",")
    check_finite(path, table, "value")
    numbers = frame_numbers(path, table[:, 0], strict=True)
    raw = table[:, 1:].reshape(len(table), NUM_PERSONS, NUM_SBU_JOINTS, 3)
    tracked = raw.reshape(len(table), NUM_PERSONS, -1).any(axis=2).T  # [P, T]
    for person in range(NUM_PERSONS):
        if not tracked[person].any():
            raise MotionFileError(path, f"person {person} is all zeros in every frame (never tracked)")
    bodies = sbu_to_metres(raw).transpose(1, 0, 2, 3)  # [P, T, J, 3]
    joint_seen = raw.any(axis=3).transpose(1, 0, 2)  # [P, T, J]
    lost_joints = 0
    for person in range(NUM_PERSONS):
        bodies[person], lost = _fill_lost_joints(path, person, bodies[person], joint_seen[person], tracked[person])
        lost_joints += lost
    bodies = np.stack([fill_absent(body, seen) for body, seen in zip(bodies, tracked)])
    meta = {"dataset": "sbu_kinect", "units": "m", "frame_numbers": numbers, "take": sbu_take_id(path),
            "lost_joints": lost_joints}
    return Motion(joints=bodies, fps=fps, layout=KINECT_SBU15, source=str(path), meta=meta,
                  person_ids=SBU_PERSON_IDS, present=tracked)
