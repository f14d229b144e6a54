"""MDM-style (Tevet et al. 2023) Transformer denoiser over normalised 263-dim features.

Sequence = ``[condition token, frame_1 .. frame_T]``; the condition token is
``time_mlp(sinusoid(t)) + text_proj(sqrt(384) * sentence embedding)`` and is also added
to every frame token (a stronger conditioning signal than MDM's single token, which
matters for short CPU training runs). Frames go through a linear
input layer, sinusoidal positions are added, a stack of pre-norm Transformer layers
(explicit q/k/v/out projections, so LoRA can wrap them) runs with a key-padding mask,
and a linear output layer predicts the clean ``x0`` per frame. Padded frames are never
attended to and their outputs are zeroed.

Classifier-free guidance: rows with ``drop_cond`` true see the null condition (a zero
sentence embedding), so one network gives both conditional and unconditional
predictions.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn

from motionvigil.features.humanml3d import FEATURE_DIM

TEXT_DIM = 384  # all-MiniLM-L6-v2 sentence embeddings


@dataclass(frozen=True)
class DenoiserConfig:
    """Sizes of the denoiser and its diffusion process."""

    preset: str = "paper"
    feats: int = FEATURE_DIM
    text_dim: int = TEXT_DIM
    width: int = 512
    layers: int = 8
    heads: int = 4
    ff: int = 1024
    dropout: float = 0.1
    diffusion_steps: int = 1000
    sampling_steps: int = 50
    max_frames: int = 196
    cond_drop: float = 0.1  # classifier-free guidance: share of training rows without condition
    guidance: float = 2.5

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "DenoiserConfig":
        known = {k: d[k] for k in cls.__dataclass_fields__ if k in d}
        return cls(**known)


PRESETS = {
    "paper": DenoiserConfig(),  # MDM: 8 layers, d=512, 4 heads, ff 1024, 1000 steps
    "tiny": DenoiserConfig(preset="tiny", width=128, layers=3, heads=4, ff=256, dropout=0.1,
                           diffusion_steps=100, sampling_steps=20, max_frames=64),
}


def denoiser_preset(name: str) -> DenoiserConfig:
    if name not in PRESETS:
        raise ValueError(f"unknown synthesis preset {name!r}; known: {sorted(PRESETS)}")
    return PRESETS[name]


def sinusoid(positions: torch.Tensor, dim: int) -> torch.Tensor:
    """Sinusoidal embeddings ``[..., dim]`` of (float) positions."""
    half = dim // 2
    steps = torch.arange(half, device=positions.device, dtype=torch.float32)
    freqs = torch.exp(-math.log(10000.0) * steps / half)
    args = positions.float()[..., None] * freqs
    emb = torch.cat([torch.sin(args), torch.cos(args)], dim=-1)
    return F.pad(emb, (0, dim - emb.shape[-1]))


class Attention(nn.Module):
    def __init__(self, width: int, heads: int, dropout: float):
        super().__init__()
        if width % heads:
            raise ValueError(f"width {width} is not divisible by {heads} heads")
        self.heads, self.dropout = heads, dropout
        self.q, self.k, self.v, self.out = (nn.Linear(width, width) for _ in range(4))

    def forward(self, x: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
        b, n, d = x.shape
        split = lambda y: y.view(b, n, self.heads, d // self.heads).transpose(1, 2)  # noqa: E731
        q, k, v = split(self.q(x)), split(self.k(x)), split(self.v(x))
        mask = valid[:, None, None, :]  # True = may attend
        p = self.dropout if self.training else 0.0
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=p)
        return self.out(y.transpose(1, 2).reshape(b, n, d))


class Block(nn.Module):
    def __init__(self, width: int, heads: int, ff: int, dropout: float):
        super().__init__()
        self.norm1, self.norm2 = nn.LayerNorm(width), nn.LayerNorm(width)
        self.attn = Attention(width, heads, dropout)
        self.fc1, self.fc2 = nn.Linear(width, ff), nn.Linear(ff, width)
        self.drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
        x = x + self.drop(self.attn(self.norm1(x), valid))
        return x + self.drop(self.fc2(self.drop(F.gelu(self.fc1(self.norm2(x))))))


class MotionDenoiser(nn.Module):
    """``forward(x_t, t, text, valid, drop_cond) -> x0`` prediction ``[B, T, feats]``."""

    def __init__(self, cfg: DenoiserConfig):
        super().__init__()
        self.cfg = cfg
        w = cfg.width
        self.inp = nn.Linear(cfg.feats, w)
        self.time_mlp = nn.Sequential(nn.Linear(w, w), nn.SiLU(), nn.Linear(w, w))
        self.text_proj = nn.Linear(cfg.text_dim, w)
        self.blocks = nn.ModuleList(Block(w, cfg.heads, cfg.ff, cfg.dropout) for _ in range(cfg.layers))
        self.norm = nn.LayerNorm(w)
        self.outp = nn.Linear(w, cfg.feats)

    def forward(self, x_t: torch.Tensor, t: torch.Tensor, text: torch.Tensor, valid: torch.Tensor,
                drop_cond: torch.Tensor | None = None) -> torch.Tensor:
        """Args:
            x_t: noised normalised features ``[B, T, feats]``.
            t: integer timesteps ``[B]``.
            text: condition vectors ``[B, text_dim]`` (sentence embeddings).
            valid: ``[B, T]`` bool, False on padding.
            drop_cond: ``[B]`` bool; True rows get the null (zero) condition.
        """
        b, n, _ = x_t.shape
        if drop_cond is not None:
            text = torch.where(drop_cond[:, None], torch.zeros_like(text), text)
        # unit sentence embeddings have components ~ 1/sqrt(384): rescale to unit variance
        text_emb = self.text_proj(text * math.sqrt(self.cfg.text_dim))
        cond = self.time_mlp(sinusoid(t, self.cfg.width)) + text_emb
        pos = sinusoid(torch.arange(n, device=x_t.device), self.cfg.width)
        h = torch.cat([cond[:, None], self.inp(x_t) + pos + cond[:, None]], dim=1)
        keep = torch.cat([torch.ones(b, 1, dtype=torch.bool, device=valid.device), valid.bool()], dim=1)
        for block in self.blocks:
            h = block(h, keep)
        out = self.outp(self.norm(h[:, 1:]))
        return out * valid[..., None].to(out.dtype)
