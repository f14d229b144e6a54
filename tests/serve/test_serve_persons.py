"""``serve`` with several persons per frame: a stream equals offline detection (persons
and pairs, through the micro-batcher and the batched fast path), alerts name persons,
and malformed person entries are refused without changing anything. The pair model is
the fake of tests/scenes.py; the detector a tiny random one (code paths, not accuracy)."""

from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("starlette", reason="the serve extra (starlette, uvicorn, httpx, websockets) is not installed")
pytest.importorskip("httpx", reason="starlette's TestClient needs httpx (dev extra)")
from scenes import offline_results, three_persons, tiny_detector, with_pairs, with_threshold  # noqa: E402
from starlette.testclient import TestClient  # noqa: E402

from motionvigil.detect import detect_motion  # noqa: E402
from motionvigil.detect.scene import scene_of  # noqa: E402
from motionvigil.io import Motion  # noqa: E402
from motionvigil.serve import ServeConfig, create_app  # noqa: E402
from motionvigil.serve.fastpath import BatchScorer  # noqa: E402


@pytest.fixture(scope="module")
def detector():
    return with_pairs(tiny_detector(), bonus=0.02)


@pytest.fixture(scope="module")
def motion() -> Motion:
    bodies, layout, ids, present = three_persons(20.0)
    return Motion.from_bodies(bodies, 20.0, layout, person_ids=ids, present=present)


def persons_msgs(motion: Motion, chunk: int = 7) -> list[str]:
    """Frames messages: each frame lists the persons seen in it (absent ones are left out);
    ``chunk`` 1: the one-frame form ``{"t", "persons"}``."""
    out = []
    for first in range(0, motion.num_frames, chunk):
        frames = [{"t": i / 20, "persons": [{"id": pid, "joints": motion.bodies[p, i].tolist()}
                                            for p, pid in enumerate(motion.person_ids) if motion.presence[p, i]]}
                  for i in range(first, min(first + chunk, motion.num_frames))]
        out.append(json.dumps(frames[0] if chunk == 1 else {"type": "frames", "frames": frames}))
    return out


def run_stream(detector, msgs: list[str], **config) -> list[dict]:
    out = []
    with TestClient(create_app(detector, ServeConfig(**config))) as c, c.websocket_connect("/v1/streams/two") as ws:
        ws.send_text(json.dumps({"type": "start", "layout": "smpl22", "fps": 20, "windows": True}))
        assert ws.receive_json()["type"] == "ready"
        for m in msgs:
            ws.send_text(m)
        ws.send_text(json.dumps({"type": "end"}))
        while not out or out[-1]["type"] not in ("closed", "bye"):
            out.append(ws.receive_json())
    return out


@pytest.mark.parametrize("max_batch,empty_s", [(64, 0.0), (1, 0.0), (64, 2.0)])
def test_persons_stream_equals_offline(detector, motion, max_batch, empty_s):
    """``empty_s``: frames with ``"persons": []`` (nobody in view) for the first seconds, sent
    one frame per message."""
    if empty_s:
        present = motion.presence.copy()
        present[:, : int(empty_s * 20)] = False
        motion = Motion.from_bodies(motion.bodies, 20.0, motion.layout, person_ids=motion.person_ids, present=present)
    offline = sorted(offline_results(detect_motion(detector, motion)), key=lambda r: (r.persons, r.start_s))
    msgs = run_stream(detector, persons_msgs(motion, chunk=1 if empty_s else 7), max_batch=max_batch)
    got = sorted((m for m in msgs if m["type"] == "window"), key=lambda m: (m["persons"], m["start"]))
    assert [(tuple(m["persons"]), m["start"]) for m in got] == [(r.persons, round(r.start_s, 3)) for r in offline]
    assert any(len(m["persons"]) == 2 for m in got)  # the pairs came through the batcher
    for m, r in zip(got, offline):
        assert m["violence"] == pytest.approx(r.violence, abs=1e-5) and m["alert"] == r.alert
    assert msgs[-1] == {"type": "closed", "stream": "two", "frames": motion.num_frames, "windows": len(offline)}


def test_alerts_name_persons_and_all_close(detector, motion):
    always = with_pairs(with_threshold(detector, -2.0))
    msgs = run_stream(always, persons_msgs(motion))
    alerts = [m for m in msgs if m["type"] == "alert"]
    starts = [tuple(m["persons"]) for m in alerts if m["event"] == "start"]
    ends = [tuple(m["persons"]) for m in alerts if m["event"] == "end"]
    assert {(4,), (1,), (9,), (1, 4), (1, 9), (4, 9)} <= set(starts)
    assert sorted(starts) == sorted(ends)  # every alert that began ended, per person or pair
    offline = detect_motion(always, motion)
    segments = sorted((tuple(a.persons), round(a.start_s, 3), round(a.end_s, 3)) for a in offline.alerts)
    assert sorted((tuple(m["persons"]), m["start"], m["end"]) for m in alerts if m["event"] == "end") == segments


def test_bad_person_entries_are_refused_and_change_nothing(detector, motion):
    good = persons_msgs(motion)
    joints = motion.bodies[0, 0].tolist()
    bad = [
        {"type": "frames", "frames": [{"t": 0.0, "persons": [{"id": 1, "joints": joints}, {"id": 1, "joints": joints}]}]},
        {"type": "frames", "frames": [{"t": 0.0, "persons": [{"id": -1, "joints": joints}]}]},
        {"type": "frames", "frames": [{"t": 0.0, "persons": [{"id": True, "joints": joints}]}]},
        {"type": "frames", "frames": [{"t": 0.0, "persons": [{"id": 2, "joints": joints[:5]}]}]},
        {"type": "frames", "frames": [{"t": 0.0, "persons": [{"id": 2, "joints": [[1, 2], [3]]}]}]},
        {"type": "frames", "frames": [{"t": 0.0, "persons": ["oops"]}]},
        {"type": "frames", "frames": [{"t": 0.0, "persons": {"id": 2}}]},
        {"type": "frames", "frames": [{"t": 0.0, "persons": []}, {"t": 0.05, "joints": joints}]},
        {"type": "frames", "frames": [{"t": 0.0, "persons": [{"id": 2, "joints": [[float("nan")] * 3] * 22}]}]},
    ]
    msgs = run_stream(detector, [json.dumps(b) for b in bad] + good[:3] + [json.dumps({"type": "frames", "frames": [
        {"t": 99.0, "joints": joints}]})] + good[3:])
    errors = [m for m in msgs if m["type"] == "error"]
    assert [e["code"] for e in errors] == ["bad_frame"] * (len(bad) + 1)
    assert "appears twice" in errors[0]["message"] and "22 x 3" in errors[3]["message"]
    assert "one body" in errors[-1]["message"] or "persons" in errors[-1]["message"]
    clean = run_stream(detector, good)
    assert [m for m in msgs if m["type"] == "window"] == [m for m in clean if m["type"] == "window"]
    assert msgs[-1]["frames"] == motion.num_frames


def test_batch_scorer_mixes_windows_and_scenes(detector, motion):
    """One micro-batch of one-person windows and multi-person scenes gives score_windows'
    and score_scene's results."""
    w = detector.window
    windows = [motion.bodies[0, :w], motion.bodies[1, 10 : 10 + w]]
    scenes = [scene_of(motion.person_ids, motion.bodies[:, s : s + w], motion.presence[:, s : s + w]) for s in (0, 60)]
    items = [windows[0], scenes[0], windows[1], scenes[1]]
    starts = [0, 0, 10, 60]
    got = BatchScorer(detector).score_windows(items, starts)
    want = [detector.score_windows([windows[0]], [0])[0], detector.score_scene([0], [scenes[0]]),
            detector.score_windows([windows[1]], [10])[0], detector.score_scene([60], [scenes[1]])]
    assert [type(g) for g in got] == [type(x) for x in want]
    flat = [r for g in got for r in (g if isinstance(g, list) else [g])]
    ref = [r for x in want for r in (x if isinstance(x, list) else [x])]
    assert [(r.persons, r.start_s) for r in flat] == [(r.persons, r.start_s) for r in ref]
    assert any(len(r.persons) == 2 for r in flat)
    np.testing.assert_allclose([r.violence for r in flat], [r.violence for r in ref], atol=1e-5, rtol=0)


def test_batch_endpoint_reads_several_persons(detector, motion, tmp_path):
    from motionvigil.detect import timeline_json
    from motionvigil.io.arrays import save_npz

    save_npz(tmp_path / "three.npz", motion)
    with TestClient(create_app(detector, ServeConfig())) as c:
        reply = c.post("/v1/detect?filename=three.npz", content=(tmp_path / "three.npz").read_bytes())
    assert reply.status_code == 200
    doc = reply.json()
    assert [t["id"] for t in doc["tracks"]] == [4, 1, 9] and doc["pairs"]
    assert doc == json.loads(json.dumps(timeline_json(detect_motion(detector, motion), "three.npz")))
