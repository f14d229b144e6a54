"""Site calibration: a detector's threshold re-set on calm motion recorded where it will
run (``motionvigil calibrate``).

A detector's threshold is set on the calm motion of its training sources. On a sensor,
a room or people it never saw, scores can sit lower or higher as a whole, so neither
its recall nor its false-alert rate carries over exactly (docs/detection.md measures
both). Minutes of ordinary activity recorded at the site fix that without a single
violent example: each recording is scanned exactly as ``detect`` scans it (every person
and every close pair, the same windows), and the new threshold is the lowest at which
the recordings together raise at most ``alerts_per_min`` alerts per minute, with the
detector's own hold. Only the threshold changes: the model, the hold, the windows and
the classes stay. The detection study's ``site_calibrated`` protocol measures what
this gives on sources the detector never saw.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence

import numpy as np
from tqdm import tqdm

from motionvigil.detect.detector import Detector
from motionvigil.detect.head_fit import DEFAULT_ALERTS_PER_MIN, CalmScan, alert_rate_threshold
from motionvigil.detect.timeline import detect_motion
from motionvigil.detect.windows import FPS
from motionvigil.io.motion import Motion


def recording_scans(detector: Detector, motion: Motion) -> tuple[list[CalmScan], float]:
    """One scan per person and per close pair of ``motion`` (one for a one-person motion),
    as ``detect`` scores them (without naming classes), and the recording's minutes."""
    timeline = detect_motion(detector, motion, name="none")
    frames = int(round(timeline.duration_s * FPS))
    keyed = ([t.windows for t in timeline.tracks] + [p.windows for p in timeline.pairs]
             if timeline.multi_person else [timeline.windows])
    scans = [CalmScan(np.array([w.violence for w in ws]), np.array([int(round(w.start_s * FPS)) for w in ws]), frames)
             for ws in keyed if ws]
    return scans, timeline.duration_s / 60.0


def calibrate_site(detector: Detector, motions: Sequence[Motion], alerts_per_min: float = DEFAULT_ALERTS_PER_MIN,
                   names: Sequence[str] = (), progress: bool = False) -> Detector:
    """A copy of ``detector`` whose threshold keeps the calm ``motions`` at
    ``alerts_per_min`` alerts per minute (module doc); ``calibration["site"]`` says how.
    ``progress`` shows a bar (stderr) over the recordings.

    Raises:
        ValueError: no window could be scored in ``motions``, or a non-positive budget.
    """
    if not alerts_per_min > 0:
        raise ValueError(f"alerts per minute must be positive, got {alerts_per_min}")
    scans, minutes = [], 0.0
    for motion in tqdm(motions, desc="scanning calm recordings", unit="file", disable=not progress):
        mine, m = recording_scans(detector, motion)
        scans += mine
        minutes += m
    if not scans:
        raise ValueError("no window of the calm recordings could be scored (each needs a person seen for a window)")
    threshold, rate = alert_rate_threshold(scans, detector.window, alerts_per_min, FPS,
                                           int(round(detector.hold_s * FPS)), minutes)
    site = copy.copy(detector)
    site.threshold, site.policy = threshold, f"site alerts_per_min={alerts_per_min:g}"
    site.calibration = {**detector.calibration, "site": {
        "recordings": len(motions), "minutes": minutes, "alerts_per_min": rate, "budget_per_min": alerts_per_min,
        "threshold_before": detector.threshold, "policy_before": detector.policy, "files": list(names),
        "rule": "lowest threshold at which the site's calm recordings raise at most the budget, scanned as "
                "detect scans them (persons and close pairs), with the detector's hold"}}
    return site
