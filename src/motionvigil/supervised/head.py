"""The supervised projection head of the fully supervised baseline (TMR-to-Violence
[docs/papers.md], Section 3.1).

TMR-to-Violence appends an MLP to the motion encoder that "projects the 256-dimensional input
into a 1024-dimensional hidden space, compresses it to 512 dimensions, and maps it to
class scores", every hidden linear layer followed by Layer Normalization, GELU and
Dropout::

    z [B, in_dim] -> Linear(in_dim, 1024) -> LayerNorm(1024) -> GELU -> Dropout(p)
                  -> Linear(1024, 512)    -> LayerNorm(512)  -> GELU -> Dropout(p)
                  -> Linear(512, C)                                    -> logits [B, C]

``in_dim`` is the encoder's embedding size (256 for the ``paper`` preset, 128 for
``tiny``); the output is one logit per class (multi-label: sigmoid, not softmax).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

HIDDEN_SIZES = (1024, 512)


def _hidden_block(in_dim: int, out_dim: int, dropout: float) -> list[nn.Module]:
    """``Linear -> LayerNorm -> GELU -> Dropout``."""
    return [nn.Linear(in_dim, out_dim), nn.LayerNorm(out_dim), nn.GELU(), nn.Dropout(dropout)]


class MLPHead(nn.Module):
    """Multi-label classification head ``in_dim -> 1024 -> 512 -> num_classes`` (logits).

    The layers live in ``self.layers`` (an ``nn.Sequential`` of 4 + 4 + 1 modules), so
    the state-dict keys are ``layers.0.weight`` ... ``layers.8.bias``.
    """

    def __init__(self, in_dim: int, num_classes: int, dropout: float = 0.1):
        super().__init__()
        if in_dim < 1 or num_classes < 1:
            raise ValueError(f"MLPHead needs in_dim >= 1 and num_classes >= 1, got {in_dim}, {num_classes}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout}")
        self.in_dim, self.num_classes, self.dropout = int(in_dim), int(num_classes), float(dropout)
        layers: list[nn.Module] = []
        width = self.in_dim
        for hidden in HIDDEN_SIZES:
            layers += _hidden_block(width, hidden, self.dropout)
            width = hidden
        layers.append(nn.Linear(width, self.num_classes))
        self.layers = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """Class logits ``[B, num_classes]`` of embeddings ``z [B, in_dim]``."""
        return self.layers(z)

    def config(self) -> dict[str, Any]:
        """JSON description, enough to rebuild the head (see :meth:`from_config`)."""
        return {"in_dim": self.in_dim, "num_classes": self.num_classes, "dropout": self.dropout,
                "hidden": list(HIDDEN_SIZES)}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> "MLPHead":
        if list(config.get("hidden", HIDDEN_SIZES)) != list(HIDDEN_SIZES):
            raise ValueError(f"unsupported head hidden sizes {config.get('hidden')}; "
                             f"expected {list(HIDDEN_SIZES)}")
        return cls(int(config["in_dim"]), int(config["num_classes"]), float(config.get("dropout", 0.1)))
