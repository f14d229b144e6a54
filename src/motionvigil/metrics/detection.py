"""Detection metrics: ranking (AUROC, AP), decisions at a fixed threshold, bootstrap
confidence intervals, and event matching on long sequences. Pure numpy/scipy.

Event matching rule (used for ``event_recall`` / ``event_precision``): an alert segment
*finds* a true violent event when their overlap is at least ``min_overlap`` (default
50%) of the shorter of the two. Event recall = true events found by some alert / true
events; event precision = alerts that find some true event / alerts. An alert that
finds no true event is a false alert; ``false_alerts_per_min`` divides their number by
the minutes of motion scored.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from scipy.stats import rankdata

from motionvigil.metrics.classification import average_precision, vdr_fpr_at_threshold

MIN_EVENT_OVERLAP = 0.5


def auroc(scores: np.ndarray, truth: np.ndarray) -> float:
    """Area under the ROC curve (ties count one half); NaN without both classes."""
    s = np.asarray(scores, dtype=np.float64)
    y = np.asarray(truth, dtype=bool)
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    ranks = rankdata(s)
    return float((ranks[y].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def decision_summary(scores: np.ndarray, truth: np.ndarray, threshold: float) -> dict[str, float | int]:
    """AUROC, AP, and VDR/FPR of ``score >= threshold`` with the counts behind them."""
    s = np.asarray(scores, dtype=np.float64)
    y = np.asarray(truth, dtype=bool)
    at = vdr_fpr_at_threshold(s, y, threshold)
    return {"auroc": auroc(s, y), "ap": average_precision(s, y), "vdr": at["VDR"], "fpr": at["FPR"],
            "threshold": float(threshold), "n_violent": int(y.sum()), "n_calm": int((~y).sum()),
            "tp": at["TP"], "fp": at["FP"]}


def bootstrap_ci(metric: Callable[[np.ndarray, np.ndarray], float], scores: np.ndarray, truth: np.ndarray,
                 resamples: int = 1000, seed: int = 0, level: float = 0.95) -> list[float]:
    """Percentile bootstrap CI of ``metric(scores, truth)``, resampling violent and calm
    items separately (so every resample keeps both counts). NaN resamples are dropped;
    ``[nan, nan]`` if none is left."""
    s = np.asarray(scores, dtype=np.float64)
    y = np.asarray(truth, dtype=bool)
    pos, neg = np.flatnonzero(y), np.flatnonzero(~y)
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(resamples):
        idx = np.concatenate([rng.choice(pos, len(pos)) if len(pos) else pos,
                              rng.choice(neg, len(neg)) if len(neg) else neg])
        v = metric(s[idx], y[idx])
        if np.isfinite(v):
            values.append(v)
    if not values:
        return [float("nan"), float("nan")]
    lo, hi = np.percentile(values, [50 * (1 - level), 50 * (1 + level)])
    return [float(lo), float(hi)]


def overlap_fraction(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Overlap of intervals ``a`` and ``b`` as a fraction of the shorter one."""
    inter = max(0.0, min(a[1], b[1]) - max(a[0], b[0]))
    shorter = min(a[1] - a[0], b[1] - b[0])
    return inter / shorter if shorter > 0 else 0.0


def event_hits(alerts: Sequence[tuple[float, float]], events: Sequence[tuple[float, float]],
               min_overlap: float = MIN_EVENT_OVERLAP) -> np.ndarray:
    """``[alerts, events]`` bool: which alert matches which event (the module doc's rule)."""
    hit = np.array([[overlap_fraction(a, e) >= min_overlap for e in events] for a in alerts], dtype=bool)
    return hit.reshape(len(alerts), len(events))


def hit_counts(hit: np.ndarray) -> dict[str, int]:
    """``events_found``, ``events``, ``alerts_matched``, ``alerts`` of an :func:`event_hits` matrix."""
    return {"events_found": int(hit.any(axis=0).sum()), "events": hit.shape[1],
            "alerts_matched": int(hit.any(axis=1).sum()), "alerts": hit.shape[0]}


def match_events(alerts: Sequence[tuple[float, float]], events: Sequence[tuple[float, float]],
                 min_overlap: float = MIN_EVENT_OVERLAP) -> dict[str, int]:
    """Counts of the matching rule in the module doc: ``events_found``, ``events``,
    ``alerts_matched``, ``alerts``."""
    return hit_counts(event_hits(alerts, events, min_overlap))


def event_summary(counts: dict[str, int], minutes: float, alerted_s: float, violent_s: float) -> dict[str, float]:
    """Event recall/precision, false alerts per minute and alerted vs violent seconds."""
    false_alerts = counts["alerts"] - counts["alerts_matched"]
    return {
        "event_recall": counts["events_found"] / counts["events"] if counts["events"] else float("nan"),
        "event_precision": counts["alerts_matched"] / counts["alerts"] if counts["alerts"] else float("nan"),
        "false_alerts": int(false_alerts),
        "false_alerts_per_min": false_alerts / minutes if minutes > 0 else float("nan"),
        "alerted_s": float(alerted_s), "violent_s": float(violent_s), "minutes": float(minutes),
        **{k: int(v) for k, v in counts.items()},
    }


def interval_union_length(intervals: Sequence[tuple[float, float]]) -> float:
    """Total length covered by the union of ``[start, end)`` intervals."""
    total, end = 0.0, -np.inf
    for a, b in sorted(intervals):
        if a > end:
            total += b - a
            end = b
        elif b > end:
            total += b - end
            end = b
    return float(total)
