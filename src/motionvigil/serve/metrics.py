"""Server metrics in the Prometheus text exposition format (version 0.0.4), written by hand.

Counters, gauges and histograms for what an operator watches: open streams, frames,
windows (and windows/s over the last few seconds), micro-batch sizes, the latency from a
window's completion to its result, errors and refusals by reason. No client library:
the format is a few lines per series and the server is single-process (one per core
group, see the README's scale-out section).
"""

from __future__ import annotations

import bisect
import time
from collections import Counter, deque

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256)
RATE_SPAN_S = 10.0


class Histogram:
    def __init__(self, buckets: tuple[float, ...]):
        self.buckets = tuple(buckets)
        self.counts = [0] * (len(self.buckets) + 1)
        self.sum = 0.0
        self.count = 0

    def observe(self, value: float) -> None:
        self.counts[bisect.bisect_left(self.buckets, value)] += 1
        self.sum += value
        self.count += 1

    def lines(self, name: str) -> list[str]:
        out, cumulative = [], 0
        for bound, n in zip(self.buckets, self.counts):
            cumulative += n
            out.append(f'{name}_bucket{{le="{bound:g}"}} {cumulative}')
        out.append(f'{name}_bucket{{le="+Inf"}} {self.count}')
        out.append(f"{name}_sum {self.sum:.6f}")
        out.append(f"{name}_count {self.count}")
        return out


class Metrics:
    """Everything ``/metrics`` reports (updated from the event loop only)."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.streams = 0
        self.streams_total = 0
        self.frames_total = 0
        self.windows_total = 0
        self.batches_total = 0
        self.alerts_total = 0
        self.batch_requests_total = 0
        self.errors: Counter[str] = Counter()
        self.refused: Counter[str] = Counter()
        self.batch_size = Histogram(BATCH_BUCKETS)
        self.latency = Histogram(LATENCY_BUCKETS)
        self._recent: deque[tuple[float, int]] = deque()  # (time, windows) per batch
        self.cascade = None  # the scorer's CascadeCounts when the cascade is on (detect/cascade.py)

    def batch(self, size: int, latencies: list[float]) -> None:
        now = time.monotonic()
        self.batches_total += 1
        self.windows_total += size
        self.batch_size.observe(size)
        for lat in latencies:
            self.latency.observe(lat)
        self._recent.append((now, size))
        while self._recent and self._recent[0][0] < now - RATE_SPAN_S:
            self._recent.popleft()

    def windows_per_second(self) -> float:
        now = time.monotonic()
        span = min(RATE_SPAN_S, max(now - self.started, 1e-9))
        return sum(n for t, n in self._recent if t >= now - RATE_SPAN_S) / span

    def render(self, queued_windows: int, max_streams: int, draining: bool) -> str:
        p = "motionvigil_serve"
        lines = [
            f"# HELP {p}_streams Open WebSocket streams.", f"# TYPE {p}_streams gauge", f"{p}_streams {self.streams}",
            f"# HELP {p}_max_streams Streams accepted at most.", f"# TYPE {p}_max_streams gauge",
            f"{p}_max_streams {max_streams}",
            f"# HELP {p}_streams_total Streams accepted.", f"# TYPE {p}_streams_total counter",
            f"{p}_streams_total {self.streams_total}",
            f"# HELP {p}_frames_total Frames accepted on streams.", f"# TYPE {p}_frames_total counter",
            f"{p}_frames_total {self.frames_total}",
            f"# HELP {p}_windows_total Windows scored.", f"# TYPE {p}_windows_total counter",
            f"{p}_windows_total {self.windows_total}",
            f"# HELP {p}_windows_per_second Windows scored per second over the last {RATE_SPAN_S:g} s.",
            f"# TYPE {p}_windows_per_second gauge", f"{p}_windows_per_second {self.windows_per_second():.3f}",
            f"# HELP {p}_queued_windows Windows waiting for the encoder.", f"# TYPE {p}_queued_windows gauge",
            f"{p}_queued_windows {queued_windows}",
            f"# HELP {p}_alerts_total Alert start events sent.", f"# TYPE {p}_alerts_total counter",
            f"{p}_alerts_total {self.alerts_total}",
            f"# HELP {p}_batch_requests_total Files scored by the batch endpoint.",
            f"# TYPE {p}_batch_requests_total counter", f"{p}_batch_requests_total {self.batch_requests_total}",
            f"# HELP {p}_draining 1 while shutting down.", f"# TYPE {p}_draining gauge", f"{p}_draining {int(draining)}",
            f"# HELP {p}_batches_total Encoder calls.", f"# TYPE {p}_batches_total counter",
            f"{p}_batches_total {self.batches_total}",
            f"# HELP {p}_batch_size Windows per encoder call (cross-stream micro-batches).",
            f"# TYPE {p}_batch_size histogram",
            *self.batch_size.lines(f"{p}_batch_size"),
            f"# HELP {p}_window_latency_seconds From a window's last frame arriving to its result.",
            f"# TYPE {p}_window_latency_seconds histogram",
            *self.latency.lines(f"{p}_window_latency_seconds"),
            *self._cascade_lines(p),
            f"# HELP {p}_errors_total Messages refused on a stream, by code.", f"# TYPE {p}_errors_total counter",
            *[f'{p}_errors_total{{code="{k}"}} {v}' for k, v in sorted(self.errors.items())],
            f"# HELP {p}_refused_total Connections refused, by reason.", f"# TYPE {p}_refused_total counter",
            *[f'{p}_refused_total{{reason="{k}"}} {v}' for k, v in sorted(self.refused.items())],
        ]
        return "\n".join(lines) + "\n"

    def _cascade_lines(self, p: str) -> list[str]:
        if self.cascade is None:
            return []
        return [f"# HELP {p}_encoder_windows_total Windows the motion encoder embedded (cascade on).",
                f"# TYPE {p}_encoder_windows_total counter", f"{p}_encoder_windows_total {self.cascade.embedded}",
                f"# HELP {p}_encoder_windows_saved_total Windows scored without the encoder (below the gate).",
                f"# TYPE {p}_encoder_windows_saved_total counter",
                f"{p}_encoder_windows_saved_total {self.cascade.encoder_windows_saved}"]
