"""Run by tests/test_distributed_eval.py, plainly or under torchrun: the episodic and
global few-shot protocols on a small synthetic set with a seeded random tiny model;
rank 0 writes the table rows as JSON to argv[1]."""

from __future__ import annotations

import json
import sys

import torch

from motionvigil.datasets.labelled import LabelledSet
from motionvigil.datasets.synthetic import load_synthetic
from motionvigil.studies.fewshot_protocols import EpisodicProtocol, GlobalProtocol, run_episodic, run_global
from motionvigil.fewshot.adaptation import AdaptSettings
from motionvigil.models import MotionTextModel, preset
from motionvigil.models.bundle import MotionTextBundle
from motionvigil.models.inputs import MotionInputs
from motionvigil.training.runtime import start_runtime, stop_runtime


def main(out: str) -> None:
    runtime = start_runtime("cpu")
    corpus = load_synthetic(None, clips_per_class=8, sequences=0, seed=0)
    train = LabelledSet.build(corpus.clips[::2], corpus.classes)
    test = LabelledSet.build(corpus.clips[1::2], corpus.classes)
    cfg = preset("tiny")
    torch.manual_seed(0)
    bundle = MotionTextBundle(MotionTextModel(cfg).eval(), MotionInputs.fit("tmr", train.clips, cfg.max_frames))
    adapt = AdaptSettings(steps=3)
    rows = run_episodic(bundle, bundle, test, EpisodicProtocol(ways=(5,), shots=(1, 2), episodes=5, queries=2),
                        None, adapt, progress=False)
    rows += run_global(bundle, bundle, train, test, GlobalProtocol(shots=(1,), repeats=3), None, adapt,
                       progress=False)
    if runtime.is_main:
        with open(out, "w") as f:
            json.dump(rows, f, default=float)
    stop_runtime(runtime)


if __name__ == "__main__":
    main(sys.argv[1])
