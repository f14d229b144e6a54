"""Event-level mAP of frame-wise temporal action detection (T-MOR [docs/papers.md], Table IV style).

* Predicted events: per frame, the class with the highest probability (class 0 may be
  a background class, which makes no events); an event is a maximal run of frames with
  the same predicted class; its score is the mean probability of that class over the run.
* Ground-truth events: the labelled segments ``[start, end)`` of each sequence.
* Matching, per class and IoU threshold: predictions in decreasing score order (stable
  on ties), each matched to the not-yet-matched ground-truth event of the same class and
  sequence with the highest temporal IoU, if that IoU is ``>= threshold`` (a true
  positive); otherwise it is a false positive.
* AP of a class: ``sum over true positives of precision at that rank / number of ground
  truth events`` (non-interpolated); mAP: the mean over classes with ground truth.
  Pure numpy; no tie grouping of scores.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

IOU_THRESHOLDS = (0.1, 0.3, 0.5)


@dataclass(frozen=True)
class TruthSegment:
    """A ground-truth segment ``[start_s, end_s)`` of a long motion."""

    label: str
    start_s: float
    end_s: float
    violent: bool


@dataclass(frozen=True)
class Event:
    """A class occurring over frames ``[start, end)`` of one sequence (``score`` for predictions)."""

    sequence: str
    label: int
    start: int
    end: int
    score: float = 1.0


def temporal_iou(a: tuple[int, int], b: tuple[int, int]) -> float:
    """IoU of the frame intervals ``[a0, a1)`` and ``[b0, b1)``."""
    inter = max(0, min(a[1], b[1]) - max(a[0], b[0]))
    union = (a[1] - a[0]) + (b[1] - b[0]) - inter
    return inter / union if union > 0 else 0.0


def frames_to_events(probs: np.ndarray, sequence: str = "", background: int | None = 0) -> list[Event]:
    """Events of one sequence from per-frame class probabilities ``[T, K]``."""
    probs = np.asarray(probs, dtype=np.float64)
    if probs.ndim != 2 or len(probs) == 0:
        raise ValueError(f"expected per-frame probabilities [T, K], got shape {probs.shape}")
    pred = probs.argmax(1)
    bounds = np.r_[0, np.flatnonzero(np.diff(pred) != 0) + 1, len(pred)]
    events = []
    for start, end in zip(bounds[:-1], bounds[1:]):
        label = int(pred[start])
        if background is not None and label == background:
            continue
        events.append(Event(sequence, label, int(start), int(end), float(probs[start:end, label].mean())))
    return events


def class_average_precision(predictions: Sequence[Event], truth: Sequence[Event], threshold: float) -> float:
    """AP of one class (all events given are of that class); NaN without ground truth."""
    if not truth:
        return float("nan")
    order = sorted(range(len(predictions)), key=lambda i: -predictions[i].score)
    used = [False] * len(truth)
    tp_count, total = 0, 0.0
    for rank, i in enumerate(order, start=1):
        p = predictions[i]
        best, best_iou = -1, -1.0
        for j, g in enumerate(truth):
            if used[j] or g.sequence != p.sequence:
                continue
            iou = temporal_iou((p.start, p.end), (g.start, g.end))
            if iou > best_iou:
                best, best_iou = j, iou
        if best >= 0 and best_iou >= threshold:
            used[best] = True
            tp_count += 1
            total += tp_count / rank
    return total / len(truth)


def event_map(predictions: Sequence[Event], truth: Sequence[Event],
              thresholds: Sequence[float] = IOU_THRESHOLDS) -> dict[str, float]:
    """``{"mAP@0.1": ..., ...}`` (fractions in [0, 1]) and ``classes``: how many classes have ground truth."""
    labels = sorted({g.label for g in truth})
    out: dict[str, float] = {}
    for thr in thresholds:
        aps = [class_average_precision([p for p in predictions if p.label == c],
                                       [g for g in truth if g.label == c], thr) for c in labels]
        out[f"mAP@{thr:g}"] = float(np.mean(aps)) if aps else float("nan")
    out["classes"] = len(labels)
    return out


def detection_report(probs: Mapping[str, np.ndarray], truth: Sequence[Event], background: int | None = 0,
                     thresholds: Sequence[float] = IOU_THRESHOLDS) -> dict[str, float]:
    """Event mAPs of per-sequence frame probabilities ``{sequence: [T, K]}`` against ``truth``."""
    predictions = [e for name, p in probs.items() for e in frames_to_events(p, name, background)]
    report = event_map(predictions, truth, thresholds)
    report["predicted_events"] = len(predictions)
    report["true_events"] = len(truth)
    return report
