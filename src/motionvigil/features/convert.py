"""File -> SMPL-22 joints at 20 Hz -> HumanML3D features, saved as one ``.npz``.

HumanML3D features describe one body. A multi-person file (SBU Kinect pairs, tracked
video) converts either to the features of one person picked by id (``person=``), or,
with no person picked, to SMPL-22 joints of every body at 20 Hz in the shared camera
frame, without features, in the persons-axis form ``read_npz`` reads back
(``joints [P, T, 22, 3]``, ``person_ids``, ``present``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from motionvigil.atomic import atomic_path
from motionvigil.errors import MotionFileError
from motionvigil.features.humanml3d import joints_to_features
from motionvigil.io import load_motion
from motionvigil.io.arrays import save_npz
from motionvigil.io.layouts import SMPL22
from motionvigil.io.motion import Motion
from motionvigil.skeleton.retarget import TARGET_FPS, to_smpl22


@dataclass
class Converted:
    """A motion in the form every model consumes."""

    joints: np.ndarray  # [T, 22, 3] float32, SMPL-22, 20 Hz, canonical frame ([P, T, 22, 3], shared frame)
    features: np.ndarray | None  # [T - 1, 263] float32 (None for several persons)
    fps: float
    source: str | None
    person_ids: tuple[int, ...] = (0,)
    present: np.ndarray | None = None  # [P, T] when some body is absent in some frame

    @property
    def num_persons(self) -> int:
        return len(self.person_ids)


def convert_motion(motion: Motion, fps: float = TARGET_FPS) -> Converted:
    """Retarget one-person ``motion`` to SMPL-22 at ``fps`` and compute its HumanML3D features.

    Raises:
        MotionFileError: ``motion`` holds several persons (pick one with
            :func:`pick_person`), or is unusable.
    """
    smpl = to_smpl22(motion.single("HumanML3D feature conversion"), fps=fps)
    try:
        features = joints_to_features(smpl.joints)
    except ValueError as exc:
        raise MotionFileError(motion.source, f"cannot compute features: {exc}") from None
    return Converted(joints=smpl.joints, features=features, fps=fps, source=motion.source,
                     person_ids=motion.person_ids)


def convert_persons(motion: Motion, fps: float = TARGET_FPS) -> Converted:
    """Every body of ``motion`` as SMPL-22 joints at ``fps`` in the shared frame, no features."""
    smpl = to_smpl22(motion, fps=fps, canonical=False)
    return Converted(joints=smpl.joints, features=None, fps=fps, source=motion.source,
                     person_ids=smpl.person_ids, present=smpl.present)


def pick_person(motion: Motion, person: int) -> Motion:
    """The body with id ``person`` as a one-person motion.

    Raises:
        MotionFileError: no body has that id (the message lists the ids).
    """
    if person not in motion.person_ids:
        raise MotionFileError(motion.source, f"no person with id {person}; the file holds ids {list(motion.person_ids)}")
    return motion.person(motion.person_ids.index(person))


def save_converted(path: str | Path, converted: Converted) -> None:
    """Write ``joints``, ``features``, ``fps``, ``source`` to ``path`` atomically; for
    several persons, the persons-axis npz of :func:`motionvigil.io.arrays.save_npz`
    (``joints [P, T, 22, 3]``, ``person_ids``, ``present``, layout ``smpl22``)."""
    if converted.features is None:
        motion = Motion(joints=converted.joints, fps=converted.fps, layout=SMPL22, source=converted.source,
                        person_ids=converted.person_ids, present=converted.present)
        save_npz(path, motion)
        return
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            np.savez(
                fh,
                joints=converted.joints.astype(np.float32),
                features=converted.features.astype(np.float32),
                fps=np.float32(converted.fps),
                source=np.str_(converted.source or ""),
                **({} if converted.person_ids == (0,) else {"person_ids": np.asarray(converted.person_ids, np.int64)}),
            )


def convert_file(src: str | Path, dst: str | Path, person: int | None = None, **reader_kwargs) -> Converted:
    """Read any supported motion file and write the converted ``.npz`` to ``dst``.

    A one-person file (or one person picked by id with ``person``) gets joints and
    HumanML3D features, as always; a multi-person file with no ``person`` gets every
    body's joints with the persons axis (see the module notes).

    Raises:
        MotionFileError: the input is unusable, or ``person`` names no body; nothing is
            written in that case.
    """
    motion = load_motion(src, **reader_kwargs)
    if person is not None:
        motion = pick_person(motion, person)
    converted = convert_motion(motion) if motion.num_persons == 1 else convert_persons(motion)
    save_converted(dst, converted)
    return converted
