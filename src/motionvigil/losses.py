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
CLIP_TEMPERATURE = 0.07  # Motion Patches [docs/papers.md] follows CLIP


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


# ---- few-shot adaptation (TMR-to-Violence, Section 3.3) -----------------------------------------
FEWSHOT_WEIGHTS = {"bce": 1.0, "center": 0.5, "hinge": 0.7}
PROTOTYPE_TEMPERATURE = 0.1  # cosine scores / 0.1 -> logits for BCE


def class_prototypes(z: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Prototypes ``[C, D]``: mean of the L2-normalised embeddings ``z [S, D]`` of the
    samples labelled with each class (``targets [S, C]`` multi-hot), renormalised."""
    weights = targets.float()
    counts = weights.sum(0).clamp_min(1.0)
    protos = (weights.T @ F.normalize(z, dim=-1)) / counts[:, None]
    return F.normalize(protos, dim=-1)


def prototype_logits(z: torch.Tensor, prototypes: torch.Tensor, temperature: float = PROTOTYPE_TEMPERATURE) -> torch.Tensor:
    """Cosine similarity of embeddings to prototypes, divided by ``temperature``."""
    return F.normalize(z, dim=-1) @ prototypes.T / temperature


def center_loss(z: torch.Tensor, targets: torch.Tensor, prototypes: torch.Tensor) -> torch.Tensor:
    """Mean over classes (with samples) of the mean ``1 - cos(z_i, p_c)`` over the class's samples."""
    cos = F.normalize(z, dim=-1) @ prototypes.T  # [S, C]
    weights = targets.float()
    counts = weights.sum(0)
    present = counts > 0
    per_class = ((1.0 - cos) * weights).sum(0)[present] / counts[present]
    return per_class.mean() if present.any() else z.new_zeros(())


def violence_hinge_loss(prototypes: torch.Tensor, violent: torch.Tensor) -> torch.Tensor:
    """``max(0, 1 - d(c_V, c_N))`` with ``d`` the cosine distance between the centroid of
    the violent prototypes and that of the non-violent ones (``violent [C]`` boolean).
    Zero when the episode lacks either group."""
    if not violent.any() or violent.all():
        return prototypes.new_zeros(())
    c_v = prototypes[violent].mean(0)
    c_n = prototypes[~violent].mean(0)
    distance = 1.0 - F.cosine_similarity(c_v, c_n, dim=0)
    return torch.clamp(1.0 - distance, min=0.0)


def naive_violence_contrastive(z: torch.Tensor, is_violent: torch.Tensor) -> torch.Tensor:
    """The ablation's naive term: pull every violent sample towards the mean violent
    embedding (``mean 1 - cos``), regardless of its class - the cause of class collapse."""
    if not is_violent.any():
        return z.new_zeros(())
    zn = F.normalize(z, dim=-1)
    centre = F.normalize(zn[is_violent].mean(0), dim=0)
    return (1.0 - zn[is_violent] @ centre).mean()


def fewshot_loss(
    z: torch.Tensor,
    targets: torch.Tensor,
    violent_classes: torch.Tensor,
    prototypes: torch.Tensor | None = None,
    weights: dict[str, float] | None = None,
    naive_contrastive: float = 0.0,
) -> dict[str, torch.Tensor]:
    """The three-loss objective ``BCE + 0.5 center + 0.7 hinge`` on a labelled set.

    ``z [S, D]``, ``targets [S, C]`` multi-hot. Prototypes come from the same set unless
    given (the outer MAML loss scores queries against the adapted support prototypes).
    BCE is over the cosine logits of every sample against every prototype.
    ``naive_contrastive > 0`` adds the ablation's naive violence-pulling term.
    """
    w = FEWSHOT_WEIGHTS if weights is None else weights
    protos = class_prototypes(z, targets) if prototypes is None else prototypes
    logits = prototype_logits(z, protos)
    terms = {
        "bce": F.binary_cross_entropy_with_logits(logits, targets.float()),
        "center": center_loss(z, targets, protos),
        "hinge": violence_hinge_loss(protos, violent_classes),
    }
    total = sum(w[k] * terms[k] for k in ("bce", "center", "hinge"))
    if naive_contrastive:
        is_violent = (targets & violent_classes[None]).any(1)
        terms["naive"] = naive_violence_contrastive(z, is_violent)
        total = total + naive_contrastive * terms["naive"]
    terms["loss"] = total
    return terms
