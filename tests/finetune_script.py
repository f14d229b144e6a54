"""Run by tests/test_distributed.py (plainly or under torchrun) and tests/test_kill_resume.py:
a small deterministic meta-training or supervised training from a seeded tiny model.

    python finetune_script.py meta|supervised OUT PER_RANK_BATCH STEPS [KILL_AFTER]

``PER_RANK_BATCH`` is episodes per outer step (meta) or clips per batch (supervised) of
one process; ``STEPS`` meta-iterations or epochs. With ``KILL_AFTER`` > 0 the process
SIGKILLs itself right after that iteration / epoch (no cleanup runs)."""

from __future__ import annotations

import dataclasses
import os
import signal
import sys

import numpy as np
import torch

from motionvigil.datasets.clip import Clip
from motionvigil.datasets.labelled import LabelledSet
from motionvigil.datasets.violence import is_violent
from motionvigil.fewshot.adaptation import AdaptSettings
from motionvigil.fewshot.maml import MetaSettings, meta_train
from motionvigil.models import preset
from motionvigil.models.bundle import MotionTextBundle
from motionvigil.models.inputs import MotionInputs
from motionvigil.models.motion_text import MotionTextModel
from motionvigil.supervised import SupervisedSettings, train_supervised
from motionvigil.training.runtime import start_runtime, stop_runtime

CLASSES = ("kick", "punch", "walk", "wave", "jump", "sit down")


def labelled(per_class: int, seed: int) -> LabelledSet:
    """``per_class`` toy clips per class: a random rest pose oscillating at a class-specific
    frequency and amplitude, 24-40 frames."""
    rng = np.random.default_rng(seed)
    base = rng.normal(0, 0.3, size=(22, 3)) + np.array([0.0, 1.0, 0.0])
    clips = []
    for c, label in enumerate(CLASSES):
        for i in range(per_class):
            frames = int(rng.integers(24, 41))
            t = np.arange(frames)[:, None, None] / 20.0
            phase = rng.uniform(0, 1, (1, 22, 3))
            joints = base + (0.05 + 0.03 * c) * np.sin(2 * np.pi * (0.4 + 0.3 * c) * t + phase)
            clips.append(Clip(f"{label}{i}", joints.astype(np.float32), (label,), is_violent(label), "toy"))
    return LabelledSet.build(clips, CLASSES)


def train_val() -> tuple[LabelledSet, LabelledSet]:
    """35 training clips (an odd number: the last global batch is split unevenly over 2
    ranks) and 24 validation clips."""
    train = labelled(6, seed=1)
    return LabelledSet.build(train.clips[:-1], CLASSES), labelled(4, seed=2)


def start_bundle(train: LabelledSet) -> MotionTextBundle:
    """A seeded tiny model without dropout (so runs with any number of processes can agree)."""
    base = preset("tiny")
    cfg = dataclasses.replace(base, transformer=dataclasses.replace(base.transformer, dropout=0.0))
    torch.manual_seed(0)
    inputs = MotionInputs.fit(cfg.motion_encoder, train.clips, cfg.max_frames)
    return MotionTextBundle(MotionTextModel(cfg), inputs)


def main(mode: str, out_dir: str, per_rank: int, steps: int, kill_after: int = 0) -> None:
    torch.set_num_threads(1)
    runtime = start_runtime("cpu")

    def maybe_kill(step: int) -> None:
        if step == kill_after:
            os.kill(os.getpid(), signal.SIGKILL)

    train, val = train_val()
    bundle = start_bundle(train)
    if mode == "meta":
        settings = MetaSettings(iterations=steps, ways=3, shots=2, queries=2, outer_lr=1e-3,
                                inner=AdaptSettings(steps=2), val_every=2, val_episodes=3, seed=5,
                                meta_batch=per_rank, progress=False)
        meta_train(bundle, train, val, out_dir, settings, runtime=runtime, on_iteration=maybe_kill)
    elif mode == "supervised":
        settings = SupervisedSettings(epochs=steps, batch_size=per_rank, lr=1e-3, patience=None, dropout=0.0,
                                      objective="bce_center_inter", seed=5, progress=False)
        train_supervised(bundle, train, val, out_dir, settings, runtime=runtime, on_epoch=maybe_kill)
    else:
        raise SystemExit(f"unknown mode {mode!r}")
    stop_runtime(runtime)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), *map(int, sys.argv[5:6]))
