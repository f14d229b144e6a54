"""Motion-text pre-training: AdamW, validation-based selection, resumable, DDP-ready.

Run folder layout::

    RUN/best/      the model with the lowest validation contrastive loss (a MotionTextBundle)
    RUN/last/      the latest epoch: model + optimizer + progress (for --resume)
    RUN/log.jsonl  one JSON line per epoch (with ``--objective tmor``: DBSCAN's clusters,
                   noise fraction, eps and min_samples of the epoch too)
    RUN/train.json the settings of the run

The test split is never looked at. Given a seed, a CPU run is deterministic, and a run
resumed from ``RUN/last`` ends with the same weights as an uninterrupted one.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

from motionvigil.atomic import write_text_atomic
from motionvigil.cache_dir import cache_root
from motionvigil.datasets.clip import Clip
from motionvigil.errors import MotionFileError
from motionvigil.models.bundle import MotionTextBundle
from motionvigil.models.checkpoint import load_into
from motionvigil.models.config import ModelConfig
from motionvigil.models.inputs import MotionInputs
from motionvigil.models.motion_text import MotionTextModel
from motionvigil.models.text import TextEmbeddingCache
from motionvigil.pretrain.batches import PairSource, epoch_batches, make_batch
from motionvigil.pretrain.objective import compute_losses
from motionvigil.pretrain.tmor import TmorSettings
from motionvigil.training.run import Checkpoint, RunLoop
from motionvigil.training.runtime import Runtime, seed_everything


# The retrieval objective decides which epoch is kept (TMR's total loss is dominated by
# reconstruction, which does not measure text-motion alignment).
SELECTION_METRIC = "contrastive"


@dataclass(frozen=True)
class TrainSettings:
    epochs: int = 30
    batch_size: int = 32
    lr: float = 1e-4
    weight_decay: float = 0.01
    seed: int = 0
    progress: bool = True
    objective: str = "default"  # "default" (the encoder's own: TMR / CLIP / InfoNCE) or "tmor"
    tmor: TmorSettings = field(default_factory=TmorSettings)


class _Objective(nn.Module):
    """Wraps the model so that DistributedDataParallel sees the loss computation as ``forward``.

    The other methods are the hooks of the training loop; ``pretrain.tmor_objective.TmorObjective``
    implements the same ones for the cluster-guided objective."""

    def __init__(self, model: MotionTextModel):
        super().__init__()
        self.model = model

    def forward(self, batch: dict[str, torch.Tensor], stochastic: bool = True) -> dict[str, torch.Tensor]:
        return compute_losses(self.model, batch, stochastic)

    def prepare_epoch(self, epoch: int, train: PairSource, val: PairSource, inputs: MotionInputs,
                      device: torch.device) -> dict:
        return {}

    def batch(self, source: PairSource, indices, inputs: MotionInputs, cache: TextEmbeddingCache,
              rng: np.random.Generator | None) -> dict[str, torch.Tensor]:
        return make_batch(source, indices, inputs, cache, rng)

    def validation(self, source: PairSource, inputs: MotionInputs, cache: TextEmbeddingCache, batch_size: int,
                   device: torch.device) -> dict[str, float]:
        return validation_loss(self.model, source, inputs, cache, batch_size, device)

    def extra_tensors(self) -> dict[str, torch.Tensor]:
        return {}

    def extra_config(self) -> dict:
        return {}

    def load_extra(self, tensors: dict[str, torch.Tensor], source: Path) -> None:
        return None


def make_objective(model: MotionTextModel, settings: TrainSettings) -> nn.Module:
    """The training objective named by ``settings.objective``."""
    if settings.objective == "default":
        return _Objective(model)
    if settings.objective == "tmor":
        from motionvigil.pretrain.tmor_objective import TmorObjective

        return TmorObjective(model, settings.tmor)
    raise ValueError(f"unknown pre-training objective {settings.objective!r}; choose 'default' or 'tmor'")


def _normalised_model(data, current: ModelConfig) -> dict | None:
    """A stored model configuration with defaults filled in, so that runs saved before the
    ``unik`` sub-configuration existed (which cannot have used it) still resume; ``None``
    if it is not a valid configuration."""
    if isinstance(data, dict) and "unik" not in data:
        data = {**data, "unik": current.to_dict()["unik"]}
    try:
        return ModelConfig.from_dict(data).to_dict()
    except (TypeError, ValueError, AttributeError):
        return None


def _to(batch: dict[str, torch.Tensor], device: torch.device) -> dict[str, torch.Tensor]:
    return {k: v.to(device, non_blocking=True) for k, v in batch.items()}


@torch.no_grad()
def validation_loss(model: MotionTextModel, source: PairSource, inputs: MotionInputs, cache: TextEmbeddingCache,
                    batch_size: int, device: torch.device) -> dict[str, float]:
    """Mean losses over fixed validation batches (centred crops, first captions, no sampling)."""
    model.eval()
    totals: dict[str, float] = {}
    count = 0
    for start in range(0, len(source), batch_size):
        idx = list(range(start, min(start + batch_size, len(source))))
        if len(idx) < 2:
            continue
        batch = _to(make_batch(source, idx, inputs, cache, None), device)
        terms = compute_losses(model, batch, stochastic=False, gather=False)
        for name, value in terms.items():
            totals[name] = totals.get(name, 0.0) + float(value) * len(idx)
        count += len(idx)
    return {k: v / max(count, 1) for k, v in totals.items()}


class PretrainRun:
    """One pre-training run writing to ``out_dir``."""

    def __init__(self, out_dir: str | Path, model_cfg: ModelConfig, settings: TrainSettings, runtime: Runtime,
                 text_cache: TextEmbeddingCache | None = None):
        self.out = Path(out_dir)
        self.cfg = model_cfg
        self.settings = settings
        self.runtime = runtime
        self.cache = text_cache or TextEmbeddingCache(cache_root() / "text")

    def _checkpoint(self, bundle: MotionTextBundle, optimizer: torch.optim.Optimizer, hooks: nn.Module) -> Checkpoint:
        """``best/`` and ``last/`` as MotionTextBundle folders (with the objective's own tensors)."""

        def save_best(folder: Path, progress: dict) -> None:
            bundle.info.update(best_epoch=progress["best_epoch"], **{f"val_{SELECTION_METRIC}": progress["best_val"]})
            bundle.save(folder, extra_tensors=hooks.extra_tensors(), extra_config=hooks.extra_config())

        def save_last(folder: Path, tensors: dict, config: dict) -> None:
            bundle.save(folder, extra_tensors={**tensors, **hooks.extra_tensors()},
                        extra_config={**config, **hooks.extra_config()})

        def load(tensors: dict, config: dict, folder: Path) -> None:
            if _normalised_model(config.get("model"), self.cfg) != self.cfg.to_dict():
                raise MotionFileError(folder, "cannot resume: the run folder holds a different model configuration")
            load_into(bundle.model, tensors, folder, prefix="model.")
            hooks.load_extra(tensors, folder)

        return Checkpoint(save_best, save_last, load)

    def fit(self, train_clips: Sequence[Clip], val_clips: Sequence[Clip], resume: bool = True,
            on_epoch: Callable[[int], None] | None = None) -> MotionTextBundle:
        """Train, keeping the best model by validation loss. Returns the best bundle."""
        s, rt = self.settings, self.runtime
        if len(val_clips) < 2:
            raise ValueError("pre-training needs at least 2 validation clips for model selection")
        seed_everything(s.seed)
        inputs = MotionInputs.fit(self.cfg.motion_encoder, train_clips, self.cfg.max_frames)
        train = PairSource.build(train_clips, inputs, self.cache)
        val = PairSource.build(val_clips, inputs, self.cache)
        if len(train) < 2:
            raise ValueError("pre-training needs at least 2 training clips with captions or labels")

        model = MotionTextModel(self.cfg).to(rt.device)
        hooks = make_objective(model, s).to(rt.device)
        optimizer = torch.optim.AdamW(hooks.parameters(), lr=s.lr, weight_decay=s.weight_decay)
        bundle = MotionTextBundle(model, inputs, {"train_clips": len(train), "val_clips": len(val)})
        epoch_log: dict = {}

        def batches(epoch: int):
            rng = np.random.default_rng([s.seed, epoch])
            torch.manual_seed(s.seed * 100_003 + epoch)
            epoch_log.clear()
            epoch_log.update(hooks.prepare_epoch(epoch, train, val, inputs, rt.device))
            hooks.train()
            # every rank must take part in every step: keep batches that give each rank 2 pairs
            for big in epoch_batches(len(train), s.batch_size * rt.world_size, rng):
                if len(big) >= 2 * rt.world_size:
                    yield hooks.batch(train, big[rt.rank :: rt.world_size], inputs, self.cache, rng)

        loop = RunLoop(
            step=lambda batch: objective(_to(batch, rt.device)), optimizer=optimizer, source=batches,
            rounds=s.epochs, checkpoint=self._checkpoint(bundle, optimizer, hooks), out=self.out,
            validate=lambda: hooks.validation(val, inputs, self.cache, s.batch_size, rt.device),
            metric=SELECTION_METRIC, runtime=rt, log_extra=lambda: dict(epoch_log), on_round=on_epoch,
            bar={"desc": "pre-training", "unit": "epoch", "disable": not (s.progress and rt.is_main)})
        if resume:
            loop.resume()
        objective: nn.Module = hooks
        if rt.distributed:
            objective = nn.parallel.DistributedDataParallel(
                hooks, device_ids=[rt.device.index] if rt.device.type == "cuda" else None
            )
        if rt.is_main:
            self.out.mkdir(parents=True, exist_ok=True)
            write_text_atomic(self.out / "train.json", json.dumps(
                {"model": self.cfg.to_dict(), "settings": dataclasses.asdict(s), "world_size": rt.world_size,
                 "train_clips": len(train), "val_clips": len(val)}, indent=2))
        loop.run()
        return MotionTextBundle.load(self.out / "best", device=rt.device)


def pretrain_on(specs: list[str], out_dir: str | Path, model_cfg: ModelConfig, settings: TrainSettings,
                runtime: Runtime, val_fraction: float = 0.1, skip_bad: bool = False) -> MotionTextBundle:
    """Load datasets ``NAME[:ROOT]``, hold out validation clips from their training
    splits, and pre-train. Test splits are not touched."""
    from motionvigil.datasets.select import load_specs, split_train_val_test

    train, val, _ = split_train_val_test(load_specs(specs, skip_bad=skip_bad), val_fraction=val_fraction, seed=settings.seed)
    return PretrainRun(out_dir, model_cfg, settings, runtime).fit(train, val)
