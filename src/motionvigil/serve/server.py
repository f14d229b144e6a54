"""Running the app: address checks, the listening socket, uvicorn, graceful SIGTERM."""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import re
import socket
import sys

import uvicorn

from motionvigil.detect.detector import Detector
from motionvigil.serve.app import ServeConfig, create_app


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback addresses (127.0.0.0/8, ::1)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


_SECRET_HEADER = re.compile(r"(?i)\b(x-api-key|authorization)(\s*[:=]\s*|'\s*,\s*')[^\s'\"]+( [^\s'\"]+)?")


class RedactKeys(logging.Filter):
    """Removes API keys from every log record: the values of ``X-API-Key`` and
    ``Authorization`` headers (the WebSocket library logs request headers at debug
    level) and any configured key wherever it appears."""

    def __init__(self, keys: tuple[str, ...]):
        super().__init__()
        self.keys = tuple(k for k in keys if k)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            text = record.getMessage()
        except Exception:  # noqa: BLE001 - a record that cannot be formatted is left alone
            return True
        clean = _SECRET_HEADER.sub(lambda m: f"{m.group(1)}{m.group(2)}[redacted]", text)
        for key in self.keys:
            clean = clean.replace(key, "[redacted]")
        if clean != text:
            record.msg, record.args = clean, ()
        return True


def redact_logs(keys: tuple[str, ...]) -> None:
    """Put :class:`RedactKeys` on the handlers of the uvicorn and root loggers."""
    redact = RedactKeys(keys)
    for name in ("", "uvicorn", "uvicorn.error", "uvicorn.access", "websockets", "motionvigil"):
        logger = logging.getLogger(name)
        logger.addFilter(redact)
        for handler in logger.handlers:
            handler.addFilter(redact)


class _GracefulServer(uvicorn.Server):
    """uvicorn, except that SIGTERM/SIGINT first drains the streams (each gets a final
    ``bye`` message and close code 1001) before uvicorn stops; a second signal stops at once."""

    def __init__(self, config: uvicorn.Config, state):
        super().__init__(config)
        self._state = state
        self._loop: asyncio.AbstractEventLoop | None = None
        self._draining = False
        self._drain_task: asyncio.Task | None = None

    async def startup(self, sockets=None) -> None:
        self._loop = asyncio.get_running_loop()
        await super().startup(sockets=sockets)

    def handle_exit(self, sig, frame) -> None:  # runs in the loop's (main) thread
        if self._draining or self._loop is None:
            self.should_exit = True
            self.force_exit = self._draining
            return
        self._draining = True

        async def drain_then_exit() -> None:
            try:
                await self._state.drain()
            finally:
                self.should_exit = True

        def start() -> None:  # keep a reference: the loop holds tasks only weakly
            self._drain_task = self._loop.create_task(drain_then_exit())

        self._loop.call_soon_threadsafe(start)


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host.strip("[]"), port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def serve(detector: Detector, host: str = "127.0.0.1", port: int = 8765, config: ServeConfig | None = None,
          log_level: str = "info", access_log: bool = False) -> None:
    """Serve ``detector`` until SIGTERM/SIGINT. Prints the address it listens on (port 0: a free one).

    Raises:
        ValueError: a non-loopback ``host`` without API keys.
    """
    config = config or ServeConfig()
    if not config.api_keys and not is_loopback(host):
        raise ValueError(f"refusing to listen on {host} without --api-key-file (only loopback addresses "
                         "may be served without a key)")
    app = create_app(detector, config)
    sock = bind(host, port)
    actual = sock.getsockname()[1]
    uv = uvicorn.Config(
        app, log_level=log_level, access_log=access_log, lifespan="on", ws="websockets",
        # a message over 4x the app's limit closes the connection (1009) before it is buffered whole;
        # up to that, the app answers an "oversized" error and the stream goes on
        ws_max_size=4 * config.max_message_bytes,
        # no protocol keep-alive: while inference is behind, a stream's reads pause (back-pressure) and a
        # pong would wait behind its queued frames, so pings would kill healthy streams; dead clients are
        # closed by the app's idle timeout instead
        ws_ping_interval=None,
        # a connection flood gets HTTP 503 beyond this, before any app code runs
        limit_concurrency=config.max_streams + 64, backlog=2048, timeout_graceful_shutdown=config.drain_timeout_s,
    )
    redact_logs(config.api_keys)  # after uvicorn.Config has set up its log handlers
    server = _GracefulServer(uv, app.state.serve)
    shown = f"[{host}]" if ":" in host else host
    print(f"motionvigil serve: listening on http://{shown}:{actual} (streams ws://{shown}:{actual}/v1/streams/ID; "
          f"{'API key required' if config.api_keys else 'no API key'}; operator console http://{shown}:{actual}/ui)",
          flush=True)
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
    print("motionvigil serve: stopped", file=sys.stderr, flush=True)
