"""Training a :class:`~motionvigil.detect.head.ViolenceHead` and choosing its threshold.

Training windows come from labelled clips: every ``window``-frame window (hop
``stride``) of a clip takes the clip's violent/calm label, and each clip's windows share
one unit of weight (a long calm clip does not outvote a short punch). The built-in
procedural corpus (:func:`procedural_clips`) is always part of the training data: it
carries all six violent categories (kick, punch, hit, martial art, evade, grab person)
and 31 calm ones on varied bodies, so a head can be trained even from a handful of real
clips.

The threshold is set on **calm** motion for a target rate of false alerts per minute
(:func:`alert_rate_threshold`): the calm clips are stitched into long motions, scanned
window by window as a deployed detector scans a stream, and the threshold is the lowest
one at which they raise at most ``target`` alerts per minute (an alert is a run of
overlapping alerting windows). When the calm clips are also training data they are
scored out of fold (:func:`out_of_fold_calm_scans`): each group of clips (by subject)
is scored by a head trained without it, so the threshold is not set on scores the head
was fitted to.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from motionvigil.datasets.clip import Clip
from motionvigil.datasets.sequences import stitch
from motionvigil.detect.head import ViolenceHead, kinematic_matrix
from motionvigil.detect.windows import alert_runs, window_starts

# Defaults = the detection study's in_domain choice for the kinematic head on validation folds
# (results/detection/detection.json, protocols.kinematic_head.protocols.in_domain.selection_per_seed: C 0.1
# in 3 of 3 seeds, no augmentation in 3 of 3, and the detector's own 64-frame window,
# detect.windows.DEFAULT_WINDOW, in 3 of 3); a test checks them.
DEFAULT_HEAD_C = 0.1
DEFAULT_AUGMENT = False
DEFAULT_ALERTS_PER_MIN = 0.1  # false alerts per minute of calm motion (alert_rate_threshold)
PROCEDURAL_CLIPS_PER_CLASS = 20


def procedural_clips(seed: int = 0, clips_per_class: int = PROCEDURAL_CLIPS_PER_CLASS) -> list[Clip]:
    """Single-action clips of the procedural corpus (training split) for head training."""
    from motionvigil.datasets.synthetic import generate_corpus

    corpus = generate_corpus(clips_per_class, seed, 0)
    return [c for c in corpus.clips if len(c.labels) == 1 and c.split in (None, "train")]


def augmented(clips: Sequence[Clip], seed: int = 0) -> list[Clip]:
    """One perturbed copy of each clip, as another sensor or performer might give it:
    played 0.75-1.33x as fast (resampled), and with Kinect-like per-frame jitter
    (1 cm Gaussian noise on every joint). Copies keep labels, subject and split."""
    from motionvigil.skeleton.resample import resample_joints

    rng = np.random.default_rng([seed, 31])
    out = []
    for c in clips:
        factor = float(np.exp(rng.uniform(np.log(0.75), np.log(1.33))))
        joints = resample_joints(c.joints.astype(np.float64), 20.0 * factor, 20.0)
        if len(joints) < 2:
            continue
        joints = joints + rng.normal(0.0, 0.01, joints.shape)
        out.append(Clip(f"{c.clip_id}~aug", joints.astype(np.float32), c.labels, c.violent, c.dataset,
                        subject=c.subject, split=c.split, meta={"augmented_from": c.clip_id, "speed": factor}))
    return out


def clip_windows(joints: np.ndarray, window: int, stride: int) -> list[np.ndarray]:
    """The detector's windows of one clip (a clip shorter than a window is one window)."""
    return [joints[s : s + window] for s in window_starts(len(joints), window, stride)]


@dataclass
class WindowTable:
    """Descriptors of every window of a list of clips (or two-person scenes), with each
    clip's rows: the kinematic head's features here, the learned model's in
    :mod:`motionvigil.detect.model_fit`."""

    features: np.ndarray  # [N, F]
    clip_index: np.ndarray  # [N] which clip each row came from
    violent: np.ndarray  # [C] per clip
    groups: np.ndarray  # [C] per clip: subject (or clip id) for out-of-fold splits
    item_weights: np.ndarray | None = None  # [C] per clip: its share of the training weight (default 1)

    @classmethod
    def build(cls, clips: Sequence[Clip], window: int, stride: int,
              violent: Sequence[bool] | None = None) -> "WindowTable":
        """Windows of ``clips``; a clip's label is ``violent[i]`` if given, else ``clip.violent``."""
        feats, index = [], []
        for i, clip in enumerate(clips):
            rows = kinematic_matrix(clip_windows(clip.joints, window, stride))
            feats.append(rows)
            index.append(np.full(len(rows), i))
        features = np.concatenate(feats) if feats else np.zeros((0, 0), dtype=np.float32)
        return cls(features, np.concatenate(index) if index else np.zeros(0, int),
                   np.array([c.violent for c in clips] if violent is None else list(violent), dtype=bool),
                   np.array([c.subject or c.clip_id for c in clips], dtype=object))

    def take(self, clips: np.ndarray) -> "WindowTable":
        """The table restricted to clip indices ``clips`` (renumbered 0..len-1)."""
        clips = np.asarray(clips, dtype=int)
        renumber = np.full(len(self.violent), -1)
        renumber[clips] = np.arange(len(clips))
        rows = np.isin(self.clip_index, clips)
        return WindowTable(self.features[rows], renumber[self.clip_index[rows]], self.violent[clips],
                           self.groups[clips], None if self.item_weights is None else self.item_weights[clips])

    @staticmethod
    def concat(tables: Sequence["WindowTable"]) -> "WindowTable":
        offset, idx = 0, []
        for t in tables:
            idx.append(t.clip_index + offset)
            offset += len(t.violent)
        weighted = any(t.item_weights is not None for t in tables)
        return WindowTable(np.concatenate([t.features for t in tables]), np.concatenate(idx),
                           np.concatenate([t.violent for t in tables]), np.concatenate([t.groups for t in tables]),
                           np.concatenate([t.item_weights if t.item_weights is not None else np.ones(len(t.violent))
                                           for t in tables]) if weighted else None)

    @property
    def y(self) -> np.ndarray:
        """``[N]`` each window's label (its clip's)."""
        return self.violent[self.clip_index]

    def weights(self) -> np.ndarray:
        """``[N]`` window weights: each clip's windows share one unit (its ``item_weights``)."""
        counts = np.bincount(self.clip_index, minlength=len(self.violent))
        share = 1.0 if self.item_weights is None else np.asarray(self.item_weights, np.float64)[self.clip_index]
        return share / counts[self.clip_index]

    def fit(self, c: float = DEFAULT_HEAD_C) -> ViolenceHead:
        return ViolenceHead.fit(self.features, self.y, "kinematic", c, self.weights())

    def item_max(self, scores: np.ndarray) -> np.ndarray:
        """``[C]`` each clip's highest value of the window ``scores [N]``."""
        out = np.full(len(self.violent), -np.inf)
        np.maximum.at(out, self.clip_index, scores)
        return out

    def clip_scores(self, head: ViolenceHead) -> np.ndarray:
        """``[C]`` each clip's highest window score."""
        return self.item_max(head.score(self.features))


@dataclass
class CalmScan:
    """Window scores of one long motion: ``scores[i]`` for the window at ``starts[i]``."""

    scores: np.ndarray
    starts: np.ndarray
    frames: int


def _alert_runs(scan: CalmScan, window: int, threshold: float, hold: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """First and last start frame of each alert (:func:`~motionvigil.detect.windows.alert_runs`)."""
    hit = scan.starts[scan.scores >= threshold]
    runs = alert_runs(hit, hit + window, hold)
    return hit[[a for a, _ in runs]], hit[[b for _, b in runs]]


def count_alerts(scan: CalmScan, window: int, threshold: float, hold: int = 0) -> int:
    """Alerts a detector raises on ``scan``."""
    return len(_alert_runs(scan, window, threshold, hold)[0])


def alert_spans(scan: CalmScan, window: int, threshold: float, fps: float = 20.0,
                hold: int = 0) -> list[tuple[float, float]]:
    """The alerts of ``scan`` as ``(start_s, end_s)``: each run from its first window's
    start to its last window's end."""
    first, last = _alert_runs(scan, window, threshold, hold)
    return [(a / fps, (b + window) / fps) for a, b in zip(first.tolist(), last.tolist())]


def alert_rate_threshold(scans: Sequence[CalmScan], window: int, target_per_min: float = DEFAULT_ALERTS_PER_MIN,
                         fps: float = 20.0, hold: int = 0, minutes: float | None = None) -> tuple[float, float]:
    """``(threshold, rate)``: the lowest threshold such that it and every higher one raise
    at most ``target_per_min`` alerts per minute over ``scans`` (``rate`` at it), alerts
    held open through lulls of ``hold`` frames. ``minutes`` of recording, when several
    scans share one clock (each person and pair of a recording), else their frames summed.

    Raises:
        ValueError: no calm motion to measure on.
    """
    minutes = sum(s.frames for s in scans) / fps / 60.0 if minutes is None else minutes
    values = np.unique(np.concatenate([s.scores for s in scans])) if scans else np.zeros(0)
    if minutes <= 0 or values.size == 0:
        raise ValueError("no calm motion to set the threshold on: give calm clips (--calm)")
    threshold, rate = float(np.nextafter(values[-1], np.inf)), 0.0
    for t in values[::-1]:  # from the top down; stop at the first threshold over the target
        r = sum(count_alerts(s, window, t, hold) for s in scans) / minutes
        if r > target_per_min:
            break
        threshold, rate = float(t), r
    return threshold, rate


def head_score(head: ViolenceHead) -> Callable[[list[np.ndarray]], np.ndarray]:
    """The head as a function of a list of windows."""
    return lambda windows: head.score(kinematic_matrix(windows))


def scan(score: Callable[[list[np.ndarray]], np.ndarray], joints: np.ndarray, window: int,
         stride: int) -> CalmScan:
    """``score`` (windows -> one score each) over every window of ``joints``, as a detector
    scans a stream."""
    starts = np.asarray(window_starts(len(joints), window, stride), dtype=int)
    wins = clip_windows(joints, window, stride)
    return CalmScan(score(wins) if wins else np.zeros(0), starts, len(joints))


def out_of_fold_calm_scans(fixed: WindowTable, own: Sequence[Clip], window: int, stride: int,
                           c: float = DEFAULT_HEAD_C, folds: int = 5, seed: int = 0,
                           table: WindowTable | None = None) -> list[CalmScan]:
    """One long calm motion per fold of ``own`` (folds by subject): that fold's calm
    clips stitched in a seeded order, scanned by a head trained on ``fixed`` plus the
    other folds (violent clips included). ``table`` is ``own``'s window table if known."""
    own = list(own)
    table = table if table is not None else WindowTable.build(own, window, stride)
    groups = sorted({str(g) for g in table.groups})
    rng = np.random.default_rng([seed, 5])
    fold_of = {g: i % max(1, folds) for i, g in enumerate(np.array(groups)[rng.permutation(len(groups))])}
    clip_fold = np.array([fold_of[str(g)] for g in table.groups])
    scans = []
    for k in np.unique(clip_fold):
        calm = [own[i] for i in np.flatnonzero((clip_fold == k) & ~table.violent)]
        if not calm:
            continue
        head = WindowTable.concat([fixed, table.take(np.flatnonzero(clip_fold != k))]).fit(c)
        joints, _ = stitch([calm[i].joints for i in rng.permutation(len(calm))])
        scans.append(scan(head_score(head), joints, window, stride))
    return scans


def train_head(clips: Sequence[Clip], violent: Sequence[bool], window: int, stride: int, *,
               c: float = DEFAULT_HEAD_C, alerts_per_min: float = DEFAULT_ALERTS_PER_MIN, seed: int = 0,
               procedural: int = PROCEDURAL_CLIPS_PER_CLASS, augment: bool = DEFAULT_AUGMENT) -> tuple[ViolenceHead, dict]:
    """The head of a detector and its calibration, as ``build-detector`` makes it.

    ``clips`` are the user's labelled clips (support and calm background; ``violent[i]``
    says which raise alerts). The head is trained on them plus ``procedural`` clips per
    class of the procedural corpus (seeded by ``seed``) and, with ``augment``, one
    perturbed copy of every clip (:func:`augmented`); the threshold keeps the user's calm
    clips, scanned out of fold as long motions, at ``alerts_per_min`` false alerts per
    minute. Returns the head and a calibration summary with ``"threshold"``.

    Raises:
        ValueError: no calm clip (nothing to set the threshold on).
    """
    marked = [replace(x, violent=bool(v)) for x, v in zip(clips, violent)]
    if all(x.violent for x in marked):
        raise ValueError("the head's threshold needs calm clips: give calm motion (--calm NAME[:ROOT]|FOLDER)")
    always = procedural_clips(seed, procedural) if procedural else []
    copies = augmented(always + marked, seed) if augment else []
    user_ids = {m.clip_id for m in marked}
    own_copies = [x for x in copies if x.meta["augmented_from"] in user_ids]
    always += [x for x in copies if x.meta["augmented_from"] not in user_ids]
    own = WindowTable.build(marked, window, stride)
    fixed = WindowTable.build(always, window, stride) if always else None
    parts = [t for t in (fixed, own) if t is not None]
    if own_copies:  # the user's perturbed clips train the head, but not the out-of-fold heads below
        parts.append(WindowTable.build(own_copies, window, stride))
    head = WindowTable.concat(parts).fit(c)
    empty = WindowTable(np.zeros((0, own.features.shape[1])), np.zeros(0, int), np.zeros(0, bool),
                        np.zeros(0, object))
    scans = out_of_fold_calm_scans(fixed if fixed is not None else empty, marked, window, stride, c, seed=seed,
                                   table=own)
    threshold, rate = alert_rate_threshold(scans, window, alerts_per_min)
    minutes = sum(x.frames for x in scans) / 20.0 / 60.0
    calibration = {"policy": f"alerts_per_min={alerts_per_min:g}", "threshold": threshold,
                   "alerts_per_min": rate, "calm_minutes": minutes, "n_calm_clips": int((~own.violent).sum()),
                   "n_violent_clips": int(own.violent.sum()), "procedural_clips": len(always), "c": c,
                   "augment": augment, "scores": "calm clips stitched into long motions, scored out of fold"}
    return head, calibration
