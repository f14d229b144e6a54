"""A trained motion-text model together with its input statistics: what downstream
stages (few-shot, detection, evaluation) load and use to embed clips and captions."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from motionvigil.datasets.clip import Clip
from motionvigil.errors import CheckpointError
from motionvigil.models.checkpoint import load_checkpoint, load_into, save_checkpoint
from motionvigil.models.config import ModelConfig
from motionvigil.models.inputs import MotionInputs, pad_arrays
from motionvigil.models.motion_text import MotionTextModel
from motionvigil.models.text import TextEmbeddingCache


def pad_tokens(token_arrays: Sequence[np.ndarray]) -> tuple[torch.Tensor, torch.Tensor]:
    """Pad per-caption token embeddings ``[L_i, 384]`` into ``(tokens [B, L, 384], mask)``."""
    tokens, mask = pad_arrays(token_arrays)
    return torch.from_numpy(tokens), torch.from_numpy(mask)


class MotionTextBundle:
    """``model`` + ``inputs`` (+ free-form ``info``), saved as one checkpoint folder."""

    def __init__(self, model: MotionTextModel, inputs: MotionInputs, info: dict[str, Any] | None = None):
        self.model = model
        self.inputs = inputs
        self.info = dict(info or {})

    @property
    def config(self) -> ModelConfig:
        return self.model.cfg

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    def save(self, folder: str | Path, extra_tensors: dict[str, torch.Tensor] | None = None,
             extra_config: dict[str, Any] | None = None) -> None:
        tensors = {f"model.{k}": v for k, v in self.model.state_dict().items()}
        tensors.update(self.inputs.tensors())
        tensors.update(extra_tensors or {})
        config = {"model": self.config.to_dict(), "inputs": self.inputs.state(), "info": self.info}
        config.update(extra_config or {})
        save_checkpoint(folder, tensors, config)

    @classmethod
    def load(cls, folder: str | Path, device: str | torch.device = "cpu") -> "MotionTextBundle":
        tensors, config = load_checkpoint(folder)
        try:
            cfg = ModelConfig.from_dict(config["model"])
            inputs = MotionInputs.from_state(config["inputs"], tensors)
        except (KeyError, TypeError, ValueError) as exc:
            raise CheckpointError(Path(folder) / "config.json", f"invalid model configuration ({exc})") from None
        model = MotionTextModel(cfg)
        load_into(model, tensors, Path(folder), prefix="model.")
        return cls(model.to(device).eval(), inputs, config.get("info"))

    @torch.no_grad()
    def embed_clips(self, clips: Sequence[Clip], batch_size: int = 64) -> np.ndarray:
        """Motion embeddings ``[N, D]`` (float32; the VAE mean), evaluation mode, centred crops."""
        self.model.eval()
        out = []
        for start in range(0, len(clips), batch_size):
            seqs = [self.inputs.crop(self.inputs.sequence(c), None) for c in clips[start : start + batch_size]]
            x, mask = self.inputs.collate(seqs)
            out.append(self.model.encode_motion(x.to(self.device), mask.to(self.device)).cpu().numpy())
        return np.concatenate(out) if out else np.zeros((0, self.config.embed_dim), np.float32)

    @torch.no_grad()
    def embed_texts(self, captions: Sequence[str], cache: TextEmbeddingCache, batch_size: int = 128) -> np.ndarray:
        """Text embeddings ``[N, D]`` of captions (the VAE mean)."""
        self.model.eval()
        cache.ensure(captions)
        out = []
        for start in range(0, len(captions), batch_size):
            tokens, mask = pad_tokens([cache.tokens(c) for c in captions[start : start + batch_size]])
            out.append(self.model.encode_text(tokens.to(self.device), mask.to(self.device)).cpu().numpy())
        return np.concatenate(out) if out else np.zeros((0, self.config.embed_dim), np.float32)
