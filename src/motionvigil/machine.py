"""What machine a result was measured on: written into every results JSON.

CPU model, core count, torch threads and versions, and the machine's matrix-multiply
speed (``torch.mm`` GFLOP/s, best of a few 1024x1024 and 2048x2048 products with the
current thread count): timings are only comparable between runs with similar mm speed.
"""

from __future__ import annotations

import os
import platform
import time
from pathlib import Path
from typing import Any


def mm_gflops(n: int, repeats: int = 5) -> float:
    """Best-of-``repeats`` float32 ``torch.mm`` throughput on ``n x n`` matrices, GFLOP/s."""
    import torch

    a, b = torch.randn(n, n), torch.randn(n, n)
    torch.mm(a, b)
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        torch.mm(a, b)
        best = min(best, time.perf_counter() - t)
    return 2 * n**3 / best / 1e9


def cpu_model() -> str:
    """The CPU's model name (``/proc/cpuinfo`` on Linux), else what ``platform`` says."""
    info = Path("/proc/cpuinfo")
    if info.is_file():
        for line in info.read_text(errors="replace").splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def machine_info(measure: bool = True) -> dict[str, Any]:
    """The block every results JSON carries (``measure=False`` skips the mm timing)."""
    import torch

    info: dict[str, Any] = {"cpu": cpu_model(), "cores": os.cpu_count(), "torch_threads": torch.get_num_threads(),
                            "torch": torch.__version__, "python": platform.python_version()}
    if measure:
        info["mm_gflops"] = round(max(mm_gflops(1024), mm_gflops(2048)), 1)
    return info


__all__ = ["cpu_model", "machine_info", "mm_gflops"]
