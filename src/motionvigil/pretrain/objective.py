"""The pre-training objectives: TMR's weighted loss sum, CLIP for the ViT encoder, TMR's
filtered InfoNCE alone for the UNIK encoder (the cluster-guided T-MOR objective is in
:mod:`motionvigil.pretrain.tmor`)."""

from __future__ import annotations

import torch
import torch.distributed as dist

from motionvigil.losses import (
    CLIP_TEMPERATURE,
    TMR_NEGATIVE_FILTER,
    TMR_TEMPERATURE,
    TMR_WEIGHTS,
    clip_loss,
    gaussian_kl,
    infonce,
    masked_smooth_l1,
)
from motionvigil.models.motion_text import MotionTextModel
from motionvigil.training.distributed import gather_rows
from motionvigil.training.runtime import Runtime


def gather_batch(x: torch.Tensor, enabled: bool = True) -> torch.Tensor:
    """Concatenate ``x`` over all ranks (with gradients) when running under torchrun, so
    contrastive losses see the global batch as negatives; identity otherwise."""
    if not enabled or not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() == 1:
        return x
    # the last batch of an epoch may split unevenly (e.g. 2 + 1 rows): exchange the sizes
    runtime = Runtime(x.device, dist.get_rank(), dist.get_world_size())
    sizes = torch.zeros(runtime.world_size, dtype=torch.int64, device=x.device)
    sizes[runtime.rank] = len(x)
    dist.all_reduce(sizes)
    return gather_rows(x, sizes.tolist(), runtime)


def _sample(mu: torch.Tensor, logvar: torch.Tensor | None, stochastic: bool) -> torch.Tensor:
    if logvar is None or not stochastic:
        return mu
    return mu + torch.randn_like(mu) * (0.5 * logvar).exp()


def tmr_losses(model: MotionTextModel, batch: dict[str, torch.Tensor], stochastic: bool = True,
               gather: bool = True) -> dict[str, torch.Tensor]:
    """TMR losses (unweighted terms and the weighted ``loss``) for one batch.

    ``batch``: ``motion [B, T, 263]``, ``motion_mask [B, T]``, ``tokens [B, L, 384]``,
    ``token_mask [B, L]``, ``sentence [B, 384]``.
    """
    x, mask = batch["motion"], batch["motion_mask"]
    t_mu, t_logvar = model.text_distribution(batch["tokens"], batch["token_mask"])
    m_mu, m_logvar = model.motion_distribution(x, mask)
    t_z, m_z = _sample(t_mu, t_logvar, stochastic), _sample(m_mu, m_logvar, stochastic)

    terms = {
        "recons": masked_smooth_l1(model.decode(t_z, mask), x, mask) + masked_smooth_l1(model.decode(m_z, mask), x, mask),
        "latent": torch.nn.functional.smooth_l1_loss(t_z, m_z),
        "contrastive": infonce(gather_batch(t_z, gather), gather_batch(m_z, gather), TMR_TEMPERATURE,
                               gather_batch(batch["sentence"], gather), TMR_NEGATIVE_FILTER),
    }
    if t_logvar is not None and m_logvar is not None:
        zeros = torch.zeros_like(m_mu)
        terms["kl"] = (
            gaussian_kl(t_mu, t_logvar, m_mu, m_logvar)
            + gaussian_kl(m_mu, m_logvar, t_mu, t_logvar)
            + gaussian_kl(m_mu, m_logvar, zeros, zeros)
            + gaussian_kl(t_mu, t_logvar, zeros, zeros)
        )
    terms["loss"] = sum(TMR_WEIGHTS[name] * value for name, value in terms.items())
    return terms


def vit_losses(model: MotionTextModel, batch: dict[str, torch.Tensor], stochastic: bool = True,
               gather: bool = True) -> dict[str, torch.Tensor]:
    """Plain CLIP loss between text means and ViT motion embeddings."""
    text = model.encode_text(batch["tokens"], batch["token_mask"])
    motion = model.encode_motion(batch["motion"], batch["motion_mask"])
    loss = clip_loss(gather_batch(text, gather), gather_batch(motion, gather), CLIP_TEMPERATURE)
    return {"contrastive": loss, "loss": loss}


def infonce_losses(model: MotionTextModel, batch: dict[str, torch.Tensor], stochastic: bool = True,
                   gather: bool = True) -> dict[str, torch.Tensor]:
    """TMR's contrastive term alone (temperature 0.1, caption-filtered negatives) between
    text and motion embeddings: the InfoNCE baseline of the UNIK encoder (no decoder)."""
    text = model.encode_text(batch["tokens"], batch["token_mask"])
    motion = model.encode_motion(batch["motion"], batch["motion_mask"])
    loss = infonce(gather_batch(text, gather), gather_batch(motion, gather), TMR_TEMPERATURE,
                   gather_batch(batch["sentence"], gather), TMR_NEGATIVE_FILTER)
    return {"contrastive": loss, "loss": loss}


def compute_losses(model: MotionTextModel, batch: dict[str, torch.Tensor], stochastic: bool = True,
                   gather: bool = True) -> dict[str, torch.Tensor]:
    """The objective of ``model``'s encoder. Under torchrun (``gather``), contrastive terms
    use the embeddings of every rank, so N processes optimise the loss of the global batch."""
    fn = {"tmr": tmr_losses, "unik": infonce_losses}.get(model.cfg.motion_encoder, vit_losses)
    return fn(model, batch, stochastic, gather)
