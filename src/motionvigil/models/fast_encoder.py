"""A faster evaluation-mode run of the TMR motion encoder (:class:`ActorEncoder`): packed tokens.

``nn.TransformerEncoder`` pads a batch to its longest clip; even its nested-tensor fast
path pays for conversions, masks and per-layer dispatch. Here, in eval mode and with
the same weights:

- **packed tokens**: the valid positions of the whole batch are one ``[N, D]`` matrix,
  so every projection, residual, layer norm and feed-forward block works on real
  tokens only; attention alone sees the padded ``[B, S]`` layout (one
  ``scaled_dot_product_attention`` call with the key-padding mask);
- **read-out rows only in the last layer** (as :mod:`.lean_encoder`): the last layer
  computes the distribution-token rows, never projecting the other keys/values;
- optional reduced **precision** of the matrix products: ``"bf16"`` (bfloat16 weights
  and activations in the linear layers, float32 elsewhere; fast on CPUs with AMX or
  AVX512-BF16) or ``"int8"`` (dynamic int8 quantisation of the linear layers: per-channel
  int8 weights, per-batch activation scales). Both change the embeddings slightly: see
  ``benchmarks/encoder_bench.py`` for the measured difference. ``"fp32"`` (default) is
  the same arithmetic as the stock module up to rounding.

Only post-norm GELU layers with packed biased q/k/v projections (what ``ActorEncoder``
builds) are supported.
"""

from __future__ import annotations

import warnings

import torch
import torch.nn.functional as F
from torch import nn

from motionvigil.models.lean_encoder import _check, layer_forward

PRECISIONS = ("fp32", "bf16", "int8")


class _Linear:
    """``y = x W^T + b`` in the chosen precision (float32 in, float32 out)."""

    def __init__(self, weight: torch.Tensor, bias: torch.Tensor | None, precision: str):
        self.precision = precision
        w, b = weight.detach().float().contiguous(), None if bias is None else bias.detach().float().contiguous()
        if precision == "int8":
            scale = (w.abs().amax(dim=1) / 127.0).clamp_min(1e-12).double()
            with warnings.catch_warnings():  # torch marks quantized tensor creation deprecated (still works)
                warnings.simplefilter("ignore", UserWarning)
                qw = torch.quantize_per_channel(w, scale, torch.zeros_like(scale, dtype=torch.long), 0, torch.qint8)
            self.packed = torch.ops.quantized.linear_prepack(qw, b)
        elif precision == "bf16":
            self.w, self.b = w.bfloat16(), None if b is None else b.bfloat16()
        else:
            self.w, self.b = w, b

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        if self.precision == "int8":
            return torch.ops.quantized.linear_dynamic(x, self.packed, True)
        if self.precision == "bf16":
            return F.linear(x.bfloat16(), self.w, self.b).float()
        return F.linear(x, self.w, self.b)


class _Layer:
    def __init__(self, layer: nn.TransformerEncoderLayer, precision: str):
        _check(layer)
        if layer.norm_first:
            raise ValueError("the packed encoder supports post-norm layers only")
        attn = layer.self_attn
        self.heads = attn.num_heads
        self.qkv = _Linear(attn.in_proj_weight, attn.in_proj_bias, precision)
        self.out = _Linear(attn.out_proj.weight, attn.out_proj.bias, precision)
        self.ff1 = _Linear(layer.linear1.weight, layer.linear1.bias, precision)
        self.ff2 = _Linear(layer.linear2.weight, layer.linear2.bias, precision)
        self.norm1, self.norm2 = layer.norm1, layer.norm2

    def __call__(self, h: torch.Tensor, index: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
        """``h [N, D]`` packed tokens; ``index [N]`` their flat positions in ``valid [B, S]``."""
        batch, seq = valid.shape
        dim = h.shape[-1]
        qkv = h.new_zeros(batch * seq, 3 * dim).index_copy_(0, index, self.qkv(h))
        q, k, v = qkv.view(batch, seq, 3, self.heads, dim // self.heads).permute(2, 0, 3, 1, 4)
        ctx = F.scaled_dot_product_attention(q, k, v, attn_mask=valid[:, None, None, :])
        ctx = ctx.transpose(1, 2).reshape(batch * seq, dim).index_select(0, index)
        x = F.layer_norm(h + self.out(ctx), (dim,), self.norm1.weight, self.norm1.bias, self.norm1.eps)
        y = self.ff2(F.gelu(self.ff1(x)))
        return F.layer_norm(x + y, (dim,), self.norm2.weight, self.norm2.bias, self.norm2.eps)


class PackedEncoder:
    """Eval-mode ``encoder(x, mask) -> (mu, logvar)`` of an :class:`ActorEncoder`, faster.

    Holds its own (possibly quantised) copies of the weights: rebuild it after the
    encoder's weights change.
    """

    def __init__(self, encoder: nn.Module, precision: str = "fp32", bucket: int = 8):
        if precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")
        self.encoder = encoder
        self.precision = precision
        self.bucket = int(bucket)
        layers = encoder.encoder.layers
        self.layers = [_Layer(layer, precision) for layer in layers[:-1]]
        self.last = layers[-1]
        _check(self.last)

    @torch.inference_mode()
    def __call__(self, x: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """``mu`` (and ``logvar``) of ``x [B, T, F]`` with ``mask [B, T]`` (True = valid).

        Clips are sorted by length and run in buckets of ``bucket`` clips, each padded only
        to its own longest clip, so attention wastes little on padding."""
        if self.bucket <= 0 or len(x) <= self.bucket:
            return self._run(x, mask)
        lengths = mask.sum(1)
        order = torch.argsort(lengths, descending=True, stable=True)
        mus, logvars = [], []
        for chunk in order.split(self.bucket):
            longest = int(lengths[chunk[0]])
            mu, logvar = self._run(x[chunk, :longest], mask[chunk, :longest])
            mus.append(mu)
            logvars.append(logvar)
        inverse = torch.empty_like(order)
        inverse[order] = torch.arange(len(order))
        mu = torch.cat(mus)[inverse]
        return mu, (torch.cat(logvars)[inverse] if logvars[0] is not None else None)

    def _run(self, x: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        enc = self.encoder
        seq, valid = enc.embed(x, mask)
        batch, length, dim = seq.shape
        index = valid.reshape(-1).nonzero().squeeze(1)
        h = seq.reshape(-1, dim).index_select(0, index)
        for layer in self.layers:
            h = layer(h, index, valid)
        padded = h.new_zeros(batch * length, dim).index_copy_(0, index, h).view(batch, length, dim)
        out = layer_forward(self.last, padded, valid, rows=enc.num_tokens)
        if enc.encoder.norm is not None:
            out = enc.encoder.norm(out)
        return out[:, 0], (out[:, 1] if enc.vae else None)
