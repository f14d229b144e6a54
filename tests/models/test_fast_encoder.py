"""The packed eval-mode encoder equals the stock ``nn.TransformerEncoder`` (float32), and its
reduced-precision variants stay close (bf16, int8). Speed: benchmarks/encoder_bench.py."""

from __future__ import annotations

import copy

import pytest
import torch
from torch import nn

from motionvigil.models import MotionTextModel, preset
from motionvigil.models.fast_encoder import PackedEncoder


def _setup(name: str = "tiny", batch: int = 11):
    torch.manual_seed(0)
    cfg = preset(name)
    enc = MotionTextModel(cfg).motion_encoder.eval()
    g = torch.Generator().manual_seed(1)
    lengths = torch.randint(5, 40, (batch,), generator=g)
    lengths[3] = 40
    x = torch.randn(batch, 40, cfg.motion_feats, generator=g)
    mask = torch.arange(40)[None] < lengths[:, None]
    stock = nn.TransformerEncoder(copy.deepcopy(enc.encoder.layers[0]), len(enc.encoder.layers))
    stock.load_state_dict(enc.encoder.state_dict())
    with torch.inference_mode():
        seq, valid = enc.embed(x, mask)
        ref = stock.eval()(seq, src_key_padding_mask=~valid)[:, :2]
    return enc, x, mask, ref


@pytest.mark.parametrize("bucket", [0, 1, 4, 8])
def test_packed_fp32_equals_stock(bucket):
    enc, x, mask, ref = _setup()
    mu, logvar = PackedEncoder(enc, bucket=bucket)(x, mask)
    torch.testing.assert_close(mu, ref[:, 0], atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(logvar, ref[:, 1], atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("precision", ["bf16", "int8"])
def test_reduced_precision_stays_close(precision):
    enc, x, mask, ref = _setup()
    mu, _ = PackedEncoder(enc, precision)(x, mask)
    assert torch.nn.functional.cosine_similarity(mu, ref[:, 0], dim=1).min() > 0.999


def test_unknown_precision_and_pre_norm_are_refused():
    enc, *_ = _setup()
    with pytest.raises(ValueError, match="precision"):
        PackedEncoder(enc, "fp8")
    pre = copy.deepcopy(enc)
    for layer in pre.encoder.layers:
        layer.norm_first = True
    with pytest.raises(ValueError, match="post-norm"):
        PackedEncoder(pre)
