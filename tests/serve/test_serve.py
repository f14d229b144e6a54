"""``motionvigil serve``: streams equal offline detection, alerts, micro-batching, isolation,
back-pressure, auth, the batch endpoint, metrics; real server processes for scale-out,
SIGTERM, logs and floods.

The detector is a randomly initialised tiny bundle (as in test_detect.py): the tests
compare code paths and behaviour, never accuracy, and assert nothing about timing.
"""

from __future__ import annotations

import json
import signal
from pathlib import Path

import numpy as np
import pytest
import torch

pytest.importorskip("starlette", reason="the serve extra (starlette, uvicorn, httpx, websockets) is not installed")
pytest.importorskip("httpx", reason="starlette's TestClient needs httpx (dev extra)")
from starlette.testclient import TestClient  # noqa: E402
from starlette.websockets import WebSocketDisconnect  # noqa: E402

from motionvigil.cli import main  # noqa: E402
from motionvigil.datasets.labelled import LabelledSet  # noqa: E402
from motionvigil.datasets.synthetic import generate_corpus, generate_sequence  # noqa: E402
from motionvigil.detect import Detector, detect_motion, timeline_json  # noqa: E402
from motionvigil.io import SMPL22, Motion  # noqa: E402
from motionvigil.io.arrays import save_npz  # noqa: E402
from motionvigil.models import MotionTextModel, preset  # noqa: E402
from motionvigil.models.bundle import MotionTextBundle  # noqa: E402
from motionvigil.models.inputs import MotionInputs  # noqa: E402
from motionvigil.serve import ServeConfig, create_app  # noqa: E402
from motionvigil.serve.app import key_ok  # noqa: E402
from motionvigil.serve.server import is_loopback  # noqa: E402
from serve_process import Server  # noqa: E402

CLASSES = ("kick", "punch", "walk", "wave", "clap")
KEY = "s3cret-test-key-0123456789"


@pytest.fixture(scope="module")
def detector() -> Detector:
    corpus = generate_corpus(3, seed=0, num_sequences=0, classes=CLASSES)
    torch.manual_seed(0)
    bundle = MotionTextBundle(MotionTextModel(preset("tiny")), MotionInputs.fit("tmr", corpus.clips, 64))
    return Detector.build(bundle, LabelledSet.build(corpus.clips, CLASSES))


@pytest.fixture(scope="module")
def always(detector) -> Detector:
    """The same detector with a threshold every window reaches: every window alerts."""
    d = detector
    return Detector(d.bundle, d.prototypes, d.classes, d.violent, -2.0, "fixed", d.window, d.stride)


@pytest.fixture(scope="module")
def joints() -> np.ndarray:
    return generate_sequence(np.random.default_rng(1), actions=["walk", "punch", "kick"]).joints


@pytest.fixture(scope="module")
def offline(detector, joints) -> dict:
    return timeline_json(detect_motion(detector, Motion(joints, 20.0, SMPL22)))


def frames_msg(joints: np.ndarray, first: int) -> str:
    return json.dumps({"type": "frames", "frames": [{"t": (first + i) / 20, "joints": j.tolist()}
                                                    for i, j in enumerate(joints)]})


def binary_msg(joints: np.ndarray, first: int) -> bytes:
    t = (np.arange(first, first + len(joints)) / 20)[:, None]
    return np.concatenate([t, joints.reshape(len(joints), -1)], axis=1).astype("<f4").tobytes()


def start(ws, windows: bool = True, layout: str = "smpl22", fps: float = 20) -> dict:
    ws.send_text(json.dumps({"type": "start", "layout": layout, "fps": fps, "windows": windows}))
    ready = ws.receive_json()
    assert ready["type"] == "ready", ready
    return ready


def finish(ws) -> list[dict]:
    """Send ``end``; every message up to and including ``closed``."""
    ws.send_text(json.dumps({"type": "end"}))
    out = []
    while True:
        msg = ws.receive_json()
        out.append(msg)
        if msg["type"] in ("closed", "bye"):
            return out


def receive_until_windows(ws, n: int) -> list[dict]:
    """Messages until ``n`` window results have arrived."""
    out = []
    while sum(m["type"] == "window" for m in out) < n:
        out.append(ws.receive_json())
    return out


def client(detector, **config) -> TestClient:
    return TestClient(create_app(detector, ServeConfig(**config)))


def windows_of(msgs: list[dict]) -> list[dict]:
    return [m for m in msgs if m["type"] == "window"]


# ---------------------------------------------------------------- streaming


@pytest.mark.parametrize("form", ["json", "binary"])
def test_stream_equals_offline_detection(detector, joints, offline, form):
    msgs = []
    with client(detector) as c, c.websocket_connect("/v1/streams/cam-1") as ws:
        ready = start(ws)
        assert (ready["window"], ready["stride"]) == (detector.window, detector.stride)
        for first in range(0, len(joints), 7):  # uneven chunks
            chunk = joints[first : first + 7]
            if form == "json":
                ws.send_text(frames_msg(chunk, first))
            else:
                ws.send_bytes(binary_msg(chunk, first))
        msgs = finish(ws)
    got = windows_of(msgs)
    want = offline["timeline"]
    assert len(got) == len(want) > 3
    for g, w in zip(got, want):
        assert (g["start"], g["end"]) == (w["start"], w["end"])
        tol = 1e-5 if form == "json" else 1e-3  # binary frames are float32 on the wire
        assert g["violence"] == pytest.approx(w["violence"], abs=tol)
    assert msgs[-1] == {"type": "closed", "stream": "cam-1", "frames": len(joints), "windows": len(want)}


def test_alerts_start_and_end(always, joints):
    with client(always) as c, c.websocket_connect("/v1/streams/a") as ws:
        start(ws, windows=False)
        ws.send_text(frames_msg(joints[:100], 0))
        first = ws.receive_json()
        msgs = finish(ws)
    assert first["type"] == "alert" and first["event"] == "start"
    assert first["start"] == 0.0 and first["end"] == pytest.approx(always.window / 20)
    assert first["class"] in always.violent_classes and isinstance(first["score"], float)
    alerts = [m for m in msgs if m["type"] == "alert"]
    assert len(alerts) == 1 and alerts[0]["event"] == "end" and alerts[0]["start"] == 0.0
    assert alerts[0]["windows"] == msgs[-1]["windows"] == (100 - always.window) // always.stride + 1


def test_windows_of_different_streams_share_encoder_calls(detector, joints):
    app = create_app(detector, ServeConfig(max_batch=3, max_wait_ms=60_000))  # fires when 3 windows wait
    with TestClient(app) as c:
        conns = [c.websocket_connect(f"/v1/streams/s{i}") for i in range(3)]
        socks = [conn.__enter__() for conn in conns]
        for ws in socks:
            start(ws)
        for ws in socks:
            ws.send_text(frames_msg(joints[: detector.window], 0))  # completes one window each
        got = [windows_of(receive_until_windows(ws, 1)) for ws in socks]
        metrics = app.state.serve.metrics
        assert metrics.batches_total == 1 and metrics.windows_total == 3
        assert got[0] == got[1] == got[2]  # the same frames give the same result in one batch
        for conn in conns:
            conn.__exit__(None, None, None)


def test_batched_features_and_scores_equal_the_detectors(detector, joints):
    from motionvigil.detect.windows import window_clip
    from motionvigil.serve.fastpath import BatchScorer, features_batch

    windows = [joints[s : s + 64] for s in range(0, len(joints) - 64, 9)]
    want = np.stack([window_clip(w).get_features() for w in windows])
    np.testing.assert_allclose(features_batch(np.stack(windows)), want, atol=1e-4, rtol=0)
    windows.append(joints[:40])  # another length: its own group
    starts = list(range(len(windows)))
    for got, ref in zip(BatchScorer(detector).score_windows(windows, starts), detector.score_windows(windows, starts)):
        assert (got.start_s, got.end_s, got.violent_class, got.alert) == (ref.start_s, ref.end_s, ref.violent_class,
                                                                           ref.alert)
        assert got.violence == pytest.approx(ref.violence, abs=1e-5)
        assert list(got.scores.values()) == pytest.approx(list(ref.scores.values()), abs=1e-5)


def test_batched_scores_of_a_detector_with_a_violence_head(detector, joints):
    """The served path scores violence by the head when the detector has one (the default)."""
    from motionvigil.datasets.synthetic import generate_corpus
    from motionvigil.serve.fastpath import BatchScorer

    clips = generate_corpus(3, seed=4, num_sequences=0, classes=("kick", "punch", "walk", "stand")).clips
    det = detector.with_head(clips, [c.violent for c in clips], procedural=0, augment=False)
    windows = [joints[s : s + 64] for s in range(0, len(joints) - 64, 13)]
    starts = list(range(len(windows)))
    got = [r.violence for r in BatchScorer(det).score_windows(windows, starts)]
    want = [r.violence for r in det.score_windows(windows, starts)]
    assert got == pytest.approx(want, abs=1e-9) and want != [r.violence for r in detector.score_windows(windows, starts)]


# ---------------------------------------------------------------- hostile clients


def test_malformed_messages_get_errors_and_other_streams_go_on(detector, joints, offline):
    bad = [
        ("bad_frame", json.dumps({"type": "frames", "frames": [{"t": 10.0, "joints": [[0.0, float("nan"), 0.0]] * 22}]})),
        ("bad_frame", json.dumps({"type": "frames", "frames": [{"t": 10.0, "joints": [[0.0, 0.0, 0.0]] * 21}]})),
        ("bad_frame", json.dumps({"type": "frames", "frames": [{"t": 10.0}]})),
        ("bad_timestamp", frames_msg(joints[:2], 0)),  # at or before the last accepted frame
        ("bad_timestamp", json.dumps({"type": "frames", "frames": [{"t": 11.0, "joints": joints[0].tolist()},
                                                                    {"t": 10.5, "joints": joints[1].tolist()}]})),
        ("bad_json", "{not json"),
        ("bad_message", json.dumps({"type": "teleport"})),
        ("protocol", json.dumps({"type": "start", "layout": "smpl22", "fps": 20})),
        ("bad_frame", b"\x00\x01\x02"),
        ("oversized", "x" * (64 * 1024 + 1)),
    ]
    with client(detector, max_message_bytes=64 * 1024) as c:
        with c.websocket_connect("/v1/streams/bad") as evil, c.websocket_connect("/v1/streams/good") as good:
            start(evil)
            start(good)
            evil.send_text(frames_msg(joints[:5], 0))
            good_msgs = []
            for k, (code, msg) in enumerate(bad):
                evil.send_bytes(msg) if isinstance(msg, bytes) else evil.send_text(msg)
                reply = evil.receive_json()
                assert reply["type"] == "error" and reply["code"] == code, (code, reply)
                # the good stream is fed between the bad messages and keeps getting its windows
                lo, hi = k * len(joints) // len(bad), (k + 1) * len(joints) // len(bad)
                good.send_text(frames_msg(joints[lo:hi], lo))
            good_msgs = finish(good)
            for first in range(5, 80, 25):  # the bad stream still works after its errors
                evil.send_text(frames_msg(joints[first : first + 25], first))
            evil_msgs = finish(evil)
        metrics = c.get("/metrics").text
    assert [w["violence"] for w in windows_of(good_msgs)] == pytest.approx(
        [w["violence"] for w in offline["timeline"]], abs=1e-5)
    assert evil_msgs[-1]["frames"] == 80 and len(windows_of(evil_msgs)) == (80 - detector.window) // 10 + 1
    assert 'motionvigil_serve_errors_total{code="bad_frame"} 4' in metrics


def test_saturated_server_refuses_new_streams_only(detector, joints):
    with client(detector, max_streams=2) as c:
        with c.websocket_connect("/v1/streams/a") as a, c.websocket_connect("/v1/streams/b") as b:
            start(a)
            start(b)
            with c.websocket_connect("/v1/streams/c") as extra:
                refusal = extra.receive_json()
                with pytest.raises(WebSocketDisconnect) as closed:
                    extra.receive_json()
            assert refusal["type"] == "error" and refusal["code"] == "saturated"
            assert closed.value.code == 1013
            assert c.get("/healthz").json()["accepting"] is False
            for ws in (a, b):  # the accepted streams lose nothing
                ws.send_text(frames_msg(joints[:70], 0))
                assert len(windows_of(finish(ws))) == 1
        assert 'motionvigil_serve_refused_total{reason="saturated"} 1' in c.get("/metrics").text


def test_idle_stream_is_closed(detector):
    with client(detector, idle_timeout_s=0.2) as c, c.websocket_connect("/v1/streams/quiet") as ws:
        start(ws)
        assert ws.receive_json()["code"] == "idle"  # after 0.2 s without a message
        assert ws.receive_json()["type"] == "closed"


def test_duplicate_and_invalid_stream_ids_are_refused(detector):
    with client(detector) as c, c.websocket_connect("/v1/streams/x") as first:
        start(first)
        for path, code in (("/v1/streams/x", "duplicate_stream"), ("/v1/streams/" + "y" * 200, "bad_stream_id")):
            with c.websocket_connect(path) as dup:
                assert dup.receive_json()["code"] == code


def test_api_key(detector, joints):
    with client(detector, api_keys=(KEY, "other-key")) as c:
        assert c.get("/healthz").status_code == 200  # load balancers probe without a key
        assert c.get("/metrics").status_code == 401
        assert c.get("/metrics", headers={"X-API-Key": KEY}).status_code == 200
        assert c.post("/v1/detect?filename=a.npz", content=b"x").status_code == 401
        for headers in ({}, {"X-API-Key": "wrong"}, {"X-API-Key": KEY[:-1]}):
            with c.websocket_connect("/v1/streams/a", headers=headers) as ws:
                msg = ws.receive_json()
                with pytest.raises(WebSocketDisconnect) as closed:
                    ws.receive_json()
            assert msg["code"] == "unauthorized" and KEY not in json.dumps(msg) and closed.value.code == 1008
        for headers in ({"X-API-Key": "other-key"}, {"Authorization": f"Bearer {KEY}"}):
            with c.websocket_connect("/v1/streams/a", headers=headers) as ws:
                start(ws)
                ws.send_text(frames_msg(joints[:64], 0))
                assert len(windows_of(finish(ws))) == 1


def test_key_comparison_and_loopback_rule():
    assert key_ok("a", ("b", "a")) and not key_ok("", ("a",)) and not key_ok(None, ("a",)) and key_ok(None, ())
    assert all(is_loopback(h) for h in ("127.0.0.1", "127.3.2.1", "::1", "[::1]", "localhost"))
    assert not any(is_loopback(h) for h in ("0.0.0.0", "10.0.0.1", "::", "example.org"))


def test_cli_refuses_public_address_without_key(capsys):
    assert main(["serve", "--host", "0.0.0.0", "--port", "0"]) == 2
    assert "--api-key-file" in capsys.readouterr().err


# ---------------------------------------------------------------- batch, health, metrics


def test_batch_endpoint_returns_detect_json(detector, joints, offline, tmp_path):
    path = tmp_path / "walk.npz"
    save_npz(path, Motion(joints, 20.0, SMPL22))
    with client(detector) as c:
        r = c.post("/v1/detect?filename=walk.npz", content=path.read_bytes())
        assert r.status_code == 200
        assert r.json() == dict(offline, file="walk.npz")
        bad = c.post("/v1/detect?filename=broken.npz", content=b"not a zip")
        assert bad.status_code == 422 and "broken.npz" in bad.json()["error"] and str(tmp_path) not in bad.text
        assert c.post("/v1/detect", content=b"x").status_code == 400
    with client(detector, max_upload_bytes=1000) as c:
        assert c.post("/v1/detect?filename=walk.npz", content=path.read_bytes()).status_code == 413


def test_metrics_are_prometheus_text(detector, joints):
    with client(detector) as c:
        with c.websocket_connect("/v1/streams/m") as ws:
            start(ws)
            ws.send_text(frames_msg(joints[:84], 0))
            finish(ws)
        r = c.get("/metrics")
    assert r.headers["content-type"].startswith("text/plain")
    values = {}
    for line in r.text.splitlines():
        if line.startswith("#"):
            assert line.split()[1] in ("HELP", "TYPE")
            continue
        name, value = line.rsplit(" ", 1)
        values[name] = float(value)
    assert values["motionvigil_serve_windows_total"] == 3 and values["motionvigil_serve_frames_total"] == 84
    assert values["motionvigil_serve_streams"] == 0 and values["motionvigil_serve_streams_total"] == 1
    assert values['motionvigil_serve_window_latency_seconds_bucket{le="+Inf"}'] == 3
    assert values['motionvigil_serve_batch_size_bucket{le="+Inf"}'] == values["motionvigil_serve_batches_total"]


# ---------------------------------------------------------------- real server processes


@pytest.fixture
def det_dir(detector, tmp_path) -> Path:
    detector.save(tmp_path / "det")
    return tmp_path / "det"


def _connect(url: str, **kw):
    from websockets.sync.client import connect

    return connect(url, open_timeout=30, close_timeout=10, max_size=None, **kw)


def _stream(url: str, joints: np.ndarray, headers: dict | None = None) -> list[dict]:
    with _connect(url, additional_headers=headers or {}) as ws:
        ws.send(json.dumps({"type": "start", "layout": "smpl22", "fps": 20, "windows": True}))
        assert json.loads(ws.recv(timeout=30))["type"] == "ready"
        for first in range(0, len(joints), 10):
            ws.send(binary_msg(joints[first : first + 10], first))
        ws.send(json.dumps({"type": "end"}))
        out = []
        while not out or out[-1]["type"] != "closed":
            out.append(json.loads(ws.recv(timeout=60)))
        return out


pytest.importorskip("websockets", reason="the real-server tests need the websockets client (dev extra)")


@pytest.mark.slow
def test_two_server_processes_each_serve_their_streams(det_dir, joints, offline):
    servers = [Server(det_dir), Server(det_dir)]
    try:
        assert servers[0].port != servers[1].port
        for i, s in enumerate(servers):  # what a stream-sticky load balancer does: each stream to one process
            got = windows_of(_stream(f"{s.url}/v1/streams/cam-{i}", joints))
            assert [w["violence"] for w in got] == pytest.approx([w["violence"] for w in offline["timeline"]],
                                                                 abs=1e-3)
    finally:
        results = [s.stop() for s in servers]
    assert all(rc == 0 for rc, _ in results), results


@pytest.mark.slow
def test_sigterm_sends_final_message_and_key_never_logged(det_dir, joints, tmp_path):
    keyfile = tmp_path / "keys"
    keyfile.write_text(f"# serve keys\n{KEY}\n")
    s = Server(det_dir, "--api-key-file", str(keyfile), "--log-level", "debug", "--access-log")
    try:
        with _connect(f"{s.url}/v1/streams/wrong", additional_headers={"X-API-Key": "nope"}) as ws:
            assert json.loads(ws.recv(timeout=30))["code"] == "unauthorized"
        ws = _connect(f"{s.url}/v1/streams/live", additional_headers={"X-API-Key": KEY})
        ws.send(json.dumps({"type": "start", "layout": "smpl22", "fps": 20, "windows": True}))
        assert json.loads(ws.recv(timeout=30))["type"] == "ready"
        ws.send(binary_msg(joints[:64], 0))
        assert json.loads(ws.recv(timeout=60))["type"] == "window"
        s.proc.send_signal(signal.SIGTERM)
        last = json.loads(ws.recv(timeout=30))
        from websockets.exceptions import ConnectionClosed

        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=30)
        assert last == {"type": "bye", "stream": "live", "frames": 64, "windows": 1}
        assert closed.value.rcvd.code == 1001
    finally:
        rc, out = s.stop()
    assert rc == 0, out
    assert "GET /v1/streams" in out or "/v1/streams" in out  # the access log is on ...
    assert KEY not in out  # ... and never shows the key


@pytest.mark.slow
def test_flood_oversized_frame_and_streams_keep_alerts(det_dir, joints):
    s = Server(det_dir, "--max-streams", "4", "--max-message-kb", "16")
    try:
        keep = _connect(f"{s.url}/v1/streams/keep")
        keep.send(json.dumps({"type": "start", "layout": "smpl22", "fps": 20, "windows": True}))
        assert json.loads(keep.recv(timeout=30))["type"] == "ready"
        flood, refused = [], 0
        for i in range(12):  # a flood of connections: 3 more get in, the rest are refused cleanly
            ws = _connect(f"{s.url}/v1/streams/flood-{i}")
            flood.append(ws)
        from websockets.exceptions import ConnectionClosed

        accepted = []
        for ws in flood:
            try:
                ws.send(json.dumps({"type": "start", "layout": "smpl22", "fps": 20}))
            except ConnectionClosed:  # refused: the error message is waiting to be read
                pass
            msg = json.loads(ws.recv(timeout=30))
            refused += msg.get("code") == "saturated"
            if msg["type"] == "ready":
                accepted.append(ws)
        assert refused == 12 - 3 and len(accepted) == 3
        big = accepted[0]
        big.send(b"\x00" * (4 * 16 * 1024 + 4))  # past the protocol limit: that connection is closed (1009)
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                big.recv(timeout=30)
        assert closed.value.rcvd is None or closed.value.rcvd.code == 1009
        for first in range(0, 84, 21):  # the accepted stream still gets every window
            keep.send(binary_msg(joints[first : first + 21], first))
        got = [json.loads(keep.recv(timeout=60)) for _ in range(3)]
        assert [m["type"] for m in got] == ["window"] * 3
        for ws in accepted[1:] + [keep]:
            ws.send(json.dumps({"type": "end"}))
            while json.loads(ws.recv(timeout=30))["type"] != "closed":
                pass
        for ws in flood + [keep]:
            ws.close()
    finally:
        rc, out = s.stop()
    assert rc == 0, out
