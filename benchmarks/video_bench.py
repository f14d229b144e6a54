"""End-to-end speed of video -> per-person tracks -> detection, with 1, 3 and 6 people.

Usage (in the video venv; ``make bench-video`` runs exactly this)::

    OMP_NUM_THREADS=1 .venv-video/bin/python benchmarks/video_bench.py --output results/bench/video.json

Renders, per count of people, a ``--frames``-frame 640 x 480 video at 20 fps of that many
cartoon people standing in a row and moving their arms (``tests/video_scenes.py``, the
test videos' renderer), then reads it once with ``load_motion`` and times each stage:

* ``decode``: OpenCV decoding and colour conversion;
* ``pose``: MediaPipe Pose for every person (one tracking-mode solution per person, plus
  the search for new persons every ``discover_every`` frames);
* ``tracking``: ByteTrack and the colour models;
* ``assembly``: tracks -> Motion (root translation, gap repair);
* ``detection``: the built-in detector over every person's track (``detect_motion`` on
  each person; the pair scoring of issue 27 is not part of this branch and not timed).

Prints ONE JSON object: per count, the seconds of each stage, end-to-end frames per
second, the CPU seconds the process used (all its threads; on a shared machine this
grows less than the wall time) and frames per CPU second, the persons found against those drawn and the share of frames each was found
in; then, on the test scenes (two people crossing, one striking another, two walking
side by side, five in a row), the persons found against those drawn, the share of frames
each was found in and the share of each track's judged frames on its own person; the
machine's load average at the start (the 2 cores are shared) and the machine block. ``--output FILE`` also writes it to FILE (atomically).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench_common import write_report

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT / "tests"))  # the test videos' renderer


def bench_count(cv2, detector, people: int, frames: int, folder: Path) -> dict[str, Any]:
    from video_scenes import crowd, render

    from motionvigil.detect import detect_motion
    from motionvigil.io import load_motion

    path = folder / f"people_{people}.avi"
    render(cv2, path, crowd(people), frames)
    cpu = time.process_time()
    motion = load_motion(path)
    stages = dict(motion.meta["stage_seconds"])
    start = time.perf_counter()
    windows = sum(len(detect_motion(detector, person).windows) for person in motion.persons())
    stages["detection"] = time.perf_counter() - start
    cpu = time.process_time() - cpu
    total = sum(stages.values())
    return {
        "people": people,
        "frames": frames,
        "persons_found": motion.num_persons,
        "found_share": [round(float(s), 3) for s in motion.presence.mean(axis=1)],
        "unscored_tracks": sum(not t["scored"] for t in motion.meta["tracks"]),
        "detection_windows": windows,
        "seconds": {k: round(v, 3) for k, v in stages.items()},
        "ms_per_frame": {k: round(1000 * v / frames, 1) for k, v in stages.items()},
        "fps": round(frames / total, 2),
        "fps_without_detection": round(frames / (total - stages["detection"]), 2),
        "cpu_seconds": round(cpu, 3),
        "frames_per_cpu_second": round(frames / cpu, 2),
        "bottleneck": max(stages, key=stages.get),
    }


def scene_quality(cv2, name: str, frames: int, folder: Path) -> dict[str, Any]:
    """Persons found against persons drawn on one of the test scenes, and whether each
    track stays on one person (frames where two people's hips are under 120 px apart
    are not judged)."""
    import video_scenes

    from motionvigil.io import load_motion

    scene = {"crossing": video_scenes.crossing, "strike": video_scenes.strike,
             "side_by_side": video_scenes.side_by_side, "five": video_scenes.crowd(5)}[name]
    path = folder / f"{name}.avi"
    people = video_scenes.render(cv2, path, scene, frames)
    motion = load_motion(path)
    seen = video_scenes.owners(motion, people, ambiguous_px=120.0)
    majority = {pid: max(c, key=c.get) for pid, c in seen.items() if c}
    kept = [c[majority[pid]] / sum(c.values()) for pid, c in seen.items() if c]
    return {
        "scene": name,
        "frames": frames,
        "persons_drawn": len(people[0]),
        "persons_found": motion.num_persons,
        "distinct_persons_tracked": len(set(majority.values())),
        "unscored_tracks": sum(not t["scored"] for t in motion.meta["tracks"]),
        "found_share": [round(float(s), 3) for s in motion.presence.mean(axis=1)],
        "min_found_share": round(float(motion.presence.mean(axis=1).min()), 3),
        "min_share_on_own_person": round(min(kept), 3) if kept else None,
    }


SCENES = (("crossing", 60), ("strike", 80), ("side_by_side", 70), ("five", 24))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, nargs="+", default=[1, 3, 6], help="people per video (default 1 3 6)")
    parser.add_argument("--frames", type=int, default=80, help="frames per video at 20 fps (default 80 = 4 s)")
    parser.add_argument("--output", type=Path, default=None, help="also write the JSON to this file (atomically)")
    args = parser.parse_args(argv)

    import cv2

    from motionvigil.detect.builtin import load_builtin_detector
    from motionvigil.machine import machine_info

    report: dict[str, Any] = {"benchmark": "video", "size": [640, 480], "fps_of_video": 20.0,
                              "settings": {"people": args.people, "frames": args.frames},
                              "load_average_at_start": [round(v, 2) for v in os.getloadavg()]}
    detector = load_builtin_detector("cpu")
    with tempfile.TemporaryDirectory() as tmp:
        report["runs"] = [bench_count(cv2, detector, n, args.frames, Path(tmp)) for n in args.people]
        report["scenes"] = {name: scene_quality(cv2, name, frames, Path(tmp)) for name, frames in SCENES}
    report["machine"] = machine_info()
    write_report(report, args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
