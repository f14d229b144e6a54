"""Vision Transformer over motion patches (Motion Patches [docs/papers.md]), randomly initialised.

ImageNet weights cannot be installed here (no hub access), so this ViT always starts
from random initialisation; the paper's Table 4 shows what pre-trained weights add.
Input: motion images ``[B, 3, T, 80]`` (xyz x frames x 5 chains * 16 points), cut into
16 x 16 patches by a strided convolution, time-major; a [class] token; learned
positions; pre-norm Transformer; the class token's output projected to the embedding.
"""

from __future__ import annotations

import torch
from torch import nn

from motionvigil.models.config import ViTConfig
from motionvigil.models.lean_encoder import encode, hidden_states


class MotionViT(nn.Module):
    def __init__(self, cfg: ViTConfig, embed_dim: int):
        super().__init__()
        if cfg.max_frames % cfg.patch_size or cfg.num_points % cfg.patch_size:
            raise ValueError("max_frames and num_points must be multiples of patch_size")
        self.cfg = cfg
        self.parts = cfg.num_points // cfg.patch_size
        max_patches = (cfg.max_frames // cfg.patch_size) * self.parts
        self.patch_embed = nn.Conv2d(3, cfg.width, kernel_size=cfg.patch_size, stride=cfg.patch_size)
        self.cls = nn.Parameter(torch.zeros(1, 1, cfg.width))
        self.pos = nn.Parameter(torch.randn(1, 1 + max_patches, cfg.width) * 0.02)
        layer = nn.TransformerEncoderLayer(
            cfg.width, cfg.num_heads, cfg.mlp_size, cfg.dropout, activation="gelu", batch_first=True, norm_first=True
        )
        self.encoder = nn.TransformerEncoder(layer, cfg.num_layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(cfg.width)
        self.proj = nn.Linear(cfg.width, embed_dim, bias=False)

    def embed(self, image: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``image [B, 3, T, 80]`` (``T`` a multiple of 16), ``mask [B, T]`` -> ``(tokens [B, S, W], valid [B, S])``."""
        p = self.cfg.patch_size
        batch, _, frames, _ = image.shape
        if frames % p or frames > self.cfg.max_frames:
            raise ValueError(f"image has {frames} frames; need a multiple of {p} up to {self.cfg.max_frames}")
        tokens = self.patch_embed(image).flatten(2).transpose(1, 2)  # [B, rows * parts, W], time-major
        rows_valid = mask.reshape(batch, frames // p, p).any(-1)  # a row is valid if any frame is
        valid = rows_valid.repeat_interleave(self.parts, dim=1)
        seq = torch.cat([self.cls.expand(batch, -1, -1), tokens], dim=1) + self.pos[:, : tokens.shape[1] + 1]
        return seq, torch.cat([valid.new_ones(batch, 1), valid], dim=1)

    def hidden(self, image: torch.Tensor, mask: torch.Tensor, layers: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Eval mode: the states after the first ``layers`` Transformer layers, with ``valid``."""
        return hidden_states(self, image, mask, layers)

    def forward(self, image: torch.Tensor, mask: torch.Tensor, start_layer: int = 0) -> torch.Tensor:
        """``[B, embed_dim]``; with ``start_layer > 0`` (eval mode) the inputs are ``hidden(...)``."""
        out = encode(self, image, mask, start_layer, readout_rows=1)
        return self.proj(self.norm(out[:, 0]))
