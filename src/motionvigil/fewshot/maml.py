"""First-order MAML meta-training of the motion encoder (TMR-to-Violence [docs/papers.md], Section 3.2).

Each meta-iteration samples a violence-aware N-way K-shot episode from the training
clips, adapts the encoder on the support set (``adapt``: T inner steps of plain SGD on
BCE + 0.5 center + 0.7 hinge), evaluates the query loss against the adapted support
prototypes, and applies its gradient at the adapted weights to the initial weights
(first order: no second derivatives) with Adam. The best initialisation by mean query
loss on validation episodes (drawn from held-out training clips, never the test split)
is kept. Runs resume from ``OUT/last``.

Fast inner loop (``inner.top_layers = k``, an ANIL-style variant of FOMAML): the inner loop
adapts only the top ``k`` Transformer layers on the states of the frozen lower layers,
computed once per episode; the query loss still runs the whole encoder (lower layers at
the current initialisation, top layers adapted), and its first-order gradient updates
every weight. The initialisation is then learnt for the adaptation that the fast
evaluation mode (``AdaptSettings.top_layers``) performs.

Meta-batches and ``torchrun``: each outer step averages the first-order gradients of
``meta_batch`` episodes per process (``meta_batch x world_size`` in all). Episode slot
``g`` of iteration ``i`` is drawn from its own generator seeded ``(seed, i, g)`` (slot 0:
``(seed, i)``, so ``meta_batch=1`` in one process is the original algorithm), hence a
run with 2 processes x ``meta_batch=1`` draws the same episodes as 1 process x
``meta_batch=2`` and ends with the same weights (up to float summation order). The
gradients are summed with one ``all_reduce`` (gloo on CPU, nccl on CUDA), validation
episodes are split over the ranks and gathered, rank 0 alone writes checkpoints, and
every rank takes the same best/last decisions.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from motionvigil.atomic import write_text_atomic
from motionvigil.errors import MotionFileError
from motionvigil.fewshot.adaptation import (
    AdaptSettings,
    HiddenCache,
    InputCache,
    Params,
    adapt,
    adapted_params,
    encode,
    encoder_params,
    first_adapted_layer,
)
from motionvigil.datasets.labelled import LabelledSet
from motionvigil.fewshot.episodes import VIOLENT_FRACTION, Episode, EpisodeSampler
from motionvigil.losses import class_prototypes, fewshot_loss
from motionvigil.models.bundle import MotionTextBundle
from motionvigil.models.checkpoint import load_into
from motionvigil.training.distributed import assemble_rows, broadcast_, my_items
from motionvigil.training.run import Checkpoint, RunLoop
from motionvigil.training.runtime import Runtime


@dataclass(frozen=True)
class MetaSettings:
    iterations: int = 300
    ways: int = 5
    shots: int = 5
    queries: int = 5
    violent_fraction: float | None = VIOLENT_FRACTION
    outer_lr: float = 1e-4
    inner: AdaptSettings = field(default_factory=AdaptSettings)
    val_every: int = 50
    val_episodes: int = 10
    seed: int = 0
    progress: bool = True
    meta_batch: int = 1  # episodes per outer step and process (x world size under torchrun)

    def __post_init__(self) -> None:
        for name in ("meta_batch", "val_every", "val_episodes"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")


def episode_seeds(seed: int, iteration: int, slot: int) -> tuple[list[int], int]:
    """numpy and torch seeds of episode ``slot`` of meta-iteration ``iteration``; slot 0
    keeps the single-episode seeds (``(seed, iteration)``)."""
    if slot == 0:
        return [seed, iteration], seed * 100_003 + iteration
    return [seed, iteration, slot], int(np.random.default_rng([seed, iteration, slot, 1]).integers(2**62))


def query_loss(bundle: MotionTextBundle, params, cache: InputCache, episode: Episode, settings: AdaptSettings) -> torch.Tensor:
    """Query loss at ``params``: queries against the support prototypes, both embedded with
    ``params`` (the gradient flows through both)."""
    device = bundle.device
    xs, ms = cache.batch(episode.support)
    protos = class_prototypes(encode(bundle, params, xs, ms), torch.from_numpy(episode.support_targets).to(device))
    x, mask = cache.batch(episode.query)
    z = encode(bundle, params, x, mask)
    targets = torch.from_numpy(episode.query_targets).to(device)
    violent = torch.from_numpy(episode.violent).to(device)
    return fewshot_loss(z, targets, violent, prototypes=protos, naive_contrastive=settings.naive_contrastive)["loss"]


def adapt_episode(bundle: MotionTextBundle, params: Params, inputs: InputCache, episode: Episode,
                  settings: AdaptSettings, rng: np.random.Generator) -> Params:
    """Every encoder weight after the inner loop on ``episode``'s support set.

    Full FOMAML adapts them all. The fast inner loop (``settings.top_layers``) adapts the
    top layers on lower-layer states computed now (the lower layers change with every
    outer step, so the states are not kept across episodes) and returns the other
    weights as they are.
    """
    start = first_adapted_layer(bundle, settings)
    cache = HiddenCache(bundle, inputs, start) if start else inputs
    fast = adapt(bundle, adapted_params(bundle, settings), cache, episode.support, episode.support_targets,
                 episode.violent, settings, rng)
    return {name: fast[name] if name in fast else p.detach() for name, p in params.items()}


def largest_sampler(data: LabelledSet, s: MetaSettings) -> EpisodeSampler | None:
    """The largest episode shape (<= N-way K-shot, fewer shots first) the clips allow."""
    for ways in range(s.ways, 1, -1):
        for shots in range(s.shots, 0, -1):
            try:
                return EpisodeSampler(data, ways, shots, s.queries, violent_fraction=s.violent_fraction)
            except ValueError:
                continue
    return None


def validation_score(bundle: MotionTextBundle, data: LabelledSet, sampler: EpisodeSampler, s: MetaSettings,
                     runtime: Runtime | None = None) -> float:
    """Mean query loss after adaptation over fixed validation episodes (lower is better).

    Under torchrun the episodes are split over the ranks and their losses gathered, so
    every rank returns the same (bit-identical) score as a single process would."""
    rt = runtime or Runtime(bundle.device)
    cache = InputCache(bundle, data.clips)
    params = encoder_params(bundle)
    losses = torch.zeros(s.val_episodes, dtype=torch.float64)
    valid = torch.zeros(s.val_episodes, dtype=torch.float64)
    for i in my_items(s.val_episodes, rt):
        episode = sampler.sample(np.random.default_rng([s.seed, 10**6 + i]))
        if len(episode.query) == 0:
            continue
        fast = adapt_episode(bundle, params, cache, episode, s.inner, np.random.default_rng([s.seed, 2 * 10**6 + i]))
        with torch.no_grad():
            losses[i] = float(query_loss(bundle, fast, cache, episode, s.inner))
        valid[i] = 1.0
    both = assemble_rows(torch.stack([losses, valid]), rt)
    kept = [float(v) for v, ok in zip(both[0], both[1]) if ok > 0]
    return float(np.mean(kept)) if kept else math.inf


def _checkpoint(bundle: MotionTextBundle) -> Checkpoint:
    """``best/`` and ``last/`` as MotionTextBundle folders."""

    def save_best(folder: Path, progress: dict) -> None:
        bundle.info.update(meta_iteration=progress["best_iteration"], val_query_loss=progress["best_val"])
        bundle.save(folder)

    def save_last(folder: Path, tensors: dict, config: dict) -> None:
        bundle.save(folder, extra_tensors=tensors, extra_config=config)

    def load(tensors: dict, config: dict, folder: Path) -> None:
        if config.get("model") != bundle.config.to_dict():
            raise MotionFileError(folder, "cannot resume: the run folder holds a different model configuration")
        load_into(bundle.model, tensors, folder, prefix="model.")

    return Checkpoint(save_best, save_last, load)


def _outer_step(bundle: MotionTextBundle, params: Params, sampler: EpisodeSampler, cache: InputCache,
                s: MetaSettings, it: int, runtime: Runtime) -> dict[str, float]:
    """First-order gradients of this rank's ``meta_batch`` episodes of iteration ``it``,
    summed into ``.grad`` of ``params``; ``count``: the episodes used, ``query_loss``:
    the sum of their query losses (the run loop averages over all ranks' episodes)."""
    names = list(params)
    sums: list[torch.Tensor | None] = [None] * len(names)
    used, total = 0.0, 0.0
    for j in range(s.meta_batch):
        rng_seed, torch_seed = episode_seeds(s.seed, it, runtime.rank * s.meta_batch + j)
        rng = np.random.default_rng(rng_seed)
        torch.manual_seed(torch_seed)
        episode = sampler.sample(rng)
        if len(episode.query) == 0:
            continue
        fast = adapt_episode(bundle, params, cache, episode, s.inner, rng)
        fast = {k: v.requires_grad_(True) for k, v in fast.items()}
        loss = query_loss(bundle, fast, cache, episode, s.inner)
        grads = torch.autograd.grad(loss, list(fast.values()), allow_unused=True)
        sums = [g if acc is None else (acc if g is None else acc + g) for acc, g in zip(sums, grads)]
        used, total = used + 1.0, total + float(loss.detach())
    for p, g in zip(params.values(), sums):
        p.grad = None if g is None else g.detach()
    return {"count": used, "query_loss": total}


def meta_train(bundle: MotionTextBundle, train: LabelledSet, val: LabelledSet, out_dir: str | Path,
               settings: MetaSettings, resume: bool = True, runtime: Runtime | None = None,
               on_iteration: Callable[[int], None] | None = None) -> MotionTextBundle:
    """FOMAML from ``bundle``'s weights; writes ``OUT/best``, ``OUT/last`` and
    ``OUT/log.jsonl`` (one line per validation); returns the best.

    ``runtime``: the torchrun rank and world (``start_runtime``); ``None`` for one process.
    ``on_iteration(i)`` is called after meta-iteration ``i`` (1-based) and its checkpoint.
    Under torchrun the returned model is read from ``OUT/best``, which every rank must see.
    """
    s = settings
    rt = runtime or Runtime(bundle.device)
    out = Path(out_dir)
    sampler = largest_sampler(train, s)
    val_sampler = largest_sampler(val, s)
    if sampler is None or val_sampler is None:
        raise ValueError("training or validation clips are too few for even 2-way 1-shot episodes")
    if (sampler.ways, sampler.shots) != (s.ways, s.shots) and rt.is_main:
        tqdm.write(f"meta-training with {sampler.ways}-way {sampler.shots}-shot episodes: "
                   f"too few clips per class for {s.ways}-way {s.shots}-shot")
    params = encoder_params(bundle)
    broadcast_(params.values(), rt)  # every rank starts from rank 0's weights
    optimizer = torch.optim.Adam(params.values(), lr=s.outer_lr)
    cache = InputCache(bundle, train.clips)
    loop = RunLoop(
        step=lambda it: _outer_step(bundle, params, sampler, cache, s, it, rt), optimizer=optimizer,
        source=lambda it: [it], rounds=s.iterations, unit="iteration", every=s.val_every,
        checkpoint=_checkpoint(bundle), out=out, validate=lambda: {
            "query_loss": validation_score(bundle, val, val_sampler, s, rt)},
        metric="query_loss", validate_first=True, runtime=rt, sync_gradients=True, on_round=on_iteration,
        bar={"desc": "meta-training (FOMAML)", "unit": "step", "disable": not (s.progress and rt.is_main)})
    if resume:
        loop.resume()
    if rt.is_main:
        out.mkdir(parents=True, exist_ok=True)
        settings_json = json.loads(json.dumps(dataclasses.asdict(s)))
        write_text_atomic(out / "meta_train.json", json.dumps(
            {"settings": settings_json, "train_clips": len(train.clips), "val_clips": len(val.clips),
             "world_size": rt.world_size, "episodes_per_step": s.meta_batch * rt.world_size,
             "episode_shape": [sampler.ways, sampler.shots],
             "val_episode_shape": [val_sampler.ways, val_sampler.shots]}, indent=2))
    loop.run()
    return MotionTextBundle.load(out / "best", device=bundle.device)
