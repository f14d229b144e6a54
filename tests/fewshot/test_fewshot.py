"""Few-shot core: episodes, the three-loss objective, and the FOMAML gradient path."""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from motionvigil.datasets.clip import Clip
from motionvigil.datasets.labelled import LabelledSet
from motionvigil.fewshot.adaptation import AdaptSettings, InputCache, adapt, encoder_params
from motionvigil.fewshot.episodes import EpisodeSampler
from motionvigil.fewshot.maml import query_loss
from motionvigil.losses import center_loss, class_prototypes, fewshot_loss, violence_hinge_loss

CLASSES = ("kick", "punch", "walk", "wave", "sit down", "jump", "clap")


def _clip(i: int, labels: tuple[str, ...]) -> Clip:
    return Clip(f"c{i}", np.zeros((4, 22, 3), np.float32), labels, False, "toy")


@pytest.fixture
def labelled():
    clips = [_clip(i, (CLASSES[i % 7],)) for i in range(70)]
    clips.append(_clip(70, ("punch", "walk")))  # multi-label
    return LabelledSet.build(clips, CLASSES)


def test_violence_aware_sampling_and_disjoint_sets(labelled):
    sampler = EpisodeSampler(labelled, ways=5, shots=3, queries=4, violent_fraction=0.4)
    for seed in range(20):
        ep = sampler.sample(np.random.default_rng(seed))
        assert len(ep.classes) == 5 and len(set(ep.classes)) == 5
        assert ep.violent.sum() == 2  # round(0.4 * 5) from {kick, punch}
        assert not set(ep.support) & set(ep.query)
        assert (ep.support_targets.sum(0) >= 3).all()
        np.testing.assert_array_equal(ep.support_targets, labelled.labels[np.ix_(ep.support, ep.classes)])
        np.testing.assert_array_equal(ep.query_targets, labelled.labels[np.ix_(ep.query, ep.classes)])


def test_uniform_sampling_covers_classes(labelled):
    sampler = EpisodeSampler(labelled, ways=3, shots=1, queries=2)
    seen = set()
    for seed in range(50):
        seen.update(sampler.sample(np.random.default_rng(seed)).classes.tolist())
    assert seen == set(range(7))
    with pytest.raises(ValueError, match="need 8 classes"):
        EpisodeSampler(labelled, ways=8, shots=1)


def test_center_and_hinge_by_hand():
    z = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    targets = torch.tensor([[True, False], [False, True], [True, False]])
    protos = class_prototypes(z, targets)
    # class 0: mean of (1,0) and (1,1)/sqrt2, normalised
    p0 = F.normalize(torch.tensor([1 + 1 / math.sqrt(2), 1 / math.sqrt(2)]), dim=0)
    torch.testing.assert_close(protos[0], p0)
    torch.testing.assert_close(protos[1], torch.tensor([0.0, 1.0]))
    cos_a = float(p0[0])
    cos_b = float((p0[0] + p0[1]) / math.sqrt(2))
    expected = 0.5 * ((1 - cos_a) + (1 - cos_b)) / 2 + 0.5 * 0.0  # class 1's sample sits on its prototype
    assert center_loss(z, targets, protos).item() == pytest.approx(expected, rel=1e-6)
    # hinge: violent class 0 vs non-violent class 1; d = 1 - cos(p0, p1)
    d = 1 - float(p0[1])
    assert violence_hinge_loss(protos, torch.tensor([True, False])).item() == pytest.approx(max(0.0, 1 - d), rel=1e-6)
    assert violence_hinge_loss(protos, torch.tensor([True, True])).item() == 0.0
    terms = fewshot_loss(z, targets, torch.tensor([True, False]))
    assert terms["loss"].item() == pytest.approx(terms["bce"].item() + 0.5 * terms["center"].item()
                                                 + 0.7 * terms["hinge"].item(), rel=1e-6)


class _Enc(nn.Module):
    """A tiny encoder with the motion encoder's call signature ``(x, mask)``."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.lin = nn.Linear(3, 4)

    def forward(self, x, mask):
        return self.lin((x * mask[..., None]).sum(1) / mask.sum(1, keepdim=True))


class _Inputs:
    def __init__(self, data):
        self.data = data

    def sequence(self, clip):
        return self.data[int(clip.clip_id[1:])]

    def crop(self, seq, rng):
        return seq

    def collate(self, seqs):
        return torch.from_numpy(np.stack(seqs)), torch.ones(len(seqs), seqs[0].shape[0], dtype=torch.bool)


class _Bundle:
    """Just enough of a MotionTextBundle for the adaptation code."""

    def __init__(self, n: int):
        rng = np.random.default_rng(1)
        self.model = nn.Module()
        self.model.motion_encoder = _Enc()
        self.inputs = _Inputs(rng.normal(size=(n, 5, 3)).astype(np.float32))
        self.device = torch.device("cpu")


def _toy_episode():
    clips = [_clip(i, ("kick",) if i < 4 else ("walk",)) for i in range(8)]
    support, query = np.array([0, 1, 4, 5]), np.array([2, 3, 6, 7])
    t = np.array([[1, 0], [1, 0], [0, 1], [0, 1]], dtype=bool)
    return clips, support, query, t, np.array([True, False])


def test_adapt_equals_plain_sgd_on_a_module_copy():
    clips, support, _, t, violent = _toy_episode()
    bundle = _Bundle(len(clips))
    cache = InputCache(bundle, clips)
    params = encoder_params(bundle)
    before = {k: v.detach().clone() for k, v in params.items()}
    fast = adapt(bundle, params, cache, support, t, violent, AdaptSettings(steps=3, lr=0.02))

    ref = copy.deepcopy(bundle.model.motion_encoder)
    opt = torch.optim.SGD(ref.parameters(), lr=0.02)
    x, mask = cache.batch(support)
    for _ in range(3):
        opt.zero_grad()
        fewshot_loss(ref(x, mask), torch.from_numpy(t), torch.from_numpy(violent))["loss"].backward()
        opt.step()
    for name, p in ref.named_parameters():
        torch.testing.assert_close(fast[name], p.detach())
        assert not torch.equal(fast[name], before[name])
    for name, p in encoder_params(bundle).items():  # the module itself is untouched
        torch.testing.assert_close(p.detach(), before[name])


def test_outer_gradient_is_first_order():
    """FOMAML's meta-gradient is the query-loss gradient at the adapted weights; the
    full second-order MAML gradient (through the inner step) differs."""
    clips, support, query, t, violent = _toy_episode()
    bundle = _Bundle(len(clips))
    cache = InputCache(bundle, clips)
    params = encoder_params(bundle)
    alpha = 0.5
    fast = adapt(bundle, params, cache, support, t, violent, AdaptSettings(steps=1, lr=alpha))
    fast = {k: v.requires_grad_(True) for k, v in fast.items()}

    class Ep:
        pass

    ep = Ep()
    ep.support, ep.support_targets, ep.query, ep.query_targets, ep.violent = support, t, query, t, violent
    first_order = torch.autograd.grad(query_loss(bundle, fast, cache, ep, AdaptSettings()), list(fast.values()))

    # by hand: theta' = theta - alpha * grad L_s(theta), L_q(theta') differentiated w.r.t. theta' ...
    theta = {k: v.detach().clone().requires_grad_(True) for k, v in params.items()}
    from torch.func import functional_call

    xs, ms = cache.batch(support)
    ls = fewshot_loss(functional_call(bundle.model.motion_encoder, theta, (xs, ms)), torch.from_numpy(t),
                      torch.from_numpy(violent))["loss"]
    g = torch.autograd.grad(ls, list(theta.values()), create_graph=True)
    adapted = {k: v - alpha * gi for (k, v), gi in zip(theta.items(), g)}
    for k in adapted:
        torch.testing.assert_close(adapted[k].detach(), fast[k].detach())
    lq = query_loss(bundle, adapted, cache, ep, AdaptSettings())
    at_adapted = torch.autograd.grad(lq, list(adapted.values()), retain_graph=True)
    for a, b in zip(first_order, at_adapted):
        torch.testing.assert_close(a, b)
    # ... and w.r.t. theta (second order) it is different
    second_order = torch.autograd.grad(lq, list(theta.values()))
    assert any(not torch.allclose(a, b, atol=1e-6) for a, b in zip(first_order, second_order))
