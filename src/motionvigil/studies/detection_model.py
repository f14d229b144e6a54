"""The detection study's learned model: choosing its settings on validation folds,
training it with pairs, and scoring clips and two-person scenes with it.

For one protocol (its training sources), :func:`build_model`:

1. chooses ``(hidden, alpha, augment)`` from :data:`MODEL_GRID` by mean clip AUROC on
   **validation folds inside the training sources** (each training source with violent
   clips held out in turn, a network trained on the rest plus the procedural corpus);
2. trains the person network on everything, calibrates it and sets the threshold out
   of fold (:func:`motionvigil.detect.model_fit.fit_model`: per source, a network
   trained without it);
3. trains the pair network on two-person scenes staged from the training sources'
   clips (:mod:`motionvigil.datasets.synthetic.pairs`) plus the real SBU training pairs
   when SBU is a training source.

Test clips and held-out sources play no part in any of it.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from motionvigil.datasets.clip import Clip
from motionvigil.datasets.synthetic.pairs import PairScene, pair_scenes
from motionvigil.detect.model import PERSON_FEATURES, Net, ViolenceModel
from motionvigil.detect.model_fit import ModelSettings, PairData, Table, actor_first, fit_model, kinect_like, \
    pair_copies, pair_table, person_table, scene_folds
from motionvigil.detect.windows import window_starts
from motionvigil.metrics.detection import auroc

MODEL_GRID: tuple[tuple[int, float, bool], ...] = ((16, 1.0, False), (32, 3.0, False), (16, 1.0, True),
                                                   (32, 3.0, True))  # (hidden, alpha, augment)
WINDOW, STRIDE = 64, 10
SBU = "sbu_kinect"


@dataclass
class BuiltModel:
    model: ViolenceModel
    window: int
    threshold: float
    selection: dict[str, Any]
    calibration: dict[str, Any]

    def score(self, windows: list[np.ndarray]) -> np.ndarray:
        return self.model.score_windows(windows)


class ModelCache:
    """Person and pair window tables, computed once per clip / scene (and per seed for
    augmented copies and staged scenes)."""

    def __init__(self) -> None:
        self._person: dict[tuple, Table] = {}
        self._pairs: dict[tuple, Table] = {}

    def person(self, clips: Sequence[Clip], seed: int | None = None) -> Table:
        """Windows of ``clips`` (with ``seed``: of one Kinect-like copy of each, seeded per clip
        by a stable hash of its id, so a re-run draws the same copies)."""
        parts = []
        for c in clips:
            key = (c.clip_id, c.dataset, hash(np.ascontiguousarray(c.joints).tobytes()), seed)
            if key not in self._person:
                joints = c.joints if seed is None else kinect_like(
                    c.joints, np.random.default_rng([seed, zlib.crc32(c.clip_id.encode())]))
                self._person[key] = person_table([replace(c, joints=joints)], WINDOW, STRIDE)
            parts.append(self._person[key])
        return Table.concat(parts)

    def pairs(self, scenes: Sequence[PairScene], key: tuple) -> Table:
        """Pair windows of ``scenes``, cached under ``key`` (e.g. source and seed)."""
        if key not in self._pairs:
            self._pairs[key] = pair_table(scenes, WINDOW, STRIDE)
        return self._pairs[key]


def staged(cache: ModelCache, clips: Sequence[Clip], source: str, seed: int, per_actor: int = 2) -> Table:
    """Pair windows of scenes staged from ``clips`` of one source (actors: its violent
    clips and as many calm ones; receivers: its calm clips)."""
    mine = [c for c in clips if c.dataset == source]
    violent = [c for c in mine if c.violent]
    calm = [c for c in mine if not c.violent]
    if not violent or not calm:
        return Table(np.zeros((0, 1)), np.zeros(0, int), np.zeros(0, bool), np.zeros(0, object))
    rng = np.random.default_rng([seed, 41])
    actors = violent + [calm[i] for i in rng.choice(len(calm), min(len(calm), len(violent)), replace=False)]
    return cache.pairs(pair_scenes(actors, calm, seed, per_actor), ("staged", source, seed))


def sbu_scenes(pairs: Sequence[Any]) -> list[PairScene]:
    """Real SBU two-person clips as training scenes, the striking person first; a scene's
    group is its participant set (``s01s02``), the folds of the pair weighting's validation."""
    return [PairScene(p.take_id, actor_first(p.motion.joints), p.violent, SBU, p.take_id.split("/")[0], p.label)
            for p in pairs]


def _validation_auroc(cache: ModelCache, train: list[Clip], procedural: list[Clip], hidden: int, alpha: float,
                      aug: bool, seed: int) -> tuple[float, dict[str, float]]:
    folds = sorted({c.dataset for c in train if c.violent})
    per = {}
    for v in folds:
        fit = procedural + [c for c in train if c.dataset != v]
        table = cache.person(fit)
        if aug:
            table = Table.concat([table, cache.person(fit, seed)])
        net = Net.fit(table.features, table.y, PERSON_FEATURES, table.weights(), hidden, alpha, seed)
        held = cache.person([c for c in train if c.dataset == v])
        per[v] = auroc(held.item_max(net.logit(held.features)), held.violent)
    return (float(np.mean(list(per.values()))) if per else float("nan")), per


def build_model(train: list[Clip], sbu_train: Sequence[Any], procedural: list[Clip], cache: ModelCache,
                alerts_per_min: float, seed: int, grid: Sequence[tuple[int, float, bool]] = MODEL_GRID) -> BuiltModel:
    """Select, train, calibrate and threshold the model for one protocol (module doc)."""
    scores = {f"h{h}_a{a:g}" + ("_aug" if g else ""): _validation_auroc(cache, train, procedural, h, a, g, seed)
              for h, a, g in grid}
    keys = list(scores)
    best = int(np.nanargmax([scores[k][0] for k in keys])) if len(keys) > 1 else 0
    hidden, alpha, aug = grid[best]
    s = ModelSettings(hidden=hidden, alpha=alpha, window=WINDOW, stride=STRIDE, alerts_per_min=alerts_per_min)
    person = Table.concat([cache.person(procedural + train)] + ([cache.person(procedural + train, seed)] if aug else []))
    sources = sorted({c.dataset for c in train} | {"procedural"})
    pair_parts = [staged(cache, procedural + train, src, seed) for src in sources]
    real = sbu_scenes(sbu_train)
    ids = tuple(p.take_id for p in sbu_train)
    copies, copy_of = pair_copies(real, seed=seed)
    pairs = PairData(Table.concat([t for t in pair_parts if len(t.violent)]),
                     cache.pairs(real, ("sbu", ids)) if real else None, scene_folds(real), [sc.label for sc in real],
                     cache.pairs(copies, ("sbu copies", ids, seed)) if copies else None, copy_of)
    model, calibration = fit_model(person, pairs, train, s, seed)
    selection = {"validation_folds": [f"hold out {v} (train split)" for v in sorted({c.dataset for c in train
                                                                                     if c.violent})],
                 "validation_auroc": {k: v[0] for k, v in scores.items()},
                 "chosen": {"hidden": hidden, "alpha": alpha, "augment": aug},
                 "pair_training": {"staged_scenes": int(len(pairs.staged.violent) // 2),
                                   "violent": int(pairs.staged.violent.sum()), "real_sbu_scenes": len(sbu_train),
                                   "weighting": calibration["pair_weighting"]},
                 "calibration_alerts_per_min": calibration["alerts_per_min"],
                 "hold_s": calibration["hold_s"], "event_logic": calibration["event_logic"],
                 "calibration_minutes": calibration["calm_minutes"]}
    return BuiltModel(model, WINDOW, calibration["threshold"], selection, calibration)


def scene_window_scores(score_person, score_pair, joints: np.ndarray, window: int = WINDOW,
                        stride: int = STRIDE) -> np.ndarray:
    """``[W]`` scene score per window of a two-person motion ``[2, T, 22, 3]``: the
    highest of each person's own score and the pair's (``score_pair`` may be None)."""
    a, b = joints[0], joints[1]
    starts = window_starts(len(a), window, stride)
    wa = [a[s : s + window] for s in starts]
    wb = [b[s : s + window] for s in starts]
    out = np.maximum(score_person(wa), score_person(wb))
    if score_pair is not None:
        out = np.maximum(out, score_pair(wa, wb))
    return out

