"""The lean eval-mode encoder path equals the stock ``nn.TransformerEncoder`` (values and gradients)."""

from __future__ import annotations

import pytest
import torch

from motionvigil.models import MotionTextModel, preset


def _model(encoder: str) -> MotionTextModel:
    torch.manual_seed(0)
    return MotionTextModel(preset("tiny", encoder)).eval()


def _inputs(encoder: str, batch: int = 4):
    g = torch.Generator().manual_seed(1)
    if encoder == "tmr":
        x = torch.randn(batch, 30, 263, generator=g)
        mask = torch.arange(30)[None] < torch.tensor([30, 17, 5, 22])[:, None]
    else:
        x = torch.randn(batch, 3, 32, 80, generator=g)
        mask = torch.arange(32)[None] < torch.tensor([32, 16, 9, 30])[:, None]
    return x, mask


def _stock(enc, x, mask):
    """The reference: the stock module over every position."""
    seq, valid = enc.embed(x, mask)
    out = enc.encoder(seq, src_key_padding_mask=~valid)
    if hasattr(enc, "num_tokens"):
        return out[:, 0]
    return enc.proj(enc.norm(out[:, 0]))


def _lean(enc, x, mask, start_layer: int = 0):
    out = enc(x, mask, start_layer=start_layer)
    return out[0] if isinstance(out, tuple) else out


@pytest.mark.parametrize("encoder", ["tmr", "vit"])
def test_lean_path_matches_stock_values_and_gradients(encoder):
    enc = _model(encoder).motion_encoder
    x, mask = _inputs(encoder)
    weights = torch.randn(4, enc(x, mask)[0].shape[-1] if encoder == "tmr" else 128)
    grads = []
    for fn in (_stock, _lean):
        enc.zero_grad()
        z = fn(enc, x, mask)
        (z * weights).sum().backward()
        grads.append({n: p.grad.clone() for n, p in enc.named_parameters() if p.grad is not None})
        if fn is _stock:
            ref = z.detach()
        else:
            torch.testing.assert_close(z.detach(), ref, atol=2e-5, rtol=1e-4)
    stock, lean = grads
    assert stock.keys() == lean.keys()
    for name in stock:
        torch.testing.assert_close(lean[name], stock[name], atol=5e-5, rtol=1e-3, msg=name)


@pytest.mark.parametrize("encoder", ["tmr", "vit"])
def test_start_from_hidden_layer_equals_full_run(encoder):
    enc = _model(encoder).motion_encoder
    x, mask = _inputs(encoder)
    with torch.no_grad():
        full = _lean(enc, x, mask)
        for layers in range(1, len(enc.encoder.layers) + 1):
            h, valid = enc.hidden(x, mask, layers)
            torch.testing.assert_close(_lean(enc, h, valid, start_layer=layers), full, atol=1e-5, rtol=1e-4)

def test_hidden_start_is_refused_in_training_mode():
    enc = _model("tmr").motion_encoder.train()
    x, mask = _inputs("tmr")
    with pytest.raises(ValueError, match="evaluation-mode"):
        enc(x[..., :128], mask, start_layer=1)
