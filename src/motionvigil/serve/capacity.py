"""How many 20 Hz streams one scoring process carries: measured at start, so overload is
refused up front instead of accepted and then timed out.

A stream costs, per second, ``20`` frames and ``20 / stride`` windows. A frame costs the
session's work (parsed, validated, retargeted) and, under ``serve``, its transport: the
WebSocket frame, the ASGI layer, the stream handler and the event loop, which together
cost several times the session's work. :func:`measure` times the session and the scorer
on a synthetic motion with walking, punching and kicking (so the cascade gates some
windows and not others), on the scorer the process will use; ``serve`` adds the
transport (:meth:`StreamCost.with_transport`), measured by playing that motion through
its own app (``serve/transport_probe.py``). A window's cost depends on the batch it is
scored in (a batch of one costs about twice a window of a full batch), and at the loads
one process carries the micro-batcher forms small batches: the windows that complete
within ``max_wait`` of each other. So the scorer is timed at batches of 1, 2, 4, ... up to
``max_batch``, and :meth:`StreamCost.streams` finds the most streams whose cost, at the
batch size that many streams form, fits in ``utilization`` of one core (the event loop and
the inference thread share one interpreter lock, so one process gets one core at most).
``serve`` refuses streams beyond it (``saturated``, reason ``capacity``); a worker
advertises it as its share of the pool.

The figure is an estimate from this probe: a scene where every window passes the
cascade's gate costs more. So, once streams run, :func:`refined` lowers it to what the
process's own CPU time per open stream says (:class:`CpuMeter`), never raising it above
the probe's.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from motionvigil.detect.windows import WindowResult
from motionvigil.serve.session import StreamSession

FPS = 20.0
# The share of one core the estimated cost of the accepted streams may fill: the capacity's safety
# margin, set by latency rather than throughput. Each stream completes a window every stride (0.5 s);
# when the streams' windows complete at once (cameras that started together, e.g. reconnecting after
# a restart), the last result waits for the work of all of them: about utilization x 0.5 s of the
# one core the process gets (the event loop and the inference thread take turns at one interpreter
# lock). At 0.3 that is 150 ms, which leaves 100 ms of the 250 ms target for the hand-overs between
# the two threads and for the machine's other load. Chosen on the load test's own synthetic load only
# (benchmarks/serve_bench.py --detector builtin, cascade and micro-batching on, 2 shared cores, whose
# accepted streams start within a fraction of a stride of each other; docs/serve.md): there, in a
# development run, 0.5 admitted 22 streams at p99 295 ms; 0.3 admitted 13 at p99 162 ms
# (results/serve/serve_bench_cascade.json). Other machines, models and loads are not measured.
DEFAULT_UTILIZATION = 0.3


@dataclass(frozen=True)
class StreamCost:
    """Seconds of one core per frame and per window (at batches of ``batch``; at smaller
    batches in ``window_s_at``), and the batcher's ``max_wait_s`` that sets the batch sizes
    a load forms (None: every batch is full, ``batch`` windows)."""

    frame_s: float
    window_s: float
    batch: int
    stride: int
    transport_s: float = 0.0  # per frame message: WebSocket transport, ASGI, handler, event loop
    window_s_at: tuple[tuple[int, float], ...] = ()  # (batch size, seconds per window) below `batch`
    max_wait_s: float | None = None

    def batch_at(self, streams: int) -> int:
        """The batch size the micro-batcher forms with ``streams`` streams, counted low
        (a low count errs on the costly side): the oldest window and the others that
        complete within ``max_wait_s`` of it, ``streams * 20 / stride`` windows a second
        arriving evenly; ``batch`` at most."""
        if self.max_wait_s is None:
            return self.batch
        return max(1, min(self.batch, 1 + math.floor(streams * FPS / self.stride * self.max_wait_s)))

    def window_s_for(self, size: int) -> float:
        """Seconds per window at batches of ``size``: the timing of the largest measured size
        not above it, or of any larger measured size if that was costlier (never lower
        than a larger batch's: the figure only falls as the batch grows)."""
        timed = sorted({*self.window_s_at, (self.batch, self.window_s)})
        floor_size = max((b for b, _ in timed if b <= size), default=timed[0][0])
        return max(s for b, s in timed if b >= floor_size)

    def per_stream_s(self, streams: int | None = None) -> float:
        """Core seconds one 20 Hz stream needs per second, with ``streams`` streams open
        (their batch size); None: at full batches."""
        window_s = self.window_s if streams is None else self.window_s_for(self.batch_at(streams))
        return FPS * (self.frame_s + self.transport_s) + FPS / self.stride * window_s

    def streams(self, utilization: float = DEFAULT_UTILIZATION) -> int:
        """The most streams whose cost (at the batch size they form) fits in ``utilization``
        of one core; at least 1."""
        cheapest = min([self.window_s, *(s for _, s in self.window_s_at)])
        lowest = FPS * (self.frame_s + self.transport_s) + FPS / self.stride * cheapest
        n = max(1, math.floor(utilization / max(lowest, 1e-9)))  # no more than at the cheapest batch
        while n > 1 and n * self.per_stream_s(n) > utilization:  # bounded: n falls by one each turn
            n -= 1
        return n

    def with_transport(self, message_s: float) -> StreamCost:
        """This cost with the transport measured: ``message_s`` is the whole per-frame CPU
        time of a message through the server (the session's work included, the scorer's
        not), so ``transport_s`` is what it adds to ``frame_s``."""
        return replace(self, transport_s=max(0.0, message_s - self.frame_s))

    def to_json(self) -> dict:
        n = self.streams()
        return {"frame_ms": round(self.frame_s * 1e3, 4), "transport_ms": round(self.transport_s * 1e3, 4),
                "window_ms": round(self.window_s * 1e3, 3), "batch": self.batch,
                "window_ms_at": {str(b): round(s * 1e3, 3) for b, s in sorted(self.window_s_at)},
                "max_wait_ms": None if self.max_wait_s is None else round(self.max_wait_s * 1e3, 3),
                "utilization": DEFAULT_UTILIZATION, "streams": n, "batch_at_streams": self.batch_at(n),
                "stream_core_fraction": round(self.per_stream_s(n), 5)}


def probe_motion(frames: int = 400) -> np.ndarray:
    """A fixed synthetic SMPL-22 motion (walk, punch, kick, wave) at 20 Hz."""
    from motionvigil.datasets.synthetic import generate_sequence

    rng, parts, total = np.random.default_rng(0), [], 0
    while total < frames:
        parts.append(generate_sequence(rng, actions=["walk", "punch", "kick", "wave"]).joints)
        total += len(parts[-1])
    return np.concatenate(parts)[:frames]


def measure(score: Callable[[Sequence[np.ndarray], Sequence[int]], list[WindowResult]], window: int, stride: int,
            batch: int, repeats: int = 2, max_wait_s: float | None = None) -> StreamCost:
    """Time the session's frame work and ``score`` on batches of ``batch`` windows (best of
    ``repeats``); given the batcher's ``max_wait_s``, also on batches of 1, 2, 4, ... below
    ``batch`` (the sizes a load forms, see :meth:`StreamCost.batch_at`)."""
    joints = probe_motion()
    t = np.arange(len(joints)) / FPS
    frame_s = math.inf
    for _ in range(repeats):
        session = StreamSession("probe", window, stride, 1.0)
        session.start({"layout": "smpl22", "fps": FPS})
        t0 = time.perf_counter()
        windows: list[np.ndarray] = []
        starts: list[int] = []
        for k in range(len(joints)):  # one frame per message, as a camera sends them
            data = np.concatenate([[t[k]], joints[k].ravel()]).astype("<f4").tobytes()
            w, s = session.push(*session.parse_binary(data))
            windows += w
            starts += s
        frame_s = min(frame_s, (time.perf_counter() - t0) / len(joints))
    score(windows[:1], starts[:1])  # warm-up
    sizes = [b for b in (2 ** k for k in range(12)) if b < batch] if max_wait_s is not None else []
    at = tuple((b, _time_batches(score, windows, starts, b, repeats)) for b in sizes)
    return StreamCost(frame_s, _time_batches(score, windows, starts, batch, repeats), batch, stride,
                      window_s_at=at, max_wait_s=max_wait_s)


def _time_batches(score, windows: list[np.ndarray], starts: list[int], batch: int, repeats: int) -> float:
    """Seconds per window of ``score`` in calls of ``batch`` windows (best of ``repeats``)."""
    n = max(batch, len(windows))  # every probe window at least once, in calls of `batch` windows
    reps = -(-n // len(windows))
    windows, starts = (windows * reps)[:n], (starts * reps)[:n]
    best = math.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        for i in range(0, n, batch):
            score(windows[i : i + batch], starts[i : i + batch])
        best = min(best, (time.perf_counter() - t0) / n)
    return best


class CpuMeter:
    """CPU seconds of this process (all threads) per wall second, between samples."""

    def __init__(self) -> None:
        self._wall, self._cpu = time.monotonic(), time.process_time()

    def sample(self) -> float:
        wall, cpu = time.monotonic(), time.process_time()
        out = (cpu - self._cpu) / max(wall - self._wall, 1e-9)
        self._wall, self._cpu = wall, cpu
        return out


def refined(probed: int, cpu_fraction: float, streams: int, utilization: float = DEFAULT_UTILIZATION,
            min_streams: int = 8) -> int:
    """The capacity given the probe's figure and the CPU (cores) the process used with
    ``streams`` open: ``utilization / (cpu_fraction / streams)``, never above ``probed`` and
    never below 1; the probe's figure alone while fewer than ``min_streams`` run (too little
    load to measure)."""
    if streams < min_streams or cpu_fraction <= 0:
        return probed
    return max(1, min(probed, math.floor(utilization * streams / cpu_fraction)))
