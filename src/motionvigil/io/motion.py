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
    """A 3D skeletal motion of one or more persons.

    The persons axis: a motion holds ``P >= 1`` bodies that share one clock, one layout
    and one coordinate frame (so the distance between two people is meaningful).

    - One person (every single-body reader): ``joints`` is ``[T, J, 3]``.
    - Several persons (SBU Kinect pairs, tracked video): ``joints`` is ``[P, T, J, 3]``,
      ``person_ids`` names each body (e.g. track ids) and ``present [P, T]`` says in which
      frames each body was really seen. Frames where a person is absent hold *finite
      filler* (the nearest frame where that person was present) so arrays stay finite;
      whatever scores motion must look at ``present`` and never treat filler as motion.

    A one-person motion is the ``P = 1`` case: :attr:`bodies` is always ``[P, T, J, 3]``,
    :attr:`presence` always ``[P, T]`` and :meth:`person` gives one body as a
    one-person motion. Code that only reads one body calls :meth:`single`, which refuses
    a multi-person motion with a one-line error.

    Attributes:
        joints: float32, ``[T, J, 3]`` (one person) or ``[P, T, J, 3]`` (``P >= 2``): joint
            positions in metres, Y up.
        fps: frames per second.
        layout: the skeleton layout (joint names and parents), ``J`` joints.
        source: the file the motion was read from (or ``None``).
        meta: free-form metadata (e.g. per-joint tracking confidence, original units).
        person_ids: one id per body (default ``0 .. P-1``); unique non-negative ints.
        present: ``[P, T]`` boolean, or ``None`` (every body present in every frame).
    """

    joints: np.ndarray
    fps: float
    layout: Layout
    source: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    person_ids: tuple[int, ...] = ()
    present: np.ndarray | None = None

    def __post_init__(self) -> None:
        arr = np.asarray(self.joints)
        if arr.ndim == 4:
            if arr.shape[0] < 1:
                raise MotionFileError(self.source, "a multi-person motion needs at least one person")
            bodies = [validate_joints(b, self.source, expected_joints=self.layout.num_joints) for b in arr]
            stacked = np.stack(bodies)
            self.joints = stacked[0] if len(bodies) == 1 else stacked
        else:
            self.joints = validate_joints(arr, self.source, expected_joints=self.layout.num_joints)
        if not (np.isfinite(self.fps) and self.fps > 0):
            raise MotionFileError(self.source, f"invalid frame rate {self.fps!r}")
        self.fps = float(self.fps)
        p, t = self.num_persons, self.num_frames
        ids = tuple(int(i) for i in self.person_ids) if len(self.person_ids) else tuple(range(p))
        if len(ids) != p or len(set(ids)) != p or min(ids) < 0:
            raise MotionFileError(self.source, f"need {p} unique non-negative person ids, got {list(self.person_ids)}")
        self.person_ids = ids
        if self.present is not None:
            mask = np.asarray(self.present)
            if mask.shape == (t,) and p == 1:
                mask = mask[None]
            if mask.shape != (p, t):
                raise MotionFileError(self.source, f"present must be [persons, frames] = [{p}, {t}], got {mask.shape}")
            mask = mask.astype(bool)
            self.present = None if mask.all() else np.ascontiguousarray(mask)

    @property
    def num_frames(self) -> int:
        return int(self.joints.shape[-3])

    @property
    def num_joints(self) -> int:
        return int(self.joints.shape[-2])

    @property
    def num_persons(self) -> int:
        return 1 if self.joints.ndim == 3 else int(self.joints.shape[0])

    @property
    def bodies(self) -> np.ndarray:
        """``[P, T, J, 3]`` joints of every body (a view; ``P = 1`` for one person)."""
        return self.joints[None] if self.joints.ndim == 3 else self.joints

    @property
    def presence(self) -> np.ndarray:
        """``[P, T]`` boolean: where each body was seen (all True when ``present`` is None)."""
        if self.present is None:
            return np.ones((self.num_persons, self.num_frames), dtype=bool)
        return self.present

    @property
    def duration(self) -> float:
        """Duration in seconds (frame count / fps)."""
        return self.num_frames / self.fps

    def person(self, index: int) -> "Motion":
        """Body number ``index`` (0-based position, not id) as a one-person motion.

        Its ``person_ids`` is that body's id and ``present`` its row of the mask."""
        if not 0 <= index < self.num_persons:
            raise IndexError(f"person index {index} out of range for {self.num_persons} person(s)")
        return Motion(joints=self.bodies[index], fps=self.fps, layout=self.layout, source=self.source,
                      meta=dict(self.meta), person_ids=(self.person_ids[index],),
                      present=None if self.present is None else self.present[index : index + 1])

    def persons(self) -> list["Motion"]:
        """Every body as a one-person motion (see :meth:`person`)."""
        return [self.person(i) for i in range(self.num_persons)]

    def single(self, what: str = "this step") -> "Motion":
        """``self`` when it holds one person; else a one-line :class:`MotionFileError`."""
        if self.num_persons != 1:
            raise MotionFileError(self.source, f"holds {self.num_persons} persons (ids {list(self.person_ids)}); "
                                               f"{what} reads one person: pick one with --person ID")
        return self

    @classmethod
    def stack(cls, persons: "list[Motion]", source: str | None = None) -> "Motion":
        """One motion of the bodies of one-person ``persons`` (same layout, rate and frame count)."""
        if not persons:
            raise ValueError("stack needs at least one person")
        first = persons[0]
        for m in persons:
            if m.num_persons != 1:
                raise ValueError("stack takes one-person motions")
            if m.layout != first.layout or m.fps != first.fps or m.num_frames != first.num_frames:
                raise ValueError("stacked persons need the same layout, frame rate and frame count")
        present = np.concatenate([m.presence for m in persons])
        return cls(joints=np.stack([m.joints for m in persons]), fps=first.fps, layout=first.layout,
                   source=source if source is not None else first.source, meta=dict(first.meta),
                   person_ids=tuple(m.person_ids[0] for m in persons), present=present)

    @classmethod
    def from_bodies(cls, joints: Any, fps: float, layout: Layout, *, person_ids: tuple[int, ...] = (),
                    present: Any = None, source: str | None = None, meta: dict[str, Any] | None = None) -> "Motion":
        """A motion from raw bodies ``[P, T, J, 3]`` (or one body ``[T, J, 3]``) as a sensor or
        tracker gives them: where a body is lost in a frame (:func:`lost_bodies`: all joints
        exactly zero, or all NaN) it is absent, and every absent frame gets finite filler
        (:func:`fill_absent`). This is the one place of that rule: readers of multi-person
        files and :func:`~motionvigil.detect.timeline.detect_motion` use it.

        Raises:
            MotionFileError: a NaN/inf among the joints of a frame where the body is present
                (naming the person and frame), no body seen in any frame, or what
                :class:`Motion` refuses.
        """
        arr = np.asarray(joints)
        if arr.ndim == 3:
            arr = arr[None]
        if arr.ndim != 4 or arr.shape[-1] != 3 or not is_real(arr.dtype):
            raise MotionFileError(source, f"bodies must be real numbers of shape [persons, frames, joints, 3], "
                                          f"got {arr.dtype} {tuple(arr.shape)}")
        arr = np.array(arr, dtype=np.float64)
        p, t = arr.shape[:2]
        ids = tuple(int(i) for i in person_ids) if len(person_ids) else tuple(range(p))
        seen = ~lost_bodies(arr)
        if present is not None:
            mask = np.asarray(present)
            if mask.shape == (t,) and p == 1:
                mask = mask[None]
            if mask.shape != (p, t):
                raise MotionFileError(source, f"present must be [persons, frames] = [{p}, {t}], got {mask.shape}")
            seen &= mask.astype(bool)
        bad = seen[..., None] & ~np.isfinite(arr).all(-1)
        if bad.any():
            body, frame, joint = (int(i) for i in np.argwhere(bad)[0])
            who = f"person {ids[body]}, " if body < len(ids) and p > 1 else ""
            raise MotionFileError(source, f"{who}frame {frame}: joint {joint} is NaN or infinite (a body that is "
                                          "seen needs every joint; all zeros or all NaN mark it absent)")
        if not seen.any():
            raise MotionFileError(source, f"no person is seen in any of the {t} frames (every body is all zeros "
                                          "or NaN, or marked absent)")
        arr[~np.isfinite(arr)] = 0.0
        bodies = np.stack([fill_absent(b, m) for b, m in zip(arr, seen)])
        return cls(joints=bodies[0] if p == 1 else bodies, fps=fps, layout=layout, source=source,
                   meta=dict(meta or {}), person_ids=ids, present=seen)

    def without_lost(self) -> "Motion":
        """This motion with lost bodies (all-zero joints in a frame) marked absent and filled
        (see :meth:`from_bodies`); ``self`` when no body is lost in any frame."""
        if not lost_bodies(self.bodies).any():
            return self
        return Motion.from_bodies(self.bodies, self.fps, self.layout, person_ids=self.person_ids,
                                  present=self.present, source=self.source, meta=self.meta)

    def with_joints(self, joints: np.ndarray, fps: float | None = None, layout: Layout | None = None,
                    present: np.ndarray | None = None) -> "Motion":
        """A copy with new joints (and optionally new fps / layout / presence), keeping
        source, meta and person ids. ``present`` defaults to the current mask when the
        frame count is unchanged (else every body is present)."""
        joints = np.asarray(joints)
        if present is None and self.present is not None and joints.shape[-3] == self.num_frames:
            present = self.present
        return Motion(
            joints=joints,
            fps=self.fps if fps is None else fps,
            layout=self.layout if layout is None else layout,
            source=self.source,
            meta=dict(self.meta),
            person_ids=self.person_ids,
            present=present,
        )


def lost_bodies(bodies: np.ndarray) -> np.ndarray:
    """``[..., T]`` True where a body of ``bodies [..., T, J, 3]`` is lost in a frame: every
    joint exactly (0, 0, 0) (how a Kinect reports a skeleton it lost) or every coordinate
    NaN. Such a frame is absent (``present`` False): it is never fed to a model."""
    arr = np.asarray(bodies)
    flat = arr.reshape(arr.shape[:-2] + (arr.shape[-2] * arr.shape[-1],))
    with np.errstate(invalid="ignore"):
        return ~(flat != 0).any(-1) | np.isnan(flat).all(-1)


def fill_absent(joints: np.ndarray, present: np.ndarray) -> np.ndarray:
    """``joints [T, J, 3]`` with each absent frame (``present [T]`` False) replaced by the
    nearest present frame (earlier one on ties); unchanged when no frame is present."""
    present = np.asarray(present, dtype=bool)
    if present.all() or not present.any():
        return joints
    idx = np.flatnonzero(present)
    t = np.arange(len(present))
    pos = np.searchsorted(idx, t).clip(0, len(idx) - 1)
    prev = idx[np.maximum(pos - 1, 0)]
    nxt = idx[pos]
    nearest = np.where(np.abs(t - prev) <= np.abs(nxt - t), prev, nxt)
    nearest = np.where(present, t, nearest)
    return joints[nearest]


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
