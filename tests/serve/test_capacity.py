"""Overload is refused up front: ``serve`` measures what it carries and refuses streams
beyond it (``saturated``, reason ``capacity``), never accepting them to time them out."""

from __future__ import annotations

import pytest

pytest.importorskip("starlette", reason="the serve extra (starlette, uvicorn, httpx, websockets) is not installed")
pytest.importorskip("httpx", reason="starlette's TestClient needs httpx (dev extra)")
from starlette.testclient import TestClient  # noqa: E402
from starlette.websockets import WebSocketDisconnect  # noqa: E402

from motionvigil.detect.builtin import load_builtin_detector  # noqa: E402
from motionvigil.serve import ServeConfig, create_app  # noqa: E402
from motionvigil.serve.capacity import StreamCost  # noqa: E402


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
    assert cost.to_json()["streams_at_80pct"] == 20


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
        assert state.cost is not None and state.capacity == state.cost.streams(0.8) >= 1
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
