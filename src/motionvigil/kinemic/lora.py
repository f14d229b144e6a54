"""LoRA (Hu et al. 2021) for ``nn.Linear``: ``y = W x + b + (alpha / r) B A x``.

``A [r, in]`` starts small and random, ``B [out, r]`` at zero, so a freshly wrapped
layer computes exactly what the base layer did. :func:`add_lora` wraps chosen linear
layers of a module in place and freezes every other parameter; only the adapters train.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import torch
from torch import nn


class LoRALinear(nn.Module):
    """A frozen ``nn.Linear`` plus a trainable low-rank update."""

    def __init__(self, base: nn.Linear, rank: int = 4, alpha: float = 8.0):
        super().__init__()
        if rank < 1:
            raise ValueError(f"LoRA rank must be >= 1, got {rank}")
        self.base = base
        for p in self.base.parameters():
            p.requires_grad_(False)
        self.rank, self.alpha = int(rank), float(alpha)
        self.scale = self.alpha / self.rank
        self.lora_a = nn.Parameter(torch.empty(rank, base.in_features))
        self.lora_b = nn.Parameter(torch.zeros(base.out_features, rank))
        nn.init.kaiming_uniform_(self.lora_a, a=math.sqrt(5))

    @property
    def in_features(self) -> int:
        return self.base.in_features

    @property
    def out_features(self) -> int:
        return self.base.out_features

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.base(x) + (x @ self.lora_a.t() @ self.lora_b.t()) * self.scale

    def merged_weight(self) -> torch.Tensor:
        """The equivalent dense weight ``W + scale * B A``."""
        return self.base.weight + self.scale * self.lora_b @ self.lora_a


def add_lora(module: nn.Module, targets: Iterable[str], rank: int = 4, alpha: float = 8.0) -> list[str]:
    """Wrap every ``nn.Linear`` whose attribute name is in ``targets`` with
    :class:`LoRALinear`; freeze all other parameters. Returns the wrapped layers' paths."""
    targets = set(targets)
    for p in module.parameters():
        p.requires_grad_(False)
    wrapped = []
    for path, parent in list(module.named_modules()):
        for name, child in list(parent.named_children()):
            if name in targets and isinstance(child, nn.Linear):
                setattr(parent, name, LoRALinear(child, rank, alpha))
                wrapped.append(f"{path}.{name}" if path else name)
    if not wrapped:
        raise ValueError(f"no nn.Linear named any of {sorted(targets)} in the module")
    return wrapped


def lora_state(module: nn.Module) -> dict[str, torch.Tensor]:
    """Only the adapter tensors (``...lora_a`` / ``...lora_b``) of a module's state."""
    return {k: v for k, v in module.state_dict().items() if k.endswith(("lora_a", "lora_b"))}
