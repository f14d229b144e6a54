"""Probe fine-tuning killed with SIGKILL resumes from its work folder to the same weights
and report as an uninterrupted run (CPU, fixed seed)."""

from __future__ import annotations

import signal

import pytest

from kill_resume_checks import progress, result_of, run_kill_script

pytestmark = pytest.mark.slow  # subprocesses killed and resumed (make test-fast skips them)

EPOCHS = 4


def test_probe_finetuning_sigkill_then_resume(tmp_path):
    straight, killed = tmp_path / "straight", tmp_path / "killed"
    assert run_kill_script("probe", straight, EPOCHS) == 0
    assert run_kill_script("probe", killed, EPOCHS, kill_after=2) == -signal.SIGKILL
    assert progress(killed / "work" / "last")["epoch"] == 2
    assert run_kill_script("probe", killed, EPOCHS) == 0
    assert progress(killed / "work" / "last") == progress(straight / "work" / "last")
    assert result_of(straight) == result_of(killed)
    assert result_of(straight)[0]["best_epoch"] >= 1
