"""A lean evaluation-mode run of an ``nn.TransformerEncoder``'s layers.

Same parameters and the same mathematics as ``nn.TransformerEncoderLayer`` in eval mode
(no dropout), written with ``F.linear`` and ``F.scaled_dot_product_attention``, with one
saving the generic module cannot make: the encoders here read out only their first
``rows`` positions (the distribution tokens, the [class] token), so the *last* layer is
computed for those rows only. Its keys and values still come from every position, but
its queries, attention output, residuals, layer norms and feed-forward block - and, in
backward, all of their gradients - shrink from ``S`` rows to ``rows``. In the few-shot
inner loop this removes the work whose gradient is exactly zero.

Training mode (dropout active) keeps using the stock module; ``tests/models/test_lean_encoder.py``
checks that both agree in eval mode. :func:`encode` and :func:`hidden_states` are the
forward paths the encoders (ACTOR, ViT) share: stock module or lean run by mode, and a
start from a hidden layer.
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

    def split(t: torch.Tensor) -> torch.Tensor:
        return t.unflatten(-1, (heads, dim // heads)).transpose(1, 2)

    if h_q is h_kv:
        q, k, v = F.linear(h_kv, w, b).chunk(3, dim=-1)
        out = F.scaled_dot_product_attention(split(q), split(k), split(v), attn_mask=valid[:, None, None, :])
    else:
        out = _few_query_attention(split(F.linear(h_q, w[:dim], b[:dim])), w[dim:], b[dim:], h_kv, valid, heads)
    return attn.out_proj(out.transpose(1, 2).flatten(2))


def _few_query_attention(q: torch.Tensor, w_kv: torch.Tensor, b_kv: torch.Tensor, h: torch.Tensor,
                         valid: torch.Tensor, heads: int) -> torch.Tensor:
    """Attention of a few queries ``q [B, H, R, d]`` without projecting the ``S`` keys/values.

    With ``k_s = W_k h_s + b_k`` and ``v_s = W_v h_s + b_v`` (per head), ``q . k_s =
    (W_k^T q) . h_s + q . b_k``; the last term is the same for every key, so softmax drops
    it. Attention weights sum to one, so ``sum_s p_s v_s = W_v (sum_s p_s h_s) + b_v``.
    Cost ``O(R H S D)`` instead of the ``O(S D^2)`` key/value projections: for ``R`` much
    smaller than ``D / H`` this is the cheaper order (the same numbers up to rounding).
    """
    dim = h.shape[-1]
    head_dim = dim // heads
    w_k, w_v = w_kv[:dim].view(heads, head_dim, dim), w_kv[dim:].view(heads, head_dim, dim)
    u = torch.einsum("bhrk,hkd->bhrd", q, w_k) * head_dim**-0.5  # queries moved into input space
    scores = torch.einsum("bhrd,bsd->bhrs", u, h)
    scores = scores.masked_fill(~valid[:, None, None, :], float("-inf"))
    context = torch.einsum("bhrs,bsd->bhrd", scores.softmax(dim=-1), h)
    return torch.einsum("bhrd,hkd->bhrk", context, w_v) + b_kv[dim:].view(1, heads, 1, head_dim)


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


def hidden_states(model: nn.Module, x: torch.Tensor, mask: torch.Tensor,
                  layers: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Eval mode: the states after the first ``layers`` layers of ``model.encoder`` on
    ``model.embed(x, mask)``, with their ``valid`` mask (what ``encode`` starts from)."""
    seq, valid = model.embed(x, mask)
    return run_layers(model.encoder, seq, valid, stop=layers), valid


def encode(model: nn.Module, x: torch.Tensor, mask: torch.Tensor, start_layer: int,
           readout_rows: int) -> torch.Tensor:
    """The output of ``model.encoder`` on ``model.embed(x, mask)``: the stock module in
    training mode, :func:`run_layers` in eval mode (the last layer computes the first
    ``readout_rows`` rows only). With ``start_layer > 0`` (eval mode only), ``x, mask``
    are :func:`hidden_states` after ``start_layer`` layers and the rest run from there.

    Raises:
        ValueError: ``start_layer > 0`` in training mode.
    """
    if start_layer:
        if model.training:
            raise ValueError("starting from a hidden layer is an evaluation-mode path")
        seq, valid = x, mask
    else:
        seq, valid = model.embed(x, mask)
    if model.training:
        return model.encoder(seq, src_key_padding_mask=~valid)
    return run_layers(model.encoder, seq, valid, start=start_layer, readout_rows=readout_rows)
