"""The ``Motion`` data type shared by every reader and every later stage."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from motionvigil.errors import MotionFileError

MIN_FRAMES = 2
MAX_COORDINATE = 1e6  # metres; anything larger is a unit or parse error


@dataclass(frozen=True)
class Layout:
    """A skeleton layout: joint names and the parent index of each joint (-1 for roots).

    ``name`` identifies the layout for retargeting (e.g. ``"smpl22"``, ``"kinect_msr"``,
    ``"kinect_sdk"``, ``"bandai_bvh"``, ``"cmu_asf"``); ``"generic"`` means unknown.
    """

    name: str
    joint_names: tuple[str, ...]
    parents: tuple[int, ...]

    def __post_init__(self) -> None:
        if len(self.joint_names) != len(self.parents):
            raise ValueError(
                f"layout {self.name!r}: {len(self.joint_names)} joint names but {len(self.parents)} parents"
            )
        for i, p in enumerate(self.parents):
            if not -1 <= p < len(self.parents) or p == i:
                raise ValueError(f"layout {self.name!r}: joint {i} has invalid parent {p}")

    @property
    def num_joints(self) -> int:
        return len(self.joint_names)

    def index(self, joint_name: str) -> int:
        """Index of ``joint_name``; raises ``KeyError`` naming the layout if absent."""
        try:
            return self.joint_names.index(joint_name)
        except ValueError:
            raise KeyError(f"layout {self.name!r} has no joint {joint_name!r}") from None


@dataclass
class Motion:
    """A 3D skeletal motion.

    Attributes:
        joints: float32 array ``[T, J, 3]``: joint positions in metres, Y up.
        fps: frames per second.
        layout: the skeleton layout (joint names and parents), ``J`` joints.
        source: the file the motion was read from (or ``None``).
        meta: free-form metadata (e.g. per-joint tracking confidence, original units).
    """

    joints: np.ndarray
    fps: float
    layout: Layout
    source: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.joints = validate_joints(self.joints, self.source, expected_joints=self.layout.num_joints)
        if not (np.isfinite(self.fps) and self.fps > 0):
            raise MotionFileError(self.source, f"invalid frame rate {self.fps!r}")
        self.fps = float(self.fps)

    @property
    def num_frames(self) -> int:
        return int(self.joints.shape[0])

    @property
    def num_joints(self) -> int:
        return int(self.joints.shape[1])

    @property
    def duration(self) -> float:
        """Duration in seconds (frame count / fps)."""
        return self.num_frames / self.fps

    def with_joints(self, joints: np.ndarray, fps: float | None = None, layout: Layout | None = None) -> "Motion":
        """A copy with new joints (and optionally new fps / layout), keeping source and meta."""
        return Motion(
            joints=joints,
            fps=self.fps if fps is None else fps,
            layout=self.layout if layout is None else layout,
            source=self.source,
            meta=dict(self.meta),
        )


def is_real(dtype: np.dtype) -> bool:
    """Integers or floating point: no strings, booleans, complex numbers or records."""
    return np.dtype(dtype).kind in "iuf"


def validate_joints(
    joints: Any, source: str | Path | None, expected_joints: int | None = None
) -> np.ndarray:
    """Check a joints array and return it as C-contiguous float32 ``[T, J, 3]``.

    Raises:
        MotionFileError: wrong shape, wrong joint count, non-finite values or fewer than
            ``MIN_FRAMES`` frames, naming ``source``.
    """
    arr = np.asarray(joints)
    if arr.ndim != 3 or arr.shape[-1] != 3:
        raise MotionFileError(source, f"joints must have shape [frames, joints, 3], got {tuple(arr.shape)}")
    if not is_real(arr.dtype):
        raise MotionFileError(source, f"joints must be real numbers, got dtype {arr.dtype}")
    if expected_joints is not None and arr.shape[1] != expected_joints:
        raise MotionFileError(source, f"expected {expected_joints} joints, got {arr.shape[1]}")
    if arr.shape[0] < MIN_FRAMES:
        raise MotionFileError(source, f"motion has {arr.shape[0]} frame(s); at least {MIN_FRAMES} are needed")
    # check in float64 before casting, so a huge finite value is reported, not overflowed
    with np.errstate(invalid="ignore", over="ignore"):  # what the cast cannot represent is reported below
        wide = np.asarray(arr, dtype=np.float64)
    bad_mask = ~np.isfinite(wide) | (np.abs(wide) > MAX_COORDINATE)
    if bad_mask.any():
        bad = np.argwhere(bad_mask)[0]
        value = wide[tuple(bad)]
        raise MotionFileError(
            source, f"invalid joint coordinate {value!r} (non-finite, or beyond {MAX_COORDINATE:g} m) at frame {bad[0]}, joint {bad[1]}"
        )
    return np.ascontiguousarray(wide, dtype=np.float32)
