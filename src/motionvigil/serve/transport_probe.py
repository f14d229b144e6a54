"""What a frame costs the server beyond the session's work: the WebSocket transport, the
ASGI layer, the stream handler and the event loop (part of the capacity probe,
``serve/capacity.py``).

:func:`time_transport` plays one probe stream into the app through the very code path a
client's stream takes under ``motionvigil serve``: uvicorn's ``websockets`` protocol
(the one ``serve`` runs) fed the client's masked WebSocket frames (the handshake, a
``start`` asking for every window's result, one binary message per 20 Hz frame, ``end``),
Starlette's WebSocket, the app's stream handler (validation, windows, the micro-batcher,
the console's buffer, the ``window`` replies it sends). Only the socket is replaced, by an
in-memory transport that keeps what the server writes; the kernel's share of a real
socket (syscalls, the selector) is therefore not in the figure (``capacity.py`` covers it
with a margin). It returns this process's CPU seconds (all threads) per frame message
minus the scorer's own CPU time, which the probe counts separately in batches.

While it runs, the app's console and metrics are swapped for throwaway ones, so the probe
stream is no traffic: nothing of it is stored, counted or shown.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

PROBE_STREAM_ID = "motionvigil-capacity-probe"


class _MemoryTransport(asyncio.Transport):
    """An asyncio transport that keeps what is written; ``done`` is set once it is closed."""

    def __init__(self) -> None:
        super().__init__()
        self.written = bytearray()
        self.done = asyncio.Event()
        self.wake: asyncio.Event | None = None  # also set on close (the feeder waits on it)
        self._closing = False

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"sockname": ("127.0.0.1", 8765), "peername": ("127.0.0.1", 50000)}.get(name, default)

    def write(self, data: bytes) -> None:
        self.written += data

    def is_closing(self) -> bool:
        return self._closing

    def close(self) -> None:
        self._closing = True
        self.done.set()
        if self.wake is not None:
            self.wake.set()

    def abort(self) -> None:
        self.close()

    def pause_reading(self) -> None:  # flow control: the probe feeds frames one at a time anyway
        pass

    def resume_reading(self) -> None:
        pass

    def can_write_eof(self) -> bool:
        return False

    def get_write_buffer_size(self) -> int:
        return 0

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        pass


def client_frames(joints: np.ndarray, fps: float, layout: str = "smpl22", api_key: str | None = None) -> list[bytes]:
    """The bytes a client sends: the opening handshake, then masked WebSocket frames
    (``start`` with every window's result, one binary frame per row of ``joints``, ``end``,
    the close frame); ``api_key`` goes in the ``X-API-Key`` header."""
    from websockets.frames import Frame, Opcode

    def masked(opcode: Opcode, payload: bytes) -> bytes:
        return Frame(opcode, payload).serialize(mask=True, extensions=[])

    key = base64.b64encode(os.urandom(16)).decode()
    auth = f"x-api-key: {api_key}\r\n" if api_key else ""  # lower case, as ASGI header names are
    handshake = (f"GET /v1/streams/{PROBE_STREAM_ID} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                 f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n{auth}\r\n").encode()
    start = json.dumps({"type": "start", "layout": layout, "fps": fps, "windows": True}).encode()
    frames = [masked(Opcode.BINARY, np.concatenate([[k / fps], row.ravel()]).astype("<f4").tobytes())
              for k, row in enumerate(joints)]
    return [handshake, masked(Opcode.TEXT, start), *frames, masked(Opcode.TEXT, b'{"type": "end"}'),
            masked(Opcode.CLOSE, (1000).to_bytes(2, "big"))]


async def _play(app: Any, messages: list[bytes], max_size: int) -> bytes:
    """Play the client's ``messages`` into ``app`` (see the module doc); the bytes it wrote back.

    Raises:
        RuntimeError: the app closed the probe stream before it ended.
    """
    import uvicorn
    from uvicorn.server import ServerState

    with warnings.catch_warnings():  # the implementation `serve` runs (server.py) warns of its deprecation
        warnings.simplefilter("ignore", DeprecationWarning)
        from uvicorn.protocols.websockets.websockets_impl import WebSocketProtocol

    # log_config=None: a second uvicorn.Config must not reconfigure logging (it would drop the key filters)
    config = uvicorn.Config(app, ws="websockets", lifespan="off", log_config=None, ws_ping_interval=None,
                            ws_max_size=max_size)
    config.load()
    server_state = ServerState()
    protocol = WebSocketProtocol(config, server_state, {})
    ready = asyncio.Event()  # set when the handler asks for the next message
    recv = protocol.recv

    async def asking() -> Any:
        ready.set()
        return await recv()

    protocol.recv = asking  # type: ignore[method-assign]
    transport = _MemoryTransport()
    transport.wake = ready

    def refused() -> RuntimeError:
        return RuntimeError(f"the capacity probe's stream was closed early: {bytes(transport.written[-300:])!r}")

    protocol.connection_made(transport)
    try:
        protocol.data_received(messages[0])  # the handshake
        for data in messages[1:-1]:  # each message once the handler waits for it, as a 20 Hz camera's arrive
            await ready.wait()
            ready.clear()
            if transport.done.is_set():
                raise refused()
            protocol.data_received(data)
        while b'"type": "closed"' not in transport.written:  # the handler's last message (after `end`)
            if transport.done.is_set():
                raise refused()
            await asyncio.sleep(0.001)
        protocol.data_received(messages[-1])  # the client's close frame: the closing handshake completes
        await transport.done.wait()
    finally:  # also on an error or a timeout: the handler ends (its queued windows are dropped)
        protocol.connection_lost(None)
        for task in list(server_state.tasks):
            task.cancel()
    return bytes(transport.written)


async def time_transport(app: Any, joints: np.ndarray, fps: float, window: int, stride: int,
                         scorer_s: Callable[[], float], max_size: int = 1 << 20, api_key: str | None = None,
                         timeout_s: float = 120.0) -> float:
    """CPU seconds of this process per frame message of a probe stream through ``app``
    (see the module doc), minus ``scorer_s()``'s growth meanwhile (the scorer's own CPU
    time, counted separately by the probe). ``api_key``: one the app accepts, if it wants one.

    Raises:
        RuntimeError: the probe stream was refused or closed early, or did not get its windows.
        TimeoutError: it took longer than ``timeout_s``.
    """
    messages = client_frames(joints, fps, api_key=api_key)
    s0, c0 = scorer_s(), time.process_time()
    written = await asyncio.wait_for(_play(app, messages, max_size), timeout_s)
    cpu = time.process_time() - c0 - (scorer_s() - s0)
    if written.count(b'"type": "window"') < (len(joints) - window) // stride + 1:
        raise RuntimeError("the capacity probe's stream did not get its windows")
    return max(cpu, 0.0) / len(joints)
