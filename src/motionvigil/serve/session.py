"""One stream's state: the frame protocol, validation, windows and alert events.

Wire protocol of ``/v1/streams/{stream_id}`` (JSON text messages unless noted):

client -> server
  ``{"type": "start", "layout": "smpl22", "fps": 20, "windows": false}`` once, first:
      the stream's skeleton layout (``smpl22``, ``kinect_msr``, ``kinect_sdk``,
      ``mediapipe33``) and frame rate; ``windows: true`` also sends every window's result.
  ``{"type": "frames", "frames": [{"t": 0.05, "joints": [[x, y, z], ...]}, ...]}`` or one
      frame ``{"t": ..., "joints": ...}``: timestamps in seconds, strictly increasing.
  Several persons (docs/persons.md): a frame carries ``"persons": [{"id": 3, "joints":
      [[x, y, z], ...]}, ...]`` instead of ``"joints"``: the persons in view, each with a
      non-negative integer id (a track id, unique in the frame); a person missing from a
      frame, or whose joints are all zeros, is absent in it. The first frames message
      fixes the stream's kind: one body (``joints``, or binary) or several persons.
  binary: the compact form, little-endian float32, per frame ``t`` then ``J * 3``
      coordinates (``n * (1 + 3 J)`` values).
  ``{"type": "end"}``: the stream is over; the server closes open alerts, answers
      ``closed`` and closes the connection.
server -> client
  ``{"type": "ready", ...}`` after ``start``: window, stride and threshold.
  ``{"type": "alert", "event": "start", "start": s, "end": s, "class": c, "score": v}`` when
      an alert begins; ``"event": "end"`` (``score`` = its highest) when it is over. In a
      stream of several persons, alerts are per person or pair and carry ``"persons": [ids]``
      (``[3]`` or ``[0, 1]``).
  ``{"type": "window", "start", "end", "violence", "class", "alert"}`` per window, if asked
      (several persons: one per person and per pair, with ``"persons"``).
  ``{"type": "error", "code": ..., "message": ...}``: the message was refused (nothing of it
      was used); the stream stays open.
  ``{"type": "closed" | "bye", "frames": n, "windows": m}``: the last message (``bye``:
      the server is shutting down).

Times in ``start``/``end`` are stream seconds of the 20 Hz window grid counted from the
first frame (as ``motionvigil detect`` reports them). A message is checked as a whole
before any of its frames is used: wrong joint count, NaN/inf, non-monotonic or
non-finite timestamps, a malformed body or person entry, a duplicate person id, frames
of the other kind (one body / several persons) or an oversized message gets an
``error`` and changes nothing.
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


MAX_PERSONS = 64  # persons in one frame, and ids in one message


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

    def score_scene(self, starts, scenes):
        """Several persons: each window's scene (person id -> window) is kept as one item;
        windows where nobody is scorable are dropped (they have no result)."""
        kept = [(s, scene) for s, scene in zip(starts, scenes) if scene]
        self.windows.extend(scene for _, scene in kept)
        self.starts.extend(s for s, _ in kept)
        return []

    def take(self) -> tuple[list[Any], list[int]]:
        out = (self.windows, self.starts)
        self.windows, self.starts = [], []
        return out


class StreamSession:
    """Parses a stream's messages, cuts its windows and turns window results into events."""

    def __init__(self, stream_id: str, window: int, stride: int, threshold: float, hold_s: float = 0.0):
        self.stream_id = stream_id
        self.threshold = threshold
        self.hold_s = hold_s  # an alert stays open through lulls this long (Detector.hold_s)
        self._collector = _Collector(window, stride)
        self._stream = StreamingDetector(self._collector)  # type: ignore[arg-type]
        self.layout: Layout | None = None
        self.fps = 0.0
        self.send_windows = False
        self.frames = 0
        self.windows = 0
        self.last_t = -math.inf
        self.persons: bool | None = None  # several persons per frame; None until the first frames
        self._runs: dict[tuple[int, ...], dict[str, Any]] = {}  # the open alerts, per persons key

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
        kind = msg.get("type", "frames" if "joints" in msg or "persons" in msg else None)
        if kind == "start":
            return "start", msg
        if kind == "end":
            return "end", None
        if kind != "frames":
            raise ProtocolError("bad_message", f"unknown message type {kind!r} (start, frames or end)")
        layout = self._started()
        frames = msg.get("frames", [msg] if "joints" in msg or "persons" in msg else None)
        if not isinstance(frames, list) or not frames:
            raise ProtocolError("bad_frame", "frames must be a non-empty list of {t, joints} objects")
        persons = isinstance(frames[0], dict) and "persons" in frames[0]
        if any(not isinstance(f, dict) or ("persons" in f) != persons for f in frames):
            raise ProtocolError("bad_frame", "every frame of a message carries either joints or persons")
        self._same_kind(persons)
        try:
            t = np.array([f["t"] for f in frames], dtype=np.float64)
            joints = None if persons else np.array([f["joints"] for f in frames], dtype=np.float64)
        except (KeyError, TypeError, ValueError):
            raise ProtocolError("bad_frame", f"each frame needs a number t and joints [{layout.num_joints}][3]") from None
        if joints is None:
            return "frames", self._validate_persons(t, [f["persons"] for f in frames])
        return "frames", self._validate(t, joints)

    def _same_kind(self, persons: bool) -> None:
        if self.persons is not None and persons != self.persons:
            raise ProtocolError("bad_frame", "this stream sends " + ("persons" if self.persons else "one body's joints")
                                + " per frame; it cannot change (start another stream)")

    def _validate_persons(self, t: np.ndarray, frames: list[Any]) -> tuple[np.ndarray, np.ndarray, list[int]]:
        """``(t, joints [n, P, J, 3], ids)``: every person id of the message, zeros where a
        person is not in a frame (absent there)."""
        layout = self._started()
        ids: dict[int, int] = {}
        for i, persons in enumerate(frames):
            if not isinstance(persons, list) or len(persons) > MAX_PERSONS:
                raise ProtocolError("bad_frame", f"frame {i}: persons must be a list of at most {MAX_PERSONS} "
                                                 "{id, joints} objects")
            seen: set[int] = set()
            for p in persons:
                pid = p.get("id") if isinstance(p, dict) else None
                if isinstance(pid, bool) or not isinstance(pid, int) or not 0 <= pid < 2**63 or "joints" not in p:
                    raise ProtocolError("bad_frame", f"frame {i}: each person needs a non-negative integer id and "
                                                     f"joints [{layout.num_joints}][3]")
                if pid in seen:
                    raise ProtocolError("bad_frame", f"frame {i}: person id {pid} appears twice")
                seen.add(pid)
                ids.setdefault(pid, len(ids))
        if len(ids) > MAX_PERSONS:
            raise ProtocolError("bad_frame", f"{len(ids)} person ids in one message; at most {MAX_PERSONS}")
        joints = np.zeros((len(frames), len(ids), layout.num_joints, 3))
        for i, persons in enumerate(frames):
            for p in persons:
                try:
                    body = np.array(p["joints"], dtype=np.float64)
                except (TypeError, ValueError):
                    body = np.zeros(0)
                if body.shape != (layout.num_joints, 3):
                    raise ProtocolError("bad_frame", f"frame {i}, person {p['id']}: joints must be "
                                                     f"{layout.num_joints} x 3 coordinates for layout {layout.name}, "
                                                     f"got shape {tuple(body.shape)}")
                joints[i, ids[p["id"]]] = body
        self._validate(t, joints.reshape(len(frames), -1, 3) if len(ids) else np.zeros((len(t), layout.num_joints, 3)),
                       check_shape=False)
        return t, joints, list(ids)

    def parse_binary(self, data: bytes) -> tuple[np.ndarray, np.ndarray]:
        layout = self._started()
        self._same_kind(False)
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

    def _validate(self, t: np.ndarray, joints: np.ndarray, check_shape: bool = True) -> tuple[np.ndarray, np.ndarray]:
        layout = self._started()
        if t.shape != (len(joints),) or check_shape and (joints.ndim != 3 or joints.shape[1:] != (layout.num_joints, 3)):
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

    def push(self, t: np.ndarray, joints: np.ndarray, ids: list[int] | None = None) -> tuple[list[Any], list[int]]:
        """Take validated frames (with ``ids``: ``[n, P, J, 3]`` of these persons); returns the
        windows they complete (several persons: scenes, person id -> window) and their start frames."""
        try:
            self._stream.push(joints.astype(np.float32), self.layout, self.fps, ids=ids)
        except (MotionFileError, ValueError) as exc:  # not expected after _validate
            raise ProtocolError("bad_frame", str(exc)) from None
        self.persons = ids is not None
        self.last_t = float(t[-1])
        self.frames += len(t)
        return self._collector.take()

    # ---- checkpoints (serve/worker.py keeps each camera's in Redis) ------------------------
    def state(self) -> dict[str, Any]:
        """Everything later messages depend on (numbers, strings and arrays): the stream's
        layout and rate, counters, last timestamp, its kind (one body or several persons),
        the open alerts (a list, oldest first, each with its ``persons`` key) and the
        windowing state."""
        runs = [dict(run, persons=list(key)) for key, run in self._runs.items()]
        return {"stream_id": self.stream_id, "layout": None if self.layout is None else self.layout.name,
                "fps": self.fps, "send_windows": self.send_windows, "frames": self.frames, "windows": self.windows,
                "last_t": self.last_t, "persons": self.persons, "runs": runs, "stream": self._stream.state()}

    def restore(self, state: dict[str, Any]) -> None:
        """Continue from :meth:`state` (a session made with the same window, stride and threshold).
        A checkpoint of a one-body stream written before persons existed (one open alert,
        ``run``) is read too."""
        self.layout = None if state["layout"] is None else KNOWN_LAYOUTS[state["layout"]]
        self.fps, self.send_windows = float(state["fps"]), bool(state["send_windows"])
        self.frames, self.windows, self.last_t = int(state["frames"]), int(state["windows"]), float(state["last_t"])
        if "runs" in state:
            self.persons = None if state["persons"] is None else bool(state["persons"])
            runs = [dict(run) for run in state["runs"]]
        else:
            self.persons = None if state["stream"]["retarget"] is None else False
            runs = [dict(state["run"], persons=[])] if state.get("run") else []
        self._runs = {tuple(int(i) for i in run.pop("persons")): run for run in runs}
        self._stream.restore(state["stream"], KNOWN_LAYOUTS)

    # ---- results -> events -------------------------------------------------------------
    def events(self, results: list[WindowResult]) -> list[dict[str, Any]]:
        """Messages for these window results: alert starts/ends (segments merge like
        :func:`motionvigil.detect.timeline.alert_segments`, per person or pair) and, if
        asked, every window."""
        out: list[dict[str, Any]] = []
        for r in results:
            self.windows += 1
            named = {"persons": list(r.persons)} if r.persons else {}
            if self.send_windows:
                out.append({"type": "window", "start": round(r.start_s, 3), "end": round(r.end_s, 3),
                            "violence": round(r.violence, 6), "class": r.violent_class, "alert": r.alert, **named})
            for key in [k for k, run in self._runs.items() if r.start_s > run["end"] + self.hold_s + 1e-9]:
                out.append(self._close(key))
            if r.alert:
                run = self._runs.get(r.persons)
                if run is None:
                    self._runs[r.persons] = {"start": r.start_s, "end": r.end_s, "class": r.violent_class,
                                             "score": r.violence, "windows": 1}
                    out.append({"type": "alert", "event": "start", "start": round(r.start_s, 3),
                                "end": round(r.end_s, 3), "class": r.violent_class, "score": round(r.violence, 6),
                                **named})
                else:
                    run["end"] = max(run["end"], r.end_s)
                    run["windows"] += 1
                    if r.violence > run["score"]:
                        run["score"], run["class"] = r.violence, r.violent_class
        return out

    def close_alerts(self) -> list[dict[str, Any]]:
        """The ``end`` events of every open alert (oldest first)."""
        return [self._close(key) for key in sorted(self._runs, key=lambda k: self._runs[k]["start"])]

    def close_alert(self) -> dict[str, Any] | None:
        """The ``end`` event of the oldest open alert (None if none is open)."""
        return self._close(min(self._runs, key=lambda k: self._runs[k]["start"])) if self._runs else None

    def _close(self, key: tuple[int, ...]) -> dict[str, Any]:
        run = self._runs.pop(key)
        return {"type": "alert", "event": "end", "start": round(run["start"], 3), "end": round(run["end"], 3),
                "class": run["class"], "score": round(run["score"], 6), "windows": run["windows"],
                **({"persons": list(key)} if key else {})}
