"""A UNIK-style skeleton backbone (Yang et al., BMVC 2021; the motion encoder of T-MOR [docs/papers.md]).

Input: z-scored SMPL-22 joint coordinates ``[B, T, 22 * 3]`` with a frame mask
``[B, T]``. Each block is

* spatial attention over joints: per head ``h`` a ``J x J`` map
  ``A_h = softmax(q_h(x)^T k_h(x) / sqrt(d T))`` computed over the whole (valid) sequence,
  plus a learnable dependency matrix ``D_h`` (no skeleton-graph prior, as in UNIK);
  the output is ``sum_h W_h x (A_h + D_h)`` (``W_h`` a 1x1 convolution), with a residual;
* a temporal convolution (kernel ``temporal_kernel`` over frames, stride 1), with a residual.

Then spatio-temporal pooling (masked mean over valid frames and joints) and a linear
map to the embedding. :meth:`UnikEncoder.frame_features` stops after spatial pooling and
gives one feature per frame (what frame-wise detection uses).

Departures from UNIK, for masks and CPU: normalisation is a per-position LayerNorm over
channels (UNIK uses BatchNorm, whose statistics padded frames would pollute), and no
block has a temporal stride (frame-wise features keep the input's frame rate).
"""

from __future__ import annotations

import torch
from torch import nn

from motionvigil.models.config import UnikConfig


class _ChannelNorm(nn.Module):
    """LayerNorm over channels at every (frame, joint) position of ``[B, C, T, J]``."""

    def __init__(self, channels: int):
        super().__init__()
        self.norm = nn.LayerNorm(channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.norm(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)


class UnikBlock(nn.Module):
    """Spatial attention with a learnable dependency matrix, then a temporal convolution."""

    def __init__(self, c_in: int, c_out: int, cfg: UnikConfig):
        super().__init__()
        h, d, j = cfg.num_heads, cfg.attn_dim, cfg.num_joints
        self.heads, self.attn_dim = h, d
        self.query = nn.Conv2d(c_in, h * d, 1)
        self.key = nn.Conv2d(c_in, h * d, 1)
        # UNIK initialises the dependency matrices without any graph prior
        self.dependency = nn.Parameter(torch.empty(h, j, j).uniform_(-1.0 / j, 1.0 / j))
        self.value = nn.Conv2d(h * c_in, c_out, 1)  # = sum over heads of per-head 1x1 convolutions
        self.spatial_norm = _ChannelNorm(c_out)
        self.residual = nn.Identity() if c_in == c_out else nn.Conv2d(c_in, c_out, 1)
        k = cfg.temporal_kernel
        self.temporal = nn.Conv2d(c_out, c_out, (k, 1), padding=(k // 2, 0))
        self.temporal_norm = _ChannelNorm(c_out)
        self.dropout = nn.Dropout(cfg.dropout)
        self.act = nn.ReLU()

    def attention(self, x: torch.Tensor, frames: torch.Tensor) -> torch.Tensor:
        """``[B, H, J, J]`` attention maps (rows sum to 1) of ``x [B, C, T, J]`` (padding zeroed)."""
        b, _, t, j = x.shape
        q = self.query(x).reshape(b, self.heads, self.attn_dim * t, j)
        k = self.key(x).reshape(b, self.heads, self.attn_dim * t, j)
        scale = torch.sqrt(frames.clamp_min(1.0) * self.attn_dim)[:, None, None, None]
        return torch.softmax(torch.einsum("bhcj,bhck->bhjk", q, k) / scale, dim=-1)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """``x [B, C_in, T, J]`` with padded frames zero, ``mask [B, T]`` -> ``[B, C_out, T, J]``."""
        m = mask[:, None, :, None].to(x.dtype)
        frames = mask.sum(1).to(x.dtype)
        maps = self.attention(x, frames) + self.dependency[None]
        mixed = torch.einsum("bctj,bhjk->bhctk", x, maps).flatten(1, 2)  # [B, H * C_in, T, J]
        y = self.act(self.spatial_norm(self.value(mixed)) + self.residual(x)) * m
        z = self.temporal_norm(self.temporal(self.dropout(y)))
        return self.act(z + y) * m


class UnikEncoder(nn.Module):
    """``(x [B, T, J * 3], mask [B, T]) -> [B, embed_dim]``."""

    def __init__(self, cfg: UnikConfig, embed_dim: int):
        super().__init__()
        if not cfg.channels:
            raise ValueError("the UNIK encoder needs at least one block (channels is empty)")
        self.cfg = cfg
        widths = (3, *cfg.channels)
        self.blocks = nn.ModuleList(UnikBlock(a, b, cfg) for a, b in zip(widths[:-1], widths[1:]))
        self.proj = nn.Linear(cfg.channels[-1], embed_dim)

    @property
    def feature_dim(self) -> int:
        return self.cfg.channels[-1]

    def frame_features(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Spatially pooled per-frame features ``[B, T, C]`` (zero at padded frames)."""
        b, t, width = x.shape
        joints = self.cfg.num_joints
        if width != joints * 3:
            raise ValueError(f"the UNIK encoder expects {joints} x 3 = {joints * 3} inputs per frame, got {width}")
        h = x.reshape(b, t, joints, 3).permute(0, 3, 1, 2) * mask[:, None, :, None].to(x.dtype)
        for block in self.blocks:
            h = block(h, mask)
        return h.mean(-1).transpose(1, 2)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        per_frame = self.frame_features(x, mask)
        m = mask.to(per_frame.dtype)[..., None]
        pooled = (per_frame * m).sum(1) / m.sum(1).clamp_min(1.0)
        return self.proj(pooled)


def parameter_count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


__all__ = ["UnikBlock", "UnikEncoder", "parameter_count"]
