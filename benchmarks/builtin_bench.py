"""Built-in detector, end to end from the command line: prints one JSON object.

Builds a 60 s BVH from a real Bandai-2 take (its motion repeated; the file is written
to a temporary folder and removed) and times ``motionvigil detect FILE --json`` as a
fresh process: Python start, imports, verifying and loading the built-in detector,
reading and retargeting the file, and scoring every window. Issue 17's target: under
10 s on 2 cores.

Usage: python benchmarks/builtin_bench.py [--seconds 60] [--repeats 3] [--bvh FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from motionvigil.data_root import default_data_root

SAMPLE = "bandai2/data/dataset-2_wave-left-hand_elderly_001.bvh"


def long_bvh(source: Path, seconds: float, out: Path) -> int:
    """Write ``source`` with its motion lines repeated to ``seconds``; returns the frame count."""
    head, _, motion = source.read_text().partition("MOTION")
    lines = motion.strip().splitlines()
    frame_time = float(lines[1].split(":")[1])
    frames = [ln for ln in lines[2:] if ln.strip()]
    n = int(round(seconds / frame_time))
    body = [frames[i % len(frames)] for i in range(n)]
    out.write_text(f"{head}MOTION\nFrames:\t{n}\nFrame Time:\t{frame_time}\n" + "\n".join(body) + "\n")
    return n


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seconds", type=float, default=60.0)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--bvh", help="source BVH (default: a Bandai-2 take under the shared data root)")
    args = p.parse_args()
    source = Path(args.bvh) if args.bvh else default_data_root() / SAMPLE
    exe = [sys.executable, "-m", "motionvigil.cli"]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "long.bvh"
        frames = long_bvh(source, args.seconds, path)
        times, alerts = [], None
        for _ in range(args.repeats):
            start = time.perf_counter()
            run = subprocess.run([*exe, "detect", str(path), "--json"], capture_output=True, text=True, check=True)
            times.append(time.perf_counter() - start)
            alerts = len(json.loads(run.stdout.splitlines()[-1])["alerts"])
    print(json.dumps({
        "file_seconds": args.seconds, "file_frames": frames, "source": source.name,
        "wall_s": times, "best_wall_s": min(times), "target_s": 10.0, "alerts": alerts,
        "cpu": platform.processor() or platform.machine(), "cores": os.cpu_count(),
    }, indent=1))


if __name__ == "__main__":
    main()
