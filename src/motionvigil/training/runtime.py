"""Devices, determinism and PyTorch's own distributed training (``torchrun``).

One code path serves a single CPU process, one GPU, and ``torchrun --nproc_per_node N``
(DistributedDataParallel; gloo on CPU, nccl on CUDA). Rank 0 alone writes files.
"""

from __future__ import annotations

import os
import random
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import torch
import torch.distributed as dist


@dataclass(frozen=True)
class Runtime:
    device: torch.device
    rank: int = 0
    world_size: int = 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1


def resolve_device(name: str | None) -> torch.device:
    """``"cpu"``, ``"cuda"``, ``"cuda:1"`` or ``None``/``"auto"`` (CUDA when available)."""
    if name in (None, "auto"):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("--device cuda was requested but no CUDA GPU is available")
    return device


def start_runtime(device: str | None = "cpu") -> Runtime:
    """Join the process group if launched by ``torchrun`` (``WORLD_SIZE`` > 1)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return Runtime(resolve_device(device))
    rank = int(os.environ["RANK"])
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    dev = resolve_device(device)
    if dev.type == "cuda":
        dev = torch.device("cuda", local_rank)
        torch.cuda.set_device(dev)
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if dev.type == "cuda" else "gloo")
    return Runtime(dev, rank, world)


@contextmanager
def joined_runtime(device: str | None = "cpu") -> Iterator[Runtime]:
    """``start_runtime`` for a ``with`` block (joining the process group under ``torchrun``),
    ``stop_runtime`` when it ends, also on an error."""
    runtime = start_runtime(device)
    try:
        yield runtime
    finally:
        stop_runtime(runtime)


def is_main_process() -> bool:
    """Whether this process reports: always outside ``torchrun``, rank 0 under it (read from
    ``RANK`` without joining a process group)."""
    return int(os.environ.get("RANK", "0")) == 0


def stop_runtime(runtime: Runtime) -> None:
    if runtime.distributed and dist.is_initialized():
        dist.destroy_process_group()


def barrier(runtime: Runtime) -> None:
    if runtime.distributed:
        dist.barrier()


def seed_everything(seed: int, deterministic: bool = True) -> None:
    """Seed Python, numpy and torch; on request make torch kernels deterministic."""
    random.seed(seed)
    np.random.seed(seed % (2**32))
    torch.manual_seed(seed)
    if deterministic:
        torch.use_deterministic_algorithms(True, warn_only=True)
