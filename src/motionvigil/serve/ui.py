"""The operator console's HTTP side: the ``/ui`` page and the alert / feedback API.

Routes (every ``/v1`` route takes the streams' API key in ``X-API-Key``; 401 without it):

- ``GET /ui``: the console page (plain HTML/JS/CSS under ``serve/static``; no build step,
  no CDN). The page itself holds no data; it asks for the key and then calls the API.
- ``GET /v1/streams``: the open streams and their state.
- ``GET /v1/alerts?stream=&since=&until=&verdict=&limit=``: stored alerts, newest first
  (``since`` / ``until``: unix seconds of when the alert was raised; ``verdict``:
  confirm, dismiss or none).
- ``GET /v1/alerts/{id}``: one alert with its motion, violence timeline and verdicts.
- ``POST /v1/alerts/{id}/feedback`` ``{"verdict": "confirm" | "dismiss", "note": "..."}``:
  200 with the alert, 400 bad body or verdict, 404 unknown alert, 507 disk full.
- ``GET /v1/events``: newline-delimited JSON, one event per line as it happens
  (``hello`` with the streams and latest alerts, ``alert`` start/end, ``feedback``, and a
  ``streams`` snapshot every second). A ``fetch`` stream rather than a WebSocket or
  EventSource, because browsers can send the ``X-API-Key`` header only with ``fetch``,
  and the key must never be in a URL.
"""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from motionvigil.io.layouts import SMPL22
from motionvigil.serve.alert_ids import is_alert_id
from motionvigil.serve.feedback import FeedbackError
from motionvigil.serve.recorder import Console

STATIC = Path(__file__).resolve().parent / "static"
PAGES = {"console.js": "text/javascript", "console.css": "text/css"}
# the page may load and call only its own server: no CDN, no inline script, nothing elsewhere
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; "
       "base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
HEARTBEAT_S = 1.0
MAX_FEEDBACK_BYTES = 16 * 1024


def _error(message: str, status: int) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def _number(params, name: str) -> float | None:
    text = params.get(name)
    if text is None or text == "":
        return None
    value = float(text)  # ValueError -> 400 by the caller
    if not math.isfinite(value):
        raise ValueError(name)
    return value


def console_routes(console: Console, authorised: Callable[[Any], bool]) -> list[Route]:
    """The routes above, served from ``console`` (its store and live events)."""
    store = console.store

    def guard(request: Request) -> JSONResponse | None:
        return None if authorised(request.headers) else _error("unauthorized: missing or wrong API key", 401)

    async def page(request: Request) -> Response:
        return FileResponse(STATIC / "console.html", media_type="text/html",
                            headers={"cache-control": "no-store", "x-content-type-options": "nosniff",
                                     "content-security-policy": CSP, "referrer-policy": "no-referrer"})

    async def asset(request: Request) -> Response:
        name = request.path_params["name"]
        if name not in PAGES:
            return _error("not found", 404)
        return FileResponse(STATIC / name, media_type=PAGES[name], headers={"cache-control": "no-store"})

    async def streams(request: Request) -> Response:
        return guard(request) or JSONResponse({"streams": console.streams()})

    async def alerts(request: Request) -> Response:
        if (refused := guard(request)) is not None:
            return refused
        q = request.query_params
        try:
            since, until = _number(q, "since"), _number(q, "until")
            limit = int(q.get("limit") or 200)
        except ValueError:
            return _error("since and until are unix seconds, limit an integer", 400)
        try:
            found = store.alerts(q.get("stream") or None, since, until, q.get("verdict") or None,
                                 max(1, min(limit, 5000)))
        except FeedbackError as exc:
            return _error(str(exc), exc.status)
        return JSONResponse({"alerts": found})

    async def one(request: Request) -> Response:
        if (refused := guard(request)) is not None:
            return refused
        ident = request.path_params["alert_id"]
        try:
            found = store.alert(ident) if is_alert_id(ident) else None
            if found is None:
                return _error(f"no alert with id {ident!r}", 404)
            found["history"] = store.history(ident)
            if found.get("motion"):
                found["motion"]["parents"] = list(SMPL22.parents)  # bones for drawing
        except FeedbackError as exc:
            return _error(str(exc), exc.status)
        return JSONResponse(found)

    async def feedback(request: Request) -> Response:
        if (refused := guard(request)) is not None:
            return refused
        ident = request.path_params["alert_id"]
        body = await request.body()
        if len(body) > MAX_FEEDBACK_BYTES:
            return _error(f"feedback body over {MAX_FEEDBACK_BYTES} bytes", 413)
        try:
            data = json.loads(body or b"null")
        except ValueError:
            return _error("the body is not JSON: send {\"verdict\": \"confirm\" | \"dismiss\", \"note\": \"...\"}", 400)
        if not isinstance(data, dict):
            return _error("the body must be a JSON object {\"verdict\": ..., \"note\": ...}", 400)
        if not is_alert_id(ident):
            return _error(f"no alert with id {ident!r}", 404)
        try:
            summary = await asyncio.get_running_loop().run_in_executor(
                None, store.give_feedback, ident, data.get("verdict"), data.get("note", ""))
        except FeedbackError as exc:
            return _error(str(exc), exc.status)
        console.feedback_given(summary)
        return JSONResponse(summary)

    async def events(request: Request) -> Response:
        if (refused := guard(request)) is not None:
            return refused
        queue = console.hub.subscribe()

        async def lines():
            try:
                try:
                    recent = store.alerts(limit=50)
                except FeedbackError:
                    recent = []
                yield json.dumps({"type": "hello", "streams": console.streams(), "alerts": recent}) + "\n"
                while not console.closing:
                    try:
                        event = await asyncio.wait_for(queue.get(), HEARTBEAT_S)
                    except asyncio.TimeoutError:
                        event = {"type": "streams", "streams": console.streams()}
                    yield json.dumps(event) + "\n"
            finally:
                console.hub.unsubscribe(queue)

        return StreamingResponse(lines(), media_type="application/x-ndjson",
                                 headers={"cache-control": "no-store", "x-accel-buffering": "no"})

    return [
        Route("/ui", page),
        Route("/ui/static/{name}", asset),
        Route("/v1/streams", streams),
        Route("/v1/alerts", alerts),
        Route("/v1/alerts/{alert_id}", one),
        Route("/v1/alerts/{alert_id}/feedback", feedback, methods=["POST"]),
        Route("/v1/events", events),
    ]
