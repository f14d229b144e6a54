"""kill -9 of a real ``motionvigil worker`` process mid-run: the other worker takes its
cameras over; no frame is lost and no alert is lost or raised twice.

Runs ``benchmarks/worker_bench.py`` (two worker processes, cameras publishing at 20 Hz,
``--kill-one``) and checks its counts; nothing about its timings.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("redis", reason="the worker extra (redis-py) is not installed")
from motionvigil.serve.redis_server import redis_server_binary  # noqa: E402
from proc_helpers import script_env  # noqa: E402

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "worker_bench.py"


@pytest.mark.slow
@pytest.mark.skipif(redis_server_binary() is None, reason="no redis-server binary (apt-get install redis-server)")
def test_kill_9_of_a_worker_loses_and_duplicates_nothing(tmp_path):
    out = tmp_path / "worker.json"
    src = str(Path(__file__).resolve().parents[2] / "src")
    env = script_env()
    env["PYTHONPATH"] = f"{src}:{env['PYTHONPATH']}"
    proc = subprocess.run([sys.executable, str(BENCH), "--streams", "4", "--seconds", "12", "--workers", "2",
                           "--kill-one", "--no-throughput", "--output", str(out)],
                          env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    res = json.loads(out.read_text())
    assert res["killed_worker_cameras"] > 0, "the killed worker owned no camera: the test proved nothing"
    assert res["all_committed"] and res["frames_sent"] == 4 * 12 * 20
    assert res["frames_lost"] == 0 and res["frames_processed"] == res["frames_sent"]
    assert res["alerts_expected"] > 0
    assert res["alerts_raised"] == res["alerts_expected"] and res["alerts_duplicated"] == 0
    assert res["alert_ends"] == res["alerts_raised"]
    assert res["recovery_s"] is not None
