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

import numpy as np

from motionvigil.detect.detector import Detector
from motionvigil.detect.windows import WindowResult
from motionvigil.errors import MotionFileError
from motionvigil.io.motion import Layout
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
        self.same_rate = bool(np.isclose(self.fps, self.fps_out))
        self.raw_frames = 0  # raw frames received
        self.out_frames = 0  # 20 Hz frames produced
        self._last: np.ndarray | None = None  # the last mapped raw frame

    def push(self, frames: np.ndarray) -> np.ndarray:
        """Map and resample ``frames [n, J, 3]``; returns the new 20 Hz frames ``[m, 22, 3]`` (float32)."""
        mapped = np.einsum("sj,tjc->tsc", self.matrix, frames.astype(np.float64))
        first = self.raw_frames
        self.raw_frames += len(mapped)
        if self.same_rate:
            self.out_frames += len(mapped)
            return mapped.astype(np.float32)
        if self._last is not None:
            mapped = np.concatenate([self._last[None], mapped])
            first -= 1
        self._last = mapped[-1].copy()
        x = np.arange(first, self.raw_frames) / self.fps  # the same values as arange(N) / fps offline
        ks = np.arange(self.out_frames, int(math.floor(x[-1] * self.fps_out)) + 2)
        t = ks / self.fps_out
        t = t[t <= x[-1]]
        if not len(t):
            return np.zeros((0,) + mapped.shape[1:], np.float32)
        self.out_frames += len(t)
        if len(x) == 1:  # the very first frame alone: interp1d gives it unchanged at t = 0
            return mapped[:1].astype(np.float32)
        y = mapped.reshape(len(mapped), -1)
        hi = np.searchsorted(x, t).clip(1, len(x) - 1)
        lo = hi - 1
        slope = (y[hi] - y[lo]) / (x[hi] - x[lo])[:, None]
        out = slope * (t - x[lo])[:, None] + y[lo]
        return out.reshape((len(t),) + mapped.shape[1:]).astype(np.float32)

    def state(self) -> dict:
        """Everything :meth:`push` depends on (numbers and arrays), for :meth:`restore`."""
        return {"layout": self.layout.name, "fps": self.fps, "fps_out": self.fps_out, "raw_frames": self.raw_frames,
                "out_frames": self.out_frames, "last": self._last}

    @classmethod
    def restore(cls, state: dict, layouts: dict[str, Layout]) -> "StreamRetargeter":
        """The retargeter :meth:`state` described (``layouts``: name -> layout)."""
        out = cls(layouts[state["layout"]], float(state["fps"]), float(state["fps_out"]))
        out.raw_frames, out.out_frames = int(state["raw_frames"]), int(state["out_frames"])
        out._last = None if state["last"] is None else np.asarray(state["last"], np.float64)
        return out


class StreamingDetector:
    """Feed frames with :meth:`push`; get a result per completed window.

    The first push fixes the stream's layout and frame rate; :meth:`reset` starts a new
    stream. Window times are seconds since the first frame of the stream.
    """

    def __init__(self, detector: Detector):
        self.detector = detector
        self.reset()

    def reset(self) -> None:
        """Forget everything: the next push starts a new stream."""
        self._retarget: StreamRetargeter | None = None
        self._buffer = np.zeros((0, 22, 3), np.float32)  # the last < window frames at 20 Hz
        self.frames = 0  # frames at 20 Hz so far

    def state(self) -> dict:
        """The stream's position and buffered frames (numbers and arrays): a checkpoint that
        :meth:`restore` turns back into a detector giving the very same later windows."""
        return {"retarget": None if self._retarget is None else self._retarget.state(),
                "buffer": self._buffer, "frames": self.frames}

    def restore(self, state: dict, layouts: dict[str, Layout]) -> None:
        """Continue the stream :meth:`state` described (``layouts``: name -> layout)."""
        r = state["retarget"]
        self._retarget = None if r is None else StreamRetargeter.restore(r, layouts)
        self._buffer = np.asarray(state["buffer"], np.float32).reshape(-1, 22, 3)
        self.frames = int(state["frames"])

    @property
    def buffered_frames(self) -> int:
        """Frames (at 20 Hz) held for the next window; never more than ``window - 1``."""
        return len(self._buffer)

    def push(self, frames: np.ndarray, layout: Layout, fps: float) -> list[WindowResult]:
        """Add raw frames ``[n, J, 3]`` (or one frame ``[J, 3]``) in ``layout`` at ``fps``.

        Returns the results of the windows completed by these frames, oldest first
        (usually none or one).

        Raises:
            MotionFileError: frames of the wrong shape, non-finite coordinates, or a layout
                without a mapping to SMPL-22.
            ValueError: the layout or frame rate differs from the stream's (call
                :meth:`reset` to start another stream).
        """
        frames = self._check(frames, layout)
        if self._retarget is None:
            self._retarget = StreamRetargeter(layout, fps)
        elif layout != self._retarget.layout or not np.isclose(float(fps), self._retarget.fps):
            raise ValueError(
                f"the stream is {self._retarget.layout.name} at {self._retarget.fps:g} Hz, got {layout.name} at "
                f"{fps:g} Hz; call reset() to start a new stream"
            )
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
