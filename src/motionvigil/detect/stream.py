"""Live detection on a skeleton stream, a few frames at a time.

:class:`StreamingDetector` takes raw frames in any supported layout and frame rate
(Kinect at 30 Hz, mocap at 120 Hz, SMPL-22 at 20 Hz, ...) and returns a
:class:`~motionvigil.detect.windows.WindowResult` each time a window completes, i.e.
every ``stride`` frames at 20 Hz once the first ``window`` frames have arrived.

Frames go through the same retargeting as an offline file
(:func:`motionvigil.skeleton.retarget.to_smpl22`): the fixed per-frame joint mapping to
SMPL-22, then linear resampling onto the 20 Hz grid ``k / 20`` s counted from the first
frame of the stream, then the canonical frame per window. Because the mapping is per
frame and interpolation only needs the two raw frames around each 20 Hz instant, this
is done incrementally, with exactly the arithmetic ``to_smpl22`` uses on the whole
recording, so the stream's windows equal those of :func:`~motionvigil.detect.timeline.detect_motion`
on the recorded file (resampling the buffered raw window again at every step would
instead shift the 20 Hz grid with each window's first raw frame).

Per push the cost is the mapping of the new frames plus one embedding per completed
window; nothing is embedded twice and the buffer holds at most ``window - 1`` frames
at 20 Hz (plus one raw frame).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from motionvigil.detect.detector import Detector
from motionvigil.detect.scene import scene_of
from motionvigil.detect.windows import WindowResult
from motionvigil.errors import MotionFileError
from motionvigil.io.motion import Layout, lost_bodies
from motionvigil.skeleton.mappings import mapping_matrix
from motionvigil.skeleton.retarget import TARGET_FPS

__all__ = ["StreamRetargeter", "StreamingDetector", "WindowResult"]


class StreamRetargeter:
    """Incremental ``to_smpl22(motion, canonical=False)``: raw frames in, 20 Hz SMPL-22 frames out.

    Output frame ``k`` (time ``k / 20`` s) is produced as soon as a raw frame at or after
    that time has arrived, interpolated like :func:`scipy.interpolate.interp1d` does in
    :func:`motionvigil.skeleton.resample.resample_joints`.
    """

    def __init__(self, layout: Layout, fps: float, fps_out: float = TARGET_FPS):
        try:
            self.matrix = mapping_matrix(layout)
        except KeyError as exc:
            raise MotionFileError(None, str(exc.args[0])) from None
        if not (math.isfinite(fps) and fps > 0):
            raise MotionFileError(None, f"invalid frame rate {fps!r}")
        self.layout, self.fps, self.fps_out = layout, float(fps), float(fps_out)
        self.same_rate = _same_rate(self.fps, self.fps_out)
        self.raw_frames = 0  # raw frames received
        self.out_frames = 0  # 20 Hz frames produced
        self._last: np.ndarray | None = None  # the last mapped raw frame

    def starting_at(self, raw_frame: int, frame: np.ndarray) -> "StreamRetargeter":
        """This retargeter for a body first seen at raw frame ``raw_frame`` (> 0) of the
        stream: as if it had received the earlier frames with the body absent (the last of
        them holding ``frame [J, 3]`` as filler), for :meth:`push_seen`."""
        self.raw_frames = raw_frame
        self.out_frames = self.grid_count(raw_frame)
        mapped = self.matrix @ np.asarray(frame, dtype=np.float64)
        self._last = np.concatenate([mapped.reshape(-1), [0.0]])
        return self

    def grid_count(self, raw_frames: int) -> int:
        """How many 20 Hz frames :meth:`push` has produced after ``raw_frames`` raw frames."""
        if raw_frames <= 0 or self.same_rate:
            return max(raw_frames, 0)
        x = (raw_frames - 1) / self.fps
        k = int(math.floor(x * self.fps_out)) + 2
        while k > 0 and (k - 1) / self.fps_out > x:
            k -= 1
        return k

    def push_seen(self, frames: np.ndarray, seen: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`push` for one body of a multi-person stream, with ``seen [n]`` (where it was
        seen) resampled alongside as ``to_smpl22`` resamples ``present``: a 20 Hz frame is
        seen when the raw frames it is interpolated from are. Returns ``(joints [m, 22, 3], seen [m])``."""
        mapped = np.einsum("sj,tjc->tsc", self.matrix, frames.astype(np.float64))
        values = np.concatenate([mapped.reshape(len(mapped), -1), np.asarray(seen, np.float64)[:, None]], axis=1)
        out = self._resample(values)
        return out[:, :-1].reshape(len(out), len(self.matrix), 3).astype(np.float32), out[:, -1] > 1.0 - 1e-4

    def push(self, frames: np.ndarray) -> np.ndarray:
        """Map and resample ``frames [n, J, 3]``; returns the new 20 Hz frames ``[m, 22, 3]`` (float32)."""
        mapped = np.einsum("sj,tjc->tsc", self.matrix, frames.astype(np.float64))
        return self._resample(mapped).astype(np.float32)

    def _resample(self, mapped: np.ndarray) -> np.ndarray:
        """New 20 Hz rows of raw rows ``mapped [n, ...]`` (float64), interpolated as interp1d does."""
        first = self.raw_frames
        self.raw_frames += len(mapped)
        if self.same_rate:
            self.out_frames += len(mapped)
            return mapped
        if self._last is not None:
            mapped = np.concatenate([self._last[None], mapped])
            first -= 1
        self._last = mapped[-1].copy()
        x = np.arange(first, self.raw_frames) / self.fps  # the same values as arange(N) / fps offline
        ks = np.arange(self.out_frames, int(math.floor(x[-1] * self.fps_out)) + 2)
        t = ks / self.fps_out
        t = t[t <= x[-1]]
        if not len(t):
            return np.zeros((0,) + mapped.shape[1:])
        self.out_frames += len(t)
        if len(x) == 1:  # the very first frame alone: interp1d gives it unchanged at t = 0
            return mapped[:1]
        y = mapped.reshape(len(mapped), -1)
        hi = np.searchsorted(x, t).clip(1, len(x) - 1)
        lo = hi - 1
        slope = (y[hi] - y[lo]) / (x[hi] - x[lo])[:, None]
        out = slope * (t - x[lo])[:, None] + y[lo]
        return out.reshape((len(t),) + mapped.shape[1:])

    def state(self) -> dict:
        """Everything :meth:`push` and :meth:`push_seen` depend on (numbers and arrays), for :meth:`restore`."""
        return {"layout": self.layout.name, "fps": self.fps, "fps_out": self.fps_out, "raw_frames": self.raw_frames,
                "out_frames": self.out_frames, "last": self._last}

    @classmethod
    def restore(cls, state: dict, layouts: dict[str, Layout]) -> "StreamRetargeter":
        """The retargeter :meth:`state` described (``layouts``: name -> layout)."""
        out = cls(layouts[state["layout"]], float(state["fps"]), float(state["fps_out"]))
        out.raw_frames, out.out_frames = int(state["raw_frames"]), int(state["out_frames"])
        out._last = None if state["last"] is None else np.asarray(state["last"], np.float64)
        return out


@dataclass
class _Person:
    """One body of a multi-person stream: its retargeter and its buffered 20 Hz frames
    (every person's buffer covers the same stream frames)."""

    retarget: StreamRetargeter
    joints: np.ndarray  # [k, 22, 3]
    seen: np.ndarray  # [k] bool
    last_raw: np.ndarray  # [J, 3] the last raw frame where the body was seen: filler for absent raw frames
    last_seen: int = -1  # 20 Hz index of the last frame where it was seen
    last_seen_raw: int = -1  # raw index of the last raw frame where it was seen

    def add(self, body: np.ndarray | None, seen: np.ndarray, first_raw: int, frames: int) -> None:
        """Take raw frames ``body [n, J, 3]`` (None: not in view) from raw frame ``first_raw``
        on, seen where ``seen [n]``; ``frames``: the stream's 20 Hz frame count after them."""
        new, new_seen = self.retarget.push_seen(_fill_forward(body, seen, self.last_raw), seen)
        self.joints = np.concatenate([self.joints, new])
        self.seen = np.concatenate([self.seen, new_seen])
        if body is not None and seen.any():
            last = int(np.flatnonzero(seen)[-1])
            self.last_raw, self.last_seen_raw = body[last], first_raw + last
        if new_seen.any():
            self.last_seen = frames - len(new) + int(np.flatnonzero(new_seen)[-1])

    def keep_last(self, keep: int) -> None:
        self.joints = self.joints[len(self.joints) - keep :].copy()
        self.seen = self.seen[len(self.seen) - keep :].copy()

    def state(self) -> dict:
        """Everything :meth:`StreamingDetector.push` reads of this person (numbers and arrays)."""
        return {"retarget": self.retarget.state(), "joints": self.joints, "seen": self.seen,
                "last_raw": self.last_raw, "last_seen": self.last_seen, "last_seen_raw": self.last_seen_raw}

    @classmethod
    def restore(cls, state: dict, layouts: dict[str, Layout]) -> "_Person":
        return cls(StreamRetargeter.restore(state["retarget"], layouts),
                   np.asarray(state["joints"], np.float32).reshape(-1, 22, 3),
                   np.asarray(state["seen"], bool).reshape(-1), np.asarray(state["last_raw"], np.float32),
                   int(state["last_seen"]), int(state["last_seen_raw"]))


class StreamingDetector:
    """Feed frames with :meth:`push`; get a result per completed window.

    The first push fixes the stream's layout and frame rate, and whether it carries one
    body or several persons; :meth:`reset` starts a new stream. Window times are seconds
    since the first frame of the stream.

    Several persons (``push(frames [n, P, J, 3], ..., ids=...)``, docs/persons.md): each
    person gets its own retargeter onto the one 20 Hz grid counted from the stream's
    first frame, so a person who appears later is absent before; a body that is missing
    from a push, or lost in a frame (all-zero joints, see
    :func:`~motionvigil.io.motion.lost_bodies`), is absent there. Each completed window
    goes to ``Detector.score_scene`` with the persons present in at least
    :data:`~motionvigil.detect.scene.MIN_PRESENT` of its frames, exactly as
    :func:`~motionvigil.detect.timeline.detect_motion` cuts the recorded stream. A person
    absent for a whole window is forgotten (and starts afresh if seen again), so memory
    depends on neither the stream's length nor on the people who left.
    """

    def __init__(self, detector: Detector):
        self.detector = detector
        self.reset()

    def reset(self) -> None:
        """Forget everything: the next push starts a new stream."""
        self._retarget: StreamRetargeter | None = None
        self._buffer = np.zeros((0, 22, 3), np.float32)  # the last < window frames at 20 Hz
        self.frames = 0  # frames at 20 Hz so far
        self._persons: dict[int, _Person] | None = None  # several persons: the ones being followed
        self._raw = 0  # several persons: raw frames so far
        self._first = 0  # several persons: the stream frame of every person's buffer[0]

    def state(self) -> dict:
        """The stream's position and buffered frames (numbers, strings and arrays; persons as a
        list, in the order they are followed): a checkpoint that :meth:`restore` turns back
        into a detector giving the very same later windows."""
        persons = None if self._persons is None else [dict(p.state(), id=pid) for pid, p in self._persons.items()]
        return {"retarget": None if self._retarget is None else self._retarget.state(),
                "buffer": self._buffer, "frames": self.frames, "persons": persons, "raw": self._raw,
                "first": self._first}

    def restore(self, state: dict, layouts: dict[str, Layout]) -> None:
        """Continue the stream :meth:`state` described (``layouts``: name -> layout)."""
        self.reset()
        r = state["retarget"]
        self._retarget = None if r is None else StreamRetargeter.restore(r, layouts)
        self._buffer = np.asarray(state["buffer"], np.float32).reshape(-1, 22, 3)
        self.frames = int(state["frames"])
        persons = state.get("persons")  # absent in checkpoints of one-body streams written before persons
        if persons is not None:
            self._persons = {int(p["id"]): _Person.restore(p, layouts) for p in persons}
            self._raw, self._first = int(state["raw"]), int(state["first"])

    @property
    def buffered_frames(self) -> int:
        """Frames (at 20 Hz) held for the next window, per person; never more than ``window - 1``."""
        if self._persons is not None:
            return max((len(p.joints) for p in self._persons.values()), default=0)
        return len(self._buffer)

    @property
    def persons(self) -> tuple[int, ...]:
        """The ids of the persons being followed (``()`` for a one-body stream)."""
        return tuple(sorted(self._persons or ()))

    def push(self, frames: np.ndarray, layout: Layout, fps: float,
             ids: Sequence[int] | None = None) -> list[WindowResult]:
        """Add raw frames ``[n, J, 3]`` (or one frame ``[J, 3]``) in ``layout`` at ``fps``; or,
        with ``ids``, the persons in them: ``[n, P, J, 3]`` (or ``[P, J, 3]``) with one id per body.

        Returns the results of the windows completed by these frames, oldest first
        (usually none or one; with several persons, ``score_scene``'s per window).

        Raises:
            MotionFileError: frames of the wrong shape, non-finite coordinates (a body that
                is all NaN in a frame is absent there, not an error), bad ids, or a layout
                without a mapping to SMPL-22.
            ValueError: the layout, frame rate or kind (one body / several persons) differs
                from the stream's (call :meth:`reset` to start another stream).
        """
        if ids is not None:
            frames, ids = self._check_persons(frames, layout, ids)
        else:
            frames = self._check(frames, layout)
        if self._retarget is None:
            self._retarget = StreamRetargeter(layout, fps)
            self._persons = {} if ids is not None else None
        elif layout != self._retarget.layout or not _same_rate(float(fps), self._retarget.fps):
            raise ValueError(
                f"the stream is {self._retarget.layout.name} at {self._retarget.fps:g} Hz, got {layout.name} at "
                f"{fps:g} Hz; call reset() to start a new stream"
            )
        elif (ids is not None) != (self._persons is not None):
            kind = "several persons (frames with ids)" if self._persons is not None else "one body (no ids)"
            raise ValueError(f"the stream carries {kind}; call reset() to start a new stream")
        if ids is not None:
            return self._push_persons(frames, ids)
        new = self._retarget.push(frames)
        if not len(new):
            return []
        det = self.detector
        w, s = det.window, det.stride
        buf = np.concatenate([self._buffer, new]) if len(self._buffer) else new
        first = self.frames - len(self._buffer)  # stream frame index of buf[0]
        before = self.frames
        self.frames += len(new)
        lo = max(0, before - w + 1)  # earliest start of a window ending in the new frames
        starts = list(range(-(-lo // s) * s, self.frames - w + 1, s))
        windows = [buf[st - first : st - first + w] for st in starts]
        self._buffer = buf[len(buf) - min(len(buf), w - 1) :].copy()
        return det.score_windows(windows, starts)

    def _push_persons(self, frames: np.ndarray, ids: list[int]) -> list[WindowResult]:
        assert self._persons is not None and self._retarget is not None
        det, clock, persons = self.detector, self._retarget, self._persons
        w, s = det.window, det.stride
        r0, r1 = self._raw, self._raw + len(frames)
        g0, g1 = self.frames, clock.grid_count(r1)
        lost = lost_bodies(np.moveaxis(frames, 1, 0))  # [P, n]
        column = {pid: i for i, pid in enumerate(ids)}
        for pid in list(persons) + [p for p in ids if p not in persons]:
            i = column.get(pid)
            seen = ~lost[i] if i is not None else np.zeros(len(frames), bool)
            body = frames[:, i] if i is not None else None
            person, first_raw = persons.get(pid), r0
            if person is None:
                if body is None or not seen.any():
                    continue
                j = int(np.argmax(seen))
                person = persons[pid] = self._new_person(body[j], r0 + j)
                body, seen, first_raw = body[j:], seen[j:], r0 + j
            person.add(body, seen, first_raw, g1)
        self._raw, self.frames = r1, g1
        lo = max(0, g0 - w + 1)  # earliest start of a window ending in the new frames
        starts = list(range(-(-lo // s) * s, g1 - w + 1, s))
        order = sorted(persons)
        scenes = []
        for st in starts:
            a = st - self._first
            joints = np.stack([persons[p].joints[a : a + w] for p in order]).reshape(-1, w, 22, 3)
            scenes.append(scene_of(order, joints, np.stack([persons[p].seen[a : a + w] for p in order]).reshape(-1, w)))
        keep = min(w - 1, g1 - self._first)
        self._first = g1 - keep
        for pid in order:
            persons[pid].keep_last(keep)
            if persons[pid].last_seen < g1 - w and persons[pid].last_seen_raw < r1 - 1:  # absent a whole window
                del persons[pid]  # forgotten: seen again, it starts afresh (starting_at), as offline
        return det.score_scene(starts, scenes) if starts else []

    def _new_person(self, frame: np.ndarray, raw: int) -> _Person:
        """A person first seen (again) in raw frame ``raw``, absent in the buffered frames before."""
        clock = self._retarget
        assert clock is not None
        retarget = StreamRetargeter(clock.layout, clock.fps)
        if raw > 0:
            retarget.starting_at(raw, frame)
        pad = retarget.out_frames - self._first
        return _Person(retarget, np.zeros((pad, 22, 3), np.float32), np.zeros(pad, bool), frame)

    @staticmethod
    def _check_persons(frames: np.ndarray, layout: Layout, ids: Sequence[int]) -> tuple[np.ndarray, list[int]]:
        arr = np.asarray(frames)
        if arr.ndim == 3:
            arr = arr[None]
        try:
            ids = [int(i) for i in ids]
        except (TypeError, ValueError):
            raise MotionFileError(None, f"person ids must be integers, got {ids!r}") from None
        if arr.ndim != 4 or arr.shape[1] != len(ids) or arr.shape[2:] != (layout.num_joints, 3):
            raise MotionFileError(None, f"stream frames of {len(ids)} person(s) must be [n, {len(ids)}, "
                                        f"{layout.num_joints}, 3] for layout {layout.name!r}, "
                                        f"got {tuple(np.shape(frames))}")
        if len(set(ids)) != len(ids) or any(i < 0 for i in ids):
            raise MotionFileError(None, f"person ids must be unique non-negative integers, got {ids}")
        if not np.issubdtype(arr.dtype, np.number):
            raise MotionFileError(None, "stream frames hold non-numeric coordinates")
        arr = arr.astype(np.float32)
        bad = ~np.isfinite(arr).all(axis=(2, 3)) & ~lost_bodies(np.moveaxis(arr, 1, 0)).T
        if bad.any():
            frame, body = (int(i) for i in np.argwhere(bad)[0])
            raise MotionFileError(None, f"frame {frame}, person {ids[body]}: NaN or infinite coordinates (a body "
                                        "that is all NaN or all zeros is absent)")
        return np.nan_to_num(arr, nan=0.0), ids

    @staticmethod
    def _check(frames: np.ndarray, layout: Layout) -> np.ndarray:
        arr = np.asarray(frames)
        if arr.ndim == 2:
            arr = arr[None]
        if arr.ndim != 3 or arr.shape[1:] != (layout.num_joints, 3):
            raise MotionFileError(None, f"stream frames must be [n, {layout.num_joints}, 3] for layout "
                                        f"{layout.name!r}, got {tuple(np.shape(frames))}")
        if not np.issubdtype(arr.dtype, np.number) or not np.isfinite(arr).all():
            raise MotionFileError(None, "stream frames hold non-numeric, NaN or infinite coordinates")
        return arr.astype(np.float32)


def _same_rate(a: float, b: float) -> bool:
    """``np.isclose(a, b)`` for two floats, without its cost on every pushed frame."""
    return abs(a - b) <= 1e-8 + 1e-5 * abs(b)


def _fill_forward(body: np.ndarray | None, seen: np.ndarray, last: np.ndarray) -> np.ndarray:
    """``body [n, J, 3]`` with each frame where it was not seen replaced by the last seen one
    before it (``last`` when none): finite filler that never becomes a seen 20 Hz frame."""
    if body is None:
        return np.broadcast_to(last, (len(seen),) + last.shape)
    idx = np.maximum.accumulate(np.where(seen, np.arange(len(seen)), -1))
    return np.where((idx >= 0)[:, None, None], body[idx.clip(0)], last)
