"""A synthesis model: denoiser + feature normaliser (+ LoRA adapters and action
conditions once fine-tuned), saved as one checkpoint folder (safetensors + config.json).

Conditions are 384-dim vectors: a caption's sentence embedding for the text-to-motion
prior; for the fine-tuned action-to-motion generator, the sentence embedding of the
class description plus a learned per-class offset (``action.offset``, zero at start).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from motionvigil.errors import CheckpointError
from motionvigil.features.normalize import Normalizer
from motionvigil.kinemic.denoiser import DenoiserConfig, MotionDenoiser
from motionvigil.kinemic.lora import add_lora
from motionvigil.kinemic.schedule import NoiseSchedule
from motionvigil.models.checkpoint import load_checkpoint, load_into, save_checkpoint

KIND = "motionvigil.synthesis"  # the checkpoint format tag (config.json): kept from before the rename to kinemic/
LORA_TARGETS = ("q", "k", "v", "out", "fc1", "fc2", "inp", "outp")


class ActionConditions(nn.Module):
    """Per-class condition vectors: fixed description embeddings + learned offsets."""

    def __init__(self, classes: Sequence[str], descriptions: np.ndarray):
        super().__init__()
        self.classes = tuple(classes)
        self.register_buffer("base", torch.as_tensor(np.asarray(descriptions, np.float32)))
        self.offset = nn.Parameter(torch.zeros_like(self.base))

    def forward(self, index: torch.Tensor) -> torch.Tensor:
        return self.base[index] + self.offset[index]


class SynthesisModel:
    def __init__(self, cfg: DenoiserConfig, normalizer: Normalizer, denoiser: MotionDenoiser | None = None,
                 info: dict[str, Any] | None = None):
        self.cfg = cfg
        self.normalizer = normalizer
        self.denoiser = denoiser or MotionDenoiser(cfg)
        self.schedule = NoiseSchedule(cfg.diffusion_steps)
        self.lora: dict[str, Any] | None = None
        self.actions: ActionConditions | None = None
        self.info = dict(info or {})

    @property
    def device(self) -> torch.device:
        """Where the denoiser's weights are (``to`` moves them)."""
        return next(self.denoiser.parameters()).device

    def to(self, device: str | torch.device) -> "SynthesisModel":
        """Move the denoiser (and the action conditions) to ``device``; returns ``self``."""
        self.denoiser.to(device)
        if self.actions is not None:
            self.actions.to(device)
        return self

    def add_lora(self, rank: int = 8, alpha: float = 16.0, targets: Sequence[str] = LORA_TARGETS) -> None:
        device = self.device
        add_lora(self.denoiser, targets, rank, alpha)
        self.denoiser.to(device)  # the new adapters join the weights where they are
        self.lora = {"rank": int(rank), "alpha": float(alpha), "targets": list(targets)}

    def set_actions(self, classes: Sequence[str], descriptions: np.ndarray) -> None:
        self.actions = ActionConditions(classes, descriptions).to(self.device)

    def trainable(self) -> list[nn.Parameter]:
        params = [p for p in self.denoiser.parameters() if p.requires_grad]
        if self.actions is not None:
            params.append(self.actions.offset)
        return params

    # ---- persistence ------------------------------------------------------------------
    def save(self, folder: str | Path) -> None:
        tensors = {f"denoiser.{k}": v for k, v in self.denoiser.state_dict().items()}
        tensors["norm.mean"] = torch.from_numpy(self.normalizer.mean)
        tensors["norm.std"] = torch.from_numpy(self.normalizer.std)
        config: dict[str, Any] = {"kind": KIND, "denoiser": self.cfg.to_dict(), "lora": self.lora,
                                  "info": self.info, "classes": None}
        if self.actions is not None:
            tensors["action.base"] = self.actions.base
            tensors["action.offset"] = self.actions.offset.detach()
            config["classes"] = list(self.actions.classes)
        save_checkpoint(folder, tensors, config)

    @classmethod
    def load(cls, folder: str | Path) -> "SynthesisModel":
        folder = Path(folder)
        tensors, config = load_checkpoint(folder)
        if config.get("kind") != KIND:
            raise CheckpointError(folder / "config.json",
                                  "not a synthesis model checkpoint (see kinemic-train)")
        try:
            cfg = DenoiserConfig.from_dict(config["denoiser"])
            normalizer = Normalizer(tensors["norm.mean"].numpy(), tensors["norm.std"].numpy())
        except (KeyError, TypeError, ValueError) as exc:
            raise CheckpointError(folder / "config.json", f"invalid synthesis checkpoint ({exc})") from None
        model = cls(cfg, normalizer, info=config.get("info"))
        if config.get("lora"):
            lora = config["lora"]
            model.add_lora(lora["rank"], lora["alpha"], lora["targets"])
        load_into(model.denoiser, tensors, folder, prefix="denoiser.")
        if config.get("classes"):
            if "action.base" not in tensors or "action.offset" not in tensors:
                raise CheckpointError(folder, "checkpoint names classes but has no action tensors")
            model.set_actions(config["classes"], tensors["action.base"].numpy())
            with torch.no_grad():
                model.actions.offset.copy_(tensors["action.offset"])
        model.denoiser.eval()
        return model
