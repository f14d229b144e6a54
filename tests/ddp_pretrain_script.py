"""Run by tests/test_distributed.py under torchrun (or plainly): a small deterministic
pre-training whose result must not depend on the number of processes."""

from __future__ import annotations

import dataclasses
import sys

import numpy as np
import torch

from motionvigil.datasets.clip import Clip
from motionvigil.models import preset
from motionvigil.models.text import TextEmbeddingCache
from motionvigil.pretrain import PretrainRun, TrainSettings
from motionvigil.training.runtime import start_runtime, stop_runtime

CAPTIONS = ["a person waves", "a person kicks", "a person jumps", "a person sits down"]


def clips(n: int = 24, frames: int = 30) -> list[Clip]:
    rng = np.random.default_rng(0)
    base = rng.normal(0, 0.3, size=(22, 3)) + np.array([0.0, 1.0, 0.0])
    out = []
    for i in range(n):
        t = np.arange(frames)[:, None, None] / 20.0
        joints = base + 0.1 * np.sin(2 * np.pi * (0.5 + (i % 4) * 0.4) * t + rng.uniform(0, 1, (1, 22, 3)))
        out.append(Clip(f"c{i}", joints.astype(np.float32), (), False, "toy", captions=(CAPTIONS[i % 4],)))
    return out


def main(out_dir: str, cache_dir: str, global_batch: int) -> None:
    runtime = start_runtime("cpu")
    torch.set_num_threads(1)
    base = preset("tiny")
    cfg = dataclasses.replace(base, vae=False, transformer=dataclasses.replace(base.transformer, dropout=0.0))
    settings = TrainSettings(epochs=2, batch_size=global_batch // runtime.world_size, lr=1e-3, progress=False)
    data = clips()
    PretrainRun(out_dir, cfg, settings, runtime, TextEmbeddingCache(cache_dir)).fit(data[:20], data[20:], resume=False)
    stop_runtime(runtime)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
