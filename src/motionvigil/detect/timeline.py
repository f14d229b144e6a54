"""Offline detection over a whole motion file: the window timeline and its alert segments.

:func:`detect_motion` retargets the motion to SMPL-22 at 20 Hz once, cuts every window
(see :mod:`.windows`), embeds them in batches and scores them. The windows and their
scores are the ones a :class:`~motionvigil.detect.stream.StreamingDetector` fed the
same frames produces. Alert segments merge overlapping alerting windows. Drawing a
timeline is in :mod:`motionvigil.report.timeline`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from motionvigil.detect.detector import Detector
from motionvigil.detect.windows import WindowResult, seconds, window_starts
from motionvigil.io.motion import Motion
from motionvigil.skeleton.retarget import to_smpl22


@dataclass(frozen=True)
class AlertSegment:
    """A run of consecutive alerting windows: ``[start_s, end_s)``, the violent class
    with the highest score in it and that score."""

    start_s: float
    end_s: float
    top_class: str
    max_score: float
    windows: int
    persons: tuple[int, ...] = ()  # as WindowResult.persons: () one-person input, (id,) or (a, b)


@dataclass
class Timeline:
    """Every window of one motion with the detector's verdict, and the merged alerts."""

    source: str | None
    duration_s: float
    threshold: float
    policy: str
    windows: list[WindowResult]
    alerts: list[AlertSegment] = field(default_factory=list)


def alert_segments(windows: Sequence[WindowResult]) -> list[AlertSegment]:
    """Merge alerting windows into segments: the connected parts of the union of their spans.

    Consecutive alerting windows overlap (the stride is shorter than a window), so a run
    of them becomes one segment from the first window's start to the last one's end.
    Two runs separated by a few quiet windows still merge when their spans overlap or
    touch, so one event is not reported twice. A segment's class is the violent class
    of its highest-scoring window; ``windows`` counts its alerting windows.
    """
    segments: list[AlertSegment] = []
    run: list[WindowResult] = []
    end = -np.inf

    def close() -> None:
        if run:
            best = max(run, key=lambda r: r.violence)
            segments.append(AlertSegment(run[0].start_s, end, best.violent_class, best.violence, len(run)))
            run.clear()

    for result in sorted((w for w in windows if w.alert), key=lambda r: r.start_s):
        if run and result.start_s > end + 1e-9:
            close()
        end = max(end, result.end_s) if run else result.end_s
        run.append(result)
    close()
    return segments


def detect_motion(detector: Detector, motion: Motion, batch_size: int = 64) -> Timeline:
    """Score all windows of ``motion`` (any supported layout and frame rate).

    Raises:
        MotionFileError: the layout has no SMPL-22 mapping or the motion is too short.
    """
    joints = to_smpl22(motion, canonical=False).joints
    starts = window_starts(len(joints), detector.window, detector.stride)
    windows = [joints[s : s + detector.window] for s in starts]
    results = detector.score_windows(windows, starts, batch_size)
    return Timeline(motion.source, seconds(len(joints)), detector.threshold, detector.policy, results,
                    alert_segments(results))


def timeline_json(timeline: Timeline, file: str | None = None) -> dict[str, Any]:
    """A JSON-ready summary: ``file``, ``duration_s``, ``threshold``, ``policy``,
    ``timeline`` (per window: ``start``, ``end``, ``violence``, ``top_class``,
    ``violent_class``, ``alert``) and ``alerts`` (``start``, ``end``, ``class``,
    ``max_score``, ``windows``). Times in seconds."""
    return {
        "file": file if file is not None else timeline.source,
        "duration_s": round(timeline.duration_s, 3),
        "threshold": timeline.threshold,
        "policy": timeline.policy,
        "timeline": [
            {"start": round(w.start_s, 3), "end": round(w.end_s, 3), "violence": round(w.violence, 6),
             "top_class": w.top_class, "violent_class": w.violent_class, "alert": w.alert}
            for w in timeline.windows
        ],
        "alerts": [
            {"start": round(a.start_s, 3), "end": round(a.end_s, 3), "class": a.top_class,
             "max_score": round(a.max_score, 6), "windows": a.windows}
            for a in timeline.alerts
        ],
    }


def format_alerts(timeline: Timeline, file: str) -> str:
    """Human-readable lines: the file, its windows and alerts, one alert per line."""
    head = (f"{file}: {timeline.duration_s:.1f} s, {len(timeline.windows)} windows, threshold "
            f"{timeline.threshold:.4f} ({timeline.policy}), {len(timeline.alerts)} alert(s)")
    lines = [head] + [f"  {a.start_s:7.2f} - {a.end_s:7.2f} s  {a.top_class}  (max {a.max_score:.4f})"
                      for a in timeline.alerts]
    return "\n".join(lines)


def plot_name(file: str | Path, taken: set[str]) -> str:
    """``walk.npz`` -> ``walk.png``; ``walk-2.png`` etc. if that name is already in ``taken`` (updated)."""
    stem = Path(file).stem or "motion"
    name, n = f"{stem}.png", 1
    while name in taken:
        n += 1
        name = f"{stem}-{n}.png"
    taken.add(name)
    return name
