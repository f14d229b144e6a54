"""File -> SMPL-22 joints at 20 Hz -> HumanML3D features, saved as one ``.npz``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from motionvigil.atomic import atomic_path
from motionvigil.errors import MotionFileError
from motionvigil.features.humanml3d import joints_to_features
from motionvigil.io import load_motion
from motionvigil.io.motion import Motion
from motionvigil.skeleton.retarget import TARGET_FPS, to_smpl22


@dataclass
class Converted:
    """A motion in the form every model consumes."""

    joints: np.ndarray  # [T, 22, 3] float32, SMPL-22, 20 Hz, canonical frame
    features: np.ndarray  # [T - 1, 263] float32
    fps: float
    source: str | None


def convert_motion(motion: Motion, fps: float = TARGET_FPS) -> Converted:
    """Retarget ``motion`` to SMPL-22 at ``fps`` and compute its HumanML3D features."""
    smpl = to_smpl22(motion, fps=fps)
    try:
        features = joints_to_features(smpl.joints)
    except ValueError as exc:
        raise MotionFileError(motion.source, f"cannot compute features: {exc}") from None
    return Converted(joints=smpl.joints, features=features, fps=fps, source=motion.source)


def save_converted(path: str | Path, converted: Converted) -> None:
    """Write ``joints``, ``features``, ``fps``, ``source`` to ``path`` atomically."""
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            np.savez(
                fh,
                joints=converted.joints.astype(np.float32),
                features=converted.features.astype(np.float32),
                fps=np.float32(converted.fps),
                source=np.str_(converted.source or ""),
            )


def convert_file(src: str | Path, dst: str | Path, **reader_kwargs) -> Converted:
    """Read any supported motion file and write the converted ``.npz`` to ``dst``.

    Raises:
        MotionFileError: the input is unusable; nothing is written in that case.
    """
    converted = convert_motion(load_motion(src, **reader_kwargs))
    save_converted(dst, converted)
    return converted
