"""Evaluate a pre-trained motion-text model: TMR retrieval protocols and zero-shot
classification from class-name prompts."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from motionvigil.datasets.clip import Clip
from motionvigil.eval.retrieval import (
    protocol_all,
    protocol_small_batches,
    protocol_threshold,
    zero_shot_classification,
)
from motionvigil.models.bundle import MotionTextBundle
from motionvigil.models.text import TextEmbeddingCache
from motionvigil.pretrain.captions import clip_captions, label_caption


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
