"""Picking support examples from datasets, and building a detector from the command line.

Support examples come from the training split only (clips whose split is ``"train"`` or
unset), so a dataset's test clips stay unseen. Per class, the candidates are the
single-label clips of that class and the class's frame segments inside multi-action
clips (cut out as their own clips); clips that carry the class among several labels
without segments are used only when these run out. ``shots`` of them are drawn per
class with a seeded generator.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from motionvigil.datasets.clip import Clip, Dataset
from motionvigil.datasets.labelled import LabelledSet
from motionvigil.datasets.violence import is_violent
from motionvigil.detect.detector import Detector
from motionvigil.errors import CheckpointError
from motionvigil.fewshot.adaptation import AdaptSettings
from motionvigil.models.bundle import MotionTextBundle
from motionvigil.models.checkpoint import CONFIG
from motionvigil.skeleton.canonical import canonicalize

MODEL_SUBFOLDERS = ("maml/best", "best", "pretrain/best")


def resolve_model(path: str | Path) -> Path:
    """A model folder, or the model inside a run folder: ``maml/best`` (a few-shot study),
    ``best`` (a pre-training run) or ``pretrain/best``, in that order."""
    path = Path(path)
    for sub in ("", *MODEL_SUBFOLDERS):
        if (path / sub / CONFIG).is_file():
            return path / sub
    raise CheckpointError(path, "no model here: expected a model folder (config.json) or a run folder holding "
                                f"{', '.join(MODEL_SUBFOLDERS)}")


def _segment_clip(clip: Clip, label: str, start: int, end: int) -> Clip:
    joints = canonicalize(clip.joints[start:end]).astype(np.float32)
    return Clip(f"{clip.clip_id}:{start}-{end}", joints, (label,), is_violent(label), clip.dataset,
                subject=clip.subject, source=clip.source, split=clip.split, meta={"segment_of": clip.clip_id})


def candidates(clips: Sequence[Clip], label: str) -> tuple[list[Clip], list[Clip]]:
    """``(preferred, fallback)`` examples of ``label``: single-label clips and segments;
    then multi-label clips without segments of it."""
    preferred, fallback = [], []
    for clip in clips:
        if label not in clip.labels:
            continue
        segments = [s for s in clip.segments if s.label == label and s.end - s.start >= 2]
        if len(clip.labels) == 1:
            preferred.append(clip)
        elif segments:
            preferred += [_segment_clip(clip, label, s.start, min(s.end, clip.num_frames)) for s in segments]
        else:
            fallback.append(clip)
    return preferred, fallback


def select_support(datasets: Sequence[Dataset], classes: Sequence[str] | None, shots: int,
                   seed: int = 0) -> LabelledSet:
    """Up to ``shots`` training examples per class (all of a class's examples if fewer).

    ``classes`` defaults to every class of the datasets. Raises ``ValueError`` for a
    class no dataset knows or one without a training example.
    """
    if shots < 1:
        raise ValueError(f"shots must be >= 1, got {shots}")
    known = list(dict.fromkeys(c for ds in datasets for c in ds.classes))
    classes = tuple(classes) if classes else tuple(known)
    unknown = [c for c in classes if c not in known]
    if unknown:
        raise ValueError(f"unknown class(es) {unknown}; the data has: {', '.join(known)}")
    train = [c for ds in datasets for c in ds.clips if c.split in (None, "train")]
    rng = np.random.default_rng(seed)
    chosen: list[Clip] = []
    missing = []
    for label in classes:
        preferred, fallback = candidates(train, label)
        pool = [preferred[i] for i in rng.permutation(len(preferred))]
        pool += [fallback[i] for i in rng.permutation(len(fallback))]
        if not pool:
            missing.append(label)
        chosen += pool[:shots]
    if missing:
        raise ValueError(f"no training clip of class(es) {missing}")
    return LabelledSet.build(chosen, classes)


def head_training_clips(datasets: Sequence[Dataset], alert: Sequence[str],
                        calm: Sequence[Dataset] = ()) -> tuple[list[Clip], list[bool]]:
    """Clips for a detector's violence head: the single-label (or unlabelled) training
    clips of ``datasets`` (violent when their label is one of ``alert``) and those of
    ``calm`` that carry none of ``alert`` (calm background). Test clips never take part."""
    alert = set(alert)
    clips, violent = [], []
    for ds, calm_only in [(d, False) for d in datasets] + [(d, True) for d in calm]:
        for c in ds.clips:
            if c.split not in (None, "train") or len(c.labels) > 1 or c.num_frames < 2:
                continue
            v = bool(set(c.labels) & alert)
            if calm_only and v:
                continue
            clips.append(c)
            violent.append(v)
    return clips, violent


def build_from_specs(model: str | Path, specs: Sequence[str], output: str | Path, *,
                     classes: Sequence[str] | None = None, shots: int = 5, target_fpr: float | None = None,
                     adapt: bool = False, alert_classes: Sequence[str] | None = None, window: int = 64,
                     stride: int = 10, seed: int = 0, device: str = "cpu", skip_bad: bool | None = None,
                     head: bool = True, calm: Sequence[str] = (), alerts_per_min: float | None = None,
                     reader_options: dict | None = None, info: dict | None = None, scorer: str = "model") -> Detector:
    """``motionvigil build-detector``: load the model and the support data, build, save.

    ``reader_options`` (``joint_map``, ``scale``) go to the dataset loaders that take them.
    With ``head`` (the default) the violence score comes from a kinematic head trained on
    the support data's training clips, the ``calm`` datasets' calm clips and the
    procedural corpus; its threshold keeps the calm clips (out of fold) at
    ``alerts_per_min`` false alerts per minute (``target_fpr`` is then not used).
    ``scorer`` picks what the head is: ``"model"`` (the learned violence model,
    :meth:`Detector.with_model`) or ``"kinematic"`` (the logistic kinematic head).
    ``info`` is merged into the saved detector's info last (e.g. the feedback used).
    """
    from motionvigil.datasets.select import load_specs

    if head and target_fpr is not None:
        raise ValueError("--target-fpr sets the prototype score's threshold (--no-head); the head's threshold is "
                         "set by --alerts-per-min on calm motion")
    bundle = MotionTextBundle.load(resolve_model(model), device)
    datasets = load_specs(specs, skip_bad=skip_bad, **(reader_options or {}))
    support = select_support(datasets, classes, shots, seed)
    detector = Detector.build(bundle, support, adapt=adapt, target_fpr=target_fpr, violent=alert_classes,
                              window=window, stride=stride, settings=AdaptSettings(), seed=seed)
    if head:
        calm_sets = load_specs(calm, skip_bad=skip_bad, **(reader_options or {})) if calm else []
        clips, violent = head_training_clips(datasets, detector.violent_classes, calm_sets)
        if scorer == "model":
            detector = detector.with_model(clips, violent, alerts_per_min=alerts_per_min, seed=seed)
        else:
            detector = detector.with_head(clips, violent, alerts_per_min=alerts_per_min, seed=seed)
        detector.info["calm_data"] = list(calm) or list(specs)
    detector.info["model"] = str(resolve_model(model))
    detector.info["support_data"] = list(specs)
    detector.info.update(info or {})
    detector.save(output)
    return detector


DEFAULT_PROMPT_FPR = 0.05  # zero-shot threshold: this share of calm clips may alert


def calm_clips(datasets: Sequence[Dataset], alert: Sequence[str]) -> list[Clip]:
    """The training clips of ``datasets`` that carry none of the ``alert`` classes and no
    violent label (calm motion to set a threshold on)."""
    alert = set(alert)
    return [c for ds in datasets for c in ds.clips
            if c.split in (None, "train") and c.num_frames >= 2 and not (set(c.labels) & alert) and not c.violent]


def build_from_prompts(model: str | Path, prompts: Sequence[str], output: str | Path, *,
                       calm: Sequence[str] = ("procedural",), target_fpr: float | None = None,
                       alert_classes: Sequence[str] | None = None, window: int = 64, stride: int = 10,
                       device: str = "cpu", skip_bad: bool | None = None,
                       reader_options: dict | None = None, info: dict | None = None) -> Detector:
    """``motionvigil build-detector --prompts``: a zero-shot detector whose prototypes are
    the text embeddings of the prompts (:meth:`Detector.from_prompts`), its threshold set
    so that ``target_fpr`` (default ``DEFAULT_PROMPT_FPR``) of the ``calm`` datasets' calm
    training clips alert (:meth:`Detector.calibrate`); saved to ``output``."""
    from motionvigil.cache_dir import cache_root
    from motionvigil.datasets.select import load_specs
    from motionvigil.models.text import TextEmbeddingCache

    fpr = DEFAULT_PROMPT_FPR if target_fpr is None else target_fpr
    bundle = MotionTextBundle.load(resolve_model(model), device)
    detector = Detector.from_prompts(bundle, prompts, TextEmbeddingCache(cache_root() / "text"),
                                     violent=alert_classes, window=window, stride=stride)
    clips = calm_clips(load_specs(calm, skip_bad=skip_bad, **(reader_options or {})), detector.violent_classes)
    if not clips:
        raise ValueError(f"no calm training clip in {', '.join(calm)} to set the threshold on (--calm)")
    detector = detector.calibrate(clips, target_fpr=fpr)
    detector.info = {**detector.info, "model": str(resolve_model(model)), "prompts": list(prompts),
                     "calm_data": list(calm), **(info or {})}
    detector.save(output)
    return detector
