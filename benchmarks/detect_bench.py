"""Detection speed benchmark: prints one JSON object.

Measures, with the ``tiny`` preset (randomly initialised: speed does not depend on the
weights) and the default windows (64 frames every 10 frames at 20 Hz):

- streaming: 60 s of synthetic motion pushed one frame at a time at 20 Hz (SMPL-22) and
  at 30 Hz (the same motion in the Kinect SDK layout): latency of each ``push`` (mean,
  median, p95, max, and the mean over the pushes that completed a window), next to the
  frame period it has to beat;
- offline: ``detect_motion`` over the same 60 s (batched embedding): seconds of motion
  processed per second.

Usage: OMP_NUM_THREADS=1 python benchmarks/detect_bench.py [--seconds 60] [--repeats 3] [--output FILE]
(``--output``: also write the JSON to FILE, atomically, for the docs' ``bench-table`` blocks.)
"""

from __future__ import annotations

import time

import numpy as np
import torch
from bench_common import stream_args, torch_environment, write_report

from motionvigil.datasets.synthetic import ACTION_NAMES, generate_corpus, generate_sequence
from motionvigil.detect import Detector, StreamingDetector, detect_motion
from motionvigil.io import KINECT_SDK, SMPL22, Motion
from motionvigil.models import MotionTextModel, preset
from motionvigil.models.bundle import MotionTextBundle
from motionvigil.models.inputs import MotionInputs
from motionvigil.skeleton.resample import resample_joints
from motionvigil.datasets.synthetic.sensors import as_kinect_sdk

CLASSES = ("kick", "punch", "hit", "walk", "wave", "clap", "jump", "run")


def long_motion(seconds: float, seed: int = 0) -> np.ndarray:
    """SMPL-22 joints at 20 Hz: one synthetic multi-action sequence at least ``seconds`` long."""
    rng = np.random.default_rng(seed)
    names = [n for n in ACTION_NAMES if n not in ("sit down", "stand up")]
    actions = [names[i % len(names)] for i in rng.permutation(len(names))]
    actions = (actions * (1 + int(seconds // 60)))[: max(2, int(seconds / 2.5))]
    joints = generate_sequence(rng, actions=actions).joints
    if len(joints) < seconds * 20:
        raise RuntimeError("synthetic sequence too short; raise the action count")
    return joints[: int(seconds * 20)]


def stream_latency(detector: Detector, frames: np.ndarray, layout, fps: float, repeats: int) -> dict:
    stream = StreamingDetector(detector)
    for frame in frames[:80]:  # warm-up (first torch calls)
        stream.push(frame, layout, fps)
    times, scored = [], []
    for _ in range(repeats):
        stream.reset()
        for frame in frames:
            t = time.perf_counter()
            out = stream.push(frame, layout, fps)
            times.append(time.perf_counter() - t)
            scored.append(bool(out))
    ms = np.array(times) * 1e3
    period = 1e3 / fps
    return {
        "layout": layout.name, "fps": fps, "frames_per_run": len(frames), "runs": repeats,
        "latency_ms_mean": round(float(ms.mean()), 4), "latency_ms_p50": round(float(np.median(ms)), 4),
        "latency_ms_p95": round(float(np.percentile(ms, 95)), 4), "latency_ms_max": round(float(ms.max()), 4),
        "latency_ms_window_push_mean": round(float(ms[np.array(scored)].mean()), 4),
        "windows_per_run": int(sum(scored)) // repeats,
        "frame_period_ms": round(period, 3),
        "headroom_mean": round(period / float(ms.mean()), 1),
    }  # fmt: skip


def offline_throughput(detector: Detector, joints: np.ndarray, repeats: int) -> dict:
    motion = Motion(joints, 20.0, SMPL22)
    detect_motion(detector, motion)  # warm-up
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        timeline = detect_motion(detector, motion)
        best = min(best, time.perf_counter() - t)
    return {"motion_s": motion.duration, "windows": len(timeline.windows), "seconds_best": round(best, 4),
            "motion_s_per_s": round(motion.duration / best, 1)}


def main() -> None:
    args = stream_args(__doc__.splitlines()[0])

    corpus = generate_corpus(4, seed=0, num_sequences=0, classes=CLASSES)
    torch.manual_seed(0)
    bundle = MotionTextBundle(MotionTextModel(preset("tiny")), MotionInputs.fit("tmr", corpus.clips, 64))
    detector = Detector.build(bundle, corpus.clips, CLASSES)
    joints = long_motion(args.seconds)
    kinect = as_kinect_sdk(resample_joints(joints, 20.0, 30.0))
    result = {
        "benchmark": "detect",
        "preset": "tiny",
        "encoder": "tmr",
        "window_frames": detector.window,
        "stride_frames": detector.stride,
        "classes": len(CLASSES),
        "stream_smpl22_20hz": stream_latency(detector, joints, SMPL22, 20.0, args.repeats),
        "stream_kinect_30hz": stream_latency(detector, kinect, KINECT_SDK, 30.0, args.repeats),
        "offline": offline_throughput(detector, joints, args.repeats),
        **torch_environment({"seconds": args.seconds, "repeats": args.repeats}),
    }
    write_report(result, args.output, indent=2)


if __name__ == "__main__":
    main()
