"""Cosine noise schedule (Nichol & Dhariwal 2021), forward noising and DDIM steps.

With ``abar_t`` the cumulative product of ``1 - beta_t``::

    q(x_t | x_0) = N(sqrt(abar_t) x_0, (1 - abar_t) I)
    x_t = sqrt(abar_t) x_0 + sqrt(1 - abar_t) eps

The denoiser predicts ``x_0`` (as MDM does); the sampler turns that into the noise
estimate ``eps = (x_t - sqrt(abar_t) x0) / sqrt(1 - abar_t)`` and takes deterministic
DDIM steps (``eta = 0``) or stochastic ones (``eta = 1`` is DDPM-like) over a
sub-sequence of the training timesteps.
"""

from __future__ import annotations

import math

import torch

MAX_BETA = 0.999


def cosine_alpha_bar(t: torch.Tensor | float, s: float = 0.008) -> torch.Tensor:
    """``abar(t)`` for continuous ``t`` in ``[0, 1]`` (before normalisation by ``abar(0)``)."""
    t = torch.as_tensor(t, dtype=torch.float64)
    return torch.cos((t + s) / (1 + s) * math.pi / 2) ** 2


def cosine_betas(steps: int) -> torch.Tensor:
    """``beta_1 .. beta_T`` (float64) of the cosine schedule, clipped at ``MAX_BETA``."""
    if steps < 1:
        raise ValueError(f"need at least one diffusion step, got {steps}")
    grid = torch.arange(steps + 1, dtype=torch.float64) / steps
    abar = cosine_alpha_bar(grid)
    betas = 1 - abar[1:] / abar[:-1]
    return betas.clamp(max=MAX_BETA)


class NoiseSchedule:
    """Cumulative products of a beta schedule; timesteps are ``0 .. steps-1``."""

    def __init__(self, steps: int):
        self.steps = int(steps)
        self.betas = cosine_betas(self.steps)
        self.alpha_bar = torch.cumprod(1 - self.betas, dim=0)  # float64, decreasing in t

    def _coef(self, values: torch.Tensor, t: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
        out = values.to(like.device)[t.long()].to(like.dtype)
        return out.view(-1, *([1] * (like.dim() - 1)))

    def q_sample(self, x0: torch.Tensor, t: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        """Noised ``x_t`` of clean ``x0 [B, ...]`` at timesteps ``t [B]``."""
        a = self._coef(self.alpha_bar, t, x0)
        return a.sqrt() * x0 + (1 - a).sqrt() * noise

    def eps_from_x0(self, x_t: torch.Tensor, t: torch.Tensor, x0: torch.Tensor) -> torch.Tensor:
        """The noise that maps ``x0`` to ``x_t`` at ``t`` (inverse of :meth:`q_sample`)."""
        a = self._coef(self.alpha_bar, t, x_t)
        return (x_t - a.sqrt() * x0) / (1 - a).sqrt()

    def timesteps(self, sampling_steps: int) -> list[int]:
        """Decreasing, evenly spaced timesteps for a ``sampling_steps``-step sampler
        (always starting at ``steps - 1`` and ending at 0)."""
        n = max(1, min(int(sampling_steps), self.steps))
        grid = torch.linspace(self.steps - 1, 0, n).round().long().tolist()
        return sorted(set(grid), reverse=True)

    def ddim_step(self, x_t: torch.Tensor, t: int, t_prev: int, x0: torch.Tensor, eta: float = 0.0,
                  generator: torch.Generator | None = None) -> torch.Tensor:
        """One DDIM step from ``t`` to ``t_prev`` (``-1`` = the clean sample) given the
        predicted ``x0``. ``eta = 0``: deterministic; ``eta = 1``: DDPM posterior variance."""
        tt = torch.full((x_t.shape[0],), t, device=x_t.device)
        eps = self.eps_from_x0(x_t, tt, x0)
        if t_prev < 0:
            return x0
        a_t = float(self.alpha_bar[t])
        a_prev = float(self.alpha_bar[t_prev])
        sigma = eta * math.sqrt(max((1 - a_prev) / (1 - a_t) * (1 - a_t / a_prev), 0.0))
        direction = math.sqrt(max(1 - a_prev - sigma**2, 0.0)) * eps
        out = math.sqrt(a_prev) * x0 + direction
        if sigma > 0:
            noise = torch.randn(x_t.shape, generator=generator, dtype=x_t.dtype).to(x_t.device)
            out = out + sigma * noise
        return out
