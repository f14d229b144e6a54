"""``motionvigil worker``: score the cameras' frame streams from Redis, lose nothing when a worker dies.

Each camera is owned by one worker at a time through a lease (``P:cam:{C}:owner``, a token
that expires after ``lease_ms`` unless renewed). A worker takes a fair share of the
registered cameras (``ceil(cameras / live workers)``, at most ``max_cameras``), reads their
stream keys with ``XREADGROUP`` in one consumer group (``COUNT`` entries per camera per
cycle, so a flooding camera cannot starve the others), runs each camera's frames through
the same :class:`~motionvigil.serve.session.StreamSession` (and so the same
:class:`~motionvigil.detect.stream.StreamingDetector`) as ``serve``, scores the windows of
all its cameras in one batch (the cascade and batched features of ``serve``), and then
commits each camera in one atomic Lua script that

1. checks the worker still holds the camera's lease (a stalled worker whose lease was
   taken over is fenced off: its commit changes nothing);
2. appends the alert events to ``P:alerts`` unless their deterministic id
   (``camera:start frame[:persons]:start|end``) was already emitted;
3. appends refused frames (malformed, wrong layout, ...) to ``P:errors``;
4. writes the camera's checkpoint (session state and the last entry id) and
5. acknowledges (``XACK``) and trims the frames it used.

So a frame's effects are committed together with its acknowledgement, or not at all.
When a worker dies its leases expire; another worker takes each camera over, moves the
dead consumer's pending entries to itself (``XAUTOCLAIM``), restores the checkpoint and
goes on from the entry after the checkpoint's: no frame is lost and no alert is raised
twice (effectively once, see docs/serve.md).
"""

from __future__ import annotations

import json
import logging
import math
import os
import random
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from motionvigil.detect.detector import Detector
from motionvigil.serve import checkpoint
from motionvigil.serve.broker import DEFAULT_PREFIX, Keys, ensure_group, id_ms, now_ms, redis
from motionvigil.serve.fastpath import BatchScorer
from motionvigil.serve.session import ProtocolError, StreamSession

log = logging.getLogger("motionvigil.worker")

# KEYS: owner; ARGV: token, lease ms. 1 when the lease is (now) ours.
ACQUIRE = """
local cur = redis.call('GET', KEYS[1])
if cur and cur ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
"""
# KEYS: owner; ARGV: token, lease ms. Extends our lease; 0 when it is no longer ours (never re-creates
# a lapsed lease: a camera is only gained through Worker.take, which restores its checkpoint).
RENEW = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
"""
# KEYS: owner; ARGV: token. Deletes the lease if it is ours.
RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
# KEYS: owner, state, frames, alerts, alert_ids, errors, stats, cameras, last committed entry id
# ARGV: token, checkpoint ('' = the stream ended), group, camera, frames, windows, the last
#       committed entry id this work follows, then n ids, ids..., n alerts, (event id, json)...,
#       n errors, json...
# Refused ({0, 0}) unless the worker holds the lease AND its work follows the last commit (a worker
# that stalled while another took the camera over and gave it back cannot commit stale work).
COMMIT = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return {0, 0} end
if (redis.call('GET', KEYS[9]) or '0-0') ~= ARGV[7] then return {0, 0} end
local i = 8
local nids = tonumber(ARGV[i]); i = i + 1
local ids = {}
for k = 1, nids do ids[k] = ARGV[i]; i = i + 1 end
local nal = tonumber(ARGV[i]); i = i + 1
local emitted = 0
for k = 1, nal do
  if redis.call('SADD', KEYS[5], ARGV[i]) == 1 then
    redis.call('XADD', KEYS[4], '*', 'id', ARGV[i], 'alert', ARGV[i + 1]); emitted = emitted + 1
  end
  i = i + 2
end
local nerr = tonumber(ARGV[i]); i = i + 1
for k = 1, nerr do redis.call('XADD', KEYS[6], '*', 'error', ARGV[i]); i = i + 1 end
if ARGV[2] == '' then
  redis.call('DEL', KEYS[2], KEYS[1], KEYS[5], KEYS[9]); redis.call('HDEL', KEYS[8], ARGV[4])
else
  redis.call('SET', KEYS[2], ARGV[2])
  if nids > 0 then redis.call('SET', KEYS[9], ids[nids]) end
end
if nids > 0 then
  redis.call('XACK', KEYS[3], ARGV[3], unpack(ids))
  redis.call('XTRIM', KEYS[3], 'MINID', ids[nids])
end
redis.call('HINCRBY', KEYS[7], 'frames', ARGV[5]); redis.call('HINCRBY', KEYS[7], 'windows', ARGV[6])
redis.call('HINCRBY', KEYS[7], 'alerts', emitted); redis.call('HINCRBY', KEYS[7], 'errors', nerr)
return {1, emitted}
"""


def _id(entry_id: str | bytes) -> tuple[int, int]:
    text = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
    ms, seq = text.split("-")
    return int(ms), int(seq)


def _text(value: str | bytes) -> str:
    return value.decode() if isinstance(value, bytes) else value


@dataclass
class WorkerConfig:
    """Worker settings (see ``motionvigil worker --help``)."""

    group: str = "motionvigil"
    prefix: str = DEFAULT_PREFIX
    name: str = ""  # consumer name; default host-pid-random
    max_cameras: int = 0  # the cameras this worker carries at most (its share of the pool's capacity); 0: measured
    utilization: float = 0.8  # the share of a core the measured max_cameras may fill
    lease_ms: int = 2000  # a dead worker's cameras are taken over after this
    count: int = 40  # entries per camera per read: fairness between cameras
    block_ms: int = 50
    idle_close_s: float = 10.0  # a camera quiet this long gets its open alert closed
    cascade: bool = True


@dataclass
class _Camera:
    name: str
    session: StreamSession
    last_id: str = "0-0"
    committed_id: str = "0-0"  # the last entry id of the last commit (what the next commit must follow)
    replay: bool = True  # read our own pending entries (id 0) before new ones
    last_entry_ms: int = 0


@dataclass
class _Work:
    """One camera's part of a cycle."""

    cam: _Camera
    ids: list[str] = field(default_factory=list)
    windows: list[np.ndarray] = field(default_factory=list)
    starts: list[int] = field(default_factory=list)
    entry_of_window: list[str] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    frames: int = 0
    ended: bool = False


class Worker:
    """One worker process's loop; :meth:`step` is one cycle (tests drive it directly)."""

    def __init__(self, client: "redis.Redis", detector: Detector, config: WorkerConfig | None = None):
        self.r = client
        self.detector = detector
        self.config = config or WorkerConfig()
        self.name = self.config.name or f"{socket.gethostname()}-{os.getpid()}-{random.randrange(16**6):06x}"
        self.token = f"{self.name}:{random.randrange(16**12):012x}"
        self.keys = Keys(self.config.prefix)
        self.scorer = BatchScorer(detector, cascade=self.config.cascade)
        self.cost = None
        if self.config.max_cameras <= 0:  # measured, as serve's capacity (serve/capacity.py)
            from motionvigil.serve.capacity import measure

            self.cost = measure(self.scorer.score_windows, detector.window, detector.stride, 64)
            self.config.max_cameras = self.cost.streams(self.config.utilization)
            if self.scorer.cascade is not None:
                self.scorer.cascade.counts.windows = self.scorer.cascade.counts.embedded = 0
        self.cameras: dict[str, _Camera] = {}
        self._acquire = client.register_script(ACQUIRE)
        self._renew = client.register_script(RENEW)
        self._release = client.register_script(RELEASE)
        self._commit = client.register_script(COMMIT)
        self.fenced = 0  # commits refused because the lease was lost meanwhile
        self._renewed = time.monotonic()

    # ---- leases ---------------------------------------------------------------------------
    def heartbeat(self) -> int:
        """Announce this worker (capacity, lease) and return the server time in ms."""
        now = now_ms(self.r)
        pipe = self.r.pipeline(transaction=True)
        pipe.zadd(self.keys.workers, {self.name: now + self.config.lease_ms})
        pipe.hset(self.keys.capacity, self.name, self.config.max_cameras)
        pipe.execute()
        return now

    def renew(self) -> None:
        """Renew the leases of our cameras; forget those another worker took meanwhile."""
        self._renewed = time.monotonic()
        for name in list(self.cameras):
            if not self._renew(keys=[self.keys.owner(name)], args=[self.token, self.config.lease_ms]):
                log.warning("lost the lease of camera %s", name)
                del self.cameras[name]

    def balance(self, now: int) -> None:
        """Renew our leases, drop the lost ones, give back extras, take free cameras up to a fair share."""
        cfg = self.config
        self.renew()
        registered = sorted(_text(c) for c in self.r.hkeys(self.keys.cameras))
        live = max(1, self.r.zcount(self.keys.workers, now, "+inf"))
        fair = min(cfg.max_cameras, math.ceil(len(registered) / live))
        for name in list(self.cameras)[fair:] if len(self.cameras) > fair else []:
            self.release(name)
        free = [c for c in registered if c not in self.cameras]
        random.shuffle(free)
        for name in free:
            if len(self.cameras) >= fair:
                break
            if self._acquire(keys=[self.keys.owner(name)], args=[self.token, cfg.lease_ms]):
                self.take(name)

    def take(self, name: str) -> None:
        """Own ``name``: restore its checkpoint and move every pending entry of the group to us."""
        frames = self.keys.frames(name)
        ensure_group(self.r, frames, self.config.group)
        det = self.detector
        cam = _Camera(name, StreamSession(name, det.window, det.stride, det.threshold, det.hold_s))
        raw = self.r.get(self.keys.state(name))
        if raw is not None:
            state = checkpoint.loads(raw)
            cam.session.restore(state["session"])
            cam.last_id, cam.last_entry_ms = state["last_id"], int(state.get("last_entry_ms", 0))
        cam.committed_id = _text(self.r.get(self.keys.last(name)) or b"0-0")
        start = "0-0"
        for _ in range(100_000):  # bounded: every pending entry, a page at a time
            res = self.r.xautoclaim(frames, self.config.group, self.name, min_idle_time=0, start_id=start, count=500)
            start = _text(res[0])  # (redis-py drops this cursor with justid=True, so the entries come too)
            if start == "0-0":
                break
        self.cameras[name] = cam

    def release(self, name: str) -> None:
        """Give ``name`` back (its checkpoint is committed; the next owner goes on from it)."""
        self.cameras.pop(name, None)
        self._release(keys=[self.keys.owner(name)], args=[self.token])

    def release_all(self) -> None:
        for name in list(self.cameras):
            self.release(name)
        self.r.zrem(self.keys.workers, self.name)
        self.r.hdel(self.keys.capacity, self.name)

    # ---- a cycle --------------------------------------------------------------------------
    def read(self) -> dict[str, list]:
        """Up to ``count`` entries per owned camera: our pending ones first, then new ones."""
        if not self.cameras:
            time.sleep(self.config.block_ms / 1000)
            return {}
        streams = {self.keys.frames(c): ("0" if cam.replay else ">") for c, cam in self.cameras.items()}
        block = None if any(v == "0" for v in streams.values()) else self.config.block_ms
        res = self.r.xreadgroup(self.config.group, self.name, streams, count=self.config.count, block=block)
        out = {self.keys.camera_of(key): entries for key, entries in (res or [])}
        for name, cam in self.cameras.items():
            if cam.replay and not out.get(name):
                cam.replay = False
        return out

    def step(self) -> int:
        """One cycle: heartbeat, leases, read, score, commit, idle cameras. Returns the entries used."""
        now = self.heartbeat()
        self.balance(now)
        return self.process(self.read(), now)

    def process(self, batch: dict[str, list], now: int | None = None) -> int:
        """Cut windows from the entries, score them in one batch, commit per camera."""
        work = [self._cut(self.cameras[name], entries) for name, entries in batch.items() if name in self.cameras]
        windows = [w for wk in work for w in wk.windows]
        starts = [s for wk in work for s in wk.starts]
        results = self.scorer.score_windows(windows, starts) if windows else []
        if time.monotonic() - self._renewed > self.config.lease_ms / 3000:  # a long batch: renew before committing
            self.renew()
        k = 0
        for wk in work:
            mine = results[k : k + len(wk.windows)]
            k += len(wk.windows)
            self._commit_camera(wk, mine)
        self._close_quiet(now if now is not None else now_ms(self.r), {wk.cam.name for wk in work if wk.ids})
        return sum(len(wk.ids) for wk in work)

    def _cut(self, cam: _Camera, entries: list) -> _Work:
        wk = _Work(cam)
        session = cam.session
        for entry_id, fields in entries:
            eid = _text(entry_id)
            wk.ids.append(eid)
            if _id(eid) <= _id(cam.last_id):  # committed before (cannot happen with atomic commits; harmless)
                continue
            fields = {_text(k): v for k, v in fields.items()}
            cam.last_id, cam.last_entry_ms = eid, id_ms(eid)
            if "end" in fields:
                wk.ended = True
                break
            try:
                if session.layout is None:
                    session.start({"layout": _text(fields.get("layout", b"smpl22")),
                                   "fps": float(_text(fields.get("fps", b"20")))})
                if "bin" in fields:
                    payload = session.parse_binary(fields["bin"])
                elif "frame" in fields:
                    kind, payload = session.parse_text(_text(fields["frame"]))
                    if kind != "frames":
                        raise ProtocolError("bad_frame", f"a frame entry holds frames, not {kind!r}")
                else:
                    raise ProtocolError("bad_frame", "an entry needs a 'frame' (JSON) or 'bin' field, or 'end'")
                windows, starts = session.push(*payload)
            except (ProtocolError, ValueError, TypeError) as exc:
                code = getattr(exc, "code", "bad_frame")
                wk.errors.append({"camera": cam.name, "entry": eid, "code": code, "message": str(exc)})
                continue
            wk.frames += len(payload[0])
            wk.windows += windows
            wk.starts += starts
            wk.entry_of_window += [eid] * len(windows)
        return wk

    def _alerts(self, cam: _Camera, results: list, entries: list[str]) -> list[tuple[str, str]]:
        out = []
        for r, eid in zip(results, entries):
            for event in cam.session.events(r if isinstance(r, list) else [r]):  # a scene: a list
                out.append(self._alert(cam, event, eid))
        return out

    def _alert(self, cam: _Camera, event: dict[str, Any], entry: str) -> tuple[str, str]:
        if event.get("type") != "alert":
            return ("", "")
        persons = event.get("persons") or []
        alert_id = f"{cam.name}:{int(round(event['start'] * 20))}" + (
            ":" + "-".join(map(str, persons)) if persons else "")
        body = dict(event, id=alert_id, camera=cam.name, frame_id=entry, worker=self.name)
        body.pop("type", None)
        return (f"{alert_id}:{event['event']}", json.dumps(body, separators=(",", ":")))

    def _commit_camera(self, wk: _Work, results: list, extra: list[tuple[str, str]] | None = None) -> bool:
        cam = wk.cam
        alerts = [a for a in self._alerts(cam, results, wk.entry_of_window) if a[0]] + (extra or [])
        if wk.ended:
            alerts += [self._alert(cam, end, wk.ids[-1]) for end in cam.session.close_alerts()]
        state = "" if wk.ended else checkpoint.dumps(
            {"session": cam.session.state(), "last_id": cam.last_id, "last_entry_ms": cam.last_entry_ms,
             "owner": self.name})
        args: list[Any] = [self.token, state, self.config.group, cam.name, wk.frames, len(results),
                           cam.committed_id, len(wk.ids), *wk.ids, len(alerts)]
        for eid, body in alerts:
            args += [eid, body]
        args += [len(wk.errors), *[json.dumps(e) for e in wk.errors]]
        k = self.keys
        ok, _ = self._commit(keys=[k.owner(cam.name), k.state(cam.name), k.frames(cam.name), k.alerts,
                                   k.alert_ids(cam.name), k.errors, k.stats, k.cameras, k.last(cam.name)], args=args)
        if not ok:  # fenced: another worker owns the camera now and goes on from the last checkpoint
            self.fenced += 1
            log.warning("camera %s: lease lost before the commit; its new owner redoes this work", cam.name)
            self.cameras.pop(cam.name, None)
            return False
        if wk.ids:
            cam.committed_id = wk.ids[-1]
        if wk.ended:
            self.cameras.pop(cam.name, None)
        return True

    def _close_quiet(self, now: int, active: set[str]) -> None:
        """Close the open alerts of a camera that has been quiet for ``idle_close_s``."""
        limit = self.config.idle_close_s * 1000
        for cam in list(self.cameras.values()):
            if cam.name in active or now - cam.last_entry_ms < limit:
                continue
            ends = [self._alert(cam, dict(e, reason="idle"), cam.last_id) for e in cam.session.close_alerts()]
            if ends:
                self._commit_camera(_Work(cam), [], ends)

    # ---- the loop -------------------------------------------------------------------------
    def run(self, stop: threading.Event, on_error: Callable[[Exception], None] | None = None) -> None:
        """Cycle until ``stop`` is set; rides out a Redis restart (reconnects, restores every
        camera from its checkpoint); gives its cameras back at the end."""
        backoff = 0.05
        while not stop.is_set():
            try:
                self.step()
                backoff = 0.05
            except redis.exceptions.RedisError as exc:  # a restarting Redis (or one that lost its data)
                log.warning("redis error (%s: %s); retrying in %.2f s", type(exc).__name__, exc, backoff)
                if on_error is not None:
                    on_error(exc)
                self.cameras.clear()  # uncommitted work is redone from the checkpoints
                stop.wait(backoff)
                backoff = min(2.0, backoff * 2)
        try:
            self.release_all()
        except redis.exceptions.RedisError:  # Redis gone: the leases expire by themselves
            pass
