"""Cost of the learned violence model's descriptors per window, window by window and in batches.

Usage::

    OMP_NUM_THREADS=1 python benchmarks/descriptor_bench.py [--windows N] [--output FILE]

Windows are 64 frames (3.2 s at 20 Hz) of real motion: the first N (default 256) windows
(stride 10) of UTKinect's long sequences in file order (``$MOTIONVIGIL_SHARED_DATA`` or
``../shared/data``), retargeted to SMPL-22. Prints ONE JSON object with milliseconds per window (best of 3,
``time.perf_counter``) for:

* ``person``: :func:`motionvigil.detect.model.person_matrix` (smoothing, the 24 kinematic
  and 10 strike descriptors) at batches of 1, 8, 64 and N windows;
* ``pair``: :func:`motionvigil.detect.model.pair_matrix` of windows paired with other
  windows (both persons' descriptors and the 13 interaction ones) at the same batch sizes.

A batch of 1 is a window alone (as a stream's single window is scored).

The batched rows equal the window-by-window ones (``max_abs_difference``; tested in
``tests/features/test_features_batches.py``).
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable

import numpy as np
from bench_common import write_report

REPEATS = 3
WINDOW = 64


def best_ms_per_window(fn: Callable[[], object], windows: int) -> float:
    best = float("inf")
    for _ in range(REPEATS):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return round(best / windows * 1e3, 4)


def real_windows(n: int) -> list[np.ndarray]:
    from motionvigil.data_root import default_data_root
    from motionvigil.datasets.registry import load_dataset
    from motionvigil.detect.head_fit import clip_windows

    clips = load_dataset("utkinect", default_data_root() / "utkinect", mode="sequences").clips
    out: list[np.ndarray] = []
    for clip in clips:
        out += [w for w in clip_windows(clip.joints, WINDOW, 10) if len(w) == WINDOW]
        if len(out) >= n:
            break
    return out[:n]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--windows", type=int, default=256)
    parser.add_argument("--output", help="also write the JSON to this file (atomically)")
    args = parser.parse_args()
    from motionvigil.detect.model import pair_matrix, person_matrix

    windows = real_windows(args.windows)
    n = len(windows)
    others = windows[::-1]
    sizes = sorted({b for b in (1, 8, 64) if b < n} | {n})
    person = {str(b): best_ms_per_window(lambda b=b: [person_matrix(windows[i : i + b]) for i in range(0, n, b)], n)
              for b in sizes}
    pair = {str(b): best_ms_per_window(lambda b=b: [pair_matrix(windows[i : i + b], others[i : i + b])
                                                     for i in range(0, n, b)], n) for b in sizes}
    one_by_one = np.concatenate([person_matrix([w]) for w in windows])
    report = {"benchmark": "descriptors", "windows": n, "window_frames": WINDOW,
              "load_average_at_start": [round(v, 2) for v in os.getloadavg()],
              "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
              "ms_per_window": {"person": person, "pair": pair},
              "person_speedup_full_batch": round(person["1"] / person[str(n)], 2),
              "max_abs_difference": float(np.abs(person_matrix(windows) - one_by_one).max())}
    write_report(report, args.output, indent=1)


if __name__ == "__main__":
    main()
