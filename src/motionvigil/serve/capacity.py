"""How many 20 Hz streams one scoring process carries: measured at start, so overload is
refused up front instead of accepted and then timed out.

A stream costs, per second, ``20`` frames (parsed, validated, retargeted: the session's
work) plus ``20 / stride`` windows (scored in batches of ``max_batch``). :func:`measure`
times both on a synthetic motion with walking, punching and kicking (so the cascade
gates some windows and not others), on the scorer the process will use, and
:func:`streams` turns the cost into the streams that fit in ``utilization`` of one core
(scoring runs on one inference thread). ``serve`` refuses streams beyond it
(``saturated``, reason ``capacity``); a worker advertises it as its share of the pool.
The figure is an estimate from this probe: a scene where every window passes the
cascade's gate costs more, and the probe does not see the WebSocket transport or the
event loop. So, once streams run, :func:`refined` lowers it to what the process's own CPU
time per open stream says (:class:`CpuMeter`), never raising it above the probe's.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from motionvigil.detect.windows import WindowResult
from motionvigil.serve.session import StreamSession

FPS = 20.0
DEFAULT_UTILIZATION = 0.8


@dataclass(frozen=True)
class StreamCost:
    """Seconds of one core per frame and per window (at batches of ``batch``)."""

    frame_s: float
    window_s: float
    batch: int
    stride: int

    def per_stream_s(self) -> float:
        """Core seconds one 20 Hz stream needs per second."""
        return FPS * self.frame_s + FPS / self.stride * self.window_s

    def streams(self, utilization: float = DEFAULT_UTILIZATION) -> int:
        """Streams that fit in ``utilization`` of one core (at least 1)."""
        return max(1, math.floor(utilization / max(self.per_stream_s(), 1e-9)))

    def to_json(self) -> dict:
        return {"frame_ms": round(self.frame_s * 1e3, 4), "window_ms": round(self.window_s * 1e3, 3),
                "batch": self.batch, "stream_core_fraction": round(self.per_stream_s(), 5),
                "streams_at_80pct": self.streams()}


def probe_motion(frames: int = 400) -> np.ndarray:
    """A fixed synthetic SMPL-22 motion (walk, punch, kick, wave) at 20 Hz."""
    from motionvigil.datasets.synthetic import generate_sequence

    rng, parts, total = np.random.default_rng(0), [], 0
    while total < frames:
        parts.append(generate_sequence(rng, actions=["walk", "punch", "kick", "wave"]).joints)
        total += len(parts[-1])
    return np.concatenate(parts)[:frames]


def measure(score: Callable[[Sequence[np.ndarray], Sequence[int]], list[WindowResult]], window: int, stride: int,
            batch: int, repeats: int = 2) -> StreamCost:
    """Time the session's frame work and ``score`` on batches of ``batch`` windows (best of ``repeats``)."""
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
    n = max(batch, len(windows))  # every probe window at least once, in calls of `batch` windows
    reps = -(-n // len(windows))
    windows, starts = (windows * reps)[:n], (starts * reps)[:n]
    score(windows[:1], starts[:1])  # warm-up
    window_s = math.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        for i in range(0, n, batch):
            score(windows[i : i + batch], starts[i : i + batch])
        window_s = min(window_s, (time.perf_counter() - t0) / n)
    return StreamCost(frame_s, window_s, batch, stride)


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
