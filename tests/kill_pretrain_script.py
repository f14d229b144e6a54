"""Run by tests/test_kill_resume.py: a small pre-training that may SIGKILL itself right
after a given epoch (a real kill: no cleanup, no exception handling runs)."""

from __future__ import annotations

import os
import signal
import sys

import torch

from ddp_pretrain_script import clips
from motionvigil.models import preset
from motionvigil.models.text import TextEmbeddingCache
from motionvigil.pretrain import PretrainRun, TrainSettings
from motionvigil.training.runtime import Runtime


def main(out_dir: str, cache_dir: str, epochs: int, kill_after: int) -> None:
    torch.set_num_threads(1)

    def on_epoch(epoch: int) -> None:
        if epoch == kill_after:
            os.kill(os.getpid(), signal.SIGKILL)

    data = clips()
    settings = TrainSettings(epochs=epochs, batch_size=8, lr=1e-3, seed=3, progress=False)
    run = PretrainRun(out_dir, preset("tiny"), settings, Runtime(torch.device("cpu")), TextEmbeddingCache(cache_dir))
    run.fit(data[:20], data[20:], on_epoch=on_epoch)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
