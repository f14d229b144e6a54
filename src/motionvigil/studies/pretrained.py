"""Evaluate a pre-trained motion-text model: TMR retrieval protocols and zero-shot
classification from class-name prompts."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from motionvigil.datasets.captions import clip_captions, label_caption
from motionvigil.datasets.clip import Clip
from motionvigil.metrics.retrieval import (
    protocol_all,
    protocol_small_batches,
    protocol_threshold,
    zero_shot_classification,
)
from motionvigil.models.bundle import MotionTextBundle
from motionvigil.models.text import TextEmbeddingCache


def retrieval_report(bundle: MotionTextBundle, clips: Sequence[Clip], cache: TextEmbeddingCache) -> dict:
    """TMR's protocols on (clip, first caption) pairs: all, all with threshold, batches of 32."""
    pairs = [(c, clip_captions(c)[0]) for c in clips if clip_captions(c)]
    if len(pairs) < 2:
        raise ValueError("retrieval needs at least 2 clips with captions or labels")
    captions = [t for _, t in pairs]
    motion = bundle.embed_clips([c for c, _ in pairs])
    text = bundle.embed_texts(captions, cache)
    sentences = np.stack([cache.sentence(t) for t in captions])
    report = {
        "pairs": len(pairs),
        "distinct_captions": len(set(captions)),
        "chance_R01": 100.0 / len(pairs),
        "all": protocol_all(text, motion),
        "threshold": protocol_threshold(text, motion, sentences),
    }
    if len(pairs) >= 32:
        report["small_batches"] = protocol_small_batches(text, motion)
    return report


def zero_shot_report(
    bundle: MotionTextBundle, clips: Sequence[Clip], classes: Sequence[str], cache: TextEmbeddingCache
) -> dict:
    """Top-1/Top-5 of labelled clips against prompts ``"a person {label}"`` for every class."""
    labelled = [c for c in clips if any(label in classes for label in c.labels)]
    if not labelled:
        raise ValueError("zero-shot classification needs labelled clips")
    index = {name: i for i, name in enumerate(classes)}
    prompts = [label_caption(name) for name in classes]
    result = zero_shot_classification(
        bundle.embed_clips(labelled),
        [{index[label] for label in c.labels if label in index} for c in labelled],
        bundle.embed_texts(prompts, cache),
    )
    result["prompt_template"] = "a person {label}"
    return result


def evaluate_run(model_dir: str | Path, specs: Sequence[str], split: str = "test", device: str = "cpu",
                 skip_bad: bool = False) -> dict:
    """Retrieval (all protocols) and zero-shot classification of a pre-trained model on
    the ``split`` clips of each dataset ``NAME[:ROOT]``."""
    from motionvigil.cache_dir import cache_root
    from motionvigil.datasets.select import load_specs

    folder = Path(model_dir)
    if (folder / "best" / "config.json").is_file():
        folder = folder / "best"
    bundle = MotionTextBundle.load(folder, device=device)
    cache = TextEmbeddingCache(cache_root() / "text")
    report: dict = {"model": str(folder), "encoder": bundle.config.motion_encoder, "preset": bundle.config.preset,
                    "training": dict(bundle.info), "split": split, "datasets": {}}
    for spec, dataset in zip(specs, load_specs(specs, skip_bad=skip_bad)):
        clips = [c for c in dataset.clips if c.split == split]
        entry: dict = {"clips": len(clips)}
        if len(clips) >= 2:
            entry["retrieval"] = retrieval_report(bundle, clips, cache)
        if dataset.classes and any(c.labels for c in clips):
            entry["zero_shot"] = zero_shot_report(bundle, clips, dataset.classes, cache)
        report["datasets"][spec] = entry
    return report


def format_report(report: dict) -> str:
    """Human-readable tables of an :func:`evaluate_run` report."""
    from motionvigil.metrics.retrieval import format_table

    lines = [f"model: {report['model']} (split: {report['split']})"]
    keys = ["protocol", "t2m/R01", "t2m/R02", "t2m/R03", "t2m/R05", "t2m/R10", "t2m/MedR",
            "m2t/R01", "m2t/R02", "m2t/R03", "m2t/R05", "m2t/R10", "m2t/MedR"]
    for spec, entry in report["datasets"].items():
        lines.append(f"\n## {spec}: {entry['clips']} clips")
        retrieval = entry.get("retrieval")
        if retrieval:
            rows = [retrieval[p] for p in ("all", "threshold", "small_batches") if p in retrieval]
            lines.append(f"retrieval over {retrieval['pairs']} pairs ({retrieval['distinct_captions']} distinct "
                         f"captions; chance R@1 = {retrieval['chance_R01']:.2f}%)")
            lines.append(format_table(rows, keys))
        zs = entry.get("zero_shot")
        if zs:
            lines.append(f"zero-shot ({zs['n_classes']} classes, prompts '{zs['prompt_template']}'): "
                         f"top-1 {zs['top1']:.1f}% (chance {zs['chance_top1']:.1f}%), "
                         f"top-5 {zs['top5']:.1f}% (chance {zs['chance_top5']:.1f}%)")
    return "\n".join(lines)
