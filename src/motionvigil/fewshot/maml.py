"""First-order MAML meta-training of the motion encoder (seed 000, Section 3.2).

Each meta-iteration samples a violence-aware N-way K-shot episode from the training
clips, adapts the encoder on the support set (``adapt``: T inner steps of plain SGD on
BCE + 0.5 center + 0.7 hinge), evaluates the query loss against the adapted support
prototypes, and applies its gradient at the adapted weights to the initial weights
(first order: no second derivatives) with Adam. The best initialisation by mean query
loss on validation episodes (drawn from held-out training clips, never the test split)
is kept. Runs resume from ``OUT/last``.
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from motionvigil.atomic import write_text_atomic
from motionvigil.errors import MotionFileError
from motionvigil.fewshot.adaptation import (
    AdaptSettings,
    InputCache,
    adapt,
    encode,
    encoder_params,
)
from motionvigil.datasets.labelled import LabelledSet
from motionvigil.fewshot.episodes import VIOLENT_FRACTION, Episode, EpisodeSampler
from motionvigil.losses import class_prototypes, fewshot_loss
from motionvigil.models.bundle import MotionTextBundle
from motionvigil.models.checkpoint import load_checkpoint, load_into
from motionvigil.training.optim_state import optimizer_groups, optimizer_tensors, restore_optimizer


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


def largest_sampler(data: LabelledSet, s: MetaSettings) -> EpisodeSampler | None:
    """The largest episode shape (<= N-way K-shot, fewer shots first) the clips allow."""
    for ways in range(s.ways, 1, -1):
        for shots in range(s.shots, 0, -1):
            try:
                return EpisodeSampler(data, ways, shots, s.queries, violent_fraction=s.violent_fraction)
            except ValueError:
                continue
    return None


def validation_score(bundle: MotionTextBundle, data: LabelledSet, sampler: EpisodeSampler, s: MetaSettings) -> float:
    """Mean query loss after adaptation over fixed validation episodes (lower is better)."""
    cache = InputCache(bundle, data.clips)
    params = encoder_params(bundle)
    losses = []
    for i in range(s.val_episodes):
        episode = sampler.sample(np.random.default_rng([s.seed, 10**6 + i]))
        if len(episode.query) == 0:
            continue
        fast = adapt(bundle, params, cache, episode.support, episode.support_targets, episode.violent, s.inner,
                     np.random.default_rng([s.seed, 2 * 10**6 + i]))
        with torch.no_grad():
            losses.append(float(query_loss(bundle, fast, cache, episode, s.inner)))
    return float(np.mean(losses)) if losses else math.inf


def meta_train(bundle: MotionTextBundle, train: LabelledSet, val: LabelledSet, out_dir: str | Path,
               settings: MetaSettings, resume: bool = True) -> MotionTextBundle:
    """FOMAML from ``bundle``'s weights; writes ``OUT/best`` and ``OUT/last``; returns the best."""
    s = settings
    out = Path(out_dir)
    sampler = largest_sampler(train, s)
    val_sampler = largest_sampler(val, s)
    if sampler is None or val_sampler is None:
        raise ValueError("training or validation clips are too few for even 2-way 1-shot episodes")
    if (sampler.ways, sampler.shots) != (s.ways, s.shots):
        tqdm.write(f"meta-training with {sampler.ways}-way {sampler.shots}-shot episodes: "
                   f"too few clips per class for {s.ways}-way {s.shots}-shot")
    params = encoder_params(bundle)
    optimizer = torch.optim.Adam(params.values(), lr=s.outer_lr)
    progress = {"iteration": 0, "best_val": math.inf, "best_iteration": 0}
    last = out / "last"
    if resume and (last / "config.json").is_file():
        tensors, config = load_checkpoint(last)
        if config.get("model") != bundle.config.to_dict():
            raise MotionFileError(last, "cannot resume: the run folder holds a different model configuration")
        load_into(bundle.model, tensors, last, prefix="model.")
        restore_optimizer(optimizer, tensors, config["optimizer"])
        progress = config["progress"]
    out.mkdir(parents=True, exist_ok=True)
    settings_json = json.loads(json.dumps(dataclasses.asdict(s)))
    write_text_atomic(out / "meta_train.json", json.dumps(
        {"settings": settings_json, "train_clips": len(train.clips), "val_clips": len(val.clips),
         "episode_shape": [sampler.ways, sampler.shots], "val_episode_shape": [val_sampler.ways, val_sampler.shots]},
        indent=2))
    if progress["iteration"] == 0 and not (out / "best" / "config.json").is_file():
        progress["best_val"] = validation_score(bundle, val, val_sampler, s)
        bundle.info.update(meta_iteration=0, val_query_loss=progress["best_val"])
        bundle.save(out / "best")

    cache = InputCache(bundle, train.clips)
    bar = tqdm(range(progress["iteration"], s.iterations), desc="meta-training (FOMAML)", unit="episode",
               disable=not s.progress, initial=progress["iteration"], total=s.iterations)
    for it in bar:
        rng = np.random.default_rng([s.seed, it])
        torch.manual_seed(s.seed * 100_003 + it)
        episode = sampler.sample(rng)
        if len(episode.query) == 0:
            continue
        fast = adapt(bundle, params, cache, episode.support, episode.support_targets, episode.violent, s.inner, rng)
        fast = {k: v.requires_grad_(True) for k, v in fast.items()}
        loss = query_loss(bundle, fast, cache, episode, s.inner)
        grads = torch.autograd.grad(loss, list(fast.values()), allow_unused=True)
        optimizer.zero_grad(set_to_none=True)
        for p, g in zip(params.values(), grads):
            p.grad = None if g is None else g.detach().clone()
        optimizer.step()
        progress["iteration"] = it + 1
        bar.set_postfix(query_loss=f"{float(loss.detach()):.3f}")
        if (it + 1) % s.val_every == 0 or it + 1 == s.iterations:
            score = validation_score(bundle, val, val_sampler, s)
            if score < progress["best_val"]:
                progress.update(best_val=score, best_iteration=it + 1)
                bundle.info.update(meta_iteration=it + 1, val_query_loss=score)
                bundle.save(out / "best")
            bundle.save(last, extra_tensors=optimizer_tensors(optimizer),
                        extra_config={"progress": progress, "optimizer": optimizer_groups(optimizer)})
    bar.close()
    return MotionTextBundle.load(out / "best", device=bundle.device)
