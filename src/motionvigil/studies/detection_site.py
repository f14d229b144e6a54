"""The detection study's ``site_calibrated`` protocol: the operating point a deployer
sets at a new site from calm motion recorded there (``motionvigil calibrate``).

The default threshold is set on calm motion of the training sources; on a source it
never saw, scores can sit lower or higher as a whole (another sensor, other people,
another way of performing), so recall and false alerts at that threshold do not
transfer (the ``loso_*`` rows). Here, for each held-out source with violent clips, the
detector trained without it (the ``loso_*`` one, untouched) is **re-thresholded on that
source's training-split calm motion** (other subjects or participants than its test
clips), at the same false-alert budget and hold. Its test clips are then scored at that
threshold, and its test-split calm motion, which the calibration never saw, gives the
false alerts per minute. No violent clip of the source is used to set anything.

The ``ceiling`` block is not an operating point but a diagnosis: for each held-out
source, the lowest threshold at which **its own** calm motion (every split) raises at most
:data:`CEILING_ALERTS_PER_MIN` alerts per minute, chosen on that test data, and the share
of its violent test clips that alert there. No threshold set without the source's data can
do better, so it tells a gap in ranking (this bound is low too) from a gap in thresholding
(the bound is high, the default operating point low).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from motionvigil.datasets.sequences import stitch
from motionvigil.detect.head_fit import CalmScan, alert_rate_threshold, count_alerts, scan
from motionvigil.studies.detection import FPS, PAIR_SOURCE, STRIDE, DetectionSettings, Scorer, StudyData, \
    clip_metrics


def scene_scores(scorer: Scorer, scenes: Sequence[Any]) -> np.ndarray:
    """Each two-person scene's highest window score (both persons and the pair)."""
    return np.array([scorer.scene_scan(p.motion.joints).scores.max() for p in scenes])


def poisson_ci(count: int, exposure: float) -> list[float]:
    """Exact 95% interval of a Poisson rate: ``count`` events over ``exposure``."""
    from scipy.stats import chi2

    lo = chi2.ppf(0.025, 2 * count) / 2 if count else 0.0
    hi = chi2.ppf(0.975, 2 * count + 2) / 2
    return [float(lo / exposure), float(hi / exposure)]


def calm_scans(scorer: Scorer, data: StudyData, source: str, split: str | None = None) -> list[CalmScan]:
    """The calm motion of ``source``'s ``split`` (None: every split) as the detector scans
    it: SBU's calm scenes one by one, a one-person source's calm clips stitched into one motion."""
    if source == PAIR_SOURCE:
        return [scorer.scene_scan(p.motion.joints) for p in data.sbu
                if split in (None, p.split) and not p.violent]
    calm = [c for c in data.real if c.dataset == source and split in (None, c.split) and not c.violent]
    if not calm:
        return []
    joints, _ = stitch([c.joints for c in calm])
    return [scan(scorer.score, joints, scorer.window, STRIDE[scorer.window])]


CEILING_ALERTS_PER_MIN = 0.5  # issue 27's false-alert target on a held-out calm source


def held_out_items(data: StudyData, source: str) -> list[Any]:
    """The clips a ``loso_{source}`` row scores: every SBU scene, or the source's test clips."""
    return list(data.sbu) if source == PAIR_SOURCE else data.clips("test", (source,))


def ceiling_run(scorer: Scorer, calm: Sequence[CalmScan], violent_scores: np.ndarray,
                target: float = CEILING_ALERTS_PER_MIN) -> dict[str, Any]:
    """One seed of the ``ceiling`` block (module doc): ``calm``, the source's calm motion
    (every split) scanned by ``scorer``; ``violent_scores``, its held-out violent items'
    scores (the ``loso_*`` row's)."""
    threshold, rate = alert_rate_threshold(calm, scorer.window, target, FPS, scorer.hold)
    return {"threshold": threshold, "alerts_per_min": rate, "alerted": int((violent_scores >= threshold).sum()),
            "n_violent": len(violent_scores)}


def assemble_ceiling(runs: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """The ``ceiling`` JSON block: per source, recall at its own calm threshold, mean over seeds."""
    sources = {src: {"vdr": float(np.mean([r["alerted"] / r["n_violent"] for r in per_seed])),
                     "vdr_per_seed": [r["alerted"] / r["n_violent"] for r in per_seed],
                     "alerted_per_seed": [r["alerted"] for r in per_seed], "n_violent": per_seed[0]["n_violent"],
                     "threshold_per_seed": [r["threshold"] for r in per_seed],
                     "calm_alerts_per_min_per_seed": [r["alerts_per_min"] for r in per_seed]}
               for src, per_seed in runs.items()}
    return {"kind": "ceiling", "alerts_per_min": CEILING_ALERTS_PER_MIN, "sources": sources,
            "rule": "an upper bound chosen on test data, not an operating point: the loso detector of each source "
                    "at the lowest threshold its own calm motion (every split) keeps at or under alerts_per_min; "
                    "recall of its held-out violent clips there"}


def site_run(scorer: Scorer, data: StudyData, source: str, alerts_per_min: float, scores: np.ndarray,
             truth: np.ndarray) -> dict[str, Any]:
    """One seed of one source (module doc): ``scores`` and ``truth`` of the source's test
    items by ``scorer`` (the ``loso_*`` row's, its test split)."""
    fit = calm_scans(scorer, data, source, "train")
    threshold, rate = alert_rate_threshold(fit, scorer.window, alerts_per_min, FPS, scorer.hold)
    held = calm_scans(scorer, data, source, "test")
    return {"threshold": threshold, "scores": scores, "truth": truth,
            "calibration_minutes": sum(x.frames for x in fit) / FPS / 60.0, "calibration_alerts_per_min": rate,
            "test_calm_alerts": sum(count_alerts(x, scorer.window, threshold, scorer.hold) for x in held),
            "test_calm_minutes": sum(x.frames for x in held) / FPS / 60.0}


def assemble_site(runs: dict[str, list[dict[str, Any]]], s: DetectionSettings) -> dict[str, Any]:
    """The ``site_calibrated`` JSON block: per source, the clip metrics at the site's
    threshold (mean over seeds, CIs) and the false alerts per minute on its unseen calm motion."""
    sources: dict[str, Any] = {}
    for source, per_seed in runs.items():
        row = clip_metrics([r["scores"] for r in per_seed], per_seed[0]["truth"], [r["threshold"] for r in per_seed], s)
        alerts = [int(r["test_calm_alerts"]) for r in per_seed]
        minutes = per_seed[0]["test_calm_minutes"]
        row.update({"calibration_minutes": per_seed[0]["calibration_minutes"],
                    "calibration_alerts_per_min_per_seed": [r["calibration_alerts_per_min"] for r in per_seed],
                    "test_calm_minutes": minutes, "test_calm_alerts_per_seed": alerts,
                    "test_calm_false_alerts_per_min": float(np.mean(alerts) / minutes) if minutes else None,
                    "test_calm_false_alerts_per_min_ci": poisson_ci(sum(alerts), minutes * len(alerts))
                    if minutes else [None, None]})
        sources[source] = row
    return {"kind": "site_calibrated", "sources": sources,
            "rule": "the loso detector of each source re-thresholded on that source's training-split calm motion "
                    "(same false-alert budget and hold); its test clips scored at that threshold; false alerts "
                    "per minute on its test-split calm motion"}
