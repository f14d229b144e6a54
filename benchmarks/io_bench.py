"""Throughput of BVH reading (and joints -> 263-dim features) on real Bandai Namco files.

Usage::

    python benchmarks/io_bench.py [--files N] [--data DIR] [--output FILE]

``DIR`` defaults to ``$MOTIONVIGIL_SHARED_DATA`` or ``../shared/data`` beside the repository
root; the first ``N`` (default 40) files of ``DIR/bandai2/data/*.bvh`` in name order are used.
Prints ONE JSON object with frames per second (best of 3 repeats, ``time.perf_counter``) for:

* ``motionvigil_read_bvh``: our full reader (file read, parse, validation, forward kinematics);
* ``motionvigil_parse_only``: our parser alone (file read, parse, validation; no kinematics);
* ``pypi_bvh_parse``: the PyPI ``bvh`` package, parse only (``Bvh(text)``, then every channel
  value of every frame converted to float), on the same files in the same run;
* ``joints_to_features``: ``to_smpl22`` retargeting then ``joints_to_features`` (263-dim
  HumanML3D features), counted in source BVH frames; ``null`` with the error message when
  those modules are not available yet.

``--output FILE`` also writes the JSON to FILE (atomically; not when no file was found),
for the docs' ``bench-table`` blocks.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from bench_common import write_report

REPO_ROOT = Path(__file__).resolve().parents[1]
REPEATS = 3


def default_data_dir() -> Path:
    """``$MOTIONVIGIL_SHARED_DATA`` or ``../shared/data`` beside the repository root."""
    env = os.environ.get("MOTIONVIGIL_SHARED_DATA")
    return Path(env) if env else REPO_ROOT.parent / "shared" / "data"


def best_time(work: Callable[[], Any], repeats: int = REPEATS) -> float:
    """Shortest wall time of ``repeats`` runs of ``work()``, in seconds."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - start)
    return best


def rate(frames: int, seconds: float) -> dict[str, float]:
    return {"frames_per_s": round(frames / seconds, 1), "seconds": round(seconds, 4)}


def bench_motionvigil(files: list[Path], frames: int) -> dict[str, dict[str, float]]:
    """Our reader with and without forward kinematics."""
    from motionvigil.io.bvh import parse_bvh, read_bvh

    full = best_time(lambda: [read_bvh(f) for f in files])
    parse = best_time(lambda: [parse_bvh(f) for f in files])
    return {"motionvigil_read_bvh": rate(frames, full), "motionvigil_parse_only": rate(frames, parse)}


def bench_pypi_bvh(files: list[Path], frames: int) -> dict[str, Any]:
    """The PyPI ``bvh`` package: parse and read every channel value as a float."""
    try:
        from bvh import Bvh
    except ImportError as exc:
        return {"frames_per_s": None, "error": f"ImportError: {exc}"}

    def parse_all() -> None:
        for f in files:
            parsed = Bvh(f.read_text())
            values = np.asarray(parsed.frames, dtype=np.float64)
            if values.shape[0] != parsed.nframes:
                raise RuntimeError(f"{f}: bvh package read {values.shape[0]} of {parsed.nframes} frames")

    result: dict[str, Any] = rate(frames, best_time(parse_all))
    result["version"] = importlib.metadata.version("bvh")
    return result


def bench_features(files: list[Path], frames: int) -> dict[str, Any]:
    """Retarget to SMPL-22 at 20 Hz, then 263-dim features; null if not implemented yet."""
    try:
        from motionvigil.features.humanml3d import joints_to_features
        from motionvigil.skeleton.retarget import to_smpl22
    except ImportError as exc:
        return {"frames_per_s": None, "error": f"ImportError: {exc}"}
    from motionvigil.io.bvh import read_bvh

    motions = [read_bvh(f) for f in files]  # reading is not part of this timing
    out_frames = 0

    def featurise_all() -> None:
        nonlocal out_frames
        out_frames = 0
        for motion in motions:
            out_frames += int(joints_to_features(to_smpl22(motion).joints).shape[0])

    try:
        seconds = best_time(featurise_all)
    except Exception as exc:  # report, don't crash: the JSON line must still come out
        return {"frames_per_s": None, "error": f"{type(exc).__name__}: {exc}"}
    result: dict[str, Any] = rate(frames, seconds)
    result["feature_frames"] = out_frames
    result["note"] = "frames_per_s counts source BVH frames (30 fps); features are at 20 Hz"
    return result


def environment() -> dict[str, Any]:
    import scipy

    return {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "cpu_count": os.cpu_count(),
        "machine": platform.machine(),
        "platform": platform.platform(),
    }


def count_frames(files: list[Path]) -> int:
    from motionvigil.io.bvh import parse_bvh

    return sum(parse_bvh(f).num_frames for f in files)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=40, help="number of Bandai-2 files (default 40)")
    parser.add_argument("--data", type=Path, default=None, help="shared data folder (default: see module doc)")
    parser.add_argument("--output", type=Path, default=None, help="also write the JSON to this file (atomically)")
    args = parser.parse_args(argv)

    data_dir = args.data if args.data is not None else default_data_dir()
    files = sorted((data_dir / "bandai2" / "data").glob("*.bvh"))[: max(args.files, 0)]
    settings = {"files": args.files, "data": None if args.data is None else str(args.data)}
    report: dict[str, Any] = {"benchmark": "io", "data_dir": str(data_dir), "repeats": REPEATS,
                              "settings": settings}
    if not files:
        report["error"] = f"no Bandai-2 BVH files under {data_dir / 'bandai2' / 'data'}"
        print(json.dumps(report))
        return 2
    frames = count_frames(files)
    report.update(files=len(files), frames=frames)
    report.update(bench_motionvigil(files, frames))
    report["pypi_bvh_parse"] = bench_pypi_bvh(files, frames)
    theirs = report["pypi_bvh_parse"].get("frames_per_s")
    if theirs:
        report["parse_speedup_vs_pypi_bvh"] = round(report["motionvigil_parse_only"]["frames_per_s"] / theirs, 1)
    report["joints_to_features"] = bench_features(files, frames)
    report["environment"] = environment()
    from motionvigil.machine import machine_info

    report["machine"] = machine_info()
    write_report(report, args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
