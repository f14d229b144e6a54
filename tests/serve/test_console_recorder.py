"""The console's recorder without a server: an alert about a pair stores both bodies of
the alert window (and only theirs), its violence timeline and a stable id; a one-person
stream stores its one body under the empty persons key (docs/persons.md)."""

from __future__ import annotations

import numpy as np

from motionvigil.detect.windows import WindowResult
from motionvigil.serve.alert_ids import alert_id
from motionvigil.serve.feedback import FeedbackStore
from motionvigil.serve.recorder import Console


class _Det:
    threshold = 0.5
    prototypes = np.zeros((2, 4), np.float32)

    def settings(self):
        return {"threshold": self.threshold}


def _result(start: int, persons: tuple[int, ...], violence: float) -> WindowResult:
    return WindowResult(start / 20, (start + 64) / 20, {"punch": violence}, violence, violence >= 0.5, "punch",
                        persons=persons)


def _bodies(ids, start: int, n: int = 64) -> dict[int, np.ndarray]:
    """Body ``pid``'s joints at frame ``k`` are all ``pid * 1000 + k`` (easy to check)."""
    return {pid: np.full((n, 22, 3), 0.0, np.float32) + (pid * 1000 + np.arange(start, start + n))[:, None, None]
            for pid in ids}


def test_pair_alert_stores_both_bodies_and_its_timeline():
    console = Console(_Det(), FeedbackStore())
    console.stream_opened("yard")
    starts = [0, 10, 20]
    windows = [_bodies((1, 2, 7), s) for s in starts]
    results = [r for s in starts for r in (_result(s, (1, 2), 0.2 + s / 40), _result(s, (7,), 0.1))]
    console.observe("yard", np.array([100.0]), windows, starts, results)
    msg = {"type": "alert", "event": "start", "start": 0.5, "end": 4.2, "class": "punch", "score": 0.7,
           "persons": [2, 1]}
    console.on_alert("yard", msg)
    assert msg["id"] == alert_id("yard", 100.5, (1, 2))
    stored = console.store.alert(msg["id"])
    assert stored["persons"] == [1, 2] and stored["open"] is True  # ordered as WindowResult.persons
    bodies = stored["motion"]["persons"]
    assert [b["id"] for b in bodies] == [1, 2]  # the pair only, not person 7
    frames = np.asarray(bodies[0]["joints"])  # person 1, frames 10 .. 83
    assert frames.shape == (74, 22, 3) and frames[0, 0, 0] == 1010 and frames[-1, 0, 0] == 1083
    assert [t[2] for t in stored["timeline"]] == [0.2, 0.45, 0.7]  # the pair's scores, not person 7's
    end = {**msg, "event": "end", "windows": 3}
    end.pop("id")
    console.on_alert("yard", end)
    assert end["id"] == msg["id"] and console.store.alert(msg["id"])["open"] is False


def test_one_person_stream_and_ring_buffer():
    console = Console(_Det(), FeedbackStore())
    console.stream_opened("cam")
    starts = list(range(0, 2000, 10))  # 100 s of windows: only the last 60 s stay buffered
    windows = [np.zeros((64, 22, 3), np.float32) + np.arange(s, s + 64)[:, None, None] for s in starts]
    console.observe("cam", np.array([0.0]), windows, starts, [_result(s, (), 0.9) for s in starts])
    record = console.records["cam"]
    assert min(record.frames[0]) == 2054 - 1200 and max(record.frames[0]) == 2053
    msg = {"type": "alert", "event": "start", "start": 99.0, "end": 102.2, "class": "punch", "score": 0.9}
    console.on_alert("cam", msg)
    body = console.store.alert(msg["id"])["motion"]["persons"]
    assert [b["id"] for b in body] == [0] and np.asarray(body[0]["joints"])[0, 0, 0] == 1980
    console.stream_closed("cam")
    assert console.streams() == []


def test_in_memory_store_keeps_only_the_newest_alerts(monkeypatch):
    import motionvigil.serve.feedback as fb

    monkeypatch.setattr(fb, "MEMORY_KEEP", 3)
    store = FeedbackStore()
    for i in range(5):
        store.add_alert({"id": f"{i:020x}", "stream": "s", "start_s": 0.0, "end_s": 1.0, "raised": float(i),
                         "persons": [], "class": "punch", "score": 1.0, "windows": 1, "open": False,
                         "threshold": 0.5, "detector": "d", "timeline": []}, None)
        if i == 1:
            store.give_feedback(f"{i:020x}", "confirm")
    assert [a["id"] for a in store.alerts()] == [f"{i:020x}" for i in (4, 3, 2)]
