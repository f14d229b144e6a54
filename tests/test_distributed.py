"""torchrun with 2 CPU processes (gloo) trains like 1 process with the same global batch."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from motionvigil.models import MotionTextModel
from motionvigil.models.bundle import MotionTextBundle

SCRIPT = Path(__file__).with_name("ddp_pretrain_script.py")
TOLERANCE = 1e-4  # max abs weight difference after 2 epochs (float32 reduction order)


def _run(cmd: list[str], cwd: Path) -> None:
    env = dict(os.environ, OMP_NUM_THREADS="1")
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]


@pytest.mark.skipif(shutil.which("torchrun") is None and not (Path(sys.executable).parent / "torchrun").exists(),
                    reason="torchrun not installed")
def test_two_processes_match_one(tmp_path):
    torchrun = str(Path(sys.executable).parent / "torchrun")
    cache = tmp_path / "text"
    _run([sys.executable, str(SCRIPT), str(tmp_path / "one"), str(cache), "8"], tmp_path)
    _run([torchrun, "--standalone", "--nproc_per_node", "2", str(SCRIPT), str(tmp_path / "two"), str(cache), "8"],
         tmp_path)
    one = MotionTextBundle.load(tmp_path / "one" / "last").model.state_dict()
    two = MotionTextBundle.load(tmp_path / "two" / "last").model.state_dict()
    diffs = {k: (one[k] - two[k]).abs().max().item() for k in one}
    worst = max(diffs.values())
    print(f"\n1 vs 2 processes: max abs weight difference {worst:.2e}")
    assert worst < TOLERANCE, sorted(diffs.items(), key=lambda kv: -kv[1])[:3]
    # and training moved the weights away from their (seeded) initialisation: not vacuous
    torch.manual_seed(0)
    start = MotionTextModel(MotionTextBundle.load(tmp_path / "one" / "last").config).state_dict()
    moved = max((start[k] - one[k]).abs().max().item() for k in one)
    assert moved > 100 * TOLERANCE
