"""Run by tests/studies/test_probe_kill_resume.py and tests/kinemic/test_kinemic_kill_resume.py:
a small deterministic probe fine-tuning, KineMIC prior training or KineMIC fine-tuning
that checkpoints into OUT and may SIGKILL itself right after a given epoch / step.

    python kill_train_script.py probe|prior|finetune OUT ROUNDS [KILL_AFTER]

Writes what the run ends with to ``OUT/result.safetensors`` (weights) and
``OUT/result.json`` (report or log), for comparison with an uninterrupted run."""

from __future__ import annotations

import json
import os
import signal
import sys
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import save_file

from motionvigil.datasets.synthetic import generate_corpus
from motionvigil.features.normalize import Normalizer
from motionvigil.kinemic.denoiser import DenoiserConfig
from motionvigil.kinemic.model import SynthesisModel

# dropout on: the resumed run must also restore the global torch generator
TINY = DenoiserConfig(preset="test", width=32, layers=2, heads=4, ff=64, dropout=0.1, diffusion_steps=50,
                      sampling_steps=5, max_frames=24)
ACTIONS = ("kick", "wave", "jump", "squat")


def probe(out: Path, rounds: int, on_round) -> tuple[dict, dict]:
    """Classification probe fine-tuning of a seeded tiny encoder, checkpointed in ``OUT/work``."""
    from motionvigil.models import preset
    from motionvigil.models.bundle import MotionTextBundle
    from motionvigil.models.inputs import MotionInputs
    from motionvigil.models.motion_text import MotionTextModel
    from motionvigil.studies import probe as p

    dataset = generate_corpus(6, seed=0, num_sequences=0, classes=ACTIONS, num_subjects=5)
    s = p.ProbeSettings(mode="finetune", epochs=rounds, patience=rounds, seed=1)
    splits = dict(zip(("train", "val", "test"), p._split(dataset, s, lambda c: bool(c.labels))))
    torch.manual_seed(0)
    cfg = preset("tiny")
    bundle = MotionTextBundle(MotionTextModel(cfg), MotionInputs.fit(cfg.motion_encoder, splits["train"],
                                                                      cfg.max_frames))
    report = p.probe_classification(bundle, None, splits, ACTIONS, s, None, True, work_dir=out / "work",
                                    on_epoch=on_round)
    return bundle.model.state_dict(), report


def _sentences(captions) -> np.ndarray:
    rng = np.random.default_rng(0)
    return rng.normal(size=(len(captions), 384)).astype(np.float32)


def prior(out: Path, rounds: int, on_round) -> tuple[dict, dict]:
    """The text-to-motion prior on a small captioned corpus, checkpointed in ``OUT/prior``."""
    from motionvigil.kinemic.prior import PriorSettings, train_prior

    corpus = generate_corpus(2, seed=0, num_sequences=0, classes=("kick", "walk"))
    model = train_prior(corpus.clips, TINY, _sentences, out / "prior",
                        PriorSettings(steps=rounds, batch_size=3, log_every=2), on_step=on_round)
    log = [{k: v for k, v in json.loads(line).items() if k != "seconds"}
           for line in (out / "prior" / "log.jsonl").read_text().splitlines()]
    return model.denoiser.state_dict(), {"log": log, "final_loss": model.info["final_loss"]}


def finetune(out: Path, rounds: int, on_round) -> tuple[dict, dict]:
    """KineMIC fine-tuning of a seeded tiny prior, checkpointed in ``OUT/work``."""
    from motionvigil.kinemic.finetune import FinetuneSettings, finetune as tune

    torch.manual_seed(0)
    model = SynthesisModel(TINY, Normalizer(np.zeros(263), np.ones(263)))
    rng = np.random.default_rng(0)
    feats = [rng.normal(size=(n, 263)).astype(np.float32) for n in (12, 20, 9)]
    desc = rng.normal(size=(2, 384)).astype(np.float32)
    tune(model, ["kick", "walk"], desc, feats, [0, 1, 0], feats[:1], [1], None,
         FinetuneSettings(steps=rounds, batch_size=2, rank=2, lr=1e-2, log_every=2), work_dir=out / "work",
         on_step=on_round)
    weights = {**model.denoiser.state_dict(), "action.offset": model.actions.offset.detach()}
    return weights, {"log": model.info["finetune_log"]}


def main(kind: str, out_dir: str, rounds: int, kill_after: int = 0) -> None:
    torch.set_num_threads(1)

    def on_round(n: int) -> None:
        if n == kill_after:
            os.kill(os.getpid(), signal.SIGKILL)

    out = Path(out_dir)
    weights, result = {"probe": probe, "prior": prior, "finetune": finetune}[kind](out, rounds, on_round)
    save_file({k: v.detach().contiguous() for k, v in weights.items()}, str(out / "result.safetensors"))
    (out / "result.json").write_text(json.dumps(result, sort_keys=True))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]), *map(int, sys.argv[4:5]))
