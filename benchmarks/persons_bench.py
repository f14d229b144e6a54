"""Several persons, speed and memory: prints one JSON object.

- ``builtin_cli``: ``motionvigil detect FILE --json`` as a fresh process (Python start,
  imports, loading the built-in detector, reading, retargeting, scoring) on a 60 s
  two-person Kinect file: two real UTKinect recordings put side by side on one clock,
  the second walking in after 5 s (issue 27's target: under 5 s);
- ``offline``: ``detect_motion`` on that file with the built-in detector, best of
  ``--repeats``: person windows scored per second;
- ``stream``: the same recording pushed one 30 Hz frame at a time to a
  ``StreamingDetector`` (both persons per push): latency per push next to the frame period;
- ``live_batch``: a batch of two-person scenes (one window of each of ``BATCH`` cameras,
  cut from the file by a ``StreamingDetector``), scored as ``serve`` and ``worker`` score a
  batch, with the cascade: one ``score_scene`` call per camera (before) against one
  ``score_scenes`` call for the whole batch, best of ``--repeats``;
- ``churn``: 10 min of a stream where a new person walks in every 2 s and stays 4 s
  (300 persons in all), windows cut but not scored: the most persons followed at once and
  the most 20 Hz frames buffered per person, which must not grow with the stream.

Usage: OMP_NUM_THREADS=1 python benchmarks/persons_bench.py [--seconds 60] [--repeats 3] [--output FILE]
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from bench_common import stream_args, torch_environment, write_report

from motionvigil.data_root import default_data_root
from motionvigil.detect import StreamingDetector, detect_motion
from motionvigil.detect.builtin import load_builtin_detector
from motionvigil.io import SMPL22, Motion, load_motion
from motionvigil.io.arrays import save_npz

FILES = ("utkinect/joints/joints_s01_e01.txt", "utkinect/joints/joints_s02_e02.txt")


def two_persons(seconds: float) -> Motion:
    """Two real UTKinect recordings (looped to ``seconds``) side by side; the second appears after 5 s."""
    a, b = (load_motion(default_data_root() / f) for f in FILES)
    n = int(seconds * a.fps)
    bodies = np.stack([np.resize(m.joints, (n,) + m.joints.shape[1:]) for m in (a, b)])
    bodies[1] += np.float32([1.0, 0.0, 0.0])
    present = np.ones((2, n), bool)
    present[1, : int(5 * a.fps)] = False
    return Motion.from_bodies(bodies, a.fps, a.layout, person_ids=(0, 1), present=present, source="two.npz")


BATCH = 32  # cameras whose scenes one live batch holds


class _Cutter:
    """Stands in for a detector: cuts windows, scores nothing (as serve's collector does);
    keeps the last ``keep`` scenes of two persons or more."""

    window, stride = 64, 10

    def __init__(self, keep: int = 0):
        self.scenes: list[tuple[int, dict]] = []
        self.keep = keep

    def score_scene(self, starts, scenes):
        if self.keep:
            self.scenes = (self.scenes + [(s, sc) for s, sc in zip(starts, scenes) if len(sc) >= 2])[-self.keep :]
        return []


def live_batch(detector, motion: Motion, repeats: int) -> dict:
    from motionvigil.serve.fastpath import BatchScorer

    cutter = _Cutter(BATCH)
    stream = StreamingDetector(cutter)  # type: ignore[arg-type]
    stream.push(np.moveaxis(motion.bodies, 0, 1), motion.layout, motion.fps, ids=[0, 1])
    starts, scenes = [s for s, _ in cutter.scenes], [sc for _, sc in cutter.scenes]
    scorer = BatchScorer(detector, cascade=True)  # what serve and worker score a batch with
    one, batched = float("inf"), float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        for s, sc in zip(starts, scenes):
            scorer.cascade.score_scenes([s], [sc])
        one = min(one, time.perf_counter() - t)
        t = time.perf_counter()
        scorer.score_windows(scenes, starts)
        batched = min(batched, time.perf_counter() - t)
    counts = scorer.cascade.counts
    return {"scenes": len(scenes), "persons_per_scene": 2, "one_call_per_scene_ms": round(one * 1e3, 2),
            "one_call_per_batch_ms": round(batched * 1e3, 2), "speedup": round(one / batched, 2),
            "scenes_per_s_batched": round(len(scenes) / batched, 1),
            "encoder_share_of_person_windows": round(counts.embedded / max(counts.windows, 1), 3)}


def churn(minutes: float) -> dict:
    stream = StreamingDetector(_Cutter())  # type: ignore[arg-type]
    rng = np.random.default_rng(0)
    body = rng.normal(size=(22, 3)).astype(np.float32)
    most_persons = most_frames = 0
    pushes = int(minutes * 60 * 2)  # 10 frames (0.5 s) per push
    for k in range(pushes):
        ids = [i for i in range(max(0, k // 4 - 2), k // 4 + 1)]  # person i walks in at 2 i s, stays 4 s
        frames = body + rng.normal(scale=0.01, size=(10, len(ids), 22, 3)).astype(np.float32)
        stream.push(frames, SMPL22, 20.0, ids=ids)
        most_persons = max(most_persons, len(stream.persons))
        most_frames = max(most_frames, stream.buffered_frames)
    return {"stream_minutes": minutes, "persons_seen": pushes // 4 + 1, "most_persons_followed": most_persons,
            "most_frames_buffered_per_person": most_frames, "window_frames": _Cutter.window}


def main() -> None:
    args = stream_args(__doc__.splitlines()[0])
    motion = two_persons(args.seconds)
    detector = load_builtin_detector()
    result: dict = {"benchmark": "persons", "file_seconds": args.seconds, "persons": 2, "fps": motion.fps,
                    "layout": motion.layout.name, "sources": list(FILES),
                    "load_average_at_start": [round(v, 2) for v in os.getloadavg()]}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "two.npz"
        save_npz(path, motion)
        walls = []
        for _ in range(args.repeats):
            t = time.perf_counter()
            run = subprocess.run([sys.executable, "-m", "motionvigil.cli", "detect", str(path), "--json"],
                                 capture_output=True, text=True, check=True)
            walls.append(time.perf_counter() - t)
        doc = json.loads(run.stdout.splitlines()[-1])
    result["builtin_cli"] = {"wall_s": [round(w, 3) for w in walls], "best_wall_s": round(min(walls), 3),
                             "target_s": 5.0, "tracks": len(doc["tracks"]), "alerts": len(doc["alerts"])}
    best, windows = float("inf"), 0
    for _ in range(args.repeats):
        t = time.perf_counter()
        timeline = detect_motion(detector, motion)
        best = min(best, time.perf_counter() - t)
        windows = sum(len(track.windows) for track in timeline.tracks)
    result["offline"] = {"seconds_best": round(best, 3), "person_windows": windows,
                         "person_windows_per_s": round(windows / best, 1)}
    stream, times = StreamingDetector(detector), []
    for i in range(motion.num_frames):
        seen = [p for p in range(2) if motion.presence[p, i]]
        t = time.perf_counter()
        stream.push(motion.bodies[seen, i][None], motion.layout, motion.fps, ids=seen)
        times.append(time.perf_counter() - t)
    ms = np.array(times) * 1e3
    result["stream"] = {"pushes": len(ms), "latency_ms_mean": round(float(ms.mean()), 3),
                        "latency_ms_p95": round(float(np.percentile(ms, 95)), 3),
                        "latency_ms_max": round(float(ms.max()), 3), "frame_period_ms": round(1e3 / motion.fps, 3)}
    result["live_batch"] = live_batch(detector, motion, args.repeats)
    result["churn"] = churn(10.0)
    result.update(torch_environment({"seconds": args.seconds, "repeats": args.repeats}))
    write_report(result, args.output, indent=2)


if __name__ == "__main__":
    main()
