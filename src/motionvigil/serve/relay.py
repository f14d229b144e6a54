"""``serve --publish-redis URL``: serve's streams relayed into the workers' Redis streams.

With a relay, a ``serve`` process scores nothing itself: each accepted WebSocket stream is
registered as a camera (refused up front when the worker pool is full, like any camera),
its validated frames are published to the camera's stream key in the compact binary form,
and ``end`` ends the camera's stream. The workers score them; alerts appear in the alerts
stream (``mv:alerts``), not on the WebSocket. So cameras that speak WebSocket and cameras
that publish to Redis directly share one pool of workers.
"""

from __future__ import annotations

import asyncio
from typing import Any

import numpy as np

from motionvigil.serve.broker import BrokerError, FramePublisher, connect
from motionvigil.serve.session import ProtocolError, StreamSession


class RedisRelay:
    """Publishes a session's frames to Redis (blocking calls run on a helper thread)."""

    def __init__(self, url: str, prefix: str = "mv", group: str = "motionvigil"):
        self.publisher = FramePublisher(connect(url), prefix, group=group)
        self._first: set[str] = set()

    async def _call(self, fn, *args) -> Any:
        return await asyncio.get_running_loop().run_in_executor(None, fn, *args)

    async def open(self, session: StreamSession) -> None:
        """Register the stream as a camera. Raises ProtocolError("saturated") when refused."""
        try:
            await self._call(self.publisher.open, session.stream_id)
        except BrokerError as exc:
            raise ProtocolError("saturated", str(exc)) from None
        self._first.add(session.stream_id)

    async def frames(self, session: StreamSession, t: np.ndarray, joints: np.ndarray) -> None:
        """Publish validated frames (the session's timestamp check advances as if it had used them)."""
        first = session.stream_id in self._first
        entries = []
        for k, (tk, jk) in enumerate(zip(t, joints)):
            fields: dict[str, Any] = {"bin": np.concatenate([[tk], jk.ravel()]).astype("<f4").tobytes()}
            if first and k == 0:
                fields.update(layout=session.layout.name, fps=repr(session.fps))
            entries.append(fields)
        try:
            await self._call(self.publisher.publish, session.stream_id, entries)
        except BrokerError as exc:
            raise ProtocolError("backlogged", str(exc)) from None
        self._first.discard(session.stream_id)
        session.last_t = float(t[-1])
        session.frames += len(t)

    async def end(self, session: StreamSession) -> None:
        self._first.discard(session.stream_id)
        await self._call(self.publisher.end, session.stream_id)
