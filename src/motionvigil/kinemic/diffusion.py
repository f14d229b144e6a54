"""Training loss and classifier-free-guided sampling around a :class:`MotionDenoiser`.

Loss (MDM's "simple" objective with x0 prediction): masked mean squared error between
the predicted and the true clean features, over valid frames only. Guidance::

    x0_guided = x0_uncond + s * (x0_cond - x0_uncond)

(``s = 1``: plain conditional sampling; ``s = 0``: unconditional).
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from motionvigil.kinemic.schedule import NoiseSchedule

Denoise = Callable[..., torch.Tensor]


def masked_mse(pred: torch.Tensor, target: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    """Mean squared error over the valid frames ``valid [B, T]`` of ``[B, T, F]`` tensors."""
    w = valid[..., None].to(pred.dtype)
    return ((pred - target) ** 2 * w).sum() / (w.sum() * pred.shape[-1]).clamp(min=1)


def diffusion_loss(denoiser: Denoise, schedule: NoiseSchedule, x0: torch.Tensor, text: torch.Tensor,
                   valid: torch.Tensor, cond_drop: float, generator: torch.Generator | None = None
                   ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(loss, predicted x0, t)`` of one batch: random timesteps, random condition dropout."""
    b = x0.shape[0]
    t = torch.randint(0, schedule.steps, (b,), generator=generator).to(x0.device)
    noise = torch.randn(x0.shape, generator=generator).to(x0.device)
    x_t = schedule.q_sample(x0, t, noise) * valid[..., None]
    drop = (torch.rand(b, generator=generator) < cond_drop).to(x0.device)
    pred = denoiser(x_t, t, text, valid, drop)
    return masked_mse(pred, x0, valid), pred, t


def guided_x0(denoiser: Denoise, x_t: torch.Tensor, t: torch.Tensor, text: torch.Tensor, valid: torch.Tensor,
              guidance: float) -> torch.Tensor:
    """Classifier-free guided x0 prediction (one batched call for both branches)."""
    if guidance == 1.0:
        return denoiser(x_t, t, text, valid, torch.zeros(len(x_t), dtype=torch.bool, device=x_t.device))
    b = x_t.shape[0]
    drop = torch.cat([torch.zeros(b, dtype=torch.bool), torch.ones(b, dtype=torch.bool)]).to(x_t.device)
    both = denoiser(torch.cat([x_t, x_t]), torch.cat([t, t]), torch.cat([text, text]),
                    torch.cat([valid, valid]), drop)
    cond, uncond = both[:b], both[b:]
    return uncond + guidance * (cond - uncond)


@torch.no_grad()
def sample(denoiser: Denoise, schedule: NoiseSchedule, text: torch.Tensor, valid: torch.Tensor, feats: int,
           sampling_steps: int, guidance: float, eta: float = 0.0,
           generator: torch.Generator | None = None) -> torch.Tensor:
    """Normalised features ``[B, T, feats]`` sampled with DDIM (``eta``) and guidance."""
    b, n = valid.shape
    x = torch.randn((b, n, feats), generator=generator).to(text.device) * valid[..., None]
    steps = schedule.timesteps(sampling_steps)
    for i, t in enumerate(steps):
        t_prev = steps[i + 1] if i + 1 < len(steps) else -1
        tt = torch.full((b,), t, dtype=torch.long, device=text.device)
        x0 = guided_x0(denoiser, x, tt, text, valid, guidance)
        x = schedule.ddim_step(x, t, t_prev, x0, eta, generator) * valid[..., None]
    return x
