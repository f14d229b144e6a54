"""Helpers shared by the subprocess tests (torchrun equivalence, SIGKILL + resume): run a
script of this folder plainly or under ``torchrun`` with one thread per process, and
compare the weights the runs leave behind."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import pytest
import torch

HERE = Path(__file__).parent
TORCHRUN = Path(sys.executable).parent / "torchrun"

needs_torchrun = pytest.mark.skipif(shutil.which("torchrun") is None and not TORCHRUN.exists(),
                                    reason="torchrun not installed")


def script_env() -> dict[str, str]:
    """One thread per process (the runs must be deterministic and share the CPU), and this
    folder on the path so the scripts can import each other."""
    path = os.pathsep.join(p for p in (str(HERE), os.environ.get("PYTHONPATH", "")) if p)
    return dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", PYTHONPATH=path)


def script_command(script: str, args: Sequence[object], nproc: int | None = None) -> list[str]:
    """``python tests/SCRIPT ARGS`` or, with ``nproc``, ``torchrun --standalone --nproc_per_node N``.
    ``script`` may also be ``-m MODULE`` (e.g. ``-m motionvigil.cli``)."""
    target = script.split() if script.startswith("-m ") else [str(HERE / script)]
    if nproc is None:
        return [sys.executable, *target, *map(str, args)]
    return [str(TORCHRUN), "--standalone", "--nproc_per_node", str(nproc), *target, *map(str, args)]


def run_script(script: str, args: Sequence[object], nproc: int | None = None, cwd: Path | None = None,
               check: bool = True) -> subprocess.CompletedProcess:
    """Run a script to its end; with ``check`` its exit status must be 0 (stderr is shown if not)."""
    proc = subprocess.run(script_command(script, args, nproc), cwd=cwd, env=script_env(), capture_output=True,
                          text=True, timeout=600)
    if check:
        assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


def start_script(script: str, args: Sequence[object]) -> subprocess.Popen:
    """Start a script in the background (for killing it from outside)."""
    return subprocess.Popen(script_command(script, args), env=script_env(), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


def kill_when(proc: subprocess.Popen, ready: Callable[[], bool], delay: float = 0.0,
              timeout: float = 120.0) -> int:
    """SIGKILL ``proc`` ``delay`` seconds after ``ready()`` first holds (polled every 10 ms);
    returns its exit status (``-SIGKILL`` when the kill landed before it finished)."""
    end = time.monotonic() + timeout
    while not ready() and proc.poll() is None and time.monotonic() < end:
        time.sleep(0.01)
    time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    return proc.wait(timeout=60)


def max_abs_diff(a: Mapping[str, torch.Tensor], b: Mapping[str, torch.Tensor]) -> tuple[float, str]:
    """The largest absolute difference between two state dicts with the same keys, and its key."""
    assert a.keys() == b.keys()
    diffs = {k: (a[k].double() - b[k].double()).abs().max().item() if a[k].numel() else 0.0 for k in a}
    key = max(diffs, key=diffs.get)
    return diffs[key], key


def same_weights(a: Mapping[str, torch.Tensor], b: Mapping[str, torch.Tensor]) -> bool:
    """Bit-identical state dicts."""
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
