"""Gradient-based adaptation of the motion encoder on a support set (the MAML inner loop).

The encoder's parameters are handled as a dictionary of tensors and the module is
run with ``torch.func.functional_call``, so adapting never copies the module: each inner
step replaces the dictionary by ``theta - alpha * grad`` (first order: the new tensors
are detached, so no graph spans the steps).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch.func import functional_call

from motionvigil.losses import class_prototypes, fewshot_loss
from motionvigil.models.bundle import MotionTextBundle

INNER_STEPS = 20
INNER_LR = 0.02
BUCKET_SLACK = 0.25  # a length bucket holds clips at least (1 - slack) x its longest clip
MAX_BUCKETS = 4
MIN_BUCKET = 8  # fewer clips than this are not worth a separate encoder call

Params = dict[str, torch.Tensor]


@dataclass(frozen=True)
class AdaptSettings:
    """Inner-loop settings (TMR-to-Violence [docs/papers.md]: T = 20 steps, alpha = 0.02,
    BCE + 0.5 center + 0.7 hinge).

    ``top_layers = None`` adapts the whole encoder (the paper's FOMAML). ``top_layers = k``
    is the fast mode: only the top ``k`` Transformer layers (and the ViT's read-out) are
    adapted; the frozen layers below run once per clip and their states are cached.
    """

    steps: int = INNER_STEPS
    lr: float = INNER_LR
    naive_contrastive: float = 0.0  # ablation: weight of the naive violence-pulling term
    max_support_batch: int = 256  # larger support sets are subsampled per step (global protocol)
    top_layers: int | None = None
    mixed_precision: bool = False  # bfloat16 autocast for the encoder (GPU); losses stay float32

    def __post_init__(self) -> None:
        if self.steps < 0:
            raise ValueError(f"steps must be >= 0 (0: no adaptation), got {self.steps}")
        if self.top_layers is not None and self.top_layers < 1:
            raise ValueError(f"top_layers must be >= 1 (or None for the whole encoder), got {self.top_layers}")


def encoder_params(bundle: MotionTextBundle) -> Params:
    """The motion encoder's parameters (the adapted weights), by name."""
    return dict(bundle.model.motion_encoder.named_parameters())


def first_adapted_layer(bundle: MotionTextBundle, settings: AdaptSettings) -> int:
    """Index of the lowest adapted Transformer layer (0 = the whole encoder is adapted)."""
    if settings.top_layers is None:
        return 0
    encoder = bundle.model.motion_encoder
    if not hasattr(encoder, "hidden"):
        raise ValueError(f"the fast mode (top_layers) needs a Transformer encoder (tmr or vit), "
                         f"not {bundle.config.motion_encoder!r}")
    layers = len(encoder.encoder.layers)
    return max(0, layers - settings.top_layers)


def adapted_params(bundle: MotionTextBundle, settings: AdaptSettings) -> Params:
    """The parameters the inner loop adapts: all of the encoder's, or (fast mode) those
    of the top layers and whatever follows them."""
    start = first_adapted_layer(bundle, settings)
    params = encoder_params(bundle)
    if start == 0:
        return params
    frozen = ("projection.", "tokens", "positions.", "patch_embed.", "cls", "pos") + tuple(
        f"encoder.layers.{i}." for i in range(start))
    return {k: v for k, v in params.items() if not k.startswith(frozen)}


def precision(bundle: MotionTextBundle, mixed: bool):
    """bfloat16 autocast on the bundle's device when ``mixed``, else a no-op context."""
    return torch.autocast(bundle.device.type, dtype=torch.bfloat16, enabled=mixed)


def encode(bundle: MotionTextBundle, params: Params, x: torch.Tensor, mask: torch.Tensor,
           start_layer: int = 0) -> torch.Tensor:
    """Motion embeddings ``[B, D]`` of the encoder run with ``params`` (evaluation mode).

    ``params`` may hold a subset of the weights (the rest are the module's own); with
    ``start_layer > 0``, ``x, mask`` are the cached states entering that layer.
    """
    kwargs = {"start_layer": start_layer} if start_layer else {}
    out = functional_call(bundle.model.motion_encoder, params, (x, mask), kwargs)
    return out[0] if isinstance(out, tuple) else out


def length_buckets(lengths: Sequence[int], slack: float = BUCKET_SLACK, max_buckets: int = MAX_BUCKETS,
                   min_size: int | None = None) -> list[np.ndarray]:
    """Positions grouped by similar length (longest first), so little attention is spent
    on padding. A new bucket starts where a clip is shorter than ``(1 - slack)`` x the
    current bucket's longest and at least ``min_size`` clips remain; at most ``max_buckets``."""
    min_size = MIN_BUCKET if min_size is None else min_size
    order = np.argsort(-np.asarray(lengths), kind="stable")
    buckets: list[list[int]] = []
    top = None
    for rank, i in enumerate(order):
        remaining = len(order) - rank
        if top is None or (lengths[i] < (1 - slack) * top and len(buckets) < max_buckets
                           and remaining >= min_size and len(buckets[-1]) >= min_size):
            buckets.append([])
            top = lengths[i]
        buckets[-1].append(int(i))
    return [np.array(b) for b in buckets]


class _RecentBatches:
    """The last few padded batches: the inner loop asks for the same support (buckets)
    every step."""

    def __init__(self, size: int = MAX_BUCKETS) -> None:
        self.size = size
        self._items: OrderedDict[tuple[int, ...], tuple[torch.Tensor, torch.Tensor]] = OrderedDict()

    def get(self, indices: Sequence[int], make) -> tuple[torch.Tensor, torch.Tensor]:
        key = tuple(int(i) for i in indices)
        if key in self._items:
            self._items.move_to_end(key)
        else:
            self._items[key] = make()
            if len(self._items) > self.size:
                self._items.popitem(last=False)
        return self._items[key]


class InputCache:
    """Normalised, centred-crop input sequences of clips, computed once per clip."""

    start_layer = 0

    def __init__(self, bundle: MotionTextBundle, clips: Sequence):
        self.bundle = bundle
        self.clips = clips
        self._seqs: dict[int, np.ndarray] = {}
        self._last = _RecentBatches()

    def _seq(self, i: int) -> np.ndarray:
        if i not in self._seqs:
            inputs = self.bundle.inputs
            self._seqs[i] = inputs.crop(inputs.sequence(self.clips[i]), None)
        return self._seqs[i]

    def length(self, i: int) -> int:
        return len(self._seq(int(i)))

    def batch(self, indices: Sequence[int]) -> tuple[torch.Tensor, torch.Tensor]:
        return self._last.get(indices, lambda: self._collate(indices))

    def _collate(self, indices: Sequence[int]) -> tuple[torch.Tensor, torch.Tensor]:
        x, mask = self.bundle.inputs.collate([self._seq(int(i)) for i in indices])
        device = self.bundle.device
        return x.to(device), mask.to(device)


class HiddenCache:
    """Fast mode: each clip's states after the frozen lower layers, computed once.

    ``batch`` pads them into ``(h [B, S, D], valid [B, S])`` for ``encode(...,
    start_layer)``. Valid only while the lower layers keep the weights they had here.
    """

    def __init__(self, bundle: MotionTextBundle, inputs: InputCache, start_layer: int, batch_size: int = 32):
        if start_layer < 1:
            raise ValueError("a hidden-state cache needs start_layer >= 1")
        self.bundle = bundle
        self.inputs = inputs
        self.clips = inputs.clips
        self.start_layer = start_layer
        self.batch_size = batch_size
        self._states: dict[int, torch.Tensor] = {}
        self._last = _RecentBatches()

    def _fill(self, indices: Sequence[int]) -> None:
        missing = sorted({int(i) for i in indices} - self._states.keys())
        if not missing:
            return
        encoder = self.bundle.model.motion_encoder
        self.bundle.model.eval()
        with torch.no_grad():
            for start in range(0, len(missing), self.batch_size):
                chunk = missing[start : start + self.batch_size]
                h, valid = encoder.hidden(*self.inputs.batch(chunk), self.start_layer)
                for row, i in enumerate(chunk):
                    self._states[i] = h[row, : int(valid[row].sum())].clone()

    def length(self, i: int) -> int:
        if int(i) not in self._states:
            self._fill([i])
        return int(self._states[int(i)].shape[0])

    def batch(self, indices: Sequence[int]) -> tuple[torch.Tensor, torch.Tensor]:
        return self._last.get(indices, lambda: self._pad(indices))

    def _pad(self, indices: Sequence[int]) -> tuple[torch.Tensor, torch.Tensor]:
        self._fill(indices)
        states = [self._states[int(i)] for i in indices]
        size = max(s.shape[0] for s in states)
        h = states[0].new_zeros(len(states), size, states[0].shape[-1])
        valid = torch.zeros(len(states), size, dtype=torch.bool, device=h.device)
        for row, s in enumerate(states):
            h[row, : s.shape[0]] = s
            valid[row, : s.shape[0]] = True
        return h, valid


Cache = InputCache | HiddenCache


def adaptation_cache(bundle: MotionTextBundle, clips: Sequence, settings: AdaptSettings) -> Cache:
    """The clip cache the inner loop reads: inputs, or (fast mode) frozen lower-layer states."""
    inputs = InputCache(bundle, clips)
    start = first_adapted_layer(bundle, settings)
    return HiddenCache(bundle, inputs, start) if start else inputs


def encode_clips(bundle: MotionTextBundle, params: Params, cache: Cache, indices: Sequence[int]) -> torch.Tensor:
    """Embeddings ``[len(indices), D]`` in order, encoded per length bucket (differentiable)."""
    indices = np.asarray(indices)
    buckets = length_buckets([cache.length(i) for i in indices])
    parts = [encode(bundle, params, *cache.batch(indices[b]), cache.start_layer) for b in buckets]
    order = np.argsort(np.concatenate(buckets))
    z = torch.cat(parts) if len(parts) > 1 else parts[0]
    if np.array_equal(order, np.arange(len(order))):
        return z
    return z[torch.from_numpy(order).to(z.device)]


def embed_indices(bundle: MotionTextBundle, params: Params, cache: Cache, indices: Sequence[int],
                  batch_size: int = 32, mixed_precision: bool = False) -> torch.Tensor:
    """Embeddings of many clips without gradients, in batches (float32)."""
    out = []
    with torch.no_grad(), precision(bundle, mixed_precision):
        for start in range(0, len(indices), batch_size):
            out.append(encode_clips(bundle, params, cache, indices[start : start + batch_size]).float())
    return torch.cat(out) if out else torch.zeros(0, bundle.config.embed_dim)


def adapt(bundle: MotionTextBundle, params: Params, cache: Cache, support: np.ndarray,
          targets: np.ndarray, violent: np.ndarray, settings: AdaptSettings,
          rng: np.random.Generator | None = None) -> Params:
    """``settings.steps`` first-order gradient steps on the support loss; returns new params.

    ``params`` and ``cache`` come from ``adapted_params`` and ``adaptation_cache`` (the
    whole encoder and its inputs, or the fast mode's top layers and cached states).
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
        with precision(bundle, settings.mixed_precision):
            z = encode_clips(bundle, fast, cache, support[rows])
        loss = fewshot_loss(z.float(), t_all[rows], v, naive_contrastive=settings.naive_contrastive)["loss"]
        grads = torch.autograd.grad(loss, list(fast.values()), allow_unused=True)
        with torch.no_grad():
            fast = {
                name: (p - settings.lr * g if g is not None else p).requires_grad_(True)
                for (name, p), g in zip(fast.items(), grads)
            }
    return {k: v.detach() for k, v in fast.items()}


def prototypes_from(bundle: MotionTextBundle, params: Params, cache: Cache, support: np.ndarray,
                    targets: np.ndarray) -> torch.Tensor:
    """Class prototypes ``[N, D]`` from the support clips embedded with ``params``."""
    z = embed_indices(bundle, params, cache, support)
    return class_prototypes(z, torch.from_numpy(targets).to(z.device))
