"""The KineMIC pipeline: few-shot target samples -> mined source windows -> LoRA
fine-tuned action-to-motion generator."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from motionvigil.datasets.clip import Clip
from motionvigil.kinemic.encoder import check_bundle, embed_features
from motionvigil.kinemic.finetune import FinetuneSettings, finetune
from motionvigil.kinemic.mining import mine_sources, mine_windows
from motionvigil.kinemic.model import SynthesisModel
from motionvigil.kinemic.text import SentenceFn, class_description
from motionvigil.models.bundle import MotionTextBundle


@dataclass(frozen=True)
class MiningSettings:
    top_k: int = 5  # captions kept per class
    candidates: int = 8  # mined source clips searched per target sample
    stride: int = 4  # frames between window starts


@dataclass
class FewShotSet:
    clips: list[Clip]
    classes: list[str]
    targets: list[int] = field(default_factory=list)  # class index of each clip

    def lengths(self) -> dict[str, list[int]]:
        """Feature lengths of each class's samples (for drawing generation lengths)."""
        out: dict[str, list[int]] = {c: [] for c in self.classes}
        for clip, k in zip(self.clips, self.targets):
            out[self.classes[k]].append(clip.num_frames - 1)
        return out


def few_shot_sample(clips: Sequence[Clip], classes: Sequence[str], shots: int, seed: int) -> FewShotSet:
    """``shots`` single-label clips per class (all of them where a class has fewer),
    drawn with ``seed``; classes without any clip are dropped."""
    rng = np.random.default_rng(seed)
    chosen, targets, kept = [], [], []
    for name in classes:
        pool = [c for c in clips if c.labels == (name,)]
        if not pool:
            continue
        pick = rng.permutation(len(pool))[:shots]
        kept.append(name)
        chosen += [pool[i] for i in sorted(pick)]
        targets += [len(kept) - 1] * len(pick)
    return FewShotSet(chosen, kept, targets)


def few_shot_from_spec(spec: str, shots: int, seed: int, skip_bad: bool = False) -> FewShotSet:
    """``few_shot_sample`` of the training clips (split other than ``test``) of one
    ``NAME[:ROOT]`` dataset, over its class vocabulary."""
    from motionvigil.datasets.select import load_specs

    target, = load_specs([spec], skip_bad=skip_bad)
    train = [c for c in target.clips if c.split != "test"]
    return few_shot_sample(train, target.classes, shots, seed)


def mine(fewshot: FewShotSet, sources: Sequence[Clip], bundle: MotionTextBundle, sentences: SentenceFn,
         settings: MiningSettings = MiningSettings(), seed: int = 0, max_frames: int = 64
         ) -> tuple[list[np.ndarray], list[int], dict]:
    """Mined windows (raw features), their class indices and a summary."""
    check_bundle(bundle)
    descriptions = sentences([class_description(c) for c in fewshot.classes])
    mined = mine_sources(descriptions, sources, sentences, settings.top_k)
    needed = sorted({i for per in mined for i, _, _ in per})
    source_feats = {i: sources[i].get_features() for i in needed}
    tfeats = [c.get_features()[:max_frames] for c in fewshot.clips]
    temb = embed_features(bundle, tfeats)
    windows = mine_windows(temb, [len(f) for f in tfeats], fewshot.targets, mined, source_feats,
                           lambda w: embed_features(bundle, w), settings.candidates, settings.stride,
                           np.random.default_rng(seed))
    feats = [source_feats[w.source][w.start : w.start + w.length] for w in windows]
    classes = [k for k in fewshot.targets if mined[k]]  # aligned with windows
    summary = {
        "top_captions": {name: [(cap, round(s, 3)) for _, cap, s in _first_per_caption(mined[k])[:3]]
                         for k, name in enumerate(fewshot.classes)},
        "window_cosine_mean": float(np.mean([w.score for w in windows])) if windows else float("nan"),
        "windows": len(windows),
    }
    return feats, classes, summary


def _first_per_caption(rows: Sequence[tuple[int, str, float]]) -> list[tuple[int, str, float]]:
    seen, out = set(), []
    for row in rows:
        if row[1] not in seen:
            seen.add(row[1])
            out.append(row)
    return out


def build_generator(prior: str | Path, fewshot: FewShotSet, sources: Sequence[Clip], bundle: MotionTextBundle,
                    sentences: SentenceFn, mining: MiningSettings = MiningSettings(),
                    settings: FinetuneSettings = FinetuneSettings(), use_mining: bool = True,
                    log: Callable[[str], None] | None = None) -> tuple[SynthesisModel, dict]:
    """Load the prior from ``prior`` and fine-tune it on ``fewshot`` (+ mined windows), on
    the encoder ``bundle``'s device."""
    model = SynthesisModel.load(prior).to(bundle.device)
    mined_feats: list[np.ndarray] = []
    mined_cls: list[int] = []
    summary: dict = {}
    if use_mining:
        mined_feats, mined_cls, summary = mine(fewshot, sources, bundle, sentences, mining, settings.seed,
                                               model.cfg.max_frames)
    descriptions = sentences([class_description(c) for c in fewshot.classes])
    tfeats = [c.get_features() for c in fewshot.clips]
    finetune(model, fewshot.classes, descriptions, tfeats, fewshot.targets, mined_feats, mined_cls, bundle,
             settings, log)
    model.info["mining"] = summary
    return model, summary
