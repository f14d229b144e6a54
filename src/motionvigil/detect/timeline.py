"""Offline detection over a whole motion file: the window timeline and its alert segments.

:func:`detect_motion` retargets the motion to SMPL-22 at 20 Hz once, cuts every window
(see :mod:`.windows`), embeds them in batches and scores them. The windows and their
scores are the ones a :class:`~motionvigil.detect.stream.StreamingDetector` fed the
same frames produces (with a violence head, only alerting windows name their class unless
``name="all"``). Alert segments merge overlapping alerting windows. Drawing a
timeline is in :mod:`motionvigil.report.timeline`.

Several persons (docs/persons.md): every body is retargeted once in the shared frame;
per window the persons present in at least :data:`~motionvigil.detect.scene.MIN_PRESENT`
of its frames go to :meth:`Detector.score_scene`, which scores each of them and the
pairs its pair model looks at. The :class:`Timeline` then holds one :class:`Track` per
person and one :class:`PairTrack` per pair; its ``windows`` are, per window, the result
with the highest violence (what a one-line plot shows), and alerts merge per person or
pair. One-person input takes the path it always took (``score_windows``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from motionvigil.detect.detector import Detector
from motionvigil.detect.scene import MIN_PRESENT, by_persons, frames_needed, scene_of, who
from motionvigil.detect.windows import WindowResult, alert_runs, seconds, window_starts
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


@dataclass(frozen=True)
class Track:
    """One person of a multi-person motion: where they were seen (``None`` if never) and
    their windows' results; ``reason`` says why none was scored (``""`` when some were)."""

    id: int
    start_s: float | None
    end_s: float | None
    windows: list[WindowResult]
    reason: str = ""


@dataclass(frozen=True)
class PairTrack:
    """One pair of persons ``(a, b)``, ``a < b``, and the results of its windows."""

    ids: tuple[int, int]
    windows: list[WindowResult]


@dataclass
class Timeline:
    """Every window of one motion with the detector's verdict, and the merged alerts.

    Multi-person input also has ``tracks`` (one per person) and ``pairs``; its
    ``windows`` hold, per window, the highest-violence result of any person or pair."""

    source: str | None
    duration_s: float
    threshold: float
    policy: str
    windows: list[WindowResult]
    alerts: list[AlertSegment] = field(default_factory=list)
    tracks: list[Track] = field(default_factory=list)
    pairs: list[PairTrack] = field(default_factory=list)

    @property
    def multi_person(self) -> bool:
        return bool(self.tracks)


def alert_segments(windows: Sequence[WindowResult], hold_s: float = 0.0) -> list[AlertSegment]:
    """Merge alerting windows into segments: the connected parts of the union of their spans.

    Consecutive alerting windows overlap (the stride is shorter than a window), so a run
    of them becomes one segment from the first window's start to the last one's end.
    Two runs separated by a few quiet windows still merge when their spans overlap or
    touch (or, with ``hold_s``, start within that many seconds of the segment's end: the
    detector's event logic, ``Detector.hold_s``), so one event is not reported twice. A
    segment's class is the violent class
    of its highest-scoring window; ``windows`` counts its alerting windows. Windows of
    different persons or pairs (``persons``) never merge: segments are per key, ordered
    by start time.
    """
    segments = [s for key, group in by_persons([w for w in windows if w.alert]).items()
                for s in _segments(group, key, hold_s)]
    return sorted(segments, key=lambda s: s.start_s)


def _segments(alerting: Sequence[WindowResult], persons: tuple[int, ...], hold_s: float) -> list[AlertSegment]:
    run = sorted(alerting, key=lambda r: r.start_s)
    ends = np.array([r.end_s for r in run])
    segments = []
    for first, last in alert_runs(np.array([r.start_s for r in run]), ends, hold_s):
        best = max(run[first : last + 1], key=lambda r: r.violence)
        segments.append(AlertSegment(run[first].start_s, float(ends[first : last + 1].max()), best.violent_class,
                                     best.violence, last + 1 - first, persons))
    return segments


NAMING = ("alerting", "all", "none")  # which windows the motion encoder names (detect_motion)


def detect_motion(detector: Detector, motion: Motion, batch_size: int = 64, name: str = "alerting") -> Timeline:
    """Score all windows of ``motion`` (any supported layout and frame rate, one or more persons).

    With a violence head the motion encoder only names the class of the windows that
    alert (``name="alerting"``, the cascade, :mod:`.cascade`: the same alerts, most
    encoder work skipped); ``"all"`` embeds every window, so each names its best class;
    ``"none"`` embeds none (violence and alerts only, as calibration needs). Without a
    head every window is embedded, as its violence needs the embedding.

    Raises:
        MotionFileError: the layout has no SMPL-22 mapping or the motion is too short.
        ValueError: ``name`` is not one of :data:`NAMING`.
    """
    if name not in NAMING:
        raise ValueError(f"name must be one of {', '.join(NAMING)}, got {name!r}")
    gate = {"alerting": detector.threshold, "all": None, "none": math.inf}[name]
    if motion.num_persons > 1:
        return _detect_scene(detector, motion, batch_size, gate)
    joints = to_smpl22(motion, canonical=False).joints
    starts = window_starts(len(joints), detector.window, detector.stride)
    windows = [joints[s : s + detector.window] for s in starts]
    results = detector.score_windows(windows, starts, batch_size, gate=gate)
    return Timeline(motion.source, seconds(len(joints)), detector.threshold, detector.policy, results,
                    alert_segments(results, detector.hold_s))


def _detect_scene(detector: Detector, motion: Motion, batch_size: int, gate: float | None) -> Timeline:
    """``detect_motion`` of a multi-person motion: lost bodies are absent (``Motion.without_lost``)."""
    smpl = to_smpl22(motion.without_lost(), canonical=False)
    bodies, present, n = smpl.bodies, smpl.presence, smpl.num_frames
    w = detector.window
    starts = window_starts(n, w, detector.stride)
    scenes = [scene_of(smpl.person_ids, bodies[:, s : s + w], present[:, s : s + w]) for s in starts]
    results = detector.score_scene(starts, scenes, batch_size, gate=gate)
    return scene_timeline(detector, motion.source, smpl.person_ids, present, results)


def scene_timeline(detector: Detector, source: str | None, ids: Sequence[int], present: np.ndarray,
                   results: Sequence[WindowResult]) -> Timeline:
    """The :class:`Timeline` of multi-person ``results`` (from ``score_scene``) of persons
    ``ids`` seen where ``present [P, T]`` (20 Hz) says."""
    groups = by_persons(results)
    n = present.shape[1]
    need = frames_needed(min(detector.window, n))
    tracks = []
    for pid, seen in zip(ids, present):
        frames = np.flatnonzero(seen)
        span = (seconds(int(frames[0])), seconds(int(frames[-1]) + 1)) if len(frames) else (None, None)
        own = groups.get((int(pid),), [])
        reason = "" if own else _unscored(len(frames), need)
        tracks.append(Track(int(pid), span[0], span[1], own, reason))
    pairs = [PairTrack((k[0], k[1]), v) for k, v in sorted(groups.items()) if len(k) == 2]
    per_window: dict[float, WindowResult] = {}
    for r in results:
        if r.start_s not in per_window or r.violence > per_window[r.start_s].violence:
            per_window[r.start_s] = r
    return Timeline(source, seconds(n), detector.threshold, detector.policy, list(per_window.values()),
                    alert_segments(results, detector.hold_s), tracks, pairs)


def _unscored(frames: int, need: int) -> str:
    if frames == 0:
        return "never seen"
    if frames < need:
        return f"seen for {seconds(frames):.2f} s, shorter than the {seconds(need):.2f} s a window needs"
    return f"seen in under {MIN_PRESENT:.0%} of the frames of every window"


def _window_json(w: WindowResult) -> dict[str, Any]:
    return {"start": round(w.start_s, 3), "end": round(w.end_s, 3), "violence": round(w.violence, 6),
            "top_class": w.top_class, "violent_class": w.violent_class, "alert": w.alert}


def timeline_json(timeline: Timeline, file: str | None = None) -> dict[str, Any]:
    """A JSON-ready summary: ``file``, ``duration_s``, ``threshold``, ``policy``,
    ``timeline`` (per window: ``start``, ``end``, ``violence``, ``top_class``,
    ``violent_class``, ``alert``) and ``alerts`` (``start``, ``end``, ``class``,
    ``max_score``, ``windows``). Times in seconds.

    Multi-person input (docs/persons.md): ``timeline`` entries name their ``persons``;
    ``tracks`` ``[{"id", "start", "end", "timeline"}]`` (``"scored": false`` and
    ``"reason"`` for a person never scored), ``pairs`` ``[{"ids": [a, b], "timeline"}]``
    and ``alerts`` ``[{"start", "end", "persons", "class", "score", "windows"}]``."""
    doc: dict[str, Any] = {
        "file": file if file is not None else timeline.source,
        "duration_s": round(timeline.duration_s, 3),
        "threshold": timeline.threshold,
        "policy": timeline.policy,
    }
    if not timeline.multi_person:
        doc["timeline"] = [_window_json(w) for w in timeline.windows]
        doc["alerts"] = [{"start": round(a.start_s, 3), "end": round(a.end_s, 3), "class": a.top_class,
                          "max_score": round(a.max_score, 6), "windows": a.windows} for a in timeline.alerts]
        return doc
    doc["timeline"] = [{**_window_json(w), "persons": list(w.persons)} for w in timeline.windows]
    doc["alerts"] = [{"start": round(a.start_s, 3), "end": round(a.end_s, 3), "persons": list(a.persons),
                      "class": a.top_class, "score": round(a.max_score, 6), "windows": a.windows}
                     for a in timeline.alerts]
    doc["tracks"] = [{"id": t.id, "start": None if t.start_s is None else round(t.start_s, 3),
                      "end": None if t.end_s is None else round(t.end_s, 3),
                      "timeline": [_window_json(w) for w in t.windows],
                      **({"scored": False, "reason": t.reason} if t.reason else {})} for t in timeline.tracks]
    doc["pairs"] = [{"ids": list(p.ids), "timeline": [_window_json(w) for w in p.windows]} for p in timeline.pairs]
    return doc


def format_alerts(timeline: Timeline, file: str) -> str:
    """Human-readable lines: the file, its windows and alerts, one alert per line (naming
    the person or pair for multi-person input, and the persons never scored)."""
    persons = f"{len(timeline.tracks)} persons, " if timeline.multi_person else ""
    head = (f"{file}: {timeline.duration_s:.1f} s, {persons}{len(timeline.windows)} windows, threshold "
            f"{timeline.threshold:.4f} ({timeline.policy}), {len(timeline.alerts)} alert(s)")
    lines = [head] + [f"  {a.start_s:7.2f} - {a.end_s:7.2f} s  {who(a.persons) + '  ' if a.persons else ''}"
                      f"{a.top_class}  (max {a.max_score:.4f})" for a in timeline.alerts]
    lines += [f"  {who((t.id,))}: not scored ({t.reason})" for t in timeline.tracks if t.reason]
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
