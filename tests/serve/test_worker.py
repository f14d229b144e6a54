"""``motionvigil worker`` on a real Redis: the worker's alerts equal serve's session on the
same frames; checkpoints restore exactly; a malformed frame, a flooding camera, a quiet
camera, a slow (fenced) worker, a Redis restart and a full pool are each handled without
losing or duplicating anything. The kill -9 test runs two real worker processes.

Each test module starts its own ``redis-server`` on a free port in a temporary folder and
skips only when no ``redis-server`` binary exists.
"""

from __future__ import annotations

import json
import threading
import time

import numpy as np
import pytest

redis = pytest.importorskip("redis", reason="the worker extra (redis-py) is not installed")
from motionvigil.datasets.synthetic import generate_sequence  # noqa: E402
from motionvigil.detect.builtin import load_builtin_detector  # noqa: E402
from motionvigil.serve import checkpoint  # noqa: E402
from motionvigil.serve.broker import (  # noqa: E402
    Backlogged, FramePublisher, Keys, PoolFull, connect, frame_fields, wait_for)
from motionvigil.serve.redis_server import RedisServer, redis_server_binary  # noqa: E402
from motionvigil.serve.session import StreamSession  # noqa: E402
from motionvigil.serve.worker import Worker, WorkerConfig  # noqa: E402

pytestmark = pytest.mark.skipif(redis_server_binary() is None,
                                reason="no redis-server binary (apt-get install redis-server; .ci/run does)")
KEYS = Keys()
ALERT_KEYS = ("event", "start", "end", "class", "score")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with RedisServer(tmp_path_factory.mktemp("redis")) as srv:
        yield srv


@pytest.fixture
def r(server):
    client = connect(server.url)
    client.flushall()
    yield client
    client.close()


@pytest.fixture(scope="module")
def detector():
    return load_builtin_detector()


def motion(seed: int) -> np.ndarray:
    return generate_sequence(np.random.default_rng(seed), actions=["walk", "punch", "kick", "wave"]).joints


def reference(det, joints: np.ndarray, decimals: int | None = 6) -> list[dict]:
    """serve's session on the same frames (as published: JSON with 6 decimals, or binary
    float32 with ``decimals=None``), one at a time, scored by the full detector."""
    joints = np.asarray(joints, np.float64)
    joints = joints.round(decimals) if decimals is not None else joints
    session = StreamSession("ref", det.window, det.stride, det.threshold)
    session.start({"layout": "smpl22", "fps": 20})
    events = []
    for k, j in enumerate(joints):
        windows, starts = session.push(np.array([k / 20]), j[None].astype(np.float64))
        events += session.events(det.score_windows(windows, starts))
    end = session.close_alert()
    return [{k: e[k] for k in ALERT_KEYS} for e in events + ([end] if end else [])]


def publish(pub: FramePublisher, camera: str, joints: np.ndarray, first: int = 0, end: bool = True) -> None:
    pub.open(camera)
    pub.publish(camera, [frame_fields((first + k) / 20, j, layout="smpl22" if first + k == 0 else None,
                                      fps=20 if first + k == 0 else None) for k, j in enumerate(joints)])
    if end:
        pub.end(camera)


def alerts(r, camera: str | None = None) -> list[dict]:
    out = [json.loads(f[b"alert"]) for _, f in r.xrange(KEYS.alerts)]
    return [a for a in out if camera is None or a["camera"] == camera]


def trimmed(events: list[dict]) -> list[dict]:
    return [{k: e[k] for k in ALERT_KEYS} for e in events]


def worker(r, det, **config) -> Worker:
    config.setdefault("name", f"w{len(config)}-{time.monotonic_ns() % 10**6}")
    config.setdefault("max_cameras", 64)
    w = Worker(r, det, WorkerConfig(**config))
    w.heartbeat()
    return w


def drain(workers: list[Worker], r, frames: int, limit: int = 400) -> None:
    for _ in range(limit):  # bounded
        for w in workers:
            w.step()
        if int(r.hget(KEYS.stats, "frames") or 0) >= frames and not r.hlen(KEYS.cameras):
            return
    raise AssertionError(f"not drained: stats {r.hgetall(KEYS.stats)}")


def test_worker_alerts_equal_serves_session_and_nothing_is_left(r, detector):
    w = worker(r, detector)
    pub = FramePublisher(r)
    cams = {"cam-a": motion(0), "cam-b": motion(1)}
    for name, joints in cams.items():
        publish(pub, name, joints)
    drain([w], r, sum(map(len, cams.values())))
    for name, joints in cams.items():
        want = reference(detector, joints)
        assert want, "the sequence must raise alerts for the test to mean something"
        assert trimmed(alerts(r, name)) == want
    stats = {k.decode(): int(v) for k, v in r.hgetall(KEYS.stats).items()}
    assert stats["frames"] == sum(map(len, cams.values())) and stats["errors"] == 0
    assert stats["windows"] == sum((len(j) - 64) // 10 + 1 for j in cams.values())
    for name in cams:  # everything acknowledged and trimmed, the camera unregistered
        assert r.xpending(KEYS.frames(name), "motionvigil")["pending"] == 0
        assert r.xlen(KEYS.frames(name)) <= 1 and not r.exists(KEYS.state(name))
    ids = [a["id"] + a["event"] for a in alerts(r)]
    assert len(ids) == len(set(ids))


def test_session_checkpoint_restores_exactly(detector):
    joints = motion(2)
    whole = StreamSession("a", 64, 10, detector.threshold)
    whole.start({"layout": "smpl22", "fps": 30})
    t = np.arange(len(joints)) / 30
    w1, s1 = whole.push(t, joints.astype(np.float64))
    half = StreamSession("b", 64, 10, detector.threshold)
    half.start({"layout": "smpl22", "fps": 30})
    cut = 101
    wa, sa = half.push(t[:cut], joints[:cut].astype(np.float64))
    again = StreamSession("b", 64, 10, detector.threshold)
    again.restore(checkpoint.loads(checkpoint.dumps(half.state())))
    wb, sb = again.push(t[cut:], joints[cut:].astype(np.float64))
    assert sa + sb == s1 and len(wa) + len(wb) == len(w1)
    for x, y in zip(wa + wb, w1):
        np.testing.assert_array_equal(x, y)


def test_malformed_frames_go_to_the_errors_stream_and_change_nothing(r, detector):
    w = worker(r, detector)
    pub = FramePublisher(r)
    joints = motion(4)
    pub.open("cam")
    good = [frame_fields(k / 20, j, layout="smpl22" if k == 0 else None) for k, j in enumerate(joints)]
    nan = joints[5].copy()
    nan[3, 1] = np.nan
    bad = [{"frame": "{not json"}, {"frame": json.dumps({"t": 99.0, "joints": [[0, 0, 0]] * 5})},
           {"frame": json.dumps({"t": 99.0, "joints": nan.tolist()})}, {"nothing": "here"},
           {"frame": json.dumps({"t": 0.0, "joints": joints[0].tolist()})}]  # t not increasing
    pub.publish("cam", good[:50] + bad + good[50:])
    pub.end("cam")
    drain([w], r, len(joints))
    errors = [json.loads(f[b"error"]) for _, f in r.xrange(KEYS.errors)]
    assert [e["code"] for e in errors] == ["bad_json", "bad_frame", "bad_frame", "bad_frame", "bad_timestamp"]
    assert all(e["camera"] == "cam" and e["entry"] for e in errors)
    assert trimmed(alerts(r)) == reference(detector, joints)


def test_a_flooding_camera_is_refused_beyond_its_backlog_and_does_not_starve_others(r, detector):
    w = worker(r, detector, count=20)
    pub = FramePublisher(r, max_backlog=250)
    flood, calm = motion(5), motion(6)
    flood = np.concatenate([flood, flood[::-1]])[:250]
    publish(pub, "flood", flood, end=False)
    with pytest.raises(Backlogged, match="250 frames not yet processed"):
        pub.publish("flood", [frame_fields(99.0, flood[0])])
    publish(pub, "calm", calm[:100], end=False)
    for _ in range(5):  # bounded: the worker takes 20 entries per camera per cycle
        w.step()
    done = {c: json.loads(r.get(KEYS.state(c)))["session"]["frames"] for c in ("flood", "calm")}
    assert done["calm"] == done["flood"] >= 60  # equal shares, not the flooding camera first


def test_a_quiet_camera_gets_its_open_alert_closed(r, detector):
    w = worker(r, detector, idle_close_s=0.3)
    pub = FramePublisher(r)
    joints = motion(0)
    want = reference(detector, joints)
    first_end = next(e["end"] for e in want if e["event"] == "start")  # frames up to the first alert
    upto = int(round(first_end * 20)) + 1
    publish(pub, "quiet", joints[:upto], end=False)
    drain_steps = 0
    while int(r.hget(KEYS.stats, "frames") or 0) < upto and drain_steps < 50:
        w.step()
        drain_steps += 1
    assert [a["event"] for a in alerts(r)] == ["start"]
    assert wait_for(lambda: (w.step(), len(alerts(r)))[1] == 2, timeout=5)
    end = alerts(r)[-1]
    assert end["event"] == "end" and end["reason"] == "idle" and end["id"] == alerts(r)[0]["id"]


def test_a_slow_worker_is_fenced_off_and_its_camera_redone_once(r, detector):
    a = worker(r, detector, name="slow", lease_ms=300)
    pub = FramePublisher(r)
    joints = motion(1)
    publish(pub, "cam", joints)
    a.step()  # owns the camera, reads and commits a first batch
    a.balance(a.heartbeat())
    batch = a.read()  # then stalls with this batch in hand ...
    assert batch
    time.sleep(0.5)  # ... past its lease
    b = worker(r, detector, name="fast", lease_ms=300)
    drain([b], r, len(joints))  # takes over the pending entries and the checkpoint
    a.process(batch)  # the stalled worker wakes up: its commit is refused
    assert a.fenced == 1 and "cam" not in a.cameras
    assert trimmed(alerts(r)) == reference(detector, joints)
    assert int(r.hget(KEYS.stats, "frames")) == len(joints)


def test_a_stalled_worker_cannot_commit_after_the_camera_came_back_free(r, detector):
    """A stalls past its lease, B takes the camera, commits and gives it back; A wakes up,
    finds the lease free, but its work does not follow the last commit: refused."""
    a = worker(r, detector, name="stalled", lease_ms=300)
    pub = FramePublisher(r)
    joints = motion(1)
    publish(pub, "cam", joints)
    a.step()
    a.balance(a.heartbeat())
    batch = a.read()
    time.sleep(0.5)
    b = worker(r, detector, name="other", lease_ms=300)
    for _ in range(3):
        b.step()
    b.release_all()
    assert a.process(batch) and a.fenced == 1 and "cam" not in a.cameras
    drain([a], r, len(joints))  # A takes the camera again, from the checkpoint
    assert int(r.hget(KEYS.stats, "frames")) == len(joints)
    assert trimmed(alerts(r)) == reference(detector, joints)


def test_redis_restart_mid_run_loses_nothing(server, r, detector):
    w = worker(r, detector)
    pub = FramePublisher(r)
    joints = motion(2)
    stop = threading.Event()
    thread = threading.Thread(target=w.run, args=(stop,), daemon=True)
    thread.start()
    try:
        publish(pub, "cam", joints[:150], end=False)
        assert wait_for(lambda: int(r.hget(KEYS.stats, "frames") or 0) >= 60, timeout=30)
        server.restart(down_s=0.5)
        publish(pub, "cam", joints[150:], first=150)
        assert wait_for(lambda: not r.hlen(KEYS.cameras), timeout=60)
    finally:
        stop.set()
        thread.join(30)
    assert int(r.hget(KEYS.stats, "frames")) == len(joints)
    assert trimmed(alerts(r)) == reference(detector, joints)


def test_more_cameras_than_the_pool_carries_are_refused_up_front(r, detector):
    pub = FramePublisher(r)
    with pytest.raises(PoolFull, match="the live workers carry 0"):
        pub.open("c0")  # no live worker at all
    worker(r, detector, max_cameras=2)
    pub.open("c1")
    pub.open("c2")
    pub.open("c1")  # already registered: fine
    with pytest.raises(PoolFull, match="2 cameras registered, the live workers carry 2"):
        pub.open("c3")
    assert not r.hexists(KEYS.cameras, "c3")


def test_a_worker_measures_the_cameras_it_carries(r, detector):
    w = worker(r, detector, max_cameras=0)  # 0: measured from its own cost per frame and window
    assert w.cost is not None and w.config.max_cameras == w.cost.streams(0.8) >= 1
    assert w.scorer.cascade.counts.windows == 0  # the probe's windows are not counted as traffic
    assert int(r.hget(KEYS.capacity, w.name)) == w.config.max_cameras


def test_serve_relays_its_streams_to_the_same_workers(server, r, detector):
    """``serve --publish-redis``: a WebSocket stream becomes a camera the workers score."""
    pytest.importorskip("httpx", reason="starlette's TestClient needs httpx (dev extra)")
    from starlette.testclient import TestClient

    from motionvigil.serve import ServeConfig, create_app

    joints = motion(1)
    app = create_app(detector, ServeConfig(publish_redis=server.url))
    with TestClient(app) as c:
        with c.websocket_connect("/v1/streams/refused") as ws:  # no live worker yet: refused up front
            ws.send_json({"type": "start", "layout": "smpl22", "fps": 20})
            assert ws.receive_json()["code"] == "saturated"
        w = worker(r, detector)
        with c.websocket_connect("/v1/streams/door") as ws:
            ws.send_json({"type": "start", "layout": "smpl22", "fps": 20})
            assert ws.receive_json()["alerts"] == "redis"
            for first in range(0, len(joints), 50):
                part = joints[first : first + 50].astype(np.float32)
                t = (np.arange(first, first + len(part)) / 20)[:, None]
                ws.send_bytes(np.concatenate([t, part.reshape(len(part), -1)], axis=1).astype("<f4").tobytes())
            ws.send_json({"type": "end"})
            assert ws.receive_json()["type"] == "closed"
    drain([w], r, len(joints))
    assert trimmed(alerts(r, "door")) == reference(detector, joints.astype(np.float32), decimals=None)


class _Hook:
    """A local HTTP endpoint that answers 500 to the first ``fail`` POSTs, then 200."""

    def __init__(self, fail: int):
        import http.server

        hook = self
        self.fail, self.received = fail, []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                hook.received.append((self.headers["Idempotency-Key"], json.loads(body)))
                code = 500 if len(hook.received) <= hook.fail else 200
                self.send_response(code)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}/alerts"

    def close(self):
        self.server.shutdown()


def test_webhook_retries_then_delivers_and_sets_aside_what_keeps_failing(r):
    from motionvigil.serve.webhook import WebhookSender

    r.xadd(KEYS.alerts, {"id": "cam:10:start", "alert": json.dumps({"id": "cam:10", "event": "start"})})
    hook = _Hook(fail=2)
    try:
        sender = WebhookSender(r, hook.url, "w", retries=3, backoff_s=0.01)
        assert sender.step(block_ms=10) == 1
        assert [k for k, _ in hook.received] == ["cam:10:start"] * 3 and sender.sent == 1
        assert r.xpending(KEYS.alerts, "webhook")["pending"] == 0
        hook.fail = 10**6  # from now on every POST fails
        r.xadd(KEYS.alerts, {"id": "cam:30:start", "alert": json.dumps({"id": "cam:30", "event": "start"})})
        sender.step(block_ms=10)
        failed = r.xrange("mv:webhook_failed")
        assert len(failed) == 1 and failed[0][1][b"id"] == b"cam:30:start" and b"500" in failed[0][1][b"error"]
    finally:
        hook.close()


@pytest.fixture(scope="module")
def persons_detector():
    from scenes import tiny_detector, with_pairs, with_threshold
    return with_pairs(with_threshold(tiny_detector(), 0.955), bonus=0.02)  # alerts per person and pair


def test_a_camera_of_several_persons_is_taken_over_mid_alert(r, persons_detector):
    """Three persons (tests/scenes.py, 30 Hz Kinect): a worker gives the camera back with
    alerts open; the next one goes on from the checkpoint. The alerts equal serve's session
    on the same frames, each once, every start with its end."""
    from scenes import three_persons

    det = persons_detector
    bodies, layout, ids, present = three_persons(30.0)
    frames = [[{"id": pid, "joints": bodies[p, i].round(6)} for p, pid in enumerate(ids) if present[p, i]]
              for i in range(bodies.shape[1])]
    session = StreamSession("ref", det.window, det.stride, det.threshold)
    session.start({"layout": layout.name, "fps": 30})
    want = []
    for i, persons in enumerate(frames):
        _, (t, joints, pids) = session.parse_text(json.dumps({"t": i / 30, "persons": [
            {"id": p["id"], "joints": p["joints"].tolist()} for p in persons]}))
        windows, starts = session.push(t, joints, pids)
        want += session.events(det.score_scene(starts, windows)) if windows else []
    want += session.close_alerts()
    pub = FramePublisher(r)
    first = worker(r, det, name="first", count=30)
    pub.open("cam")
    pub.publish("cam", [frame_fields(i / 30, persons=p, layout=layout.name if i == 0 else None,
                                     fps=30 if i == 0 else None) for i, p in enumerate(frames)])
    pub.end("cam")
    for _ in range(60):  # bounded: 30 entries a step, until two alerts are open at once
        first.step()
        state = r.get(KEYS.state("cam"))
        if state is not None and len(json.loads(state)["session"]["runs"]) >= 2:
            break
    assert state is not None and len(json.loads(state)["session"]["runs"]) >= 2
    first.release_all()
    drain([worker(r, det, name="second")], r, len(frames))
    got = alerts(r)
    assert [(a["event"], a["start"], a["end"], a["class"], a["persons"]) for a in got] == \
        [(e["event"], e["start"], e["end"], e["class"], e["persons"]) for e in want]
    assert [a["score"] for a in got] == pytest.approx([e["score"] for e in want], abs=1e-5)
    by = {(a["id"], a["event"]): a["worker"] for a in got}
    assert any(by[(i, "start")] == "first" and by.get((i, "end")) == "second" for i, _ in by)  # open across
    assert len(by) == len(got) and sorted(i for i, e in by if e == "start") == sorted(i for i, e in by if e == "end")
