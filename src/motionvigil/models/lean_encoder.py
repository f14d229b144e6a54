"""A lean evaluation-mode run of an ``nn.TransformerEncoder``'s layers.

Same parameters and the same mathematics as ``nn.TransformerEncoderLayer`` in eval mode
(no dropout), written with ``F.linear`` and ``F.scaled_dot_product_attention``, with one
saving the generic module cannot make: the encoders here read out only their first
``rows`` positions (the distribution tokens, the [class] token), so the *last* layer is
computed for those rows only. Its keys and values still come from every position, but
its queries, attention output, residuals, layer norms and feed-forward block - and, in
backward, all of their gradients - shrink from ``S`` rows to ``rows``. In the few-shot
inner loop this removes the work whose gradient is exactly zero.

Training mode (dropout active) keeps using the stock module; ``tests/test_lean_encoder.py``
checks that both agree in eval mode.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def _check(layer: nn.TransformerEncoderLayer) -> None:
    attn = layer.self_attn
    if not (attn.batch_first and attn._qkv_same_embed_dim and attn.in_proj_bias is not None):
        raise ValueError("lean encoder needs batch_first attention with packed, biased q/k/v projections")
    if layer.activation is not F.gelu:
        raise ValueError("lean encoder supports the GELU feed-forward only")


def _attention(attn: nn.MultiheadAttention, h_q: torch.Tensor, h_kv: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    """Multi-head self-attention of ``h_q [B, R, D]`` over ``h_kv [B, S, D]`` (``valid [B, S]``)."""
    batch, rows, dim = h_q.shape
    heads = attn.num_heads
    w, b = attn.in_proj_weight, attn.in_proj_bias
    if h_q is h_kv:
        q, k, v = F.linear(h_kv, w, b).chunk(3, dim=-1)
    else:
        q = F.linear(h_q, w[:dim], b[:dim])
        k, v = F.linear(h_kv, w[dim:], b[dim:]).chunk(2, dim=-1)

    def split(t: torch.Tensor) -> torch.Tensor:
        return t.unflatten(-1, (heads, dim // heads)).transpose(1, 2)

    out = F.scaled_dot_product_attention(split(q), split(k), split(v), attn_mask=valid[:, None, None, :])
    return attn.out_proj(out.transpose(1, 2).flatten(2))


def _feed_forward(layer: nn.TransformerEncoderLayer, x: torch.Tensor) -> torch.Tensor:
    return layer.linear2(F.gelu(layer.linear1(x)))


def layer_forward(layer: nn.TransformerEncoderLayer, h: torch.Tensor, valid: torch.Tensor,
                  rows: int | None = None) -> torch.Tensor:
    """One encoder layer in eval mode; with ``rows``, only the first ``rows`` outputs."""
    _check(layer)
    h_q = h if rows is None else h[:, :rows]
    if layer.norm_first:
        normed = layer.norm1(h)
        q_in = normed if rows is None else normed[:, :rows]
        x = h_q + _attention(layer.self_attn, q_in, normed, valid)
        return x + _feed_forward(layer, layer.norm2(x))
    x = layer.norm1(h_q + _attention(layer.self_attn, h_q, h, valid))
    return layer.norm2(x + _feed_forward(layer, x))


def run_layers(encoder: nn.TransformerEncoder, h: torch.Tensor, valid: torch.Tensor, start: int = 0,
               stop: int | None = None, readout_rows: int | None = None) -> torch.Tensor:
    """Layers ``start:stop`` of ``encoder`` on ``h [B, S, D]``; ``valid [B, S]`` (True = real).

    With ``readout_rows``, the encoder's final layer (when it is in the range) returns
    only the first ``readout_rows`` positions.
    """
    layers = encoder.layers
    stop = len(layers) if stop is None else stop
    for i in range(start, stop):
        last = i == len(layers) - 1
        h = layer_forward(layers[i], h, valid, readout_rows if last else None)
    if stop == len(layers) and encoder.norm is not None:
        h = encoder.norm(h)
    return h
