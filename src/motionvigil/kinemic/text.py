"""Sentence embeddings of captions and class descriptions (frozen all-MiniLM-L6-v2)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from motionvigil.datasets.captions import label_caption
from motionvigil.models.text import TextEmbeddingCache

SentenceFn = Callable[[Sequence[str]], np.ndarray]


def sentence_fn(cache: TextEmbeddingCache | None = None) -> SentenceFn:
    """``captions -> [N, 384]`` unit sentence embeddings, through an on-disk cache."""
    if cache is None:
        from motionvigil.cache_dir import cache_root

        cache = TextEmbeddingCache(cache_root() / "text")

    def embed(captions: Sequence[str]) -> np.ndarray:
        captions = list(captions)
        if not captions:
            return np.zeros((0, 384), np.float32)
        cache.ensure(captions)
        return np.stack([cache.sentence(c) for c in captions]).astype(np.float32)

    return embed


def class_description(label: str) -> str:
    """The prompt standing for a class: ``"a person {readable label}"``."""
    return label_caption(label)
