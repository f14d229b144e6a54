"""The fully supervised baseline (seed 000, Section 3.4.2 and Table 2, bottom rows).

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
"""

from __future__ import annotations

import copy
import dataclasses
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.metrics import average_precision_score
from tqdm import tqdm

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
from motionvigil.training.optim_state import optimizer_groups, optimizer_tensors, restore_optimizer
from motionvigil.training.runtime import seed_everything

OBJECTIVES = ("bce", "bce_center_inter")
SCORE_BATCH = 32
SELECTION_METRIC = "mAP"  # validation macro AP, higher is better


@dataclass(frozen=True)
class SupervisedSettings:
    """Settings of a supervised run.

    ``lr`` is the encoder's learning rate, ``head_lr`` the head's. ``patience``: stop
    after this many epochs in a row without a better validation mAP (``None``: never).
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
                   batch_size: int = SCORE_BATCH) -> torch.Tensor:
    """Head logits ``[N, C]`` (CPU) of already-cropped input sequences, evaluation mode."""
    bundle.model.eval()
    head.eval()
    device = bundle.device
    out = []
    for start in _batches(len(seqs), batch_size):
        x, mask = bundle.inputs.collate(seqs[start : start + batch_size])
        out.append(head(bundle.model.encode_motion(x.to(device), mask.to(device))).float().cpu())
    return torch.cat(out) if out else torch.zeros(0, head.num_classes)


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


def supervised_terms(z: torch.Tensor, logits: torch.Tensor, targets: torch.Tensor, violent: torch.Tensor,
                     objective: str) -> dict[str, torch.Tensor]:
    """Loss terms of one batch: ``bce`` (mean over samples and classes), and for
    ``"bce_center_inter"`` the ``center`` and ``hinge`` terms on the embeddings ``z``
    with batch prototypes of the classes present in the batch; ``loss`` is the total."""
    terms = {"bce": F.binary_cross_entropy_with_logits(logits, targets.float())}
    if objective == "bce_center_inter":
        present = targets.any(0)
        t = targets[:, present]
        protos = class_prototypes(z, t)
        terms["center"] = center_loss(z, t, protos)
        terms["hinge"] = violence_hinge_loss(protos, violent[present])
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
                       targets: np.ndarray) -> dict[str, float]:
    """``mAP`` (macro AP), ``bce`` and ``classes_scored`` on centred validation sequences."""
    logits = predict_logits(bundle, head, seqs)
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


def _resume(last: Path, model: SupervisedModel, optimizer: torch.optim.Optimizer,
            s: SupervisedSettings) -> dict | None:
    """Restore model, head and optimizer from ``last``; the saved progress (or None)."""
    if not (last / "config.json").is_file():
        return None
    tensors, config = load_checkpoint(last)
    expected = {"model": model.bundle.config.to_dict(), "classes": list(model.classes),
                "objective": s.objective, "finetune_encoder": s.finetune_encoder}
    for key, value in expected.items():
        if config.get(key) != value:
            raise MotionFileError(last, f"cannot resume: the run folder holds a different {key}")
    load_into(model.bundle.model, tensors, last, prefix="model.")
    load_into(model.head, tensors, last, prefix="head.")
    restore_optimizer(optimizer, tensors, config["optimizer"])
    return config["progress"]


def _train_epoch(model: SupervisedModel, optimizer: torch.optim.Optimizer, seqs: Sequence[np.ndarray],
                 targets: torch.Tensor, violent: torch.Tensor, s: SupervisedSettings,
                 rng: np.random.Generator) -> dict[str, float]:
    """One pass over the shuffled training clips with random crops; mean loss terms."""
    bundle, head = model.bundle, model.head
    bundle.model.train(s.finetune_encoder)
    head.train()
    device = bundle.device
    order = rng.permutation(len(seqs))
    sums: dict[str, float] = {}
    batches = 0
    for start in _batches(len(order), s.batch_size):
        idx = order[start : start + s.batch_size]
        x, mask = bundle.inputs.collate([bundle.inputs.crop(seqs[i], rng) for i in idx])
        with torch.set_grad_enabled(s.finetune_encoder):
            z = bundle.model.encode_motion(x.to(device), mask.to(device))
        terms = supervised_terms(z, head(z), targets[idx].to(device), violent, s.objective)
        optimizer.zero_grad(set_to_none=True)
        terms["loss"].backward()
        optimizer.step()
        for name, value in terms.items():
            sums[name] = sums.get(name, 0.0) + float(value.detach())
        batches += 1
    return {k: v / max(batches, 1) for k, v in sums.items()}


def _is_better(score: float, progress: dict) -> bool:
    """First epoch, or a strictly higher finite validation mAP."""
    return progress["best_epoch"] == 0 or (math.isfinite(score) and score > progress["best_val"])


def train_supervised(bundle: MotionTextBundle, train: LabelledSet, val: LabelledSet, out_dir: str | Path,
                     settings: SupervisedSettings = SupervisedSettings(),
                     resume: bool = True) -> SupervisedModel:
    """Fine-tune a copy of ``bundle``'s encoder with an MLP head; returns the best epoch's model.

    Writes ``OUT/best``, ``OUT/last``, ``OUT/log.jsonl`` and ``OUT/supervised.json``;
    with ``resume`` continues from ``OUT/last`` (a run that stopped early stays stopped).
    """
    s = settings
    _check_sets(train, val)
    out = Path(out_dir)
    seed_everything(s.seed)
    head = MLPHead(bundle.config.embed_dim, len(train.classes), s.dropout)
    model = SupervisedModel(copy_bundle(bundle), head, train.classes, train.violent, s.objective)
    optimizer = _optimizer(model.bundle.model, model.head, s)
    progress = {"epoch": 0, "best_val": -math.inf, "best_epoch": 0, "stale": 0}
    if resume:
        progress = _resume(out / "last", model, optimizer, s) or progress

    inputs, device = model.bundle.inputs, model.bundle.device
    train_seqs = [inputs.sequence(c) for c in train.clips]
    val_seqs = [inputs.crop(inputs.sequence(c), None) for c in val.clips]
    train_targets = torch.from_numpy(np.asarray(train.labels, dtype=bool))
    val_targets = np.asarray(val.labels, dtype=bool)
    violent = torch.from_numpy(np.asarray(train.violent, dtype=bool)).to(device)

    out.mkdir(parents=True, exist_ok=True)
    write_text_atomic(out / "supervised.json", json.dumps(
        {"model": bundle.config.to_dict(), "settings": dataclasses.asdict(s), "classes": list(train.classes),
         "train_clips": len(train.clips), "val_clips": len(val.clips)}, indent=2))
    log_path = out / "log.jsonl"
    log_lines = log_path.read_text().splitlines()[: progress["epoch"]] if log_path.is_file() else []
    state_config = {"objective": s.objective, "finetune_encoder": s.finetune_encoder}

    bar = tqdm(range(progress["epoch"], s.epochs), desc=f"supervised ({s.objective})", unit="epoch",
               disable=not s.progress, initial=progress["epoch"], total=s.epochs)
    for epoch in bar:
        if s.patience is not None and progress["stale"] >= s.patience:
            break
        rng = np.random.default_rng([s.seed, epoch])
        torch.manual_seed(s.seed * 100_003 + epoch)
        train_terms = _train_epoch(model, optimizer, train_seqs, train_targets, violent, s, rng)
        val_terms = validation_metrics(model.bundle, model.head, val_seqs, val_targets)
        score = val_terms[SELECTION_METRIC]
        improved = _is_better(score, progress)
        progress["epoch"] = epoch + 1
        if improved:
            best = score if math.isfinite(score) else -math.inf
            progress.update(best_val=best, best_epoch=epoch + 1, stale=0)
            model.bundle.info.update(supervised_best_epoch=epoch + 1, val_mAP=score)
            model.save(out / "best", extra_config={**state_config, "progress": progress})
        else:
            progress["stale"] += 1
        last_config = {**state_config, "progress": progress, "optimizer": optimizer_groups(optimizer)}
        model.save(out / "last", extra_tensors=optimizer_tensors(optimizer), extra_config=last_config)
        record = {"epoch": epoch + 1, **{f"train/{k}": v for k, v in train_terms.items()},
                  **{f"val/{k}": v for k, v in val_terms.items()}, "improved": improved}
        log_lines.append(json.dumps(record))
        write_text_atomic(log_path, "\n".join(log_lines) + "\n")
        bar.set_postfix(loss=f"{train_terms['loss']:.3f}", val_mAP=f"{score:.3f}")
    bar.close()
    if not (out / "best" / "config.json").is_file():
        raise RuntimeError(f"no epoch was trained in {out} (epochs={s.epochs})")
    return SupervisedModel.load(out / "best", device=device)
