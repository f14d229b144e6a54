"""Loss functions against hand-computed values."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from motionvigil.losses import clip_loss, gaussian_kl, infonce, masked_smooth_l1


def test_gaussian_kl_closed_form():
    zeros = torch.zeros(3)
    assert gaussian_kl(zeros, zeros, zeros, zeros).item() == pytest.approx(0.0)
    # KL(N(1, e^1) || N(0, 1)) = 0.5 * (e + 1 - 1 - 1) per element
    mu, logvar = torch.ones(4), torch.ones(4)
    assert gaussian_kl(mu, logvar, torch.zeros(4), torch.zeros(4)).item() == pytest.approx(0.5 * (math.e - 1))


def test_masked_smooth_l1_ignores_padding():
    pred = torch.zeros(1, 3, 2)
    target = torch.tensor([[[0.5, 0.5], [3.0, 3.0], [100.0, 100.0]]])
    mask = torch.tensor([[True, True, False]])
    # smooth L1: 0.5 * 0.5^2 = 0.125 for |d| < 1, |d| - 0.5 = 2.5 otherwise; mean over 2 frames
    assert masked_smooth_l1(pred, target, mask).item() == pytest.approx((0.125 + 2.5) / 2)


def test_infonce_matches_hand_computation_and_filters_negatives():
    text = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    motion = torch.tensor([[1.0, 0.2], [0.1, 1.0], [1.0, 0.8]])
    logits = F.normalize(text, dim=-1) @ F.normalize(motion, dim=-1).T / 0.1
    target = torch.arange(3)
    expected = 0.5 * (F.cross_entropy(logits, target) + F.cross_entropy(logits.T, target))
    assert infonce(text, motion, 0.1).item() == pytest.approx(expected.item(), rel=1e-6)

    # captions 0 and 2 are near-duplicates (cos 0.9 > 0.6): pairs (0,2) and (2,0) leave the negatives
    sent = F.normalize(torch.tensor([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.9, 0.0, math.sqrt(1 - 0.81)]]), dim=-1)
    masked = logits.clone()
    masked[0, 2] = masked[2, 0] = float("-inf")
    expected_f = 0.5 * (F.cross_entropy(masked, target) + F.cross_entropy(masked.T, target))
    got = infonce(text, motion, 0.1, sentence_emb=sent, filter_threshold=0.8)
    assert got.item() == pytest.approx(expected_f.item(), rel=1e-6)
    assert got.item() < expected.item()  # fewer negatives, lower loss


def test_clip_loss_is_unfiltered_infonce_at_007():
    a, b = torch.randn(5, 8), torch.randn(5, 8)
    assert clip_loss(a, b).item() == pytest.approx(infonce(a, b, 0.07, sentence_emb=None).item())
