"""Training items -> padded tensor batches for the pre-training objectives."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from motionvigil.datasets.captions import clip_captions
from motionvigil.datasets.clip import Clip
from motionvigil.models.bundle import pad_tokens
from motionvigil.models.inputs import MotionInputs
from motionvigil.models.text import TextEmbeddingCache


@dataclass
class PairSource:
    """Clips with their normalised input sequences and candidate captions, prepared once."""

    clips: list[Clip]
    sequences: list[np.ndarray]
    captions: list[tuple[str, ...]]

    @classmethod
    def build(cls, clips: Sequence[Clip], inputs: MotionInputs, text_cache: TextEmbeddingCache) -> "PairSource":
        usable = [c for c in clips if clip_captions(c)]
        captions = [clip_captions(c) for c in usable]
        text_cache.ensure([t for caps in captions for t in caps])
        return cls(list(usable), [inputs.sequence(c) for c in usable], captions)

    def __len__(self) -> int:
        return len(self.clips)


def make_batch(
    source: PairSource,
    indices: Sequence[int],
    inputs: MotionInputs,
    text_cache: TextEmbeddingCache,
    rng: np.random.Generator | None,
) -> dict[str, torch.Tensor]:
    """A batch of (motion, caption) pairs. With ``rng``: random crops and a random caption
    per clip (training); without: centred crops and the first caption (validation)."""
    seqs, captions = [], []
    for i in indices:
        seqs.append(inputs.crop(source.sequences[i], rng))
        options = source.captions[i]
        captions.append(options[int(rng.integers(len(options)))] if rng is not None else options[0])
    motion, motion_mask = inputs.collate(seqs)
    tokens, token_mask = pad_tokens([text_cache.tokens(c) for c in captions])
    sentence = torch.from_numpy(np.stack([text_cache.sentence(c) for c in captions]).astype(np.float32))
    return {"motion": motion, "motion_mask": motion_mask, "tokens": tokens, "token_mask": token_mask, "sentence": sentence}


def epoch_batches(n: int, batch_size: int, rng: np.random.Generator) -> list[np.ndarray]:
    """A shuffled partition of ``range(n)`` into batches; a last batch of one item is dropped
    (contrastive losses need at least two pairs)."""
    order = rng.permutation(n)
    batches = [order[i : i + batch_size] for i in range(0, n, batch_size)]
    return [b for b in batches if len(b) >= 2]
