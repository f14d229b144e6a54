"""Fast adaptation: length buckets, the top-layer mode and the lean encoder against the
slow reference path (plain SGD on a module copy through the stock Transformer)."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

from motionvigil.datasets.clip import Clip
from motionvigil.datasets.labelled import LabelledSet
from motionvigil.fewshot import adaptation
from motionvigil.fewshot.adaptation import (
    AdaptSettings,
    HiddenCache,
    InputCache,
    adapt,
    adaptation_cache,
    adapted_params,
    embed_indices,
    encode_clips,
    encoder_params,
    length_buckets,
)
from motionvigil.fewshot.episodes import Episode
from motionvigil.fewshot.maml import adapt_episode, query_loss
from motionvigil.losses import class_prototypes, fewshot_loss
from motionvigil.models import MotionTextModel, preset
from motionvigil.models.bundle import MotionTextBundle
from motionvigil.models.inputs import MotionInputs


def test_length_buckets_cover_every_position_once():
    lengths = [64, 10, 60, 12, 33, 64, 11, 40]
    buckets = length_buckets(lengths, slack=0.25, max_buckets=4, min_size=1)
    assert sorted(np.concatenate(buckets).tolist()) == list(range(len(lengths)))
    for b in buckets[:-1]:  # inside a bucket (but the overflow one) lengths are within the slack
        top = max(lengths[i] for i in b)
        assert all(lengths[i] >= 0.75 * top for i in b)
    assert [sorted(b.tolist()) for b in buckets] == [[0, 2, 5], [4, 7], [1, 3, 6]]  # 33 >= 0.75 x 40
    assert len(length_buckets(lengths, max_buckets=2, min_size=1)) == 2
    assert len(length_buckets(lengths, min_size=3)) == 2  # [0, 2, 5] then the rest: too few left to split
    assert len(length_buckets(lengths, min_size=8)) == 1
    assert len(length_buckets([50] * 5)) == 1


def _walk(i: int, frames: int, label: str) -> Clip:
    rng = np.random.default_rng(i)
    t = np.linspace(0, 1, frames)[:, None, None]
    joints = rng.normal(scale=0.3, size=(1, 22, 3)) + t * rng.normal(size=(1, 22, 3)) * 0.5
    joints[..., 1] += 1.0
    return Clip(f"c{i}", joints.astype(np.float32), (label,), label == "kick", "toy")


@pytest.fixture(scope="module")
def setup():
    lengths = [60, 14, 58, 20, 41, 64, 12, 35]
    labels = ["kick", "kick", "walk", "walk", "kick", "walk", "kick", "walk"]
    clips = [_walk(i, n, lab) for i, (n, lab) in enumerate(zip(lengths, labels))]
    data = LabelledSet.build(clips, ("kick", "walk"))
    cfg = preset("tiny")
    torch.manual_seed(0)
    bundle = MotionTextBundle(MotionTextModel(cfg).eval(), MotionInputs.fit("tmr", clips, cfg.max_frames))
    return bundle, data


def test_bucketed_encoding_equals_one_padded_batch(setup, monkeypatch):
    monkeypatch.setattr(adaptation, "MIN_BUCKET", 1)
    bundle, data = setup
    cache = InputCache(bundle, data.clips)
    idx = np.arange(len(data.clips))
    params = {k: v.detach().clone().requires_grad_(True) for k, v in adapted_params(bundle, AdaptSettings()).items()}
    assert len(length_buckets([cache.length(i) for i in idx])) > 1  # the case under test
    z_b = encode_clips(bundle, params, cache, idx)
    x, mask = cache.batch(idx)
    z_p = bundle.model.motion_encoder(x, mask)[0]
    torch.testing.assert_close(z_b, z_p, atol=1e-5, rtol=1e-4)
    g_b = torch.autograd.grad(z_b.square().sum(), list(params.values()))
    # the padded batch through the stock module, differentiated w.r.t. the module's weights
    ref = copy.deepcopy(bundle.model.motion_encoder)
    seq, valid = ref.embed(x, mask)
    ref.encoder(seq, src_key_padding_mask=~valid)[:, 0].square().sum().backward()
    for (name, _), g in zip(params.items(), g_b):
        torch.testing.assert_close(g, dict(ref.named_parameters())[name].grad, atol=1e-4, rtol=1e-3, msg=name)


def _slow_reference(bundle, data, support, targets, violent, steps, lr, top_layers):
    """Plain SGD on a copy of the encoder, stock Transformer over all positions, only the
    top ``top_layers`` layers trainable (None = all)."""
    enc = copy.deepcopy(bundle.model.motion_encoder).eval()
    n = len(enc.encoder.layers)
    trainable = []
    for name, p in enc.named_parameters():
        top = name.startswith("encoder.layers.") and int(name.split(".")[2]) >= n - (top_layers or n)
        p.requires_grad_(top or top_layers is None)
        if p.requires_grad:
            trainable.append(p)
    opt = torch.optim.SGD(trainable, lr=lr)
    x, mask = InputCache(bundle, data.clips).batch(support)

    def embed(x, mask):
        seq, valid = enc.embed(x, mask)
        return enc.encoder(seq, src_key_padding_mask=~valid)[:, 0]

    for _ in range(steps):
        opt.zero_grad()
        fewshot_loss(embed(x, mask), torch.from_numpy(targets), torch.from_numpy(violent))["loss"].backward()
        opt.step()
    with torch.no_grad():
        return embed(*InputCache(bundle, data.clips).batch(np.arange(len(data.clips))))


@pytest.mark.parametrize("top_layers", [None, 1])
def test_adaptation_matches_the_slow_reference(setup, top_layers):
    bundle, data = setup
    support = np.array([0, 1, 2, 3, 6, 7])
    targets = data.labels[support]
    settings = AdaptSettings(steps=4, lr=0.05, top_layers=top_layers)
    cache = adaptation_cache(bundle, data.clips, settings)
    assert isinstance(cache, HiddenCache) == (top_layers is not None)
    params = adapted_params(bundle, settings)
    if top_layers is not None:
        assert params and all(k.startswith("encoder.layers.1.") for k in params)
    fast = adapt(bundle, params, cache, support, targets, data.violent, settings)
    got = embed_indices(bundle, fast, cache, np.arange(len(data.clips)))
    want = _slow_reference(bundle, data, support, targets, data.violent, 4, 0.05, top_layers)
    torch.testing.assert_close(got, want, atol=2e-4, rtol=1e-3)
    with torch.no_grad():  # and adaptation changed something
        before = embed_indices(bundle, adapted_params(bundle, settings), cache, np.arange(len(data.clips)))
    assert (got - before).abs().max() > 1e-3


def test_top_layers_must_be_positive():
    with pytest.raises(ValueError, match="top_layers"):
        AdaptSettings(top_layers=0)


def test_mixed_precision_stays_close_to_float32(setup):
    """bfloat16 autocast (meant for GPUs; exercised here on the CPU) changes little."""
    bundle, data = setup
    support = np.array([0, 1, 2, 3, 6, 7])
    out = {}
    for mixed in (False, True):
        settings = AdaptSettings(steps=3, lr=0.05, mixed_precision=mixed)
        cache = adaptation_cache(bundle, data.clips, settings)
        fast = adapt(bundle, adapted_params(bundle, settings), cache, support, data.labels[support], data.violent,
                     settings)
        out[mixed] = embed_indices(bundle, fast, cache, np.arange(len(data.clips)), mixed_precision=mixed)
    assert out[True].dtype == torch.float32
    cos = torch.nn.functional.cosine_similarity(out[True], out[False], dim=-1)
    assert cos.min() > 0.99, cos


def test_fast_mode_needs_a_transformer_encoder(setup):
    bundle, data = setup

    class _Conv(torch.nn.Module):  # an encoder without Transformer layers (like UNIK)
        pass

    class _Cfg:
        motion_encoder = "unik"

    other = type("B", (), {"model": type("M", (), {"motion_encoder": _Conv()})(), "config": _Cfg()})()
    with pytest.raises(ValueError, match="Transformer encoder"):
        adapted_params(other, AdaptSettings(top_layers=1))
    assert adapted_params(bundle, AdaptSettings()).keys() == dict(
        bundle.model.motion_encoder.named_parameters()).keys()


def test_fast_inner_loop_of_meta_training(setup):
    """ANIL-style FOMAML: the episode adapts only the top layer (exactly as the fast
    evaluation mode does), leaves the lower layers at the initialisation, and the
    first-order query gradient reaches every weight; checked against the stock module
    loaded with the adapted weights."""
    bundle, data = setup
    support, query = np.array([0, 1, 2, 3]), np.array([4, 5, 6, 7])
    episode = Episode(np.arange(2), support, data.labels[support], query, data.labels[query], data.violent)
    settings = AdaptSettings(steps=3, lr=0.05, top_layers=1)
    params = encoder_params(bundle)
    inputs = InputCache(bundle, data.clips)
    fast = adapt_episode(bundle, params, inputs, episode, settings, np.random.default_rng(0))
    assert fast.keys() == params.keys()
    top = adapt(bundle, adapted_params(bundle, settings), adaptation_cache(bundle, data.clips, settings), support,
                episode.support_targets, episode.violent, settings)
    for name, p in params.items():
        if name in top:
            torch.testing.assert_close(fast[name], top[name])
            assert not torch.equal(fast[name], p.detach())
        else:
            assert torch.equal(fast[name], p.detach())
    fast = {k: v.detach().clone().requires_grad_(True) for k, v in fast.items()}
    grads = dict(zip(fast, torch.autograd.grad(query_loss(bundle, fast, inputs, episode, settings),
                                               list(fast.values()))))
    assert grads["encoder.layers.0.linear1.weight"].abs().max() > 0  # the lower layers learn too

    ref = copy.deepcopy(bundle.model.motion_encoder).eval()
    ref.load_state_dict({k: v.detach() for k, v in fast.items()}, strict=False)

    def embed(idx):
        seq, valid = ref.embed(*inputs.batch(idx))
        return ref.encoder(seq, src_key_padding_mask=~valid)[:, 0]

    protos = class_prototypes(embed(support), torch.from_numpy(episode.support_targets))
    loss = fewshot_loss(embed(query), torch.from_numpy(episode.query_targets), torch.from_numpy(episode.violent),
                        prototypes=protos)["loss"]
    loss.backward()
    compared = [name for name, p in ref.named_parameters() if p.grad is not None]
    assert {"encoder.layers.0.self_attn.in_proj_weight", "encoder.layers.1.linear2.weight"} <= set(compared)
    for name in compared:
        torch.testing.assert_close(grads[name], dict(ref.named_parameters())[name].grad, atol=2e-5, rtol=1e-3)
