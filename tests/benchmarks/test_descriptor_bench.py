"""The descriptor benchmark runs on a few real windows and prints one JSON object whose
batched descriptors equal the window-by-window ones."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "descriptor_bench.py"


def test_descriptor_bench_prints_costs_per_batch_size(shared_data, tmp_path):
    out = tmp_path / "d.json"
    env = {**os.environ, "MOTIONVIGIL_SHARED_DATA": str(shared_data), "OMP_NUM_THREADS": "1"}
    run = subprocess.run([sys.executable, str(SCRIPT), "--windows", "12", "--output", str(out)], env=env,
                         capture_output=True, text=True, check=True)
    report = json.loads(run.stdout)
    assert report == json.loads(out.read_text()) and report["windows"] == 12
    assert set(report["ms_per_window"]["person"]) == {"1", "8", "12"} == set(report["ms_per_window"]["pair"])
    assert all(v > 0 for v in report["ms_per_window"]["person"].values())
    assert report["max_abs_difference"] == 0.0
