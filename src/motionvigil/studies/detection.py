"""``motionvigil study detection``: does the violence detector work on motion from a
source it never saw?

Protocols (each scored by the learned detector and by the non-learned limb-speed
baseline, ``speed_baseline``):

``in_domain``
    Train on the procedural corpus + the training splits of all four real sources of
    ``mocap_violence``; score its test split. Clip score = highest window score.
``loso_msr_action3d``, ``loso_hdm05``
    Leave one source out: that source plays no part in training, model selection or the
    threshold; its test clips are scored (its calm classes count as calm).
``deepmimic``
    The 15 DeepMimic humanoid clips PyBullet ships (punch, kick, spinkick violent; 12
    calm), scored by the ``in_domain`` detector. Evaluation only.
``utkinect_sequences``
    UTKinect's 20 long real sequences (no violence) scored by a detector built without
    UTKinect: false alerts per minute.
``real_sequences``
    Long motions stitched from held-out real test clips of every source, scored by the
    ``in_domain`` detector: event recall/precision (matching rule in
    :mod:`motionvigil.metrics.detection`), alerted vs violent seconds.

How a detector is built for a protocol (the same code as ``build-detector --head``):
a :class:`~motionvigil.detect.head.ViolenceHead` on body-size-free kinematic features,
trained on windows of the procedural corpus (seeded) and the protocol's real training
clips. Its window length and regularisation are chosen from :data:`GRID` by mean
clip AUROC on **validation folds inside the training sources**: each real source with
violent clips among the training sources is held out in turn (its *training* split is
the validation set). The threshold flags at most ``target_fpr`` of the real calm
training clips, scored out of fold. Test clips are touched once, at the end.
Trained parts run once per seed (the procedural corpus and fold assignment change with
it); metrics are the mean over seeds, with each seed's value and a 95% bootstrap CI
over test items (resampled jointly for all seeds).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from motionvigil.datasets.clip import Clip
from motionvigil.datasets.sequences import stitch
from motionvigil.detect.head import ViolenceHead
from motionvigil.detect.head_fit import (
    CalmScan,
    WindowTable,
    alert_spans,
    alert_rate_threshold,
    augmented,
    clip_windows,
    head_score,
    out_of_fold_calm_scans,
    procedural_clips,
    scan,
)
from motionvigil.detect.windows import window_starts
from motionvigil.errors import MotionFileError
from motionvigil.machine import machine_info
from motionvigil.features.kinematics import limb_speed_score
from motionvigil.metrics.detection import (
    auroc,
    bootstrap_ci,
    decision_summary,
    event_summary,
    interval_union_length,
    match_events,
)
from motionvigil.metrics.classification import average_precision
from motionvigil.studies.detection_model import scene_window_scores

SOURCES = ("msr_action3d", "hdm05", "utkinect", "bandai2", "utd_mhad")  # one-person sources
VIOLENT_SOURCES = ("msr_action3d", "hdm05", "utd_mhad")
PAIR_SOURCE = "sbu_kinect"  # two-person scenes
GRID: tuple[tuple[int, float, bool], ...] = tuple(
    (w, c, aug) for w in (32, 64) for c in (0.1, 1.0) for aug in (False, True))  # (window, C, augment)
STRIDE = {32: 5, 64: 10}
FPS = 20.0
DEEPMIMIC_VIOLENT = ("punch", "kick", "spinkick")


@dataclass(frozen=True)
class DetectionSettings:
    seeds: tuple[int, ...] = (0, 1, 2)
    alerts_per_min: float = 0.1  # the detector's threshold: false alerts per minute of calm training motion
    procedural_clips_per_class: int = 20
    bootstrap: int = 1000
    sequences: int = 8  # real_sequences: long motions ...
    clips_per_sequence: int = 12  # ... of this many test clips, 3 of them violent
    model_configs: int = 4  # the learned model's selection grid: the first this many of MODEL_GRID
    progress: bool = True


PRESETS = {"tiny": DetectionSettings(), "quick": DetectionSettings(seeds=(0,), procedural_clips_per_class=4,
                                                                    bootstrap=50, sequences=2, model_configs=1)}


# ----------------------------------------------------------------------------- data


@dataclass
class StudyData:
    real: list[Clip]  # single-label clips of mocap_violence, all sources, both splits
    deepmimic: list[Clip]
    utk_sequences: list[Clip]
    notes: list[str] = field(default_factory=list)
    sbu: list[Any] = field(default_factory=list)  # SbuPair records (two-person scenes)

    def clips(self, split: str, sources: Sequence[str]) -> list[Clip]:
        return [c for c in self.real if c.split == split and c.dataset in sources]


def deepmimic_clips() -> tuple[list[Clip], str | None]:
    """The DeepMimic humanoid clips in PyBullet's data (SMPL-22, 20 Hz), or a reason."""
    try:
        import pybullet_data
    except ImportError:
        return [], "pybullet not installed (pip install 'motionvigil[dev]'): deepmimic protocol skipped"
    from motionvigil.io.deepmimic import read_deepmimic
    from motionvigil.skeleton.retarget import to_smpl22

    clips = []
    for path in sorted((Path(pybullet_data.getDataPath()) / "data" / "motions").glob("humanoid3d_*.txt")):
        name = path.stem.removeprefix("humanoid3d_")
        smpl = to_smpl22(read_deepmimic(path))
        clips.append(Clip(f"deepmimic/{name}", smpl.joints, (name,), name in DEEPMIMIC_VIOLENT, "deepmimic",
                          subject="deepmimic", source=str(path), split="test"))
    return clips, None


def load_study_data(root: str | Path | None = None) -> StudyData:
    """``mocap_violence`` and ``utd_mhad`` (unusable files skipped), UTKinect sequences,
    SBU Kinect's two-person scenes and DeepMimic.

    Raises:
        MotionFileError: a source folder is missing (named in the message).
    """
    from motionvigil.data_root import default_data_root
    from motionvigil.datasets.registry import load_dataset

    base = Path(root) if root is not None else default_data_root()
    for source in SOURCES + (PAIR_SOURCE,):
        if not (base / source).is_dir():
            raise MotionFileError(base / source, f"source {source!r} of the detection study is missing")
    pool = load_dataset("mocap_violence", base, skip_bad=True)
    real = [c for c in pool.clips if len(c.labels) == 1]
    real += [c for c in load_dataset("utd_mhad", base / "utd_mhad", skip_bad=True).clips if len(c.labels) == 1]
    utk = load_dataset("utkinect", base / "utkinect", mode="sequences").clips
    from motionvigil.datasets.loaders.sbu_kinect import sbu_pairs

    sbu = sbu_pairs(base / PAIR_SOURCE, skip_bad=True)
    dm, why = deepmimic_clips()
    return StudyData(real, dm, list(utk), [why] if why else [], sbu)


# ------------------------------------------------------------------------ detectors


@dataclass
class BuiltHead:
    head: ViolenceHead
    window: int
    threshold: float
    selection: dict[str, Any]


class TableCache:
    """Window tables per (clip, window); features are computed once. A clip is known by
    its id *and* its joints (procedural clips of different seeds share ids)."""

    def __init__(self) -> None:
        self._tables: dict[tuple[str, int, int], WindowTable] = {}

    def table(self, clips: Sequence[Clip], window: int) -> WindowTable:
        parts = []
        for c in clips:
            key = (c.clip_id, hash(np.ascontiguousarray(c.joints).tobytes()), window)
            if key not in self._tables:
                self._tables[key] = WindowTable.build([c], window, STRIDE[window])
            parts.append(self._tables[key])
        return WindowTable.concat(parts)


def select_and_build(train_real: list[Clip], procedural: list[Clip], cache: TableCache, s: DetectionSettings,
                     seed: int) -> BuiltHead:
    """Choose (window, C, augment) on validation folds, fit on all training data, set the threshold."""
    sources = sorted({c.dataset for c in train_real})
    folds = [v for v in VIOLENT_SOURCES if v in sources]
    extra = {id(c): a for c, a in zip(train_real + procedural, augmented(train_real + procedural, seed))}

    def with_aug(clips: list[Clip], aug: bool) -> list[Clip]:
        return clips + [extra[id(c)] for c in clips if id(c) in extra] if aug else clips

    means: dict[str, float] = {}
    for window, c, aug in GRID:
        values = []
        for v in folds:
            fit = [x for x in train_real if x.dataset != v]
            head = cache.table(with_aug(procedural + fit, aug), window).fit(c)
            table = cache.table([x for x in train_real if x.dataset == v], window)
            values.append(auroc(table.clip_scores(head), table.violent))
        means[grid_key(window, c, aug)] = float(np.mean(values)) if values else float("nan")
    best = 0 if not folds else int(np.nanargmax([means[grid_key(*g)] for g in GRID]))
    window, c, aug = GRID[best]
    head = cache.table(with_aug(procedural + train_real, aug), window).fit(c)
    fixed = cache.table(with_aug(procedural, aug), window)
    scans = out_of_fold_calm_scans(fixed, train_real, window, STRIDE[window], c, seed=seed,
                                   table=cache.table(train_real, window))
    threshold, rate = alert_rate_threshold(scans, window, s.alerts_per_min)
    selection = {"validation_folds": [f"hold out {v} (train split)" for v in folds], "validation_auroc": means,
                 "chosen": {"window": window, "c": c, "augment": aug}, "calibration_alerts_per_min": rate,
                 "calibration_minutes": sum(x.frames for x in scans) / FPS / 60.0}
    return BuiltHead(head, window, threshold, selection)


def grid_key(window: int, c: float, aug: bool) -> str:
    return f"w{window}_c{c:g}" + ("_aug" if aug else "")


def speed_scores(clips: Sequence[Clip], window: int = 64) -> np.ndarray:
    return np.array([max(limb_speed_score(w) for w in clip_windows(c.joints, window, STRIDE[window]))
                     for c in clips])


# ------------------------------------------------------------------------ protocols


@dataclass
class Scorer:
    """Scores a joints array's windows: the learned head or the speed baseline."""

    name: str
    window: int
    threshold: float
    score: Callable[[list[np.ndarray]], np.ndarray]
    pair: Callable[[list[np.ndarray], list[np.ndarray]], np.ndarray] | None = None  # two-person windows
    hold: int = 0  # frames an alert stays open through a lull (the model's event logic)

    def alerts(self, joints: np.ndarray) -> list[tuple[float, float]]:
        """Alert segments (seconds) on ``joints``, as a deployed detector raises them."""
        return alert_spans(scan(self.score, joints, self.window, STRIDE[self.window]), self.window, self.threshold,
                           FPS, self.hold)

    def clip_scores(self, clips: Sequence[Clip]) -> np.ndarray:
        """Each one-person clip's highest window score."""
        return np.array([self.score(clip_windows(c.joints, self.window, STRIDE[self.window])).max() for c in clips])

    def scene_scan(self, joints: np.ndarray) -> CalmScan:
        """Window scores of a two-person scene ``[2, T, 22, 3]``: the highest of each
        person's own score and (with ``pair``) the pair's."""
        stride = STRIDE[self.window]
        scores = scene_window_scores(self.score, self.pair, joints, self.window, stride)
        return CalmScan(scores, np.asarray(window_starts(joints.shape[1], self.window, stride)), joints.shape[1])


def head_scorer(built: BuiltHead) -> Scorer:
    return Scorer("detector", built.window, built.threshold, head_score(built.head))


def speed_scorer(calm_train: list[Clip], alerts_per_min: float) -> Scorer:
    """The baseline with the detector's threshold policy, on the calm clips stitched together."""
    score = lambda w: np.array([limb_speed_score(x) for x in w])  # noqa: E731
    joints, _ = stitch([c.joints for c in calm_train])
    threshold, _ = alert_rate_threshold([scan(score, joints, 64, STRIDE[64])], 64, alerts_per_min)
    return Scorer("speed_baseline", 64, threshold, score)


def sequence_result(scorer: Scorer, sequences: Sequence[tuple[np.ndarray, list[tuple[float, float]]]]) -> dict:
    """Per sequence: alerts, matched events, minutes, alerted and violent seconds."""
    out = []
    for joints, events in sequences:
        alerts = scorer.alerts(joints)
        counts = match_events(alerts, events)
        out.append({"counts": counts, "minutes": len(joints) / FPS / 60.0,
                    "alerted_s": interval_union_length(alerts), "violent_s": interval_union_length(events)})
    return {"sequences": out}


def summarise_sequences(items: Sequence[dict]) -> dict[str, float]:
    keys = ("events_found", "events", "alerts_matched", "alerts")
    counts = {k: sum(i["counts"][k] for i in items) for k in keys}
    return event_summary(counts, sum(i["minutes"] for i in items), sum(i["alerted_s"] for i in items),
                         sum(i["violent_s"] for i in items))


def real_sequences(test: list[Clip], s: DetectionSettings, seed: int) -> list[tuple[np.ndarray, list]]:
    """``s.sequences`` long motions: each ``s.clips_per_sequence`` held-out test clips
    (3 violent, the rest calm, from every source), stitched; violent events in seconds."""
    rng = np.random.default_rng([seed, 16])
    violent = [c for c in test if c.violent and 20 <= c.num_frames <= 200]
    calm = [c for c in test if not c.violent and 20 <= c.num_frames <= 200]
    out = []
    for _ in range(s.sequences):
        picks = [violent[i] for i in rng.choice(len(violent), 3, replace=False)]
        picks += [calm[i] for i in rng.choice(len(calm), s.clips_per_sequence - 3, replace=False)]
        order = rng.permutation(len(picks))
        parts = [picks[i] for i in order]
        joints, bounds = stitch([c.joints for c in parts])
        events = [(a / FPS, b / FPS) for c, (a, b) in zip(parts, bounds) if c.violent]
        out.append((joints, events))
    return out


# --------------------------------------------------------------------------- study


def clip_metrics(per_seed: list[np.ndarray], truth: np.ndarray, thresholds: list[float], s: DetectionSettings,
                 seed: int = 0) -> dict[str, Any]:
    """Mean-over-seeds metrics, per-seed values and bootstrap CIs over clips."""
    rows = [decision_summary(sc, truth, t) for sc, t in zip(per_seed, thresholds)]
    out: dict[str, Any] = {}
    for key in ("auroc", "ap", "vdr", "fpr", "threshold"):
        vals = [r[key] for r in rows]
        out[key] = float(np.mean(vals))
        out[f"{key}_per_seed"] = vals
    out["n_violent"], out["n_calm"] = rows[0]["n_violent"], rows[0]["n_calm"]
    out["alerted_violent_per_seed"] = [r["tp"] for r in rows]
    out["alerted_calm_per_seed"] = [r["fp"] for r in rows]
    stacked = np.stack(per_seed)
    index = np.arange(len(truth))

    def mean_over_seeds(fn: Callable[[np.ndarray, np.ndarray, int], float]) -> Callable:
        return lambda idx, y: float(np.mean([fn(stacked[k][idx.astype(int)], y, k) for k in range(len(per_seed))]))

    metrics = {
        "auroc": lambda sc, y, k: auroc(sc, y),
        "ap": lambda sc, y, k: average_precision(sc, y) if y.any() else float("nan"),
        "vdr": lambda sc, y, k: float((sc[y] >= thresholds[k]).mean()) if y.any() else float("nan"),
        "fpr": lambda sc, y, k: float((sc[~y] >= thresholds[k]).mean()) if (~y).any() else float("nan"),
    }
    for key, fn in metrics.items():
        out[f"{key}_ci"] = bootstrap_ci(mean_over_seeds(fn), index.astype(float), truth, s.bootstrap, seed)
    return out


def sequence_metrics(per_seed: list[dict], s: DetectionSettings) -> dict[str, Any]:
    """Event metrics pooled over sequences, mean over seeds, CIs by resampling sequences."""
    summaries = [summarise_sequences(r["sequences"]) for r in per_seed]
    out: dict[str, Any] = {}
    for key in ("event_recall", "event_precision", "false_alerts_per_min", "alerted_s", "violent_s"):
        vals = [x[key] for x in summaries]
        out[key] = float(np.nanmean(vals)) if not all(math.isnan(v) for v in vals) else float("nan")
        out[f"{key}_per_seed"] = vals
    out["minutes"] = summaries[0]["minutes"]
    out["events"] = summaries[0]["events"]
    out["alerts_per_seed"] = [x["alerts"] for x in summaries]
    n = len(per_seed[0]["sequences"])
    rng = np.random.default_rng(0)
    boots: dict[str, list[float]] = {"event_recall": [], "event_precision": [], "false_alerts_per_min": []}
    for _ in range(s.bootstrap):
        idx = rng.integers(0, n, n)
        pooled = [summarise_sequences([r["sequences"][i] for i in idx]) for r in per_seed]
        for key in boots:
            v = float(np.nanmean([p[key] for p in pooled])) if any(np.isfinite(p[key]) for p in pooled) else np.nan
            if np.isfinite(v):
                boots[key].append(v)
    for key, vals in boots.items():
        out[f"{key}_ci"] = [float(np.percentile(vals, 2.5)), float(np.percentile(vals, 97.5))] if vals else [None, None]
    return out
