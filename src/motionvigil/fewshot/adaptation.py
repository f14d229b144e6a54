"""Gradient-based adaptation of the motion encoder on a support set (the MAML inner loop).

The encoder's parameters are handled as a dictionary of tensors and the module is
run with ``torch.func.functional_call``, so adapting never copies the module: each inner
step replaces the dictionary by ``theta - alpha * grad`` (first order: the new tensors
are detached, so no graph spans the steps).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch.func import functional_call

from motionvigil.losses import class_prototypes, fewshot_loss
from motionvigil.models.bundle import MotionTextBundle

INNER_STEPS = 20
INNER_LR = 0.02

Params = dict[str, torch.Tensor]


@dataclass(frozen=True)
class AdaptSettings:
    """Inner-loop settings (seed 000: T = 20 steps, alpha = 0.02, BCE + 0.5 center + 0.7 hinge)."""

    steps: int = INNER_STEPS
    lr: float = INNER_LR
    naive_contrastive: float = 0.0  # ablation: weight of the naive violence-pulling term
    max_support_batch: int = 256  # larger support sets are subsampled per step (global protocol)


def encoder_params(bundle: MotionTextBundle) -> Params:
    """The motion encoder's parameters (the adapted weights), by name."""
    return dict(bundle.model.motion_encoder.named_parameters())


def encode(bundle: MotionTextBundle, params: Params, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Motion embeddings ``[B, D]`` of the encoder run with ``params`` (evaluation mode)."""
    out = functional_call(bundle.model.motion_encoder, params, (x, mask))
    return out[0] if isinstance(out, tuple) else out


class InputCache:
    """Normalised, centred-crop input sequences of clips, computed once per clip."""

    def __init__(self, bundle: MotionTextBundle, clips: Sequence):
        self.bundle = bundle
        self.clips = clips
        self._seqs: dict[int, np.ndarray] = {}

    def batch(self, indices: Sequence[int]) -> tuple[torch.Tensor, torch.Tensor]:
        seqs = []
        for i in indices:
            i = int(i)
            if i not in self._seqs:
                inputs = self.bundle.inputs
                self._seqs[i] = inputs.crop(inputs.sequence(self.clips[i]), None)
            seqs.append(self._seqs[i])
        x, mask = self.bundle.inputs.collate(seqs)
        device = self.bundle.device
        return x.to(device), mask.to(device)


def embed_indices(bundle: MotionTextBundle, params: Params, cache: InputCache, indices: Sequence[int],
                  batch_size: int = 32) -> torch.Tensor:
    """Embeddings of many clips without gradients, in batches."""
    out = []
    with torch.no_grad():
        for start in range(0, len(indices), batch_size):
            x, mask = cache.batch(indices[start : start + batch_size])
            out.append(encode(bundle, params, x, mask))
    return torch.cat(out) if out else torch.zeros(0, bundle.config.embed_dim)


def adapt(bundle: MotionTextBundle, params: Params, cache: InputCache, support: np.ndarray,
          targets: np.ndarray, violent: np.ndarray, settings: AdaptSettings,
          rng: np.random.Generator | None = None) -> Params:
    """``settings.steps`` first-order gradient steps on the support loss; returns new params.

    When the support set exceeds ``settings.max_support_batch`` clips, every step uses a
    random subset of that size (``rng`` required), prototypes included.
    """
    bundle.model.eval()
    fast = {k: v.detach().clone().requires_grad_(True) for k, v in params.items()}
    t_all = torch.from_numpy(targets).to(bundle.device)
    v = torch.from_numpy(violent).to(bundle.device)
    for _ in range(settings.steps):
        rows = np.arange(len(support))
        if len(rows) > settings.max_support_batch:
            if rng is None:
                raise ValueError("subsampling a large support set needs an rng")
            rows = np.sort(rng.choice(rows, settings.max_support_batch, replace=False))
        x, mask = cache.batch(support[rows])
        z = encode(bundle, fast, x, mask)
        loss = fewshot_loss(z, t_all[rows], v, naive_contrastive=settings.naive_contrastive)["loss"]
        grads = torch.autograd.grad(loss, list(fast.values()), allow_unused=True)
        fast = {
            name: (p - settings.lr * g if g is not None else p).detach().requires_grad_(True)
            for (name, p), g in zip(fast.items(), grads)
        }
    return {k: v.detach() for k, v in fast.items()}


def prototypes_from(bundle: MotionTextBundle, params: Params, cache: InputCache, support: np.ndarray,
                    targets: np.ndarray) -> torch.Tensor:
    """Class prototypes ``[N, D]`` from the support clips embedded with ``params``."""
    z = embed_indices(bundle, params, cache, support)
    return class_prototypes(z, torch.from_numpy(targets).to(z.device))
