"""A pre-training process killed with SIGKILL resumes to the same weights as an
uninterrupted run (CPU, fixed seed)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import torch

from motionvigil.models.bundle import MotionTextBundle

SCRIPT = Path(__file__).with_name("kill_pretrain_script.py")
EPOCHS = 4


def _run(out: Path, cache: Path, kill_after: int) -> int:
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(SCRIPT.parent))
    proc = subprocess.run([sys.executable, str(SCRIPT), str(out), str(cache), str(EPOCHS), str(kill_after)],
                          env=env, capture_output=True, text=True, timeout=600)
    return proc.returncode


def _weights(folder: Path) -> dict[str, torch.Tensor]:
    return MotionTextBundle.load(folder).model.state_dict()


def _same(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> bool:
    return all(torch.equal(a[k], b[k]) for k in a)


def test_sigkill_after_an_epoch_then_resume(tmp_path):
    cache = tmp_path / "text"
    assert _run(tmp_path / "straight", cache, kill_after=0) == 0
    assert _run(tmp_path / "killed", cache, kill_after=2) == -signal.SIGKILL
    assert _run(tmp_path / "killed", cache, kill_after=0) == 0  # resumes from last/
    assert _same(_weights(tmp_path / "straight" / "last"), _weights(tmp_path / "killed" / "last"))
    assert _same(_weights(tmp_path / "straight" / "best"), _weights(tmp_path / "killed" / "best"))


def test_sigkill_at_arbitrary_moments_then_resume(tmp_path):
    """Kill from outside at several wall-clock moments (mid-epoch or mid-save); every
    restart must load its checkpoint and the run must end like an uninterrupted one."""
    cache = tmp_path / "text"
    assert _run(tmp_path / "straight", cache, kill_after=0) == 0
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(SCRIPT.parent))
    out = tmp_path / "killed"
    for delay in (3.0, 4.0, 5.5):
        proc = subprocess.Popen([sys.executable, str(SCRIPT), str(out), str(cache), str(EPOCHS), "0"], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
    assert _run(out, cache, kill_after=0) == 0
    assert _same(_weights(tmp_path / "straight" / "last"), _weights(out / "last"))
