"""Independent evaluation work (episodes, repeated draws) spread over torchrun ranks.

Under ``torchrun`` each rank takes every ``world``-th item and the per-item results are
gathered on every rank; items are seeded by their index, so the gathered results are the
ones a single process computes. Without a process group this is a no-op.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.distributed as dist

from motionvigil.training.distributed import my_items
from motionvigil.training.runtime import Runtime


def rank_and_world() -> tuple[int, int]:
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def my_share(count: int) -> range:
    """The item indices this rank evaluates (round robin, as ``training.distributed.my_items``)."""
    rank, world = rank_and_world()
    return my_items(count, Runtime(torch.device("cpu"), rank, world))


def gather_results(local: list[tuple[int, Any]]) -> list[tuple[int, Any]]:
    """``(item index, result)`` pairs from every rank, in item order."""
    _, world = rank_and_world()
    if world == 1:
        return sorted(local, key=lambda kv: kv[0])
    parts: list[Any] = [None] * world
    dist.all_gather_object(parts, local)
    return sorted((kv for part in parts for kv in part), key=lambda kv: kv[0])
