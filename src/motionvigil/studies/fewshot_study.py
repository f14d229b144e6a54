"""One command for the paper's few-shot study: pre-train (or load) the encoder,
meta-train FOMAML, run Table 1 (episodic) and Table 2 (global, with the supervised
baselines), and write Markdown, CSV and JSON.

Data use: pre-training, meta-training and the supervised baselines see only the
training split (with a validation part carved out of it for model selection); the
test split is used once, by the protocols. Nothing is tuned on test results.

``class_split="novel"`` (see :mod:`motionvigil.datasets.class_split`) makes the classes
disjoint as well: pre-training and meta-training see only the base classes' training
clips; Table 1 draws episodes from the novel classes' test clips; Table 2 draws its
support sets from the novel classes' training clips (never trained on) and scores the
novel classes' test clips; the supervised rows train on the novel classes' training
clips (all shots), starting from the base-only encoder.

Under ``torchrun`` every step is spread over the processes: pre-training batches
(``batch_size`` per process), supervised batches (each process takes its share of the
one-process global batch), meta-training episodes (one per process and outer step),
and the evaluation episodes and draws; rank 0 writes the tables.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from motionvigil.atomic import write_text_atomic
from motionvigil.cache_dir import cache_root
from motionvigil.datasets.class_split import ClassSplit, novel_split, restrict
from motionvigil.datasets.clip import Clip, Dataset
from motionvigil.datasets.select import load_specs, split_train_val_test
from motionvigil.metrics.classification import aggregate, classification_metrics
from motionvigil.studies.fewshot_protocols import (
    EpisodicProtocol,
    GlobalProtocol,
    rows_to_csv,
    rows_to_markdown,
    run_episodic,
    run_global,
)
from motionvigil.datasets.labelled import LabelledSet
from motionvigil.fewshot.adaptation import AdaptSettings
from motionvigil.fewshot.maml import MetaSettings, meta_train
from motionvigil.models.bundle import MotionTextBundle
from motionvigil.models.config import preset
from motionvigil.models.text import TextEmbeddingCache
from motionvigil.pretrain.trainer import PretrainRun, TrainSettings
from motionvigil.supervised.train import SupervisedSettings, train_supervised
from motionvigil.training.runtime import Runtime, barrier, start_runtime, stop_runtime


@dataclass(frozen=True)
class StudySettings:
    preset: str = "tiny"
    encoder: str = "tmr"
    pretrain: TrainSettings = field(default_factory=lambda: TrainSettings(epochs=20))
    meta: MetaSettings = field(default_factory=MetaSettings)  # meta.inner also adapts at test time
    episodic: EpisodicProtocol = field(default_factory=EpisodicProtocol)
    global_protocol: GlobalProtocol = field(default_factory=GlobalProtocol)
    supervised: SupervisedSettings = field(default_factory=SupervisedSettings)
    val_fraction: float = 0.15
    seed: int = 0
    supervised_objectives: tuple[str, ...] = ("bce", "bce_center_inter")  # Table 2's supervised rows
    class_split: str = "paper"  # "paper": same classes in training and test; "novel": class-disjoint
    fold: int = 0  # which half of the novel split is held out


@dataclass(frozen=True)
class StudyData:
    """What each phase of the study sees (see the module docstring)."""

    train_clips: list[Clip]  # pre-training and meta-training
    val_clips: list[Clip]
    train: LabelledSet
    val: LabelledSet
    test: LabelledSet  # Table 1 episodes and Table 2 queries
    support: LabelledSet  # Table 2 support draws and supervised training
    support_val: LabelledSet  # supervised model selection
    split: ClassSplit | None


def study_data(datasets: Sequence[Dataset], settings: StudySettings) -> StudyData:
    """Split the pooled datasets by subject (and, for ``class_split="novel"``, by class)."""
    classes = pool(datasets)
    train_c, val_c, test_c = split_train_val_test(datasets, settings.val_fraction, settings.seed)
    if settings.class_split == "paper":
        train, val, test = (LabelledSet.build(c, classes) for c in (train_c, val_c, test_c))
        return StudyData(train_c, val_c, train, val, test, train, val, None)
    if settings.class_split != "novel":
        raise ValueError(f"unknown class split {settings.class_split!r} (paper or novel)")
    split = novel_split(classes, settings.fold)
    base_train, base_val = restrict(train_c, split.base), restrict(val_c, split.base)
    return StudyData(base_train, base_val, LabelledSet.build(base_train, split.base),
                     LabelledSet.build(base_val, split.base), LabelledSet.build(restrict(test_c, split.novel), split.novel),
                     LabelledSet.build(restrict(train_c, split.novel), split.novel),
                     LabelledSet.build(restrict(val_c, split.novel), split.novel), split)


def pool(datasets: Sequence[Dataset]) -> tuple[str, ...]:
    """The union of the datasets' class vocabularies, in order of first appearance."""
    seen: dict[str, None] = {}
    for ds in datasets:
        for c in ds.classes:
            seen.setdefault(c, None)
    return tuple(seen)


def _adaptation_label(settings: StudySettings) -> str:
    """Table-title suffix naming a non-default inner loop (the paper's: every layer, T = 20,
    alpha = 0.02)."""
    a, paper = settings.meta.inner, AdaptSettings()
    parts = []
    if a.top_layers is not None:
        parts.append(f"fast mode: top {a.top_layers} layer(s) adapted")
    if (a.steps, a.lr) != (paper.steps, paper.lr):
        parts.append(f"T = {a.steps}, alpha = {a.lr:g}")
    return f"; MAML rows: {', '.join(parts)}" if parts else ""


def _split_label(split: ClassSplit | None) -> str:
    return "" if split is None else f", class-disjoint ({split.describe()})"


def _write_table(out: Path, name: str, rows: list[dict], lead: Sequence[str], title: str) -> None:
    write_text_atomic(out / f"{name}.md", f"{title}\n\n{rows_to_markdown(rows, lead)}\n")
    write_text_atomic(out / f"{name}.csv", rows_to_csv(rows, lead))
    write_text_atomic(out / f"{name}.json", json.dumps(rows, indent=2, default=float))


def per_process(global_batch: int, runtime: Runtime | None) -> int:
    """The per-process batch that keeps the one-process recipe's global batch under torchrun
    (the trainers' batch sizes are per process). Used for the supervised rows: with a
    doubled batch their BCE stays longer on the base-rate plateau. Pre-training keeps
    its per-process batch (more contrastive negatives as N grows) and meta-training one
    episode per process, so its outer step averages ``world_size`` episodes."""
    world = runtime.world_size if runtime is not None else 1
    return max(1, global_batch // world)


SUPERVISED_LABELS = {"bce": "Supervised BCE", "bce_center_inter": "Supervised BCE+Center+Inter"}


def supervised_rows(bundle: MotionTextBundle, train: LabelledSet, val: LabelledSet, test: LabelledSet,
                    out: Path, settings: SupervisedSettings, progress: bool,
                    runtime: Runtime | None = None,
                    objectives: Sequence[str] = ("bce", "bce_center_inter")) -> list[dict]:
    """Table 2's bottom rows: the encoder + MLP head trained on all training clips."""
    rows = []
    queries = np.flatnonzero(test.labels.any(1))
    for objective in objectives:
        label = SUPERVISED_LABELS[objective]
        s = dataclasses.replace(settings, objective=objective, progress=progress,
                                batch_size=per_process(settings.batch_size, runtime))
        model = train_supervised(bundle, train, val, out / f"supervised_{objective}", s, runtime=runtime)
        scores = model.scores([test.clips[i] for i in queries])
        metrics = classification_metrics(scores, test.labels[queries], test.violent)
        rows.append({"model": label, "shots": "all", **aggregate([metrics])})
    return rows


def run_fewshot_study(specs: Sequence[str], out_dir: str | Path, settings: StudySettings = StudySettings(),
                      pretrained: str | Path | None = None, device: str = "cpu", progress: bool = True,
                      skip_bad: bool = False) -> dict:
    if pretrained is not None and settings.class_split == "novel":
        raise ValueError("--class-split novel pre-trains inside the study, so that no caption of a novel class "
                         "is seen; leave out --pretrained")
    out = Path(out_dir)
    runtime = start_runtime(device)
    progress = progress and runtime.is_main
    if runtime.is_main:
        out.mkdir(parents=True, exist_ok=True)
    barrier(runtime)
    timings: dict[str, float] = {}
    start, cpu_start = time.perf_counter(), time.process_time()
    datasets = load_specs(specs, skip_bad=skip_bad)
    data = study_data(datasets, settings)
    train, val, test = data.train, data.val, data.test
    text_cache = TextEmbeddingCache(cache_root() / "text")
    timings["load_data_s"] = time.perf_counter() - start

    t = time.perf_counter()
    if pretrained is not None:
        folder = Path(pretrained)
        bundle = MotionTextBundle.load(folder / "best" if (folder / "best").is_dir() else folder, runtime.device)
    else:
        cfg = preset(settings.preset, settings.encoder)
        pre_settings = dataclasses.replace(settings.pretrain, seed=settings.seed, progress=progress)
        bundle = PretrainRun(out / "pretrain", cfg, pre_settings, runtime, text_cache).fit(data.train_clips,
                                                                                          data.val_clips)
    timings["pretrain_s"] = time.perf_counter() - t

    t = time.perf_counter()
    meta_settings = dataclasses.replace(settings.meta, seed=settings.seed, progress=progress)
    maml_start = MotionTextBundle.load(_bundle_folder(out, pretrained), runtime.device)
    maml = meta_train(maml_start, train, val, out / "maml", meta_settings, runtime=runtime)
    timings["meta_train_s"] = time.perf_counter() - t

    t = time.perf_counter()
    table1 = run_episodic(bundle, maml, test, settings.episodic, text_cache, settings.meta.inner, progress)
    where = f"{', '.join(specs)}{_split_label(data.split)}"
    if runtime.is_main:
        _write_table(out, "table1", table1, ("config", "model"),
                     f"Table 1: episodic few-shot on {where} "
                     f"(mean ± std over {settings.episodic.episodes} episodes){_adaptation_label(settings)}")
    timings["table1_s"] = time.perf_counter() - t

    t = time.perf_counter()
    table2 = run_global(bundle, maml, data.support, test, settings.global_protocol, text_cache,
                        settings.meta.inner, progress)
    timings["table2_fewshot_s"] = time.perf_counter() - t
    t = time.perf_counter()
    table2 += supervised_rows(bundle, data.support, data.support_val, test, out, settings.supervised, progress,
                              runtime, settings.supervised_objectives)
    timings["supervised_s"] = time.perf_counter() - t
    if runtime.is_main:
        _write_table(out, "table2", table2, ("model",),
                     f"Table 2: global evaluation over all {len(test.classes)} classes of {where}"
                     f"{_adaptation_label(settings)}")
    timings["total_s"] = time.perf_counter() - start
    timings["total_cpu_s_rank0"] = time.process_time() - cpu_start  # CPU seconds of this process (all threads)

    summary = {
        "data": list(specs),
        "classes": len(test.classes),
        "violent_classes": [c for c, v in zip(test.classes, test.violent) if v],
        "class_split": None if data.split is None else dataclasses.asdict(data.split),
        "clips": {"train": len(train.clips), "val": len(val.clips), "test": len(test.clips),
                  "support": len(data.support.clips)},
        "settings": json.loads(json.dumps(dataclasses.asdict(settings), default=str)),
        "timings": timings,
        "torch_threads": torch.get_num_threads(),
        "processes": runtime.world_size,
    }
    if runtime.is_main:
        write_text_atomic(out / "summary.json", json.dumps(summary, indent=2))
    stop_runtime(runtime)
    return {"table1": table1, "table2": table2, "summary": summary}


def _bundle_folder(out: Path, pretrained: str | Path | None) -> Path:
    if pretrained is None:
        return out / "pretrain" / "best"
    folder = Path(pretrained)
    return folder / "best" if (folder / "best").is_dir() else folder


__all__ = ["StudySettings", "run_fewshot_study"]
