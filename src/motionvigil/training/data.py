"""What the stand-alone meta-training and supervised commands load: labelled training
and validation sets from ``--data`` specs, and the pre-trained model to start from."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import torch

from motionvigil.datasets.labelled import LabelledSet
from motionvigil.errors import CheckpointError
from motionvigil.datasets.select import load_specs, split_train_val_test
from motionvigil.models.bundle import MotionTextBundle

VAL_FRACTION = 0.15  # as ``motionvigil study fewshot``


def train_val_sets(specs: Sequence[str], val_fraction: float = VAL_FRACTION, seed: int = 0,
                   skip_bad: bool = False) -> tuple[LabelledSet, LabelledSet]:
    """Training and validation sets over the pooled class vocabulary (classes in order of
    first appearance), split as ``study fewshot`` splits them; test splits are dropped."""
    datasets = load_specs(specs, skip_bad=skip_bad)
    classes: dict[str, None] = {}
    for ds in datasets:
        for c in ds.classes:
            classes.setdefault(c, None)
    train, val, _test = split_train_val_test(datasets, val_fraction, seed)
    return LabelledSet.build(train, tuple(classes)), LabelledSet.build(val, tuple(classes))


def start_model(run: str | Path, device: torch.device | str = "cpu") -> MotionTextBundle:
    """A pre-trained model: a model folder, or a run or study folder holding ``best/``
    (``pretrain`` runs) or ``pretrain/best`` (``study fewshot`` folders)."""
    folder = Path(run)
    for candidate in (folder / "best", folder / "pretrain" / "best", folder):
        if (candidate / "config.json").is_file():
            return MotionTextBundle.load(candidate, device)
    raise CheckpointError(folder, "no pre-trained model here (expected best/config.json, "
                                  "pretrain/best/config.json or config.json)")
