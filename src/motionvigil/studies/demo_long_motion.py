"""The demo's long multi-action motion (a generated sequence, or real test clips stitched
end to end) with its true segments, and how the detector's alerts match them."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from motionvigil.datasets.clip import Clip, Dataset
from motionvigil.datasets.violence import is_violent
from motionvigil.detect import Timeline
from motionvigil.metrics.detection import (
    MIN_EVENT_OVERLAP,
    event_hits,
    event_summary,
    hit_counts,
    interval_union_length,
)
from motionvigil.metrics.temporal_detection import TruthSegment
from motionvigil.studies.demo import DemoData, DemoSettings
from motionvigil.datasets.sequences import stitch

MATCH_RULE = (f"an alert finds a true violent segment (and is a correct alert) when they overlap by at least "
              f"{MIN_EVENT_OVERLAP:.0%} of the shorter of the two, the rule of `study detection`")


@dataclass
class LongMotion:
    joints: np.ndarray  # [T, 22, 3] at 20 Hz
    truth: list[TruthSegment]
    description: str


def _test_body(corpus: Dataset, seed: int):
    """The body of the first test subject, rebuilt as ``generate_corpus`` makes it (checked
    against the subject's clips); ``None`` if it cannot be reproduced."""
    from motionvigil.datasets.synthetic import random_body

    subjects = sorted({c.subject for c in corpus.clips if c.split == "test" and c.subject})
    for subject in subjects:
        try:
            index = int(subject.rsplit("s", 1)[-1])
        except ValueError:
            continue
        body = random_body(np.random.default_rng([seed, 1, index]), subject)
        heights = {c.meta.get("height_factor") for c in corpus.clips if c.subject == subject}
        if body.height_factor in heights:
            return body
    return None


def synthetic_long_motion(data: DemoData, s: DemoSettings) -> LongMotion:
    from motionvigil.datasets.synthetic import generate_sequence, random_body

    rng = np.random.default_rng([s.seed, 77])
    body = _test_body(data.datasets[0], s.seed)
    who = f"test subject {body.subject}'s body" if body is not None else "an unseen random body"
    if body is None:
        body = random_body(rng, "synthetic_s_demo")
    clip = generate_sequence(rng, body=body, actions=list(s.long_actions), clip_id="synthetic_long_sequence")
    truth = [TruthSegment(g.label, g.start / 20.0, g.end / 20.0, is_violent(g.label)) for g in clip.segments]
    return LongMotion(clip.joints, truth, f"one generated synthetic sequence of {len(truth)} actions on {who}")


def real_long_motion(data: DemoData, s: DemoSettings) -> LongMotion:
    """Single-label test clips stitched end to end: two of each violent class (up to 4
    violent clips) among distinct non-violent classes, in a seeded order."""
    rng = np.random.default_rng([s.seed, 77])
    single = [c for c in data.test_clips if len(c.labels) == 1 and 30 <= c.num_frames <= 160]
    by_class: dict[str, list[Clip]] = {}
    for c in single:
        by_class.setdefault(c.labels[0], []).append(c)
    violent = [c for c in data.violent_classes if c in by_class]
    calm = [c for c in by_class if not is_violent(c)]
    n_violent = min(4, 2 * len(violent), s.real_long_clips // 2)
    picks_v = [violent[i % len(violent)] for i in range(n_violent)] if violent else []
    picks_c = [calm[i] for i in rng.permutation(len(calm))[: s.real_long_clips - n_violent]]
    labels = list(picks_c)
    for j, v in enumerate(picks_v):  # spread the violent clips out
        labels.insert(min(len(labels), 2 + 3 * j), v)
    if not labels:
        raise ValueError("no single-label test clips to build the long motion from")
    clips = [by_class[lab][int(rng.integers(len(by_class[lab])))] for lab in labels]
    joints, bounds = stitch([c.joints for c in clips])
    truth = [TruthSegment(c.labels[0], a / 20.0, b / 20.0, is_violent(c.labels[0])) for c, (a, b) in zip(clips, bounds)]
    return LongMotion(joints, truth, f"{len(clips)} single-label test clips of {data.tag} stitched end to end")



def overlap(a0: float, a1: float, b0: float, b1: float) -> float:
    """Length of the overlap of ``[a0, a1)`` and ``[b0, b1)``, in seconds."""
    return max(0.0, min(a1, b1) - max(a0, b0))


def match_alerts(timeline: Timeline, truth: list[TruthSegment]) -> dict:
    """The alerts of ``timeline`` against the true violent segments (``MATCH_RULE``):
    event recall and precision, false alerts per minute, alerted vs violent seconds,
    with the counts behind them; ``found_mask`` / ``alert_correct`` per segment / alert."""
    violent = [(t.start_s, t.end_s) for t in truth if t.violent]
    alerts = [(a.start_s, a.end_s) for a in timeline.alerts]
    hit = event_hits(alerts, violent)
    summary = event_summary(hit_counts(hit), timeline.duration_s / 60.0,
                            interval_union_length(alerts), interval_union_length(violent))
    return {**summary, "violent_segments": len(violent), "found": summary["events_found"],
            "found_mask": hit.any(axis=0).tolist(), "alert_correct": hit.any(axis=1).tolist()}


def describe_match(match: dict) -> str:
    """One line: event recall/precision with counts, false alerts per minute, alerted seconds."""
    def rate(value: float) -> str:
        return "n/a" if value != value else f"{value:.2f}"

    return (f"event recall {rate(match['event_recall'])} ({match['events_found']} of {match['events']} violent "
            f"segments), precision {rate(match['event_precision'])} ({match['alerts_matched']} of "
            f"{match['alerts']} alerts), {match['false_alerts']} false alert(s) = "
            f"{match['false_alerts_per_min']:.2f} per min over {match['minutes']:.1f} min, alerted "
            f"{match['alerted_s']:.1f} s of {match['violent_s']:.1f} violent s")


def window_truth(timeline: Timeline, truth: list[TruthSegment]) -> np.ndarray:
    """A window is violent when at least half of it lies in true violent segments."""
    out = []
    for w in timeline.windows:
        inside = sum(overlap(w.start_s, w.end_s, t.start_s, t.end_s) for t in truth if t.violent)
        out.append(inside >= 0.5 * (w.end_s - w.start_s))
    return np.array(out, dtype=bool)



def operating_point(scores: np.ndarray, truth: np.ndarray, threshold: float) -> tuple[float, float]:
    pred = scores >= threshold
    tp = float((pred & truth).sum())
    recall = tp / max(float(truth.sum()), 1.0)
    precision = tp / float(pred.sum()) if pred.any() else 1.0
    return recall, precision
