"""What the operator console needs from the live streams: each alert with a stable id,
the motion and violence timeline behind it, stored in the feedback store and pushed to
every open console.

:class:`Console` is fed by three hooks in :mod:`.app`: a stream opened / closed, the
windows (20 Hz SMPL-22, as scored) and results of each frames message
(:meth:`Console.observe`), and every alert message before it is sent
(:meth:`Console.on_alert`, which adds the alert's ``id``). It keeps the last
:data:`KEEP_S` seconds of each stream's scored frames and window scores, so an alert's
motion can be stored without a second copy of the stream.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from motionvigil.serve.alert_ids import alert_id
from motionvigil.serve.feedback import FeedbackError, FeedbackStore, encode_motion

log = logging.getLogger("motionvigil.serve")

KEEP_S = 60.0  # seconds of frames and scores kept per stream (an alert's stored motion is at most this)
CONTEXT_S = 10.0  # seconds of violence timeline stored before an alert
RATE = 20  # frames per second of scored windows
QUEUE = 1000  # events held for one console; a console that falls further behind loses the oldest


def detector_version(detector) -> str:
    """``sha256:`` + 16 hex of the detector's settings and prototypes: the same detector
    gives the same version in every process."""
    h = hashlib.sha256(json.dumps(detector.settings(), sort_keys=True, default=str).encode())
    h.update(np.ascontiguousarray(detector.prototypes, dtype=np.float32).tobytes())
    return "sha256:" + h.hexdigest()[:16]


class StreamRecord:
    """The recent scored frames (per person) and window scores (per person or pair) of one stream."""

    def __init__(self, stream_id: str):
        self.stream_id = stream_id
        self.opened = time.time()
        self.t0: float | None = None  # timestamp of the stream's first frame (its own clock)
        self.frames: dict[int, dict[int, np.ndarray]] = {}  # person id -> frame index -> [22, 3]
        self.kept_from = 0  # frames before this index are dropped
        self.scores: dict[tuple[int, ...], deque] = {}  # persons -> (start_s, end_s, violence)
        self.open: dict[tuple[int, ...], tuple[str, float]] = {}  # persons -> (alert id, raised)
        self.alerts = 0
        self.last_violence = 0.0

    def observe(self, t: np.ndarray, windows: Sequence[Any], starts: Sequence[int], results: Sequence[Any]) -> None:
        if self.t0 is None and len(t):
            self.t0 = float(t[0])
        newest = 0
        for window, start in zip(windows, starts):
            bodies = window.items() if isinstance(window, dict) else [(0, window)]
            for pid, joints in bodies:
                joints = np.asarray(joints)
                if joints.ndim != 3:
                    continue
                buf = self.frames.setdefault(int(pid), {})
                for k in range(max(0, self.kept_from - start), len(joints)):
                    if start + k not in buf:
                        buf[start + k] = np.array(joints[k], dtype=np.float32)
            length = len(next(iter(window.values()), ())) if isinstance(window, dict) else len(window)
            newest = max(newest, start + length)
        oldest = newest - int(KEEP_S * RATE)
        if oldest > self.kept_from:  # drop what fell out of the last KEEP_S seconds (work ~ new frames)
            for buf in self.frames.values():
                for k in range(self.kept_from, oldest):
                    buf.pop(k, None)
            self.kept_from = oldest
        for r in results:
            q = self.scores.setdefault(tuple(r.persons), deque(maxlen=int(KEEP_S * RATE)))
            q.append((round(r.start_s, 3), round(r.end_s, 3), round(float(r.violence), 6)))
            self.last_violence = float(r.violence)

    def motion(self, persons: tuple[int, ...], start_s: float, end_s: float) -> bytes | None:
        """The stored form of the bodies ``persons`` (every body for ``()``) over the
        alert's span (the frames all of them share), or None when none is buffered."""
        ids = list(persons) if persons else sorted(self.frames)
        lo, hi = int(round(start_s * RATE)), int(round(end_s * RATE))
        common = None
        for pid in ids:
            have = {k for k in self.frames.get(pid, {}) if lo <= k < hi}
            common = have if common is None else common & have
        if not common:
            return None
        keys = sorted(common)
        joints = np.stack([np.stack([self.frames[pid][k] for k in keys]) for pid in ids])
        return encode_motion(joints, ids)

    def timeline(self, persons: tuple[int, ...], start_s: float, end_s: float) -> list[list[float]]:
        return [list(x) for x in self.scores.get(tuple(persons), ())
                if x[0] >= start_s - CONTEXT_S and x[0] <= end_s]


class EventHub:
    """Fan-out of console events to every subscribed console (one asyncio queue each)."""

    def __init__(self):
        self.queues: set[asyncio.Queue] = set()

    def subscribe(self) -> asyncio.Queue:
        q: asyncio.Queue = asyncio.Queue(QUEUE)
        self.queues.add(q)
        return q

    def unsubscribe(self, q: asyncio.Queue) -> None:
        self.queues.discard(q)

    def publish(self, event: dict[str, Any]) -> None:
        for q in list(self.queues):
            if q.full():  # a console that stopped reading loses its oldest event, never blocks a stream
                q.get_nowait()
            q.put_nowait(event)


class Console:
    """Alert ids, storage and live events for the operator console (see the module doc)."""

    def __init__(self, detector, store: FeedbackStore, describe: Callable[[str], dict[str, Any]] | None = None):
        self.store = store
        self.version = detector_version(detector)
        self.threshold = float(detector.threshold)
        self.records: dict[str, StreamRecord] = {}
        self.hub = EventHub()
        self.describe = describe or (lambda stream_id: {})
        self.store_errors = 0
        self.closing = False  # set when the server drains: live event feeds end

    # ---- hooks ---------------------------------------------------------------------------
    def stream_opened(self, stream_id: str) -> None:
        self.records[stream_id] = StreamRecord(stream_id)
        self.hub.publish({"type": "streams", "streams": self.streams()})

    def stream_closed(self, stream_id: str) -> None:
        self.records.pop(stream_id, None)
        self.hub.publish({"type": "streams", "streams": self.streams()})

    def observe(self, stream_id: str, t: np.ndarray, windows, starts, results) -> None:
        record = self.records.get(stream_id)
        if record is not None:
            record.observe(t, windows, starts, results)

    def on_alert(self, stream_id: str, msg: dict[str, Any]) -> None:
        """Give the alert message its ``id``, store the alert (start) or its final state
        (end) and tell the consoles. A store that cannot be written is logged and
        counted; the stream goes on and the alert still reaches the consoles."""
        record = self.records.get(stream_id)
        if record is None or msg.get("type") != "alert":
            return
        persons = tuple(sorted(int(p) for p in msg.get("persons", ())))  # as WindowResult.persons: a < b
        ident = alert_id(stream_id, (record.t0 or 0.0) + float(msg["start"]), persons)
        msg["id"] = ident
        start_s, end_s = float(msg["start"]), float(msg["end"])
        motion = record.motion(persons, start_s, end_s)
        timeline = record.timeline(persons, start_s, end_s)
        if msg.get("event") == "start":
            raised = time.time()
            record.open[persons] = (ident, raised)
            record.alerts += 1
            summary = {"id": ident, "stream": stream_id, "start_s": start_s, "end_s": end_s, "raised": raised,
                       "persons": list(persons), "class": msg.get("class", ""), "score": float(msg.get("score", 0)),
                       "windows": 1, "open": True, "threshold": self.threshold, "detector": self.version,
                       "timeline": timeline}
            self._store(lambda: self.store.add_alert(summary, motion))
        else:
            _, raised = record.open.pop(persons, (ident, time.time()))
            summary = {"id": ident, "stream": stream_id, "start_s": start_s, "end_s": end_s, "raised": raised,
                       "persons": list(persons), "class": msg.get("class", ""), "score": float(msg.get("score", 0)),
                       "windows": int(msg.get("windows", 1)), "open": False, "threshold": self.threshold,
                       "detector": self.version}
            self._store(lambda: self.store.close_alert(ident, end_s, summary["score"], summary["class"],
                                                       summary["windows"], motion, timeline))
        self.hub.publish({"type": "alert", "event": msg.get("event"),
                          **{k: v for k, v in summary.items() if k != "timeline"}})

    def feedback_given(self, summary: dict[str, Any]) -> None:
        self.hub.publish({"type": "feedback", **summary})

    def _store(self, write: Callable[[], Any]) -> None:
        try:
            write()
        except FeedbackError as exc:
            self.store_errors += 1
            log.error("alert not stored: %s", exc)

    # ---- views ---------------------------------------------------------------------------
    def streams(self) -> list[dict[str, Any]]:
        out = []
        for sid, r in sorted(self.records.items()):
            out.append({"id": sid, "opened": r.opened, "alerts": r.alerts, "alert_open": bool(r.open),
                        "violence": round(r.last_violence, 6), **self.describe(sid)})
        return out
