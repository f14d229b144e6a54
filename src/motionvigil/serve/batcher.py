"""Cross-stream micro-batching: windows completed by different streams share one encoder call.

Streams hand their completed windows to :meth:`MicroBatcher.score` and await the
results. One background task takes the queued windows, waits at most ``max_wait_s``
after the oldest one arrived for more to come (never longer once ``max_batch`` are
queued), and runs the detector on up to ``max_batch`` windows in one call on a single
inference thread, so the event loop keeps reading frames meanwhile. While a batch runs,
the next one fills up: under load batches grow by themselves, at low load a window waits
``max_wait_s`` at most. ``max_batch=1`` is one-window-at-a-time (micro-batching off).

A stream of several persons hands over scenes (person id -> window, one per completed
window) instead of windows: a scene is one item of a batch, its result a list (one per
person and per pair), which :meth:`MicroBatcher.score` flattens.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from motionvigil.detect.windows import WindowResult
from motionvigil.serve.metrics import Metrics

Item = np.ndarray | dict[int, np.ndarray]  # a window, or a scene of several persons
ScoreFn = Callable[[Sequence[Item], Sequence[int]], list[WindowResult | list[WindowResult]]]


@dataclass
class _Item:
    window: Item
    start: int
    future: asyncio.Future
    queued: float


class MicroBatcher:
    """Batches windows from many streams into encoder calls bounded by size and wait."""

    def __init__(self, score: ScoreFn, max_batch: int = 64, max_wait_s: float = 0.005,
                 metrics: Metrics | None = None, executor: ThreadPoolExecutor | None = None):
        if max_batch < 1 or max_wait_s < 0:
            raise ValueError(f"need max_batch >= 1 and max_wait_s >= 0, got {max_batch}, {max_wait_s}")
        self._score = score
        self.max_batch = int(max_batch)
        self.max_wait_s = float(max_wait_s)
        self.metrics = metrics or Metrics()
        self.executor = executor or ThreadPoolExecutor(1, thread_name_prefix="motionvigil-infer")
        self._queue: deque[_Item] = deque()
        self._wake: asyncio.Event | None = None
        self._task: asyncio.Task | None = None

    @property
    def queued(self) -> int:
        """Windows waiting for the encoder (not counting the batch being scored)."""
        return len(self._queue)

    def oldest_wait_s(self) -> float:
        return time.monotonic() - self._queue[0].queued if self._queue else 0.0

    def start(self) -> None:
        self._wake = asyncio.Event()
        self._task = asyncio.get_running_loop().create_task(self._run(), name="motionvigil-batcher")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None
        for item in self._queue:
            if not item.future.done():
                item.future.set_exception(RuntimeError("server shutting down"))
        self._queue.clear()

    async def score(self, windows: Sequence[Item], starts: Sequence[int]) -> list[WindowResult]:
        """The results of ``windows`` (or scenes; oldest first), scored with other streams' windows."""
        if not windows:
            return []
        if self._task is None:
            raise RuntimeError("the batcher is not running")
        loop = asyncio.get_running_loop()
        now = time.monotonic()
        items = [_Item(w, s, loop.create_future(), now) for w, s in zip(windows, starts)]
        self._queue.extend(items)
        self._wake.set()
        results = await asyncio.gather(*(i.future for i in items))
        return [r for res in results for r in (res if isinstance(res, list) else [res])]

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            if not self._queue:
                self._wake.clear()
                await self._wake.wait()
                continue
            deadline = self._queue[0].queued + self.max_wait_s
            while len(self._queue) < self.max_batch and time.monotonic() < deadline:
                await asyncio.sleep(min(0.001, max(0.0, deadline - time.monotonic())))
            batch = [self._queue.popleft() for _ in range(min(self.max_batch, len(self._queue)))]
            batch = [i for i in batch if not i.future.cancelled()]
            if not batch:
                continue
            try:
                results = await loop.run_in_executor(
                    self.executor, self._score, [i.window for i in batch], [i.start for i in batch])
            except Exception as exc:  # noqa: BLE001 - one failed batch must not stop the server
                for item in batch:
                    if not item.future.done():
                        item.future.set_exception(exc)
                continue
            done = time.monotonic()
            self.metrics.batch(len(batch), [done - i.queued for i in batch])
            for item, result in zip(batch, results):
                if not item.future.done():
                    item.future.set_result(result)
