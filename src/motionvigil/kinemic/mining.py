"""Kinetic mining (KineMIC [docs/papers.md]): semantic retrieval of source motions for each target
class, then the source window closest to each few-shot target sample in motion space.

1. :func:`rank_captions`: cosine between the class description's sentence embedding
   and every source caption's; the top ``k`` captions per class are kept, and their
   clips become that class's mined sources (:func:`mine_sources`).
2. :func:`best_window`: slide a window of the target's length over a source motion's
   features, embed every window with the pre-trained motion encoder, keep the window
   with the highest cosine to the target's embedding. :func:`mine_windows` does this
   for every few-shot sample over (a sample of) its class's mined sources.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from motionvigil.datasets.clip import Clip

EmbedFn = Callable[[Sequence[np.ndarray]], np.ndarray]  # feature windows [T_i, 263] -> [N, D]


def _unit(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, np.float64)
    return x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-12)


def rank_captions(class_emb: np.ndarray, caption_emb: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices ``[C, k']`` of the ``k' = min(k, N)`` captions most similar to each class
    (best first; ties by caption index) and their cosines ``[C, k']``."""
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    sims = _unit(class_emb) @ _unit(caption_emb).T
    k = min(k, sims.shape[1])
    order = np.argsort(-sims, axis=1, kind="stable")[:, :k]
    return order, np.take_along_axis(sims, order, axis=1)


def mine_sources(class_emb: np.ndarray, sources: Sequence[Clip],
                 sentences: Callable[[Sequence[str]], np.ndarray],
                 k: int) -> list[list[tuple[int, str, float]]]:
    """Per class: ``(source clip index, caption, cosine)`` of every source clip carrying
    one of the class's top-``k`` captions, in caption-rank order, each clip once."""
    captions = sorted({t for c in sources for t in c.captions})
    if not captions:
        raise ValueError("mining needs captioned source clips")
    order, sims = rank_captions(class_emb, sentences(captions), k)
    by_caption: dict[str, list[int]] = {}
    for i, clip in enumerate(sources):
        for t in clip.captions:
            by_caption.setdefault(t, []).append(i)
    mined = []
    for row, scores in zip(order, sims):
        seen, out = set(), []
        for j, s in zip(row, scores):
            for i in by_caption[captions[j]]:
                if i not in seen:
                    seen.add(i)
                    out.append((i, captions[j], float(s)))
        mined.append(out)
    return mined


def window_starts(frames: int, length: int, stride: int) -> list[int]:
    """Start frames of every ``length`` window over ``frames`` (always including the last)."""
    if length >= frames:
        return [0]
    starts = list(range(0, frames - length + 1, max(1, stride)))
    if starts[-1] != frames - length:
        starts.append(frames - length)
    return starts


@dataclass(frozen=True)
class Window:
    source: int  # index into the source clips
    start: int
    length: int
    score: float  # cosine to the target in motion-embedding space


def best_window(target_emb: np.ndarray, source_feats: np.ndarray, length: int, embed: EmbedFn,
                stride: int = 4, source: int = -1) -> Window:
    """The ``length``-frame window of ``source_feats`` closest to ``target_emb``."""
    starts = window_starts(len(source_feats), length, stride)
    windows = [source_feats[s : s + length] for s in starts]
    sims = _unit(embed(windows)) @ _unit(target_emb)
    best = int(np.argmax(sims))
    return Window(source, starts[best], len(windows[best]), float(sims[best]))


def mine_windows(target_embs: np.ndarray, target_lengths: Sequence[int], target_classes: Sequence[int],
                 mined: Sequence[Sequence[tuple[int, str, float]]], source_feats: Sequence[np.ndarray],
                 embed: EmbedFn, candidates: int = 8, stride: int = 4,
                 rng: np.random.Generator | None = None) -> list[Window]:
    """For each target sample: the best window over up to ``candidates`` of its class's
    mined source clips (a random subset when there are more, drawn with ``rng``)."""
    rng = rng or np.random.default_rng(0)
    out = []
    for emb, length, cls in zip(target_embs, target_lengths, target_classes):
        pool = [i for i, _, _ in mined[cls]]
        if not pool:
            continue
        if len(pool) > candidates:
            pool = [pool[j] for j in sorted(rng.choice(len(pool), candidates, replace=False))]
        best = max((best_window(emb, source_feats[i], length, embed, stride, i) for i in pool),
                   key=lambda w: w.score)
        out.append(best)
    return out
