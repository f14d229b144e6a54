"""One stream's state: the frame protocol, validation, windows and alert events.

Wire protocol of ``/v1/streams/{stream_id}`` (JSON text messages unless noted):

client -> server
  ``{"type": "start", "layout": "smpl22", "fps": 20, "windows": false}`` once, first:
      the stream's skeleton layout (``smpl22``, ``kinect_msr``, ``kinect_sdk``,
      ``mediapipe33``) and frame rate; ``windows: true`` also sends every window's result.
  ``{"type": "frames", "frames": [{"t": 0.05, "joints": [[x, y, z], ...]}, ...]}`` or one
      frame ``{"t": ..., "joints": ...}``: timestamps in seconds, strictly increasing.
  binary: the compact form, little-endian float32, per frame ``t`` then ``J * 3``
      coordinates (``n * (1 + 3 J)`` values).
  ``{"type": "end"}``: the stream is over; the server closes open alerts, answers
      ``closed`` and closes the connection.
server -> client
  ``{"type": "ready", ...}`` after ``start``: window, stride and threshold.
  ``{"type": "alert", "event": "start", "start": s, "end": s, "class": c, "score": v}`` when
      an alert begins; ``"event": "end"`` (``score`` = its highest) when it is over.
  ``{"type": "window", "start", "end", "violence", "class", "alert"}`` per window, if asked.
  ``{"type": "error", "code": ..., "message": ...}``: the message was refused (nothing of it
      was used); the stream stays open.
  ``{"type": "closed" | "bye", "frames": n, "windows": m}``: the last message (``bye``:
      the server is shutting down).

Times in ``start``/``end`` are stream seconds of the 20 Hz window grid counted from the
first frame (as ``motionvigil detect`` reports them). A message is checked as a whole
before any of its frames is used: wrong joint count, NaN/inf, non-monotonic or
non-finite timestamps, a malformed body or an oversized message gets an ``error`` and
changes nothing.
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np

from motionvigil.detect.stream import StreamingDetector
from motionvigil.detect.windows import WindowResult
from motionvigil.errors import MotionFileError
from motionvigil.io.arrays import KNOWN_LAYOUTS
from motionvigil.io.motion import Layout


class ProtocolError(ValueError):
    """A refused client message: ``code`` and a one-line message for the client."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


class _Collector:
    """Stands in for the detector inside a :class:`StreamingDetector`: keeps the windows
    it completes (with their start frames) instead of scoring them, so that scoring can
    be batched across streams while windowing stays exactly the streaming detector's."""

    def __init__(self, window: int, stride: int):
        self.window, self.stride = window, stride
        self.windows: list[np.ndarray] = []
        self.starts: list[int] = []

    def score_windows(self, windows, starts):
        self.windows.extend(windows)
        self.starts.extend(starts)
        return []

    def take(self) -> tuple[list[np.ndarray], list[int]]:
        out = (self.windows, self.starts)
        self.windows, self.starts = [], []
        return out


class StreamSession:
    """Parses a stream's messages, cuts its windows and turns window results into events."""

    def __init__(self, stream_id: str, window: int, stride: int, threshold: float):
        self.stream_id = stream_id
        self.threshold = threshold
        self._collector = _Collector(window, stride)
        self._stream = StreamingDetector(self._collector)  # type: ignore[arg-type]
        self.layout: Layout | None = None
        self.fps = 0.0
        self.send_windows = False
        self.frames = 0
        self.windows = 0
        self.last_t = -math.inf
        self._run: dict[str, Any] | None = None  # the open alert

    # ---- client messages ---------------------------------------------------------------
    def start(self, msg: dict[str, Any]) -> dict[str, Any]:
        if self.layout is not None:
            raise ProtocolError("protocol", "the stream has already started")
        layout = KNOWN_LAYOUTS.get(str(msg.get("layout", "smpl22")))
        if layout is None:
            raise ProtocolError("bad_start", f"unknown layout {msg.get('layout')!r}; known: "
                                             f"{', '.join(KNOWN_LAYOUTS)}")
        fps = msg.get("fps", 20)
        if isinstance(fps, bool) or not isinstance(fps, (int, float)) or not (math.isfinite(fps) and 1 <= fps <= 1000):
            raise ProtocolError("bad_start", f"fps must be a number in [1, 1000], got {fps!r}")
        self.layout, self.fps = layout, float(fps)
        self.send_windows = bool(msg.get("windows", False))
        return {"type": "ready", "stream": self.stream_id, "layout": layout.name, "fps": self.fps,
                "joints": layout.num_joints, "window": self._collector.window, "stride": self._collector.stride,
                "window_s": self._collector.window / 20, "stride_s": self._collector.stride / 20,
                "threshold": self.threshold}

    def parse_text(self, text: str) -> tuple[str, Any]:
        """``("start", msg)``, ``("end", None)`` or ``("frames", (t [n], joints [n, J, 3]))``."""
        try:
            msg = json.loads(text)
        except ValueError:
            raise ProtocolError("bad_json", "the message is not valid JSON") from None
        if not isinstance(msg, dict):
            raise ProtocolError("bad_message", "a message must be a JSON object")
        kind = msg.get("type", "frames" if "joints" in msg else None)
        if kind == "start":
            return "start", msg
        if kind == "end":
            return "end", None
        if kind != "frames":
            raise ProtocolError("bad_message", f"unknown message type {kind!r} (start, frames or end)")
        layout = self._started()
        frames = msg.get("frames", [msg] if "joints" in msg else None)
        if not isinstance(frames, list) or not frames:
            raise ProtocolError("bad_frame", "frames must be a non-empty list of {t, joints} objects")
        try:
            t = np.array([f["t"] for f in frames], dtype=np.float64)
            joints = np.array([f["joints"] for f in frames], dtype=np.float64)
        except (KeyError, TypeError, ValueError):
            raise ProtocolError("bad_frame", f"each frame needs a number t and joints [{layout.num_joints}][3]") from None
        return "frames", self._validate(t, joints)

    def parse_binary(self, data: bytes) -> tuple[np.ndarray, np.ndarray]:
        layout = self._started()
        width = 1 + 3 * layout.num_joints
        if len(data) == 0 or len(data) % (4 * width):
            raise ProtocolError("bad_frame", f"a binary message holds n frames of {width} float32 values "
                                             f"(t then {layout.num_joints} x 3 joints); got {len(data)} bytes")
        arr = np.frombuffer(data, dtype="<f4").reshape(-1, width).astype(np.float64)
        return self._validate(arr[:, 0], arr[:, 1:].reshape(len(arr), layout.num_joints, 3))

    def _started(self) -> Layout:
        if self.layout is None:
            raise ProtocolError("protocol", "send {\"type\": \"start\", \"layout\": ..., \"fps\": ...} first")
        return self.layout

    def _validate(self, t: np.ndarray, joints: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        layout = self._started()
        if joints.ndim != 3 or joints.shape[1:] != (layout.num_joints, 3) or t.shape != (len(joints),):
            raise ProtocolError("bad_frame", f"frames must have {layout.num_joints} joints x 3 coordinates for "
                                             f"layout {layout.name}, got shape {tuple(joints.shape[1:])}")
        if not np.isfinite(joints).all():
            raise ProtocolError("bad_frame", "frames hold NaN or infinite coordinates")
        if not np.isfinite(t).all():
            raise ProtocolError("bad_timestamp", "timestamps must be finite numbers")
        if t[0] <= self.last_t or (len(t) > 1 and not (np.diff(t) > 0).all()):
            raise ProtocolError("bad_timestamp", f"timestamps must increase strictly (last accepted "
                                                 f"{self.last_t:g} s)")
        return t, joints

    def push(self, t: np.ndarray, joints: np.ndarray) -> tuple[list[np.ndarray], list[int]]:
        """Take validated frames; returns the windows they complete and their start frames."""
        try:
            self._stream.push(joints.astype(np.float32), self.layout, self.fps)
        except (MotionFileError, ValueError) as exc:  # not expected after _validate
            raise ProtocolError("bad_frame", str(exc)) from None
        self.last_t = float(t[-1])
        self.frames += len(t)
        return self._collector.take()

    # ---- checkpoints (serve/worker.py keeps each camera's in Redis) ------------------------
    def state(self) -> dict[str, Any]:
        """Everything later messages depend on (numbers, strings and arrays): the stream's
        layout and rate, counters, last timestamp, the open alert and the windowing state."""
        return {"stream_id": self.stream_id, "layout": None if self.layout is None else self.layout.name,
                "fps": self.fps, "send_windows": self.send_windows, "frames": self.frames, "windows": self.windows,
                "last_t": self.last_t, "run": self._run, "stream": self._stream.state()}

    def restore(self, state: dict[str, Any]) -> None:
        """Continue from :meth:`state` (a session made with the same window, stride and threshold)."""
        self.layout = None if state["layout"] is None else KNOWN_LAYOUTS[state["layout"]]
        self.fps, self.send_windows = float(state["fps"]), bool(state["send_windows"])
        self.frames, self.windows, self.last_t = int(state["frames"]), int(state["windows"]), float(state["last_t"])
        self._run = state["run"]
        self._stream.restore(state["stream"], KNOWN_LAYOUTS)

    # ---- results -> events -------------------------------------------------------------
    def events(self, results: list[WindowResult]) -> list[dict[str, Any]]:
        """Messages for these window results: alert starts/ends (segments merge like
        :func:`motionvigil.detect.timeline.alert_segments`) and, if asked, every window."""
        out: list[dict[str, Any]] = []
        for r in results:
            self.windows += 1
            if self.send_windows:
                out.append({"type": "window", "start": round(r.start_s, 3), "end": round(r.end_s, 3),
                            "violence": round(r.violence, 6), "class": r.violent_class, "alert": r.alert})
            if self._run is not None and r.start_s > self._run["end"] + 1e-9:
                out.append(self.close_alert())
            if r.alert:
                if self._run is None:
                    self._run = {"start": r.start_s, "end": r.end_s, "class": r.violent_class,
                                 "score": r.violence, "windows": 1}
                    out.append({"type": "alert", "event": "start", "start": round(r.start_s, 3),
                                "end": round(r.end_s, 3), "class": r.violent_class, "score": round(r.violence, 6)})
                else:
                    run = self._run
                    run["end"] = max(run["end"], r.end_s)
                    run["windows"] += 1
                    if r.violence > run["score"]:
                        run["score"], run["class"] = r.violence, r.violent_class
        return out

    def close_alert(self) -> dict[str, Any] | None:
        """The ``end`` event of the open alert (None if none is open)."""
        run, self._run = self._run, None
        if run is None:
            return None
        return {"type": "alert", "event": "end", "start": round(run["start"], 3), "end": round(run["end"], 3),
                "class": run["class"], "score": round(run["score"], 6), "windows": run["windows"]}
