"""Training the learned :class:`~motionvigil.detect.model.ViolenceModel`: windows,
augmentation, out-of-fold calibration and the threshold on pooled calm motion.

Person windows come from labelled one-person clips (each clip's windows share one unit
of weight), pair windows from two-person scenes (real ones such as SBU Kinect, and
scenes staged from one-person clips, :mod:`motionvigil.datasets.synthetic.pairs`).

**Calibration and threshold, out of fold.** The training data is split into groups
(normally: its sources). For each group a model is trained without it and scores it;
these held-out logits fit each network's Platt scaling, and the group's calm clips,
stitched into one long motion, are scanned by that held-out model. The threshold is the
lowest one at which those scans, pooled, raise at most ``alerts_per_min`` false alerts
per minute, so it is set on calm motion from sources the scoring model did not see.

**Real two-person scenes, weighted on validation.** The pair network learns from scenes
staged out of one-person clips and from real two-person scenes when there are any. Real
scenes are few; they either weigh one unit each, like a staged scene, or together as much
as all staged scenes (``balanced``), and they come alone or with :data:`REAL_PAIR_COPIES`
Kinect-like copies of each (:func:`pair_copies`: speed, limb length, jitter, frozen
joints). Which of the four is chosen by pooled scene AUROC over folds of the real scenes by
their group (for SBU Kinect: the participant set), each fold scored by a pair network
trained on the staged scenes and the other folds with their copies (ties: the simpler, one
unit each and no copies first).

**Event logic, on validation.** An alert stays open through a lull of up to ``hold``
seconds (later alerting windows extend it instead of raising a new alert). The hold is
chosen from :data:`HOLD_CANDIDATES_S`: for each, the threshold is set as above, and the
held-out model of each group scans that group's violent clips, each stitched between two
of its calm clips; the hold whose threshold finds the most of these events wins (ties: the
shorter hold). Nothing outside the training groups is seen.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from motionvigil.datasets.clip import FPS, Clip
from motionvigil.datasets.sequences import stitch
from motionvigil.datasets.synthetic.pairs import PairScene
from motionvigil.detect.head_fit import (
    DEFAULT_ALERTS_PER_MIN,
    CalmScan,
    WindowTable,
    alert_rate_threshold,
    alert_spans,
    clip_windows,
    scan,
)
from motionvigil.detect.model import (
    DEFAULT_ALPHA,
    DEFAULT_HIDDEN,
    PAIR_FEATURES,
    PERSON_FEATURES,
    Net,
    ViolenceModel,
    pair_matrix,
    person_matrix,
)
from motionvigil.detect.windows import window_starts
from motionvigil.metrics.detection import auroc
from motionvigil.skeleton.resample import resample_joints

Table = WindowTable  # the learned model's windows: descriptors in ``features``, groups = sources
HOLD_CANDIDATES_S = (0.0, 1.0, 3.0)  # seconds an alert stays open through a lull (chosen on validation)
REAL_PAIR_WEIGHTS = ("per_scene", "balanced")  # how much real two-person scenes weigh (chosen on validation)
CALM_CONTACT = ("hugging", "shaking hands")  # calm classes with contact (SBU Kinect's names)
REAL_PAIR_COPIES = 4  # Kinect-like copies of each real scene, trained on when chosen on validation


@dataclass
class PairData:
    """Pair-network training data: windows of staged scenes and of real ones (either may be
    None), each real item's fold group (``real_folds[i]`` for item ``i`` of ``real``) and,
    optionally, each real scene's class (``real_labels[j]`` for scene ``j``)."""

    staged: WindowTable | None = None
    real: WindowTable | None = None
    real_folds: Sequence[str] = ()
    real_labels: Sequence[str] = ()  # each real scene's class (optional): the validation record per class
    real_copies: WindowTable | None = None  # windows of Kinect-like copies of the real scenes (:func:`pair_copies`)
    copy_of: Sequence[int] = ()  # each copy's real scene (index into the real scenes)


def kinect_like(joints: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One perturbed copy of ``joints [T, 22, 3]`` (20 Hz) as another sensor or performer
    might give it: played 0.75-1.33x as fast, limbs 0.9-1.1x as long, 0.5-2 cm of jitter on
    every joint, and a few joints frozen for 2-6 frames the way a Kinect's repaired
    tracking losses look. (Mirroring and turning about the vertical are not needed: the
    descriptors are invariant to both.)"""
    factor = float(np.exp(rng.uniform(np.log(0.75), np.log(1.33))))
    j = resample_joints(np.asarray(joints, np.float64), 20.0 * factor, 20.0).astype(np.float64)
    if len(j) < 2:
        j = np.asarray(joints, np.float64).copy()
    root = j[:, :1]
    j = root + (j - root) * rng.uniform(0.9, 1.1)
    j = j + rng.normal(0.0, rng.uniform(0.005, 0.02), j.shape)
    for _ in range(int(rng.integers(0, 4))):
        joint, start = int(rng.integers(0, 22)), int(rng.integers(0, len(j)))
        j[start : start + int(rng.integers(2, 7)), joint] = j[start, joint]
    return j.astype(np.float32)


def pair_copies(scenes: Sequence[PairScene], copies: int = REAL_PAIR_COPIES,
                seed: int = 0) -> tuple[list[PairScene], list[int]]:
    """``copies`` Kinect-like copies of each two-person scene and each copy's scene index:
    :func:`kinect_like` on both persons at once (one speed and one scale for both, so their
    timing and distance stay together; jitter on every joint of both), seeded per scene by
    its id, so a re-run draws the same copies."""
    out, of = [], []
    for i, sc in enumerate(scenes):
        rng = np.random.default_rng([seed, zlib.crc32(sc.scene_id.encode())])
        for k in range(copies):
            j = kinect_like(np.concatenate([sc.joints[0], sc.joints[1]], axis=1), rng)
            out.append(replace(sc, scene_id=f"{sc.scene_id}~copy{k}", joints=np.stack([j[:, :22], j[:, 22:]])))
            of.append(i)
    return out, of


def person_table(clips: Sequence[Clip], window: int, stride: int, groups: Sequence[str] | None = None) -> Table:
    """Windows of one-person clips; a clip's group is ``groups[i]`` or its dataset."""
    xs, idx = [], []
    for i, c in enumerate(clips):
        rows = person_matrix(clip_windows(c.joints, window, stride))
        xs.append(rows)
        idx.append(np.full(len(rows), i))
    return Table(np.concatenate(xs) if xs else np.zeros((0, len(PERSON_FEATURES)), np.float32),
                 np.concatenate(idx) if idx else np.zeros(0, int), np.array([c.violent for c in clips], bool),
                 np.array(list(groups) if groups is not None else [c.dataset for c in clips], dtype=object))


def scene_folds(scenes: Sequence[PairScene]) -> list[str]:
    """Each item of :func:`pair_table` ``(scenes)``'s fold group: its scene's ``group``."""
    return [sc.group for sc in scenes for _ in (0, 1)]


def pair_table(scenes: Sequence[PairScene], window: int, stride: int) -> Table:
    """Windows of two-person scenes, both directions: person 0 acting on person 1 carries
    the scene's label, person 1 acting on person 0 is calm (for real scenes, person 0 is
    the one whose hands and feet come fastest at the other, see :func:`actor_first`)."""
    xs, idx, violent, group = [], [], [], []
    for i, sc in enumerate(scenes):
        a, b = sc.joints[0], sc.joints[1]
        starts = window_starts(len(a), window, stride)
        wa = [a[s : s + window] for s in starts]
        wb = [b[s : s + window] for s in starts]
        ka, kb = person_matrix(wa), person_matrix(wb)
        for k, rows in enumerate((pair_matrix(wa, wb, ka, kb), pair_matrix(wb, wa, kb, ka))):
            xs.append(rows)
            idx.append(np.full(len(rows), len(violent)))
            violent.append(sc.violent and k == 0)
            group.append(sc.source)
    return Table(np.concatenate(xs) if xs else np.zeros((0, len(PAIR_FEATURES)), np.float32),
                 np.concatenate(idx) if idx else np.zeros(0, int), np.array(violent, bool),
                 np.array(group, dtype=object))


def actor_first(joints: np.ndarray) -> np.ndarray:
    """``[2, T, 22, 3]`` with the person whose hands/feet approach the other fastest first."""
    from motionvigil.features.interaction import interaction_features

    ab = interaction_features(joints[0], joints[1])[2]
    ba = interaction_features(joints[1], joints[0])[2]
    return joints if ab >= ba else joints[::-1]


@dataclass(frozen=True)
class ModelSettings:
    hidden: int = DEFAULT_HIDDEN
    alpha: float = DEFAULT_ALPHA
    window: int = 64
    stride: int = 10
    alerts_per_min: float = DEFAULT_ALERTS_PER_MIN


def _fit(table: Table, features: Sequence[str], s: ModelSettings, seed: int) -> Net:
    return Net.fit(table.features, table.y, features, table.weights(), s.hidden, s.alpha, seed)


def fit_model(person: Table, pairs: PairData | None, clips: Sequence[Clip], s: ModelSettings,
              seed: int = 0) -> tuple[ViolenceModel, dict]:
    """Train, calibrate, choose the hold and set the threshold (see the module doc).

    Args:
        person: one-person windows (their groups are the out-of-fold folds).
        pairs: two-person windows (staged and real), or None for a person-only model.
        clips: the real labelled clips; each clip's group is its dataset, which must be
            one of ``person``'s groups. Calm ones are scanned for the threshold, violent
            ones (between two calm ones) for the hold.

    Returns:
        The model and a calibration summary with ``threshold`` and ``hold_s``.
    """
    groups = sorted({str(g) for g in person.groups})
    logits, truth, scans_by_group, in_fold, events = [], [], {}, [], []
    final = _fit(person, PERSON_FEATURES, s, seed)
    rng = np.random.default_rng([seed, 47])
    for g in groups:
        inside = person.take(np.flatnonzero(person.groups != g))
        held = person.take(np.flatnonzero(person.groups == g))
        if inside.violent.any() and not inside.violent.all():
            net = _fit(inside, PERSON_FEATURES, s, seed)
            logits.append(net.logit(held.features))
            truth.append(held.y)
        else:  # every violent (or calm) clip is in this group: no model can be trained without it
            net = final
            in_fold.append(g)
        mine = [c for c in clips if c.dataset == g and not c.violent]
        score = lambda w, net=net: net.logit(person_matrix(w))  # noqa: E731
        if mine:
            joints, _ = stitch([c.joints for c in mine])
            scans_by_group[g] = scan(score, joints, s.window, s.stride)
        if net is not final and len(mine) >= 2:
            for v in (c for c in clips if c.dataset == g and c.violent):
                a, b = (mine[i] for i in rng.choice(len(mine), 2, replace=False))
                joints, bounds = stitch([a.joints, v.joints, b.joints])
                events.append((scan(score, joints, s.window, s.stride), bounds[1]))
    y = np.concatenate(truth) if truth else np.zeros(0, bool)
    final = final.calibrated(np.concatenate(logits), y) if y.any() and not y.all() else final
    prob = lambda sc: CalmScan(final.probability(sc.scores), sc.starts, sc.frames)  # noqa: E731
    scans = [prob(sc) for sc in scans_by_group.values()]
    pair_net = None
    table, weighting = pair_training(pairs, s, seed) if pairs is not None else (None, {})
    if table is not None and table.violent.any():
        pair_net = _calibrated(table, PAIR_FEATURES, s, seed)
    model = ViolenceModel(final, pair_net, {"window": s.window, "hidden": s.hidden, "alpha": s.alpha})
    logic = choose_hold(scans, [(prob(sc), span) for sc, span in events], s.window, s.alerts_per_min)
    chosen = logic["candidates"][f"{logic['hold_s']:g}"]
    minutes = sum(x.frames for x in scans) / FPS / 60.0
    calm_scores = np.concatenate([x.scores for x in scans])
    calibration = {"policy": f"alerts_per_min={s.alerts_per_min:g}", "threshold": chosen["threshold"],
                   "alerts_per_min": chosen["alerts_per_min"], "hold_s": logic["hold_s"], "event_logic": logic,
                   "calm_minutes": minutes, "calm_sources": sorted(scans_by_group),
                   "scanned_in_fold": in_fold,
                   "calm_score_quantiles": {q: float(np.quantile(calm_scores, float(q)))
                                            for q in ("0.5", "0.9", "0.99", "0.999")},
                   "platt": list(final.platt), "pair_weighting": weighting,
                   "scores": "calm clips of each source stitched into one long motion, scored by a model "
                             "trained without that source (out of fold)"}
    return model, calibration


def choose_hold(scans: Sequence[CalmScan], events: Sequence[tuple[CalmScan, tuple[int, int]]], window: int,
                alerts_per_min: float, candidates: Sequence[float] = HOLD_CANDIDATES_S) -> dict:
    """The hold (seconds) whose calm-motion threshold finds the most ``events`` (a scan and
    the ``[start, end)`` frames of its violent part; found when an alert overlaps it).
    Without events the shortest hold is kept. Returns ``{"hold_s", "events",
    "candidates": {hold: {"threshold", "alerts_per_min", "events_found"}}}``."""
    out: dict[str, dict] = {}
    for h in candidates:
        hold = int(round(h * FPS))
        threshold, rate = alert_rate_threshold(scans, window, alerts_per_min, FPS, hold)
        found = sum(any(a < end / FPS and b > start / FPS for a, b in alert_spans(sc, window, threshold, FPS, hold))
                    for sc, (start, end) in events)
        out[f"{h:g}"] = {"threshold": threshold, "alerts_per_min": rate, "events_found": int(found)}
    best = max(candidates, key=lambda h: (out[f"{h:g}"]["events_found"], -h))
    return {"hold_s": float(best), "events": len(events), "candidates": out,
            "rule": "an alert stays open through lulls up to hold_s; the hold finding the most held-out violent "
                    "events at its own calm threshold wins (ties: shorter)"}


def weighted(staged: Table, real: Table, how: str) -> Table:
    """Staged and real pair windows together, the real scenes weighing ``how``
    (:data:`REAL_PAIR_WEIGHTS`)."""
    factor = len(staged.violent) / max(len(real.violent), 1) if how == "balanced" else 1.0
    return Table.concat([staged, replace(real, item_weights=np.full(len(real.violent), factor))])


def pair_training(data: PairData, s: ModelSettings, seed: int) -> tuple[Table | None, dict]:
    """The pair network's training table, real scenes weighted as chosen on validation (module doc)."""
    parts = [t for t in (data.staged, data.real) if t is not None and len(t.violent)]
    if len(parts) < 2:
        return (Table.concat(parts) if parts else None), {"real_weight": "per_scene", "reason": "one kind of scene"}
    staged, real = parts
    groups = sorted(set(data.real_folds))
    k = min(3, len(groups))
    if k < 2:
        return weighted(staged, real, "per_scene"), {"real_weight": "per_scene", "reason": "one fold of real scenes"}
    fold = np.array([groups.index(g) % k for g in data.real_folds])
    copies = data.real_copies if data.real_copies is not None and len(data.real_copies.violent) else None
    copy_fold = np.repeat(fold[::2][np.asarray(data.copy_of, dtype=int)], 2) if copies is not None else None
    options = [(h, False) for h in REAL_PAIR_WEIGHTS] + [(h, True) for h in REAL_PAIR_WEIGHTS if copies is not None]
    name = lambda how, copied: how + ("+copies" if copied else "")  # noqa: E731
    auroc_of: dict[str, float] = {}
    scene_scores: dict[str, np.ndarray] = {}
    y = real.violent.reshape(-1, 2)[:, 0]  # a scene is violent when its actor direction is
    for how, copied in options:
        scores = np.zeros(len(y))
        for f in range(k):
            inside = np.flatnonzero(fold == f)
            fit, held = real.take(np.flatnonzero(fold != f)), real.take(inside)
            if copied:  # the copies of the fit folds' scenes only
                fit = Table.concat([fit, copies.take(np.flatnonzero(copy_fold != f))])
            net = _fit(weighted(staged, fit, how), PAIR_FEATURES, s, seed)
            items = held.item_max(net.logit(held.features))
            scores[inside[::2] // 2] = items.reshape(-1, 2).max(axis=1)  # a scene: its more violent direction
        scene_scores[name(how, copied)] = scores
        auroc_of[name(how, copied)] = auroc(scores, y) if y.any() and not y.all() else float("nan")
    how, copied = max(options, key=lambda o: (np.nan_to_num(auroc_of[name(*o)], nan=-1.0), -options.index(o)))
    info = {"real_weight": how, "real_copies": REAL_PAIR_COPIES if copied else 0, "validation_auroc": auroc_of,
            "folds": k, "real_scenes": len(y)}
    if len(data.real_labels) == len(y):
        info["validation_by_class"] = by_class(scene_scores[name(how, copied)], y, data.real_labels)
    return weighted(staged, Table.concat([real, copies]) if copied else real, how), info


def by_class(scores: np.ndarray, violent: np.ndarray, labels: Sequence[str]) -> dict:
    """What the out-of-fold scene scores of the chosen weighting say class by class (a record,
    nothing is chosen from it): for each calm class, the AUROC of the violent scenes against
    its scenes; and the share of violent scenes scoring above every calm scene, and above every
    calm scene of the classes other than ``CALM_CONTACT`` (what a threshold could reach that
    raises no alert on the real calm scenes, with and without hugs and handshakes)."""
    labels = np.asarray(labels, dtype=object)
    calm = ~violent
    contact = np.isin(labels, CALM_CONTACT)
    top = lambda mask: float(scores[mask].max()) if mask.any() else -np.inf  # noqa: E731
    return {"auroc_against": {str(c): auroc(np.r_[scores[violent], scores[labels == c]],
                                            np.r_[np.ones(violent.sum(), bool), np.zeros((labels == c).sum(), bool)])
                              for c in sorted(set(labels[calm]))},
            "scenes": {str(c): int((labels == c).sum()) for c in sorted(set(labels))},
            "violent_above_every_calm": float((scores[violent] > top(calm)).mean()) if violent.any() else None,
            "violent_above_every_calm_but_contact": float((scores[violent] > top(calm & ~contact)).mean())
            if violent.any() else None,
            "contact_classes": list(CALM_CONTACT)}


def _calibrated(table: Table, features: Sequence[str], s: ModelSettings, seed: int) -> Net:
    """A network trained on ``table`` whose Platt scaling is fitted on out-of-group logits."""
    groups = sorted({str(g) for g in table.groups})
    logits, truth = [], []
    for g in groups:
        inside = table.take(np.flatnonzero(table.groups != g))
        held = table.take(np.flatnonzero(table.groups == g))
        if not inside.violent.any() or inside.violent.all():
            continue
        logits.append(_fit(inside, features, s, seed).logit(held.features))
        truth.append(held.y)
    net = _fit(table, features, s, seed)
    y = np.concatenate(truth) if truth else np.zeros(0, bool)
    return net.calibrated(np.concatenate(logits), y) if y.any() and not y.all() else net


def fold_groups(clips: Sequence[Clip], folds: int = 5) -> list[str]:
    """Out-of-fold groups: each clip's dataset when the clips come from two or more
    real datasets, else ``folds`` folds by subject (clip id when unknown)."""
    real = {c.dataset for c in clips if c.dataset != "procedural"}
    if len(real) >= 2:
        return [c.dataset for c in clips]
    subjects = sorted({str(c.subject or c.clip_id) for c in clips})
    fold = {sub: f"fold{i % folds}" for i, sub in enumerate(subjects)}
    return ["procedural" if c.dataset == "procedural" else fold[str(c.subject or c.clip_id)] for c in clips]


def train_model(clips: Sequence[Clip], violent: Sequence[bool], *, scenes: Sequence[PairScene] = (),
                procedural: Sequence[Clip] = (), settings: ModelSettings = ModelSettings(), augment: bool = False,
                seed: int = 0) -> tuple[ViolenceModel, dict]:
    """A model as ``build-detector`` and the built-in detector make it.

    ``clips`` are labelled one-person clips (``violent[i]``), trained on together with
    ``procedural`` clips; ``scenes`` are real two-person scenes (e.g. SBU training
    pairs) added to scenes staged from the clips of each dataset. The threshold keeps the
    calm ``clips``, scanned out of fold (:func:`fold_groups`), at
    ``settings.alerts_per_min`` false alerts per minute; the hold is chosen on the violent
    ones (module doc). Procedural clips are trained on, never scanned.

    Raises:
        ValueError: no calm clip, or no violent one.
    """
    marked = [replace(c, violent=bool(v)) for c, v in zip(clips, violent)]
    if all(c.violent for c in marked) or not any(c.violent for c in marked):
        raise ValueError("the violence model needs violent and calm clips (calm ones set its threshold)")
    everything = list(procedural) + marked
    groups = fold_groups(everything)
    regrouped = [replace(c, dataset=g) for c, g in zip(everything, groups)]
    person = person_table(regrouped, settings.window, settings.stride)
    if augment:
        rng = np.random.default_rng([seed, 33])
        copies = [replace(c, joints=kinect_like(c.joints, rng)) for c in regrouped]
        person = Table.concat([person, person_table(copies, settings.window, settings.stride)])
    staged_parts = []
    from motionvigil.datasets.synthetic.pairs import pair_scenes

    for g in sorted(set(groups)):
        mine = [c for c in regrouped if c.dataset == g]
        calm = [c for c in mine if not c.violent]
        hard = [c for c in mine if c.violent]
        if hard and calm:
            staged_parts.append(pair_table(pair_scenes(hard + calm[: len(hard)], calm, seed), settings.window,
                                           settings.stride))
    copies, copy_of = pair_copies(list(scenes), seed=seed)
    pairs = PairData(Table.concat(staged_parts) if staged_parts else None,
                     pair_table(list(scenes), settings.window, settings.stride) if scenes else None,
                     scene_folds(list(scenes)), [sc.label for sc in scenes],
                     pair_table(copies, settings.window, settings.stride) if copies else None, copy_of)
    model, calibration = fit_model(person, pairs, regrouped[len(procedural):], settings, seed)
    calibration.update({"n_calm_clips": int(sum(not c.violent for c in marked)),
                        "n_violent_clips": int(sum(c.violent for c in marked)), "procedural_clips": len(procedural),
                        "pair_scenes_real": len(scenes), "augment": augment})
    return model, calibration
