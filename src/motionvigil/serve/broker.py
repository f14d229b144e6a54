"""Redis Streams as the broker between cameras and workers: keys, frame entries, admission.

One stream key per camera carries its skeleton frames; workers (:mod:`.worker`) consume
them with a consumer group; alerts go to one alerts stream. Every key of a camera shares
the hash tag ``{camera}`` so that a camera's keys sit in one Redis Cluster slot.

Keys (``P`` is the prefix, ``mv`` by default):

====================================  ===============================================================
``P:cam:{C}:frames``                  stream: the camera's frames (trimmed up to the last committed one)
``P:cam:{C}:state``                   the camera's checkpoint (:mod:`.checkpoint`), JSON
``P:cam:{C}:owner``                   lease: the token of the worker that owns the camera (expires)
``P:cam:{C}:alert_ids``               set: alert event ids already emitted (idempotence)
``P:cam:{C}:last``                    the last entry id committed (a commit must follow it)
``P:cameras``                         hash: registered camera -> registration time (admission)
``P:workers`` / ``P:capacity``        zset: live worker -> lease expiry (ms); hash: worker -> cameras
``P:alerts``                          stream: alert events (``start`` / ``end``), one entry each
``P:errors``                          stream: refused frames (camera, entry id, code, message)
``P:stats``                           hash: frames, windows, embedded windows, alerts committed
====================================  ===============================================================

A frame entry holds the frame as serve's wire format (:mod:`.session`): field ``frame``, a
JSON object ``{"t": 0.05, "joints": [[x, y, z], ...]}`` or, for several bodies,
``{"t": 0.05, "persons": [{"id": 3, "joints": [...]}, ...]}`` (docs/persons.md), or field
``bin``, serve's compact binary form; optional fields ``layout`` (default ``smpl22``) and
``fps`` (default 20), read from a camera's first frame. An entry with field ``end`` ends
the camera's stream: its open alert is closed and the camera is unregistered.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

try:  # the worker extra
    import redis
except ImportError:  # pragma: no cover - reported by connect()
    redis = None

DEFAULT_PREFIX = "mv"
DEFAULT_MAX_BACKLOG = 6000  # frames per camera not yet processed: 5 min at 20 Hz


class BrokerError(RuntimeError):
    """A refused publish or registration, with a one-line reason."""


class PoolFull(BrokerError):
    """More cameras than the live workers can carry: the camera is refused up front."""


class Backlogged(BrokerError):
    """A camera whose unprocessed frames reached the backlog limit (a flood or no worker)."""


def connect(url: str) -> "redis.Redis":
    """A redis-py client for ``url`` (``redis://host:port/db``) that retries a dropped
    connection with backoff (a restarting Redis) before raising ``ConnectionError``."""
    if redis is None:
        raise BrokerError("the Redis client is not installed: pip install 'motionvigil[worker]'")
    from redis.backoff import ExponentialBackoff
    from redis.retry import Retry

    return redis.Redis.from_url(url, retry=Retry(ExponentialBackoff(cap=1.0, base=0.05), 3),
                                retry_on_error=[redis.exceptions.ConnectionError, redis.exceptions.TimeoutError],
                                socket_timeout=10, socket_connect_timeout=2, health_check_interval=5)


@dataclass(frozen=True)
class Keys:
    """Key names under one prefix."""

    prefix: str = DEFAULT_PREFIX

    def frames(self, camera: str) -> str:
        return f"{self.prefix}:cam:{{{camera}}}:frames"

    def state(self, camera: str) -> str:
        return f"{self.prefix}:cam:{{{camera}}}:state"

    def owner(self, camera: str) -> str:
        return f"{self.prefix}:cam:{{{camera}}}:owner"

    def last(self, camera: str) -> str:
        return f"{self.prefix}:cam:{{{camera}}}:last"

    def alert_ids(self, camera: str) -> str:
        return f"{self.prefix}:cam:{{{camera}}}:alert_ids"

    def camera_of(self, frames_key: str | bytes) -> str:
        key = frames_key.decode() if isinstance(frames_key, bytes) else frames_key
        return key[len(self.prefix) + len(":cam:{"): -len("}:frames")]

    @property
    def cameras(self) -> str:
        return f"{self.prefix}:cameras"

    @property
    def workers(self) -> str:
        return f"{self.prefix}:workers"

    @property
    def capacity(self) -> str:
        return f"{self.prefix}:capacity"

    @property
    def alerts(self) -> str:
        return f"{self.prefix}:alerts"

    @property
    def errors(self) -> str:
        return f"{self.prefix}:errors"

    @property
    def stats(self) -> str:
        return f"{self.prefix}:stats"


# Registers a camera if the live workers can carry one more (server time, atomically).
# KEYS: cameras, workers, capacity; ARGV: camera. Returns {1, n, cap} accepted, {0, n, cap} refused.
ADMIT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then return {1, redis.call('HLEN', KEYS[1]), -1} end
local dead = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now)
for _, w in ipairs(dead) do redis.call('ZREM', KEYS[2], w); redis.call('HDEL', KEYS[3], w) end
local cap = 0
for _, w in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do cap = cap + tonumber(redis.call('HGET', KEYS[3], w) or '0') end
local n = redis.call('HLEN', KEYS[1])
if n >= cap then return {0, n, cap} end
redis.call('HSET', KEYS[1], ARGV[1], now)
return {1, n + 1, cap}
"""


def frame_fields(t: float, joints: np.ndarray | None = None, persons: Sequence[dict[str, Any]] | None = None,
                 layout: str | None = None, fps: float | None = None) -> dict[str, str]:
    """The fields of one frame entry: ``joints [J, 3]`` of one body, or ``persons``
    (``[{"id": int, "joints": [J, 3]}]``); ``layout`` / ``fps`` on a camera's first frame."""
    if (joints is None) == (persons is None):
        raise ValueError("give the joints of one body or the persons of the frame")
    body: dict[str, Any] = {"t": float(t)}
    if joints is not None:
        body["joints"] = np.asarray(joints, dtype=np.float64).round(6).tolist()
    else:
        body["persons"] = [{"id": int(p["id"]), "joints": np.asarray(p["joints"], np.float64).round(6).tolist()}
                           for p in persons]
    fields = {"frame": json.dumps(body, separators=(",", ":"))}
    if layout is not None:
        fields["layout"] = layout
    if fps is not None:
        fields["fps"] = repr(float(fps))
    return fields


class FramePublisher:
    """What a camera or pose extractor uses to put frames into Redis.

    :meth:`open` registers the camera, refused up front (:class:`PoolFull`) when the live
    workers' capacity is taken; :meth:`publish` refuses (:class:`Backlogged`) a camera whose
    unprocessed frames reached ``max_backlog`` instead of letting Redis grow or trimming
    frames unseen; :meth:`end` ends the camera's stream.
    """

    def __init__(self, client: "redis.Redis", prefix: str = DEFAULT_PREFIX, max_backlog: int = DEFAULT_MAX_BACKLOG,
                 group: str = "motionvigil"):
        self.r = client
        self.keys = Keys(prefix)
        self.max_backlog = int(max_backlog)
        self.group = group
        self._admit = client.register_script(ADMIT)

    def open(self, camera: str) -> None:
        """Register ``camera`` (idempotent). Raises PoolFull when the pool is full."""
        check_camera(camera)
        ok, n, cap = self._admit(keys=[self.keys.cameras, self.keys.workers, self.keys.capacity], args=[camera])
        if not ok:
            raise PoolFull(f"camera {camera!r} refused: {n} cameras registered, the live workers carry {cap}")
        ensure_group(self.r, self.keys.frames(camera), self.group)

    def publish(self, camera: str, entries: Sequence[dict[str, str | bytes]]) -> list[str]:
        """Append frame entries (:func:`frame_fields`) in order; their stream ids.

        Raises:
            Backlogged: the camera already has ``max_backlog`` unprocessed frames (nothing is added).
        """
        key = self.keys.frames(camera)
        backlog = self.r.xlen(key)
        if backlog + len(entries) > self.max_backlog:
            raise Backlogged(f"camera {camera!r} refused {len(entries)} frames: {backlog} frames not yet processed "
                             f"(limit {self.max_backlog}); the workers are behind or the camera floods")
        pipe = self.r.pipeline(transaction=False)
        for fields in entries:
            pipe.xadd(key, fields)
        return [i.decode() if isinstance(i, bytes) else i for i in pipe.execute()]

    def end(self, camera: str) -> str:
        """End the camera's stream (its open alert is closed; the camera is unregistered)."""
        out = self.r.xadd(self.keys.frames(camera), {"end": "1"})
        return out.decode() if isinstance(out, bytes) else out


def check_camera(camera: str) -> None:
    if not camera or len(camera) > 128 or any(c in camera for c in "{}: \t\n"):
        raise BrokerError(f"camera id {camera!r}: 1-128 characters, none of '{{', '}}', ':' or blanks")


def ensure_group(r: "redis.Redis", key: str, group: str) -> None:
    """Create the consumer group (reading from the first entry) and the stream, if absent."""
    try:
        r.xgroup_create(key, group, id="0", mkstream=True)
    except redis.exceptions.ResponseError as exc:
        if "BUSYGROUP" not in str(exc):
            raise


def now_ms(r: "redis.Redis") -> int:
    """Redis server time in ms (every lease and idle decision uses the server's clock)."""
    s, us = r.time()
    return int(s) * 1000 + int(us) // 1000


def id_ms(entry_id: str | bytes) -> int:
    """The millisecond part of a stream entry id (when Redis added the entry)."""
    text = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
    return int(text.split("-")[0])


def wait_for(pred, timeout: float, step: float = 0.02) -> bool:
    """Poll ``pred()`` until true or ``timeout`` seconds passed (bounded)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(step)
    return bool(pred())
