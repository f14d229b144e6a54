"""Loss functions, each a small pure function of tensors.

Motion-text pre-training (TMR, Petrovich et al. 2023; weights in ``TMR_WEIGHTS``):
reconstruction (smooth L1), KL between the text and motion distributions and to the
unit Gaussian, latent agreement (smooth L1) and a symmetric InfoNCE whose false
negatives (captions too similar to the positive one) are masked out.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

TMR_WEIGHTS = {"recons": 1.0, "kl": 1e-5, "latent": 1e-5, "contrastive": 0.1}
TMR_TEMPERATURE = 0.1
# TMR filters negatives whose caption similarity, mapped to [0, 1] as (cos + 1) / 2,
# exceeds 0.8, i.e. cosine > 0.6.
TMR_NEGATIVE_FILTER = 0.8
CLIP_TEMPERATURE = 0.07  # seed 004 follows CLIP


def gaussian_kl(mu_q: torch.Tensor, logvar_q: torch.Tensor, mu_p: torch.Tensor, logvar_p: torch.Tensor) -> torch.Tensor:
    """Mean over elements of KL(N(mu_q, var_q) || N(mu_p, var_p)) for diagonal Gaussians."""
    log_ratio = logvar_q - logvar_p
    return 0.5 * (log_ratio.exp() + (mu_p - mu_q).pow(2) / logvar_p.exp() - 1.0 - log_ratio).mean()


def masked_smooth_l1(pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Smooth L1 averaged over valid frames (``mask [B, T]``) and feature dimensions."""
    per_elem = F.smooth_l1_loss(pred, target, reduction="none").mean(-1)
    return (per_elem * mask).sum() / mask.sum().clamp_min(1)


def cosine_logits(x: torch.Tensor, y: torch.Tensor, temperature: float) -> torch.Tensor:
    """``[B, B]`` cosine similarities of rows of ``x`` and ``y`` divided by ``temperature``."""
    return F.normalize(x, dim=-1) @ F.normalize(y, dim=-1).T / temperature


def infonce(
    text: torch.Tensor,
    motion: torch.Tensor,
    temperature: float = TMR_TEMPERATURE,
    sentence_emb: torch.Tensor | None = None,
    filter_threshold: float | None = TMR_NEGATIVE_FILTER,
) -> torch.Tensor:
    """Symmetric InfoNCE over a batch of matching (text, motion) pairs.

    With ``sentence_emb`` (unit caption embeddings ``[B, E]``) and ``filter_threshold``
    ``t``, off-diagonal pairs whose captions have cosine ``> 2 t - 1`` are removed from
    the negatives (their logits set to ``-inf``); the positives are never removed.
    """
    logits = cosine_logits(text, motion, temperature)
    if sentence_emb is not None and filter_threshold is not None:
        selfsim = sentence_emb @ sentence_emb.T
        too_close = selfsim > (2.0 * filter_threshold - 1.0)
        too_close.fill_diagonal_(False)
        logits = logits.masked_fill(too_close, float("-inf"))
    target = torch.arange(len(logits), device=logits.device)
    return 0.5 * (F.cross_entropy(logits, target) + F.cross_entropy(logits.T, target))


def clip_loss(text: torch.Tensor, motion: torch.Tensor, temperature: float = CLIP_TEMPERATURE) -> torch.Tensor:
    """Plain CLIP loss: symmetric InfoNCE without negative filtering."""
    return infonce(text, motion, temperature, sentence_emb=None)
