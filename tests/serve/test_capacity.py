"""Overload is refused up front: ``serve`` measures what it carries and refuses streams
beyond it (``saturated``, reason ``capacity``), never accepting them to time them out."""

from __future__ import annotations

import math

import pytest

pytest.importorskip("starlette", reason="the serve extra (starlette, uvicorn, httpx, websockets) is not installed")
pytest.importorskip("httpx", reason="starlette's TestClient needs httpx (dev extra)")
from starlette.testclient import TestClient  # noqa: E402
from starlette.websockets import WebSocketDisconnect  # noqa: E402

from motionvigil.detect.builtin import load_builtin_detector  # noqa: E402
from motionvigil.serve import ServeConfig, create_app  # noqa: E402
from motionvigil.serve.capacity import DEFAULT_UTILIZATION, StreamCost  # noqa: E402


@pytest.fixture(scope="module")
def detector():
    return load_builtin_detector()


def start(ws) -> dict:
    ws.send_json({"type": "start", "layout": "smpl22", "fps": 20})
    return ws.receive_json()


def test_cost_to_streams():
    cost = StreamCost(frame_s=0.001, window_s=0.01, batch=64, stride=10)
    assert cost.per_stream_s() == pytest.approx(20 * 0.001 + 2 * 0.01)
    assert cost.streams(0.8) == 20 and cost.streams(0.0) == 1
    assert cost.to_json()["streams"] == cost.streams(DEFAULT_UTILIZATION) == math.floor(DEFAULT_UTILIZATION / 0.04)


def test_the_transport_is_part_of_the_cost():
    cost = StreamCost(frame_s=0.0001, window_s=0.004, batch=64, stride=10)
    assert cost.streams(0.8) == 80  # 20 x 0.1 ms + 2 x 4 ms = 10 ms a second
    served = cost.with_transport(0.0004)  # a message through the server: 0.4 ms, the session's 0.1 included
    assert served.transport_s == pytest.approx(0.0003)
    assert served.per_stream_s() == pytest.approx(20 * 0.0004 + 2 * 0.004)
    assert served.streams(0.8) == 50
    assert cost.with_transport(0.00005).transport_s == 0.0  # never below the session's own work


def test_windows_cost_what_the_batches_the_load_forms_cost():
    at = ((1, 0.010), (2, 0.006), (4, 0.005), (8, 0.003))
    cost = StreamCost(frame_s=0.0, window_s=0.002, batch=16, stride=10, window_s_at=at, max_wait_s=0.005)
    # 2 windows a second per stream, those within 5 ms of the oldest join it: 1 + floor(n x 2 x 0.005)
    assert [cost.batch_at(n) for n in (1, 99, 100, 299, 300, 10_000)] == [1, 1, 2, 3, 4, 16]
    assert cost.window_s_for(1) == 0.010 and cost.window_s_for(3) == 0.006 and cost.window_s_for(16) == 0.002
    assert cost.window_s_for(100) == 0.002
    # at full batches 0.8 / (2 x 2 ms) = 200 streams would fit; 200 streams form batches of 3 (6 ms a
    # window): 0.8 / (2 x 6 ms) = 66 fit, and 66 form batches of 1 (10 ms): 40 streams
    assert cost.streams(0.8) == 40
    assert 40 * cost.per_stream_s(40) <= 0.8 < 41 * cost.per_stream_s(41)
    # a costlier larger batch is not hidden by a cheaper smaller one: the figure never falls below it
    odd = StreamCost(0.0, 0.002, 16, 10, window_s_at=((1, 0.004), (8, 0.001)), max_wait_s=0.005)
    assert odd.window_s_for(8) == 0.002 and odd.window_s_for(1) == 0.004
    # without the batcher's wait (a worker), every batch counts as full
    assert StreamCost(0.0, 0.002, 16, 10, window_s_at=at).streams(0.8) == 200


def test_streams_beyond_the_capacity_are_refused_before_any_frame(detector):
    with TestClient(create_app(detector, ServeConfig(capacity=2))) as c:
        with c.websocket_connect("/v1/streams/a") as a, c.websocket_connect("/v1/streams/b") as b:
            assert start(a)["type"] == start(b)["type"] == "ready"
            with c.websocket_connect("/v1/streams/c") as extra:
                refusal = extra.receive_json()
                with pytest.raises(WebSocketDisconnect) as closed:
                    extra.receive_json()
            assert refusal["code"] == "saturated" and "capacity: 2 streams" in refusal["message"]
            assert closed.value.code == 1013
            health = c.get("/healthz").json()
            assert health["capacity"] == 2 and health["accepting"] is False and health["streams"] == 2
            for ws in (a, b):
                ws.send_json({"type": "end"})
                assert ws.receive_json()["type"] == "closed"


def test_the_capacity_is_measured_at_start(detector):
    app = create_app(detector, ServeConfig())
    state = app.state.serve
    assert state.capacity is None
    with TestClient(app) as c:
        assert state.cost is not None and state.capacity == state.cost.streams(DEFAULT_UTILIZATION) >= 1
        assert state.cost.transport_s > 0 and dict(state.cost.window_s_at)[1] > 0  # transport, batches of 1
        assert state.cost.max_wait_s == 0.005
        metrics = c.get("/metrics").text  # the probe stream is no traffic: not counted, not in the console
        assert "motionvigil_serve_streams_total 0" in metrics and "motionvigil_serve_frames_total 0" in metrics
        assert c.get("/v1/streams").json() == {"streams": []} and state.streams == {}
        assert c.get("/healthz").json()["capacity"] == state.capacity
        assert state.scorer.cascade.counts.windows == 0  # the probe is not traffic
    off = create_app(detector, ServeConfig(max_batch=1, max_wait_ms=0, cascade=False))
    with TestClient(off):
        assert off.state.serve.cost.batch == 1


def test_the_capacity_follows_the_cpu_the_streams_really_use():
    from motionvigil.serve.capacity import CpuMeter, refined

    assert refined(100, cpu_fraction=0.4, streams=20, utilization=0.8) == 40  # 0.02 of a core per stream
    assert refined(30, cpu_fraction=0.4, streams=20, utilization=0.8) == 30  # never above the probe's
    assert refined(100, cpu_fraction=0.4, streams=4) == 100  # too little load to measure
    assert refined(100, cpu_fraction=2.0, streams=10, utilization=0.1) == 1
    assert CpuMeter().sample() >= 0


def test_the_measured_transport_sets_the_capacity_and_the_next_stream_is_refused(detector, monkeypatch):
    from motionvigil.serve import app as app_module, capacity

    def measured(score, window, stride, batch, repeats=2, max_wait_s=None):  # injected: no timing
        return StreamCost(frame_s=0.001, window_s=0.001, batch=batch, stride=stride, max_wait_s=max_wait_s)

    async def transport(self, app):  # 10 ms per frame through the server: 0.2 of a core per stream
        return 0.010

    monkeypatch.setattr(capacity, "measure", measured)
    monkeypatch.setattr(app_module.ServeState, "_probe_transport", transport)
    app = create_app(detector, ServeConfig(utilization=0.3))
    with TestClient(app) as c:
        state = app.state.serve
        assert state.cost.transport_s == pytest.approx(0.009)
        assert state.capacity == 1  # 0.3 / (20 x 10 ms + 2 x 1 ms); without the transport it would be 13
        assert StreamCost(0.001, 0.001, 64, 10).streams(0.3) == 13
        with c.websocket_connect("/v1/streams/a") as a:
            assert start(a)["type"] == "ready"
            with c.websocket_connect("/v1/streams/b") as extra:
                refusal = extra.receive_json()
                with pytest.raises(WebSocketDisconnect) as closed:
                    extra.receive_json()
            assert refusal["code"] == "saturated" and "capacity: 1 streams" in refusal["message"]
            assert closed.value.code == 1013 and state.metrics.refused["saturated"] == 1
            a.send_json({"type": "end"})
            assert a.receive_json()["type"] == "closed"


def test_the_transport_probe_passes_the_api_key_and_stores_nothing(detector, tmp_path):
    from motionvigil.serve.feedback import FeedbackStore

    db = tmp_path / "feedback.db"
    app = create_app(detector, ServeConfig(api_keys=("probe-key",), feedback_db=str(db)))
    with TestClient(app):
        state = app.state.serve
        assert state.cost.transport_s > 0  # measured: the probe stream was let in with the key
        assert state.metrics.streams_total == 0 and state.metrics.refused["unauthorized"] == 0
    store = FeedbackStore(db)
    try:
        assert store.alerts() == []  # the probe's punches and kicks raised no stored alert
    finally:
        store.close()


def test_a_failed_transport_probe_does_not_stop_the_server(detector, monkeypatch):
    from motionvigil.serve import app as app_module

    async def broken(self, app):
        raise RuntimeError("closed early")

    monkeypatch.setattr(app_module.ServeState, "_probe_transport", broken)
    app = create_app(detector, ServeConfig())
    with TestClient(app) as c:
        assert app.state.serve.cost.transport_s == 0.0 and c.get("/healthz").json()["capacity"] >= 1
