"""The ASGI application: WebSocket streams, the batch endpoint, health and metrics.

Built on Starlette (the ASGI toolkit under FastAPI, maintained by the Encode/Kludex
team) and served by uvicorn: native WebSockets and HTTP on one asyncio event loop, no
request-validation layer we do not need, and a TestClient for in-process tests. Model
inference runs on one worker thread fed by :class:`~motionvigil.serve.batcher.MicroBatcher`.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hmac
import json
import logging
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from motionvigil.detect.detector import Detector
from motionvigil.errors import MotionFileError
from motionvigil.serve.batcher import MicroBatcher
from motionvigil.serve.capacity import DEFAULT_UTILIZATION
from motionvigil.serve.fastpath import BatchScorer
from motionvigil.serve.feedback import FeedbackStore
from motionvigil.serve.metrics import Metrics
from motionvigil.serve.recorder import Console
from motionvigil.serve.session import ProtocolError, StreamSession
from motionvigil.serve.ui import console_routes

log = logging.getLogger("motionvigil.serve")

API_KEY_HEADER = "x-api-key"
STREAM_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,128}$")
# WebSocket close codes (RFC 6455 / IANA registry)
CLOSE_NORMAL, CLOSE_GOING_AWAY, CLOSE_POLICY, CLOSE_TOO_BIG, CLOSE_TRY_LATER = 1000, 1001, 1008, 1009, 1013
PROBE_MAX_WAIT_S = 0.01  # the batcher's wait during the capacity probe's stream, at most


@dataclass
class ServeConfig:
    """Server settings (see ``motionvigil serve --help``)."""

    max_streams: int = 256
    max_batch: int = 64
    max_wait_ms: float = 5.0
    max_message_bytes: int = 256 * 1024
    max_upload_bytes: int = 64 * 1024 * 1024
    max_queue_s: float = 1.0  # refuse new streams while the oldest queued window waited longer
    api_keys: tuple[str, ...] = field(default=(), repr=False)  # never printed
    drain_timeout_s: float = 5.0
    idle_timeout_s: float = 60.0  # a stream that sends nothing this long is closed (1001, "idle")
    cascade: bool = True  # the violence head gates the encoder (detect/cascade.py)
    feedback_db: str | None = None  # SQLite file of alerts and verdicts (None: kept in memory)
    publish_redis: str | None = None  # relay streams to the workers' Redis instead of scoring (serve/relay.py)
    capacity: int | None = None  # streams accepted at most by cost; None: measured at start (serve/capacity.py)
    utilization: float = DEFAULT_UTILIZATION  # the share of one core the measured capacity may fill


def load_api_keys(path: str | Path) -> tuple[str, ...]:
    """Keys from a file, one per line (blank lines and ``#`` comments ignored)."""
    keys = tuple(line.strip() for line in Path(path).read_text().splitlines()
                 if line.strip() and not line.strip().startswith("#"))
    if not keys:
        raise ValueError(f"{path}: no API key in the file")
    return keys


def key_ok(given: str | None, keys: tuple[str, ...]) -> bool:
    """Constant-time check of ``given`` against every key (no early exit, no short-circuit)."""
    if not keys:
        return True
    raw = (given or "").encode()
    ok = False
    for key in keys:
        ok |= hmac.compare_digest(raw, key.encode())
    return ok


class _Stream:
    def __init__(self, ws: WebSocket, session: StreamSession, console: Console | None = None):
        self.ws = ws
        self.session = session
        self.console = console
        self.lock = asyncio.Lock()  # held while a message is processed and while sending
        self.closed = False

    async def send(self, msg: dict[str, Any] | None) -> None:
        if msg is not None and not self.closed:
            if self.console is not None and msg.get("type") == "alert":
                self.console.on_alert(self.session.stream_id, msg)  # gives it its id, stores it
            await self.ws.send_text(json.dumps(msg))

    async def finish(self, kind: str, code: int) -> None:
        """Close the open alert, say ``kind`` (closed / bye) and close the connection."""
        if self.closed:
            return
        with contextlib.suppress(Exception):
            for end in self.session.close_alerts():  # several persons: one open alert per person or pair
                await self.send(end)
            await self.send({"type": kind, "stream": self.session.stream_id, "frames": self.session.frames,
                             "windows": self.session.windows})
        self.closed = True
        with contextlib.suppress(Exception):
            await self.ws.close(code)


class ServeState:
    """The detector, the batcher, the open streams and the metrics of one server process."""

    def __init__(self, detector: Detector, config: ServeConfig):
        self.detector = detector
        self.config = config
        self.metrics = Metrics()
        self.scorer = BatchScorer(detector, cascade=config.cascade)
        self.metrics.cascade = self.scorer.cascade.counts if self.scorer.cascade is not None else None
        self.batcher = MicroBatcher(self.scorer.score_windows, config.max_batch, config.max_wait_ms / 1000,
                                    self.metrics)
        self.streams: dict[str, _Stream] = {}
        self.draining = False
        self.console = Console(detector, FeedbackStore(config.feedback_db), self._describe)
        self.capacity = config.capacity
        self.relay = None
        if config.publish_redis:
            from motionvigil.serve.relay import RedisRelay

            self.relay = RedisRelay(config.publish_redis)
        self.cost = None  # the measured StreamCost when the capacity was measured
        self.probed_capacity = config.capacity

    def _describe(self, stream_id: str) -> dict[str, Any]:
        stream = self.streams.get(stream_id)
        if stream is None:
            return {}
        s = stream.session
        return {"layout": s.layout.name if s.layout else None, "fps": s.fps, "frames": s.frames, "windows": s.windows}

    async def measure_capacity(self, app: Any = None) -> None:
        """Streams this process carries, from a probe of its own frame and scoring cost and,
        given the ``app``, of a probe stream through its WebSocket transport (serve/capacity.py)."""
        from motionvigil.serve.capacity import measure

        if self.capacity is not None or self.relay is not None:  # a relay's capacity is the worker pool's
            return
        det, cfg = self.detector, self.config
        self.cost = await asyncio.get_running_loop().run_in_executor(
            self.batcher.executor, functools.partial(measure, self.scorer.score_windows, det.window, det.stride,
                                                     cfg.max_batch, max_wait_s=cfg.max_wait_ms / 1000))
        if app is not None:
            try:
                self.cost = self.cost.with_transport(await self._probe_transport(app))
            except (RuntimeError, TimeoutError) as exc:  # the server still starts; the figure is then low
                log.warning("capacity: the transport probe failed (%s); the capacity leaves the transport out", exc)
        self.capacity = self.probed_capacity = self.cost.streams(cfg.utilization)
        if self.scorer.cascade is not None:  # the probe's windows are not traffic
            self.scorer.cascade.counts.windows = self.scorer.cascade.counts.embedded = 0
        log.info("capacity: %d streams (%s)", self.capacity, self.cost.to_json())

    async def _probe_transport(self, app: Any) -> float:
        """Per-frame CPU seconds of a probe stream through ``app`` (serve/transport_probe.py),
        the scorer's time left out, with a throwaway console and metrics (the probe is no traffic)."""
        import time

        from motionvigil.serve.capacity import FPS, probe_motion
        from motionvigil.serve.transport_probe import time_transport

        scored = [0.0]

        def timed(windows, starts):  # on the inference thread: its CPU time is the scorer's
            t0 = time.thread_time()
            try:
                return score(windows, starts)
            finally:
                scored[0] += time.thread_time() - t0

        score, console, metrics, wait = self.batcher._score, self.console, self.metrics, self.batcher.max_wait_s
        self.batcher._score = timed
        # one probe stream has no windows of others to wait for: a long --max-wait-ms would only stall it
        self.batcher.max_wait_s = min(wait, PROBE_MAX_WAIT_S)
        self.console = Console(self.detector, FeedbackStore(None), self._describe)
        self.metrics = self.batcher.metrics = Metrics()
        try:
            return await time_transport(app, probe_motion(), FPS, self.detector.window, self.detector.stride,
                                        lambda: scored[0], 4 * self.config.max_message_bytes,
                                        api_key=self.config.api_keys[0] if self.config.api_keys else None)
        finally:
            self.console.store.close()
            self.batcher._score, self.console, self.metrics = score, console, metrics
            self.batcher.metrics, self.batcher.max_wait_s = metrics, wait

    async def refine_capacity(self, every_s: float = 5.0) -> None:
        """Every ``every_s``: lower the measured capacity to what this process's CPU time per
        open stream says (serve/capacity.py, ``refined``); runs until cancelled."""
        from motionvigil.serve.capacity import CpuMeter, refined

        meter = CpuMeter()
        while True:
            await asyncio.sleep(every_s)
            if self.cost is not None:
                self.capacity = refined(self.probed_capacity, meter.sample(), len(self.streams),
                                        self.config.utilization)

    def saturated(self) -> str | None:
        """Why a new stream is refused now (None: accept)."""
        if self.draining:
            return "shutting_down"
        if len(self.streams) >= self.config.max_streams:
            return "max_streams"
        if self.capacity is not None and len(self.streams) >= self.capacity:
            return "capacity"
        if self.batcher.oldest_wait_s() > self.config.max_queue_s:
            return "inference_backlog"
        return None

    async def drain(self) -> None:
        """Graceful shutdown: refuse new streams, let each stream finish the message in
        hand, then send it ``bye`` (after closing its open alert) and close it (1001)."""
        self.draining = True
        self.console.closing = True

        async def one(stream: _Stream) -> None:
            async with stream.lock:
                await stream.finish("bye", CLOSE_GOING_AWAY)

        streams = list(self.streams.values())
        if streams:
            await asyncio.wait([asyncio.create_task(one(s)) for s in streams], timeout=self.config.drain_timeout_s)


def _header_key(headers) -> str | None:
    key = headers.get(API_KEY_HEADER)
    if key is None:
        auth = headers.get("authorization", "")
        if auth.lower().startswith("bearer "):
            key = auth[7:].strip()
    return key


def create_app(detector: Detector, config: ServeConfig | None = None) -> Starlette:
    """The ASGI app serving ``detector``; ``app.state.serve`` is its :class:`ServeState`."""
    config = config or ServeConfig()
    state = ServeState(detector, config)

    def authorised(headers) -> bool:
        return key_ok(_header_key(headers), config.api_keys)

    async def healthz(request: Request) -> Response:
        reason = state.saturated()
        body = {"status": "draining" if state.draining else "ok", "streams": len(state.streams),
                "max_streams": config.max_streams, "capacity": state.capacity, "accepting": reason is None,
                "queued_windows": state.batcher.queued}
        return JSONResponse(body, status_code=503 if state.draining else 200)

    async def metrics(request: Request) -> Response:
        if not authorised(request.headers):
            return JSONResponse({"error": "unauthorized"}, status_code=401)
        text = state.metrics.render(state.batcher.queued, config.max_streams, state.draining)
        return PlainTextResponse(text, media_type="text/plain; version=0.0.4")

    async def detect(request: Request) -> Response:
        """``POST /v1/detect?filename=NAME.EXT`` with the file as the body: ``detect --json``."""
        from motionvigil.detect.timeline import detect_motion, timeline_json
        from motionvigil.io import load_motion

        if not authorised(request.headers):
            return JSONResponse({"error": "unauthorized"}, status_code=401)
        if state.draining:
            return JSONResponse({"error": "shutting down"}, status_code=503)
        name = Path(request.query_params.get("filename") or request.headers.get("x-filename") or "").name
        if not name or "." not in name:
            return JSONResponse({"error": "name the file with ?filename=NAME.EXT (its extension picks the reader)"},
                                status_code=400)
        size = int(request.headers.get("content-length") or 0)
        if size > config.max_upload_bytes:
            return JSONResponse({"error": f"file larger than {config.max_upload_bytes} bytes"}, status_code=413)
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > config.max_upload_bytes:
                return JSONResponse({"error": f"file larger than {config.max_upload_bytes} bytes"}, status_code=413)

        def run() -> dict[str, Any]:
            with tempfile.TemporaryDirectory(prefix="motionvigil-serve-") as tmp:
                path = Path(tmp) / name
                path.write_bytes(bytes(body))
                try:
                    return timeline_json(detect_motion(detector, load_motion(path)), name)
                except MotionFileError as exc:  # name the upload, not the temporary path
                    raise MotionFileError(name, exc.problem) from None

        try:
            result = await asyncio.get_running_loop().run_in_executor(state.batcher.executor, run)
        except MotionFileError as exc:
            return JSONResponse({"error": str(exc)}, status_code=422)
        state.metrics.batch_requests_total += 1
        return JSONResponse(result)

    async def stream(ws: WebSocket) -> None:
        stream_id = ws.path_params["stream_id"]
        await ws.accept()

        async def refuse(reason: str, code: int, message: str) -> None:
            state.metrics.refused[reason] += 1
            with contextlib.suppress(Exception):
                await ws.send_text(json.dumps({"type": "error", "code": reason, "message": message}))
                await ws.close(code)

        if not authorised(ws.headers):
            return await refuse("unauthorized", CLOSE_POLICY, f"missing or wrong API key (header {API_KEY_HEADER})")
        if not STREAM_ID.match(stream_id):
            return await refuse("bad_stream_id", CLOSE_POLICY, "stream ids are 1-128 of A-Z a-z 0-9 _ . : -")
        if stream_id in state.streams:
            return await refuse("duplicate_stream", CLOSE_POLICY, f"stream {stream_id!r} is already open")
        reason = state.saturated()
        if reason is not None:
            why = f"capacity: {state.capacity} streams at the measured cost" if reason == "capacity" else reason
            return await refuse("saturated", CLOSE_TRY_LATER,
                                f"server saturated ({why}); retry later or on another server")
        det = state.detector
        me = _Stream(ws, StreamSession(stream_id, det.window, det.stride, det.threshold, det.hold_s), state.console)
        state.streams[stream_id] = me
        state.console.stream_opened(stream_id)
        state.metrics.streams = len(state.streams)
        state.metrics.streams_total += 1
        try:
            while not me.closed:
                try:
                    message = await asyncio.wait_for(ws.receive(), config.idle_timeout_s)
                except asyncio.TimeoutError:
                    state.metrics.errors["idle"] += 1
                    async with me.lock:
                        await me.send({"type": "error", "code": "idle",
                                       "message": f"nothing received for {config.idle_timeout_s:g} s"})
                        await me.finish("closed", CLOSE_GOING_AWAY)
                    break
                if message["type"] == "websocket.disconnect":
                    break
                async with me.lock:
                    if me.closed:
                        break
                    if await handle(me, message):
                        break
        except WebSocketDisconnect:
            pass
        except Exception as exc:  # noqa: BLE001 - e.g. the client vanished mid-send: end this stream only
            log.debug("stream %s ended: %s", stream_id, type(exc).__name__)
        finally:
            me.closed = True
            if state.streams.get(stream_id) is me:
                del state.streams[stream_id]
                state.console.stream_closed(stream_id)
            state.metrics.streams = len(state.streams)

    async def handle(me: _Stream, message: dict[str, Any]) -> bool:
        """Process one client message; True when the stream is over."""
        session = me.session
        text, data = message.get("text"), message.get("bytes")
        try:
            size = len(text.encode()) if text is not None else len(data or b"")
            if size > config.max_message_bytes:
                raise ProtocolError("oversized", f"message of {size} bytes; the limit is {config.max_message_bytes}")
            if text is not None:
                kind, payload = session.parse_text(text)
            else:
                kind, payload = "frames", session.parse_binary(data or b"")
            if kind == "start":
                ready = session.start(payload)
                if state.relay is not None:
                    try:
                        await state.relay.open(session)
                    except ProtocolError as exc:  # the worker pool is full: refused up front
                        state.metrics.refused["saturated"] += 1
                        await me.send({"type": "error", "code": exc.code, "message": str(exc)})
                        await me.finish("closed", CLOSE_TRY_LATER)
                        return True
                    ready["alerts"] = "redis"  # the workers raise them, in the alerts stream
                await me.send(ready)
                return False
            if kind == "end":
                if state.relay is not None:
                    await state.relay.end(session)
                await me.finish("closed", CLOSE_NORMAL)
                return True
            if state.relay is not None:
                await state.relay.frames(session, *payload)
                state.metrics.frames_total += len(payload[0])
                return False
            windows, starts = session.push(*payload)
            state.metrics.frames_total += len(payload[0])
        except ProtocolError as exc:
            state.metrics.errors[exc.code] += 1
            await me.send({"type": "error", "code": exc.code, "message": str(exc)})
            return False
        if not windows:
            state.console.observe(session.stream_id, payload[0], (), (), ())
        if windows:
            try:
                results = await state.batcher.score(windows, starts)
            except Exception as exc:  # noqa: BLE001 - report it on this stream, keep serving
                log.exception("scoring failed on stream %s", session.stream_id)
                state.metrics.errors["internal"] += 1
                await me.send({"type": "error", "code": "internal", "message": f"scoring failed ({type(exc).__name__})"})
                return False
            state.console.observe(session.stream_id, payload[0], windows, starts, results)  # the console's buffer
            for event in session.events(results):
                if event.get("event") == "start":
                    state.metrics.alerts_total += 1
                await me.send(event)
        return False

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette):
        state.batcher.start()
        await state.measure_capacity(app)
        refine = asyncio.get_running_loop().create_task(state.refine_capacity(), name="motionvigil-capacity")
        try:
            yield
        finally:
            refine.cancel()
            await state.drain()
            await state.batcher.stop()
            state.console.store.close()

    app = Starlette(routes=[
        Route("/healthz", healthz),
        Route("/metrics", metrics),
        Route("/v1/detect", detect, methods=["POST"]),
        WebSocketRoute("/v1/streams/{stream_id}", stream),
        *console_routes(state.console, authorised),
    ], lifespan=lifespan)
    app.state.serve = state
    return app
