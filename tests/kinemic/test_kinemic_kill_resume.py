"""KineMIC prior training and fine-tuning killed with SIGKILL between checkpoints resume
to the same weights and log as an uninterrupted run (CPU, fixed seed, dropout on)."""

from __future__ import annotations

import signal

import pytest

from kill_resume_checks import progress, result_of, run_kill_script

pytestmark = pytest.mark.slow  # subprocesses killed and resumed (make test-fast skips them)

STEPS = 6  # checkpoints after steps 2, 4, 6 (log_every=2)


@pytest.mark.parametrize("kind, work", [("prior", "prior"), ("finetune", "work")])
def test_kinemic_training_sigkill_between_checkpoints_then_resume(tmp_path, kind, work):
    """Killed after step 3 (the checkpoint holds step 2): step 3 is redone from the
    checkpoint's weights, optimiser, scheduler and generator states."""
    straight, killed = tmp_path / "straight", tmp_path / "killed"
    assert run_kill_script(kind, straight, STEPS) == 0
    assert run_kill_script(kind, killed, STEPS, kill_after=3) == -signal.SIGKILL
    assert progress(killed / work / "last")["step"] == 2
    assert run_kill_script(kind, killed, STEPS) == 0
    assert progress(killed / work / "last") == progress(straight / work / "last")
    assert result_of(straight) == result_of(killed)
