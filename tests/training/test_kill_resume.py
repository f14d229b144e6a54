"""A training process killed with SIGKILL resumes to the same weights as an uninterrupted
run (CPU, fixed seed): pre-training, meta-training (also under torchrun) and supervised
training."""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path

import pytest
import torch

from motionvigil.models.bundle import MotionTextBundle
from motionvigil.supervised import SupervisedModel
from proc_helpers import kill_when, needs_torchrun, run_script, same_weights, start_script

pytestmark = pytest.mark.slow  # subprocesses killed and resumed (make test-fast skips them)

EPOCHS = 4
META_ITERATIONS = 6  # checkpoints after iterations 2, 4, 6 (val_every=2)
SUPERVISED_EPOCHS = 4


def _run(out: Path, cache: Path, kill_after: int) -> int:
    return run_script("kill_pretrain_script.py", [out, cache, EPOCHS, kill_after], check=False).returncode


def _finetune(mode: str, out: Path, per_rank: int, steps: int, kill_after: int = 0,
              nproc: int | None = None) -> int:
    return run_script("finetune_script.py", [mode, out, per_rank, steps, kill_after], nproc=nproc,
                      check=False).returncode


def _weights(folder: Path) -> dict[str, torch.Tensor]:
    return MotionTextBundle.load(folder).model.state_dict()


def _supervised_weights(folder: Path) -> dict[str, torch.Tensor]:
    model = SupervisedModel.load(folder)
    return {**model.bundle.model.state_dict(), **model.head_tensors()}


def _progress(folder: Path) -> dict:
    return json.loads((folder / "config.json").read_text())["progress"]


def test_sigkill_after_an_epoch_then_resume(tmp_path):
    cache = tmp_path / "text"
    assert _run(tmp_path / "straight", cache, kill_after=0) == 0
    assert _run(tmp_path / "killed", cache, kill_after=2) == -signal.SIGKILL
    assert _run(tmp_path / "killed", cache, kill_after=0) == 0  # resumes from last/
    assert same_weights(_weights(tmp_path / "straight" / "last"), _weights(tmp_path / "killed" / "last"))
    assert same_weights(_weights(tmp_path / "straight" / "best"), _weights(tmp_path / "killed" / "best"))


def test_sigkill_at_arbitrary_moments_then_resume(tmp_path):
    """Kill from outside at several wall-clock moments (mid-epoch or mid-save); every
    restart must load its checkpoint and the run must end like an uninterrupted one."""
    cache = tmp_path / "text"
    assert _run(tmp_path / "straight", cache, kill_after=0) == 0
    out = tmp_path / "killed"
    for delay in (3.0, 4.0, 5.5):
        proc = start_script("kill_pretrain_script.py", [out, cache, EPOCHS, 0])
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
    assert _run(out, cache, kill_after=0) == 0
    assert same_weights(_weights(tmp_path / "straight" / "last"), _weights(out / "last"))


def test_meta_training_sigkill_between_checkpoints_then_resume(tmp_path):
    """Killed after iteration 3 (the checkpoint holds iteration 2), then after iteration 5
    of the resumed run: iterations 3 and 5 are redone from the checkpoints' weights, Adam
    state and episode seeds, and the run ends bit-identical to an uninterrupted one."""
    straight, killed = tmp_path / "straight", tmp_path / "killed"
    assert _finetune("meta", straight, 2, META_ITERATIONS) == 0
    assert _finetune("meta", killed, 2, META_ITERATIONS, kill_after=3) == -signal.SIGKILL
    assert _progress(killed / "last")["iteration"] == 2
    assert not same_weights(_weights(straight / "last"), _weights(killed / "last"))
    assert _finetune("meta", killed, 2, META_ITERATIONS, kill_after=5) == -signal.SIGKILL
    assert _progress(killed / "last")["iteration"] == 4
    assert _finetune("meta", killed, 2, META_ITERATIONS) == 0
    assert _progress(killed / "last") == _progress(straight / "last")
    assert same_weights(_weights(straight / "last"), _weights(killed / "last"))
    assert same_weights(_weights(straight / "best"), _weights(killed / "best"))


@needs_torchrun
def test_meta_training_under_torchrun_sigkill_then_resume(tmp_path):
    """Both ranks die by SIGKILL after iteration 3; the restarted 2-process run reads rank
    0's checkpoint and ends like an uninterrupted 2-process run."""
    straight, killed = tmp_path / "straight", tmp_path / "killed"
    assert _finetune("meta", straight, 1, META_ITERATIONS, nproc=2) == 0
    assert _finetune("meta", killed, 1, META_ITERATIONS, kill_after=3, nproc=2) != 0
    assert _progress(killed / "last")["iteration"] == 2
    assert _finetune("meta", killed, 1, META_ITERATIONS, nproc=2) == 0
    assert same_weights(_weights(straight / "last"), _weights(killed / "last"))
    assert same_weights(_weights(straight / "best"), _weights(killed / "best"))


def test_supervised_sigkill_then_resume(tmp_path):
    """Killed after epoch 1, and the resumed run killed again after epoch 3: weights, head,
    optimizer-driven updates and the epoch log end as in an uninterrupted run."""
    straight, killed = tmp_path / "straight", tmp_path / "killed"
    assert _finetune("supervised", straight, 8, SUPERVISED_EPOCHS) == 0
    assert _finetune("supervised", killed, 8, SUPERVISED_EPOCHS, kill_after=1) == -signal.SIGKILL
    assert _progress(killed / "last")["epoch"] == 1
    assert _finetune("supervised", killed, 8, SUPERVISED_EPOCHS, kill_after=3) == -signal.SIGKILL
    assert _progress(killed / "last")["epoch"] == 3
    assert _finetune("supervised", killed, 8, SUPERVISED_EPOCHS) == 0
    assert _progress(killed / "last") == _progress(straight / "last")
    assert same_weights(_supervised_weights(straight / "last"), _supervised_weights(killed / "last"))
    assert same_weights(_supervised_weights(straight / "best"), _supervised_weights(killed / "best"))
    assert (straight / "log.jsonl").read_text() == (killed / "log.jsonl").read_text()


def test_supervised_sigkill_mid_epoch_then_resume(tmp_path):
    """Killed from outside while an epoch (or the save that ends it) is under way: right
    after the 1st, then 0.1 s after the 2nd epoch's log line has appeared."""
    straight, killed = tmp_path / "straight", tmp_path / "killed"
    assert _finetune("supervised", straight, 8, SUPERVISED_EPOCHS) == 0
    log = killed / "log.jsonl"
    for logged, delay in ((1, 0.0), (2, 0.1)):
        proc = start_script("finetune_script.py", ["supervised", killed, 8, SUPERVISED_EPOCHS])
        ready = lambda: log.is_file() and len(log.read_text().splitlines()) >= logged  # noqa: E731
        assert kill_when(proc, ready, delay) == -signal.SIGKILL
        assert _progress(killed / "last")["epoch"] < SUPERVISED_EPOCHS
    assert _finetune("supervised", killed, 8, SUPERVISED_EPOCHS) == 0
    assert same_weights(_supervised_weights(straight / "last"), _supervised_weights(killed / "last"))
    assert (straight / "log.jsonl").read_text() == (killed / "log.jsonl").read_text()
