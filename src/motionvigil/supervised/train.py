"""The fully supervised baseline (TMR-to-Violence [docs/papers.md], Section 3.4.2 and Table 2, bottom rows).

The pre-trained motion encoder (a copy: the caller's bundle is never modified) and an
:class:`~motionvigil.supervised.head.MLPHead` are trained together on every training
clip with binary cross-entropy over multi-hot targets (``objective="bce"``: "Fully
Supervised (BCE)"). ``objective="bce_center_inter"`` ("Fully Supervised
(BCE+Center+Inter)") adds the Three-Loss terms of Section 3.3 computed on the encoder
embeddings of each batch, with prototypes built from the batch itself and only for the
classes present in it::

    loss = BCE(head(z), y) + 0.5 * center(z, y, P) + 0.7 * hinge(P, violent)

where ``P`` are the batch prototypes (``losses.class_prototypes``), ``center`` the
center loss and ``hinge`` the violence hinge ("inter") loss (weights from
``losses.FEWSHOT_WEIGHTS``).

AdamW with two parameter groups (encoder ``lr``, head ``head_lr``), random crops for
training, one generator seeded ``(seed, epoch)`` per epoch (a CPU run is
deterministic, and resuming gives the same weights as an uninterrupted run). After
every epoch the validation clips are scored (evaluation mode, centred crops) and the
macro average precision over the classes with at least one validation positive
decides: the best epoch is kept, and training stops once ``patience`` epochs in a row
did not improve it. The test split is never looked at.

Run folder layout::

    OUT/best/            the best epoch: a SupervisedModel (MotionTextBundle + head.* tensors)
    OUT/last/            the latest epoch: model + head + optimizer + progress (for resuming)
    OUT/log.jsonl        one JSON line per epoch
    OUT/supervised.json  the settings of the run

Under ``torchrun`` (``runtime`` from ``training.runtime.start_runtime``) every global
batch of ``batch_size x world_size`` clips is cropped in the same order as in one
process and split over the ranks; each rank's loss is weighted by its share of the
batch (for ``bce_center_inter`` the embeddings are all-gathered with gradients, so the
batch prototypes are those of the global batch), and the gradients are summed with one
``all_reduce`` (gloo on CPU, nccl on CUDA). Validation batches are split over the ranks
and gathered, so every rank computes the same score and takes the same best/early
stopping decision; rank 0 alone writes files. Without dropout, 2 processes x batch B
end with the same weights as 1 process x batch 2B up to float summation order.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.metrics import average_precision_score

from motionvigil.atomic import write_text_atomic
from motionvigil.datasets.clip import Clip
from motionvigil.errors import MotionFileError
from motionvigil.datasets.labelled import LabelledSet
from motionvigil.losses import FEWSHOT_WEIGHTS, center_loss, class_prototypes, violence_hinge_loss
from motionvigil.models.bundle import MotionTextBundle
from motionvigil.models.checkpoint import load_checkpoint, load_into
from motionvigil.models.inputs import MotionInputs
from motionvigil.models.motion_text import MotionTextModel
from motionvigil.supervised.head import MLPHead
from motionvigil.training.distributed import assemble_rows, broadcast_, gather_rows, my_items
from motionvigil.training.run import Checkpoint, RunLoop
from motionvigil.training.runtime import Runtime, seed_everything

OBJECTIVES = ("bce", "bce_center_inter")
SCORE_BATCH = 32
SELECTION_METRIC = "mAP"  # validation macro AP, higher is better


@dataclass(frozen=True)
class SupervisedSettings:
    """Settings of a supervised run.

    ``lr`` is the encoder's learning rate, ``head_lr`` the head's. ``patience``: stop
    after this many epochs in a row without a better validation mAP (``None``: never),
    but not before ``min_epochs``: with many classes, BCE first sits for several epochs
    at the base-rate plateau (validation mAP flat) before it learns the classes.
    ``finetune_encoder=False`` freezes the encoder (then the center and hinge terms are
    constants: logged, but they train nothing).
    """

    epochs: int = 30
    batch_size: int = 32
    lr: float = 1e-4
    head_lr: float = 1e-3
    weight_decay: float = 0.01
    objective: str = "bce"
    patience: int | None = 5
    min_epochs: int = 10
    dropout: float = 0.1
    seed: int = 0
    finetune_encoder: bool = True
    progress: bool = True

    def __post_init__(self) -> None:
        if self.objective not in OBJECTIVES:
            raise ValueError(f"objective must be one of {OBJECTIVES}, got {self.objective!r}")
        if self.epochs < 0 or self.batch_size < 1:
            raise ValueError("epochs must be >= 0 and batch_size >= 1")
        if self.patience is not None and self.patience < 1:
            raise ValueError(f"patience must be >= 1 or None, got {self.patience}")


# --------------------------------------------------------------------------- the model


def copy_bundle(bundle: MotionTextBundle, device: torch.device | str | None = None) -> MotionTextBundle:
    """An independent copy of ``bundle`` (fresh model, cloned weights and statistics)."""
    model = MotionTextModel(bundle.config)
    model.load_state_dict({k: v.detach().clone() for k, v in bundle.model.state_dict().items()})
    stats = {k: v.clone() for k, v in bundle.inputs.tensors().items()}
    inputs = MotionInputs.from_state(bundle.inputs.state(), stats)
    return MotionTextBundle(model.to(device or bundle.device), inputs, copy.deepcopy(bundle.info))


def _batches(n: int, batch_size: int) -> range:
    return range(0, n, batch_size)


@torch.no_grad()
def predict_logits(bundle: MotionTextBundle, head: MLPHead, seqs: Sequence[np.ndarray],
                   batch_size: int = SCORE_BATCH, runtime: Runtime | None = None) -> torch.Tensor:
    """Head logits ``[N, C]`` (CPU) of already-cropped input sequences, evaluation mode.

    Under torchrun the batches are shared out over the ranks and the logits gathered:
    every rank returns the full (bit-identical) ``[N, C]``."""
    bundle.model.eval()
    head.eval()
    device = bundle.device
    starts = list(_batches(len(seqs), batch_size))
    if runtime is not None and runtime.distributed:
        out = torch.zeros(len(seqs), head.num_classes)
        for k in my_items(len(starts), runtime):
            start = starts[k]
            x, mask = bundle.inputs.collate(seqs[start : start + batch_size])
            z = bundle.model.encode_motion(x.to(device), mask.to(device))
            out[start : start + batch_size] = head(z).float().cpu()
        return assemble_rows(out, runtime)
    chunks = []
    for start in starts:
        x, mask = bundle.inputs.collate(seqs[start : start + batch_size])
        chunks.append(head(bundle.model.encode_motion(x.to(device), mask.to(device))).float().cpu())
    return torch.cat(chunks) if chunks else torch.zeros(0, head.num_classes)


class SupervisedModel:
    """A fine-tuned encoder (``bundle``) with its classification ``head`` over ``classes``."""

    def __init__(self, bundle: MotionTextBundle, head: MLPHead, classes: Sequence[str],
                 violent: np.ndarray | Sequence[bool], objective: str = "bce"):
        if head.num_classes != len(classes) or head.in_dim != bundle.config.embed_dim:
            raise ValueError(f"head {head.in_dim}->{head.num_classes} does not fit embed_dim "
                             f"{bundle.config.embed_dim} and {len(classes)} classes")
        self.bundle = bundle
        self.head = head.to(bundle.device)
        self.classes = tuple(classes)
        self.violent = np.asarray(violent, dtype=bool)
        self.objective = objective

    def head_tensors(self) -> dict[str, torch.Tensor]:
        return {f"head.{k}": v for k, v in self.head.state_dict().items()}

    def save(self, folder: str | Path, extra_tensors: dict[str, torch.Tensor] | None = None,
             extra_config: dict[str, Any] | None = None) -> None:
        """A MotionTextBundle folder with ``head.*`` tensors and ``head``/``classes``/... config."""
        config = {"head": self.head.config(), "classes": list(self.classes),
                  "violent": [bool(v) for v in self.violent], "objective": self.objective}
        self.bundle.save(folder, extra_tensors={**self.head_tensors(), **(extra_tensors or {})},
                         extra_config={**config, **(extra_config or {})})

    @classmethod
    def load(cls, folder: str | Path, device: str | torch.device = "cpu") -> "SupervisedModel":
        folder = Path(folder)
        tensors, config = load_checkpoint(folder)
        if "head" not in config or "classes" not in config:
            raise MotionFileError(folder, "not a supervised checkpoint (no classification head)")
        bundle = MotionTextBundle.load(folder, device)
        try:
            head = MLPHead.from_config(config["head"])
            classes = config["classes"]
            model = cls(bundle, head, classes, config.get("violent", [False] * len(classes)),
                        config.get("objective", "bce"))
        except (KeyError, TypeError, ValueError) as exc:
            raise MotionFileError(folder / "config.json", f"invalid head configuration ({exc})") from None
        load_into(model.head, tensors, folder, prefix="head.")
        model.head.eval()
        return model

    def logits(self, clips: Sequence[Clip], batch_size: int = SCORE_BATCH) -> np.ndarray:
        """Class logits ``[N, C]`` (evaluation mode, centred crops)."""
        inputs = self.bundle.inputs
        seqs = [inputs.crop(inputs.sequence(c), None) for c in clips]
        return predict_logits(self.bundle, self.head, seqs, batch_size).numpy()

    def scores(self, clips: Sequence[Clip], batch_size: int = SCORE_BATCH) -> np.ndarray:
        """Class probabilities ``[N, C]`` (sigmoid of the logits), float32."""
        return (1.0 / (1.0 + np.exp(-self.logits(clips, batch_size).astype(np.float64)))).astype(np.float32)


# --------------------------------------------------------------------------- losses and metrics


def _center_hinge(z: torch.Tensor, targets: torch.Tensor, violent: torch.Tensor) -> dict[str, torch.Tensor]:
    """Center and violence hinge terms with prototypes of the classes present in the batch."""
    present = targets.any(0)
    t = targets[:, present]
    protos = class_prototypes(z, t)
    return {"center": center_loss(z, t, protos), "hinge": violence_hinge_loss(protos, violent[present])}


def supervised_terms(z: torch.Tensor, logits: torch.Tensor, targets: torch.Tensor, violent: torch.Tensor,
                     objective: str) -> dict[str, torch.Tensor]:
    """Loss terms of one batch: ``bce`` (mean over samples and classes), and for
    ``"bce_center_inter"`` the ``center`` and ``hinge`` terms on the embeddings ``z``
    with batch prototypes of the classes present in the batch; ``loss`` is the total."""
    terms = {"bce": F.binary_cross_entropy_with_logits(logits, targets.float())}
    if objective == "bce_center_inter":
        terms.update(_center_hinge(z, targets, violent))
        terms["loss"] = (terms["bce"] + FEWSHOT_WEIGHTS["center"] * terms["center"]
                         + FEWSHOT_WEIGHTS["hinge"] * terms["hinge"])
    else:
        terms["loss"] = terms["bce"]
    return terms


def macro_average_precision(scores: np.ndarray, targets: np.ndarray) -> tuple[float, int]:
    """Mean AP over the classes with at least one positive, and their number (NaN, 0 if none)."""
    aps = [average_precision_score(targets[:, c], scores[:, c])
           for c in range(targets.shape[1]) if targets[:, c].any()]
    return (float(np.mean(aps)) if aps else math.nan), len(aps)


def validation_metrics(bundle: MotionTextBundle, head: MLPHead, seqs: Sequence[np.ndarray],
                       targets: np.ndarray, runtime: Runtime | None = None) -> dict[str, float]:
    """``mAP`` (macro AP), ``bce`` and ``classes_scored`` on centred validation sequences."""
    logits = predict_logits(bundle, head, seqs, runtime=runtime)
    bce = F.binary_cross_entropy_with_logits(logits, torch.from_numpy(targets).float())
    mean_ap, scored = macro_average_precision(logits.numpy(), targets)
    return {"mAP": mean_ap, "bce": float(bce), "classes_scored": scored}


# --------------------------------------------------------------------------- training


def _check_sets(train: LabelledSet, val: LabelledSet) -> None:
    if tuple(train.classes) != tuple(val.classes):
        raise ValueError("train and val must share one class vocabulary")
    if len(train.clips) == 0:
        raise ValueError("supervised training needs training clips")
    if not np.asarray(val.labels).any():
        raise ValueError("supervised training needs validation clips with labels (for model selection)")


def _optimizer(model: MotionTextModel, head: MLPHead, s: SupervisedSettings) -> torch.optim.AdamW:
    """AdamW over the motion encoder (``lr``, if fine-tuned) and the head (``head_lr``)."""
    encoder = list(model.motion_encoder.parameters())
    for p in encoder:
        p.requires_grad_(s.finetune_encoder)
    groups = [{"params": encoder, "lr": s.lr}] if s.finetune_encoder else []
    groups.append({"params": list(head.parameters()), "lr": s.head_lr})
    return torch.optim.AdamW(groups, weight_decay=s.weight_decay)


def _distributed_terms(z: torch.Tensor, logits: torch.Tensor, targets: torch.Tensor, violent: torch.Tensor,
                       objective: str, share: float, runtime: Runtime, all_targets: torch.Tensor,
                       sizes: Sequence[int]) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """This rank's part of the global batch loss (its gradients, summed over the ranks,
    are the gradients of the global loss) and the rank's weighted terms for logging.

    BCE is a mean over the batch: each rank weights its shard's mean by ``share`` (its
    share of the global batch). The center and hinge terms use the all-gathered
    embeddings (global batch prototypes; ``all_targets`` are the targets of the gathered
    rows, ``sizes`` the rows per rank); every rank computes the same value, and the
    gather's backward sums the upstream gradients of all ranks, hence the ``1/world``."""
    bce = F.binary_cross_entropy_with_logits(logits, targets.float())
    local = share * bce
    logged = {"bce": share * bce.detach()}
    if objective == "bce_center_inter":
        terms = _center_hinge(gather_rows(z, sizes, runtime), all_targets, violent)
        extra = FEWSHOT_WEIGHTS["center"] * terms["center"] + FEWSHOT_WEIGHTS["hinge"] * terms["hinge"]
        world = runtime.world_size
        local = local + extra / world
        logged.update(center=terms["center"].detach() / world, hinge=terms["hinge"].detach() / world)
    return local, logged


def _epoch_batches(model: SupervisedModel, seqs: Sequence[np.ndarray], s: SupervisedSettings, epoch: int,
                   runtime: Runtime):
    """The batches of one epoch: shuffled training clips with random crops, one generator
    seeded ``(seed, epoch)``; yields ``(global indices, this rank's positions, crops)``.

    Under torchrun each step takes a global batch of ``batch_size x world_size`` clips,
    crops all of them (the same random stream as one process) and keeps this rank's
    share; batches with fewer clips than ranks are skipped."""
    rng = np.random.default_rng([s.seed, epoch])
    torch.manual_seed(s.seed * 100_003 + epoch)
    model.bundle.model.train(s.finetune_encoder)
    model.head.train()
    rt = runtime
    order = rng.permutation(len(seqs))
    global_batch = s.batch_size * rt.world_size
    for start in _batches(len(order), global_batch):
        idx = order[start : start + global_batch]
        crops = [model.bundle.inputs.crop(seqs[i], rng) for i in idx]
        if rt.distributed and len(idx) < rt.world_size:
            continue
        mine = list(range(rt.rank, len(idx), rt.world_size))
        yield idx, mine, [crops[k] for k in mine]


def _step(model: SupervisedModel, batch, targets: torch.Tensor, violent: torch.Tensor, s: SupervisedSettings,
          runtime: Runtime) -> dict[str, torch.Tensor]:
    """Loss terms of one batch (under torchrun: this rank's share of the global batch; the
    run loop sums gradients and terms over the ranks)."""
    idx, mine, crops = batch
    bundle, rt = model.bundle, runtime
    x, mask = bundle.inputs.collate(crops)
    with torch.set_grad_enabled(s.finetune_encoder):
        z = bundle.model.encode_motion(x.to(bundle.device), mask.to(bundle.device))
    batch_targets = targets[idx[mine]].to(bundle.device)
    if not rt.distributed:
        return supervised_terms(z, model.head(z), batch_targets, violent, s.objective)
    shards = [idx[r :: rt.world_size] for r in range(rt.world_size)]
    local, parts = _distributed_terms(z, model.head(z), batch_targets, violent, s.objective, len(mine) / len(idx),
                                      rt, targets[np.concatenate(shards)].to(bundle.device),
                                      [len(sh) for sh in shards])
    return {"loss": local, **parts}


def _checkpoint(model: SupervisedModel, s: SupervisedSettings) -> Checkpoint:
    """``best/`` and ``last/`` as SupervisedModel folders; resuming checks the run's settings."""
    state_config = {"objective": s.objective, "finetune_encoder": s.finetune_encoder}

    def save_best(folder: Path, progress: dict) -> None:
        model.bundle.info.update(supervised_best_epoch=progress["best_epoch"], val_mAP=progress["best_val"])
        model.save(folder, extra_config={**state_config, "progress": progress})

    def save_last(folder: Path, tensors: dict, config: dict) -> None:
        model.save(folder, extra_tensors=tensors, extra_config={**state_config, **config})

    def load(tensors: dict, config: dict, folder: Path) -> None:
        expected = {"model": model.bundle.config.to_dict(), "classes": list(model.classes), **state_config}
        for key, value in expected.items():
            if config.get(key) != value:
                raise MotionFileError(folder, f"cannot resume: the run folder holds a different {key}")
        load_into(model.bundle.model, tensors, folder, prefix="model.")
        load_into(model.head, tensors, folder, prefix="head.")

    return Checkpoint(save_best, save_last, load)


def train_supervised(bundle: MotionTextBundle, train: LabelledSet, val: LabelledSet, out_dir: str | Path,
                     settings: SupervisedSettings = SupervisedSettings(),
                     resume: bool = True, runtime: Runtime | None = None,
                     on_epoch: Callable[[int], None] | None = None) -> SupervisedModel:
    """Fine-tune a copy of ``bundle``'s encoder with an MLP head; returns the best epoch's model.

    Writes ``OUT/best``, ``OUT/last``, ``OUT/log.jsonl`` and ``OUT/supervised.json``;
    with ``resume`` continues from ``OUT/last`` (a run that stopped early stays stopped).
    ``runtime``: the torchrun rank and world (``start_runtime``), ``None`` for one
    process; ``settings.batch_size`` is then per rank. ``on_epoch(e)`` is called after
    epoch ``e`` (1-based) has been checkpointed. Under torchrun the returned model is
    read from ``OUT/best``, which every rank must see.
    """
    s = settings
    _check_sets(train, val)
    out = Path(out_dir)
    seed_everything(s.seed)
    rt = runtime or Runtime(bundle.device)
    head = MLPHead(bundle.config.embed_dim, len(train.classes), s.dropout)
    model = SupervisedModel(copy_bundle(bundle, rt.device), head, train.classes, train.violent, s.objective)
    broadcast_(list(model.bundle.model.parameters()) + list(model.head.parameters()), rt)
    optimizer = _optimizer(model.bundle.model, model.head, s)
    inputs, device = model.bundle.inputs, model.bundle.device
    train_seqs = [inputs.sequence(c) for c in train.clips]
    val_seqs = [inputs.crop(inputs.sequence(c), None) for c in val.clips]
    train_targets = torch.from_numpy(np.asarray(train.labels, dtype=bool))
    val_targets = np.asarray(val.labels, dtype=bool)
    violent = torch.from_numpy(np.asarray(train.violent, dtype=bool)).to(device)
    loop = RunLoop(
        step=lambda batch: _step(model, batch, train_targets, violent, s, rt), optimizer=optimizer,
        source=lambda epoch: _epoch_batches(model, train_seqs, s, epoch, rt), rounds=s.epochs,
        checkpoint=_checkpoint(model, s), out=out,
        validate=lambda: validation_metrics(model.bundle, model.head, val_seqs, val_targets, rt),
        metric=SELECTION_METRIC, mode="max", patience=s.patience, min_rounds=s.min_epochs, runtime=rt,
        sync_gradients=True, log_improved=True, on_round=on_epoch,
        bar={"desc": f"supervised ({s.objective})", "unit": "epoch", "disable": not (s.progress and rt.is_main)})
    if resume:
        loop.resume()
    if rt.is_main:
        out.mkdir(parents=True, exist_ok=True)
        write_text_atomic(out / "supervised.json", json.dumps(
            {"model": bundle.config.to_dict(), "settings": dataclasses.asdict(s),
             "classes": list(train.classes), "train_clips": len(train.clips), "val_clips": len(val.clips),
             "world_size": rt.world_size,
             "global_batch": s.batch_size * rt.world_size}, indent=2))
    loop.run()
    if not (out / "best" / "config.json").is_file():
        raise RuntimeError(f"no epoch was trained in {out} (epochs={s.epochs})")
    return SupervisedModel.load(out / "best", device=device)
