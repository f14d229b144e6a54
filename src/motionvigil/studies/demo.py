"""The demo's pipeline (``motionvigil demo``, see :mod:`motionvigil.report.demo` for the
steps and the report): its settings, data, training, evaluation rows and detector.

The long multi-action motion and the matching of alerts to its true segments are in
:mod:`.demo_long_motion`; the data front-end summaries in :mod:`.front_end`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from motionvigil.atomic import write_text_atomic
from motionvigil.datasets.clip import Clip, Dataset
from motionvigil.datasets.labelled import LabelledSet
from motionvigil.datasets.select import is_procedural, load_specs, parse_data_spec, split_train_val_test
from motionvigil.datasets.violence import is_violent
from motionvigil.detect import Detector
from motionvigil.detect.support import head_training_clips, select_support
from motionvigil.errors import MotionFileError
from motionvigil.fewshot.adaptation import AdaptSettings
from motionvigil.fewshot.maml import MetaSettings, meta_train
from motionvigil.models.bundle import MotionTextBundle
from motionvigil.models.config import preset
from motionvigil.models.text import TextEmbeddingCache
from motionvigil.pretrain.trainer import PretrainRun, TrainSettings
from motionvigil.studies.fewshot_protocols import (
    EpisodicProtocol,
    GlobalProtocol,
    rows_to_csv,
    rows_to_markdown,
    run_global,
)
from motionvigil.studies.fewshot_study import pool, supervised_rows
from motionvigil.supervised.train import SupervisedSettings
from motionvigil.training.runtime import Runtime

SYNTHETIC = "synthetic"  # the tag of everything made from the procedural corpus
PROCEDURAL = "procedural"  # its dataset name (alias: synthetic)
# The long synthetic sequence: 14 actions (the generator makes 2-4.5 s per action, so
# about 40 s), two kicks and two punches among their look-alikes (step, wave, reach, ...).
LONG_ACTIONS = ("walk", "wave", "punch", "stand", "step", "kick", "look around", "clap", "throw", "punch",
                "reach", "kick", "hug", "sit down")



@dataclass(frozen=True)
class DemoSettings:
    """Sizes of every step. ``FULL`` is what ``motionvigil demo`` runs; ``QUICK`` is for tests."""

    clips_per_class: int = 20  # synthetic corpus: clips per class (37 classes) ...
    sequences: int = 20  # ... plus multi-action sequences
    val_fraction: float = 0.15
    pretrain_epochs: int = 15
    meta_iterations: int = 150
    meta_val_every: int = 50
    meta_val_episodes: int = 10
    ways: int = 5
    shots: tuple[int, ...] = (0, 1, 5)
    episodes: int = 100
    queries: int = 5
    global_shots: tuple[int, ...] = (1, 5)  # empty: no Table 2
    global_repeats: int = 3
    supervised_epochs: int | None = 30  # None: no supervised rows (see OMITTED_SUPERVISED)
    detector_shots: int = 5
    tsne_classes: int = 8
    long_actions: tuple[str, ...] = LONG_ACTIONS
    real_long_clips: int = 12  # real data: test clips stitched into the long motion
    animations: int = 3  # GIFs of the first alert segments (0: none)
    seed: int = 0


FULL = DemoSettings()
QUICK = DemoSettings(clips_per_class=8, sequences=4, pretrain_epochs=1, meta_iterations=2, meta_val_every=1,
                     meta_val_episodes=2, shots=(0, 1), episodes=2, global_shots=(1,), global_repeats=1,
                     supervised_epochs=1, detector_shots=2, tsne_classes=6, animations=1)
OMITTED_SUPERVISED = ("the supervised baselines (Supervised BCE, BCE+Center+Inter) are left out to keep the demo "
                      "under 10 minutes; `motionvigil study fewshot --data {spec} -o runs/study` produces the full "
                      "Table 2 with them (about 30 min on 2 cores)")


# --------------------------------------------------------------------------- data


@dataclass
class DemoData:
    spec: str
    tag: str  # "synthetic" (procedural corpus) or the dataset name: in every file name and heading
    synthetic: bool
    datasets: list[Dataset]
    classes: tuple[str, ...]
    train_clips: list[Clip]
    val_clips: list[Clip]
    test_clips: list[Clip]
    train: LabelledSet = field(init=False)
    val: LabelledSet = field(init=False)
    test: LabelledSet = field(init=False)

    def __post_init__(self) -> None:
        self.train, self.val, self.test = (LabelledSet.build(c, self.classes)
                                           for c in (self.train_clips, self.val_clips, self.test_clips))

    @property
    def violent_classes(self) -> list[str]:
        return [c for c, v in zip(self.classes, self.train.violent) if v]

    def describe(self) -> str:
        what = "procedural synthetic motions (not real motion capture)" if self.synthetic else "real motion capture"
        n = sum(len(d.clips) for d in self.datasets)
        return f"{self.spec}: {what}, {n} clips, {len(self.classes)} classes"


def load_data(spec: str, s: DemoSettings) -> DemoData:
    name, _root = parse_data_spec(spec)
    procedural = is_procedural(spec)
    if procedural:
        from motionvigil.datasets.synthetic import generate_corpus

        datasets = [generate_corpus(s.clips_per_class, s.seed, s.sequences)]
    else:
        datasets = load_specs([spec], skip_bad=True)
    classes = pool(datasets)
    if not any(is_violent(c) for c in classes):
        raise MotionFileError(None, f"{spec} has no violent class (kick, punch, ...): nothing for the detector "
                                    "to alert on")
    train, val, test = split_train_val_test(datasets, s.val_fraction, s.seed)
    return DemoData(spec, SYNTHETIC if procedural else name, procedural, datasets, classes, train, val, test)


# --------------------------------------------------------------------------- training


def pretrain(data: DemoData, work: Path, s: DemoSettings, runtime: Runtime,
             text_cache: TextEmbeddingCache) -> MotionTextBundle:
    settings = TrainSettings(epochs=s.pretrain_epochs, seed=s.seed)
    run = PretrainRun(work / "pretrain", preset("tiny", "tmr"), settings, runtime, text_cache)
    return run.fit(data.train_clips, data.val_clips, resume=False)


def meta_settings(s: DemoSettings) -> MetaSettings:
    return MetaSettings(iterations=s.meta_iterations, ways=s.ways, val_every=s.meta_val_every,
                        val_episodes=s.meta_val_episodes, seed=s.seed)


def metatrain(data: DemoData, work: Path, s: DemoSettings, runtime: Runtime) -> MotionTextBundle:
    start = MotionTextBundle.load(work / "pretrain" / "best", runtime.device)  # a separate copy
    return meta_train(start, data.train, data.val, work / "maml", meta_settings(s), resume=False)


# --------------------------------------------------------------------------- evaluation


def episodic_protocol(s: DemoSettings) -> EpisodicProtocol:
    return EpisodicProtocol(ways=(s.ways,), shots=s.shots, episodes=s.episodes, queries=s.queries, seed=s.seed)


def write_table(work: Path, name: str, rows: list[dict], lead: tuple[str, ...], title: str) -> None:
    write_text_atomic(work / f"{name}.md", f"{title}\n\n{rows_to_markdown(rows, lead)}\n")
    write_text_atomic(work / f"{name}.csv", rows_to_csv(rows, lead))
    write_text_atomic(work / f"{name}.json", json.dumps(rows, indent=2, default=float))


def global_rows(pre: MotionTextBundle, maml: MotionTextBundle, data: DemoData, work: Path, s: DemoSettings,
                text_cache: TextEmbeddingCache) -> list[dict]:
    if not s.global_shots:
        return []
    protocol = GlobalProtocol(shots=s.global_shots, repeats=s.global_repeats, seed=s.seed)
    rows = run_global(pre, maml, data.train, data.test, protocol, text_cache, AdaptSettings())
    if s.supervised_epochs:
        sup = SupervisedSettings(epochs=s.supervised_epochs, seed=s.seed)
        rows += supervised_rows(pre, data.train, data.val, data.test, work, sup, progress=True)
    return rows


def tsne_class_indices(data: DemoData, limit: int) -> list[int]:
    """Violent classes and their look-alikes first (synthetic: ``CONFUSABLE_PAIRS``), then the
    most frequent other classes; only classes with >= 2 test and >= 1 training clips."""
    test_n, train_n = data.test.class_counts(), data.train.class_counts()
    usable = {c for c, a, b in zip(data.classes, test_n, train_n) if a >= 2 and b >= 1}
    order: list[str] = []
    if data.synthetic:
        from motionvigil.datasets.synthetic import CONFUSABLE_PAIRS

        for v, other in CONFUSABLE_PAIRS:
            order += [v, other]
    order += [c for c in data.violent_classes]
    order += [data.classes[i] for i in np.argsort(-np.asarray(test_n), kind="stable")]
    chosen = list(dict.fromkeys(c for c in order if c in usable))[:limit]
    return [data.classes.index(c) for c in chosen]



# --------------------------------------------------------------------------- detection


def build_detector(maml: MotionTextBundle, data: DemoData, s: DemoSettings) -> Detector:
    support = select_support(data.datasets, data.classes, s.detector_shots, s.seed)
    detector = Detector.build(maml, support, adapt=True, settings=AdaptSettings(), seed=s.seed)
    # the violence score: the kinematic head (build-detector's default; docs/detection.md), trained on the
    # training clips (and, for real data, the built-in procedural corpus), threshold on calm training motion
    clips, violent = head_training_clips(data.datasets, detector.violent_classes)
    detector = detector.with_head(clips, violent, seed=s.seed, procedural=0 if data.synthetic else None)
    detector.info.update(model="MAML initialisation (maml/best)", support_data=[data.spec])
    return detector


def clip_violence_scores(detector: Detector, data: DemoData) -> tuple[np.ndarray, np.ndarray]:
    """Violence scores and truth of the single-label test clips (centre-cropped windows)."""
    clips = [c for c in data.test_clips if len(c.labels) == 1]
    return detector.clip_violence(clips), np.array([c.violent for c in clips], bool)



def headline(table1: list[dict]) -> dict:
    """TMR vs MAML at the largest shot count of Table 1 (both rows present)."""
    ran = [r for r in table1 if "skipped" not in r]
    shots = sorted({r["shots"] for r in ran if r["model"] == "MAML"})
    if not shots:
        return {}
    k = shots[-1]
    pick = {r["model"]: r for r in ran if r.get("shots") == k}
    return {"config": pick["MAML"]["config"], **{f"{m}_{key}": pick[m][key] for m in ("TMR", "MAML")
                                                 for key in ("mAP", "VDR", "FPR") if m in pick}}



__all__ = ["FULL", "QUICK", "DemoData", "DemoSettings", "build_detector", "clip_violence_scores", "global_rows",
           "headline", "load_data", "metatrain", "pretrain"]
