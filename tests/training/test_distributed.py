"""torchrun with 2 CPU processes (gloo) trains like 1 process with the same global batch:
pre-training, meta-training (episodes spread over ranks) and supervised training."""

from __future__ import annotations

import json

import pytest
import torch

from finetune_script import start_bundle, train_val
from motionvigil.cli import main as cli_main
from motionvigil.models import MotionTextModel
from motionvigil.models.bundle import MotionTextBundle
from motionvigil.models.checkpoint import load_checkpoint
from motionvigil.supervised import SupervisedModel
from proc_helpers import max_abs_diff, needs_torchrun, run_script

pytestmark = pytest.mark.slow  # torchrun subprocesses (make test-fast skips them)

TOLERANCE = 1e-4  # max abs weight difference after 2 epochs (float32 reduction order)
META_TOLERANCE = 1e-6  # measured 0.0: a sum of two gradients does not depend on which rank holds which
# Adam divides each coordinate's update by its gradient's running RMS, so coordinates with
# a near-zero gradient turn float32 summation-order noise into visible weight differences
# (measured 9.0e-5 after 15 steps at lr 1e-3, attention key biases aside, see below). The
# averaged gradients themselves are compared through Adam's first moments.
SUPERVISED_TOLERANCE = 2.5e-4
MOMENT_TOLERANCE = 1e-3  # relative, per parameter; measured 6.1e-5 (a wrong gradient scale gives ~1)


def supervised_weights(folder) -> dict[str, torch.Tensor]:
    model = SupervisedModel.load(folder)
    return {**model.bundle.model.state_dict(), **model.head_tensors()}


Weights = dict[str, torch.Tensor]


def split_key_biases(weights: Weights) -> tuple[Weights, Weights]:
    """Self-attention key biases apart from all other weights. Their gradient is zero in
    exact arithmetic (softmax ignores a shift that is constant over the keys), so Adam
    turns float rounding noise into full steps of size ~lr: they are compared separately."""
    rest, keys = {}, {}
    for name, value in weights.items():
        if name.endswith("self_attn.in_proj_bias"):
            q, k, v = value.chunk(3)
            rest[name] = torch.cat([q, v])
            keys[name] = k
        else:
            rest[name] = value
    return rest, keys


def adam_moments(folder) -> dict[str, torch.Tensor]:
    """The optimizer's first moments (running means of the averaged gradients) in ``folder``."""
    tensors, _ = load_checkpoint(folder)
    return {k: v for k, v in tensors.items() if k.startswith("optim.") and k.endswith(".exp_avg")}


def worst_relative(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> float:
    assert a.keys() == b.keys() and a
    return max(((a[k] - b[k]).abs().max() / a[k].abs().max().clamp_min(1e-30)).item() for k in a)


def progress(folder) -> dict:
    return json.loads((folder / "config.json").read_text())["progress"]


@needs_torchrun
def test_two_processes_match_one(tmp_path):
    cache = tmp_path / "text"
    run_script("ddp_pretrain_script.py", [tmp_path / "one", cache, 8], cwd=tmp_path)
    run_script("ddp_pretrain_script.py", [tmp_path / "two", cache, 8], nproc=2, cwd=tmp_path)
    one = MotionTextBundle.load(tmp_path / "one" / "last").model.state_dict()
    two = MotionTextBundle.load(tmp_path / "two" / "last").model.state_dict()
    worst, key = max_abs_diff(one, two)
    print(f"\n1 vs 2 processes: max abs weight difference {worst:.2e}")
    assert worst < TOLERANCE, key
    # and training moved the weights away from their (seeded) initialisation: not vacuous
    torch.manual_seed(0)
    start = MotionTextModel(MotionTextBundle.load(tmp_path / "one" / "last").config).state_dict()
    moved, _ = max_abs_diff(start, one)
    assert moved > 100 * TOLERANCE


@needs_torchrun
def test_meta_training_two_ranks_one_episode_each_match_one_process_with_two(tmp_path):
    """2 ranks x meta_batch 1 draw the episodes of slots 0 and 1, as 1 process x meta_batch 2
    does: same outer gradients, same validation scores, same best iteration."""
    run_script("finetune_script.py", ["meta", tmp_path / "one", 2, 4], cwd=tmp_path)
    run_script("finetune_script.py", ["meta", tmp_path / "two", 1, 4], nproc=2, cwd=tmp_path)
    one = MotionTextBundle.load(tmp_path / "one" / "last").model.state_dict()
    two = MotionTextBundle.load(tmp_path / "two" / "last").model.state_dict()
    worst, key = max_abs_diff(one, two)
    print(f"\nmeta-training, 1 vs 2 processes: max abs weight difference {worst:.2e}")
    assert worst < META_TOLERANCE, key
    assert worst_relative(adam_moments(tmp_path / "one" / "last"),
                          adam_moments(tmp_path / "two" / "last")) < META_TOLERANCE
    assert progress(tmp_path / "one" / "last") == progress(tmp_path / "two" / "last")
    best_one = MotionTextBundle.load(tmp_path / "one" / "best").model.state_dict()
    best_two = MotionTextBundle.load(tmp_path / "two" / "best").model.state_dict()
    assert max_abs_diff(best_one, best_two)[0] < META_TOLERANCE
    meta = json.loads((tmp_path / "two" / "meta_train.json").read_text())
    assert meta["world_size"] == 2 and meta["episodes_per_step"] == 2
    moved, _ = max_abs_diff(start_bundle(train_val()[0]).model.state_dict(), one)
    assert moved > 1000 * META_TOLERANCE


@needs_torchrun
def test_supervised_two_ranks_match_one_process_with_the_same_global_batch(tmp_path):
    """bce_center_inter with global batch 8: 2 ranks x 4 clips (embeddings all-gathered
    for the batch prototypes; the last batch of 3 is split 2 + 1) vs 1 process x 8 clips;
    validation, best-epoch decisions and logs agree too."""
    run_script("finetune_script.py", ["supervised", tmp_path / "one", 8, 3], cwd=tmp_path)
    run_script("finetune_script.py", ["supervised", tmp_path / "two", 4, 3], nproc=2, cwd=tmp_path)
    one, two = supervised_weights(tmp_path / "one" / "last"), supervised_weights(tmp_path / "two" / "last")
    (one, one_keys), (two, two_keys) = split_key_biases(one), split_key_biases(two)
    worst, key = max_abs_diff(one, two)
    key_bias, _ = max_abs_diff(one_keys, two_keys)
    print(f"\nsupervised, 1 vs 2 processes: max abs weight difference {worst:.2e} "
          f"(attention key biases: {key_bias:.2e})")
    assert worst < SUPERVISED_TOLERANCE, key
    assert key_bias < 2 * 15 * 1e-3  # 15 Adam steps of at most ~lr = 1e-3 each, in either run
    moments = worst_relative(adam_moments(tmp_path / "one" / "last"), adam_moments(tmp_path / "two" / "last"))
    print(f"Adam first moments: max relative difference {moments:.2e}")
    assert moments < MOMENT_TOLERANCE
    log_one = [json.loads(x) for x in (tmp_path / "one" / "log.jsonl").read_text().splitlines()]
    log_two = [json.loads(x) for x in (tmp_path / "two" / "log.jsonl").read_text().splitlines()]
    assert [r["improved"] for r in log_one] == [r["improved"] for r in log_two]
    for a, b in zip(log_one, log_two, strict=True):
        for name in ("train/bce", "train/center", "train/hinge", "val/mAP"):
            assert abs(a[name] - b[name]) < 1e-5, name
    decisions = ("epoch", "best_epoch", "stale")
    assert [progress(tmp_path / "one" / "last")[k] for k in decisions] == \
           [progress(tmp_path / "two" / "last")[k] for k in decisions]
    start, _ = split_key_biases(start_bundle(train_val()[0]).model.state_dict())
    moved, _ = max_abs_diff(start, {k: one[k] for k in start})
    print(f"largest weight change from the start: {moved:.2e}")
    assert moved > 20 * SUPERVISED_TOLERANCE


@needs_torchrun
def test_metatrain_and_supervised_commands_under_torchrun(tmp_path):
    """The documented commands: ``torchrun -m motionvigil.cli metatrain|supervised`` with 2
    processes train from a pre-trained model folder; rank 0 alone writes the run folders."""
    assert cli_main(["data", "synth", "-o", str(tmp_path / "data"), "--clips", "3", "--seed", "0"]) == 0
    start_bundle(train_val()[0]).save(tmp_path / "pre" / "best")
    common = ["--data", f"folder:{tmp_path / 'data'}", "--device", "cpu"]
    run_script("-m motionvigil.cli", ["metatrain", tmp_path / "pre", *common, "-o", tmp_path / "maml",
                                      "--iterations", 2, "--ways", 2, "--shots", 1, "--fast-top-layers", 1,
                                      "--inner-lr", 0.05, "--val-episodes", 4], nproc=2, cwd=tmp_path)
    run_script("-m motionvigil.cli", ["supervised", tmp_path / "pre", *common, "-o", tmp_path / "sup",
                                      "--epochs", 2, "--batch-size", 8, "--objective", "bce_center_inter"],
               nproc=2, cwd=tmp_path)
    meta = json.loads((tmp_path / "maml" / "meta_train.json").read_text())
    assert (meta["world_size"], meta["episodes_per_step"]) == (2, 2)
    assert (meta["settings"]["inner"]["top_layers"], meta["settings"]["inner"]["lr"]) == (1, 0.05)
    assert meta["settings"]["val_episodes"] == 4
    assert progress(tmp_path / "maml" / "last")["iteration"] == 2
    sup = json.loads((tmp_path / "sup" / "supervised.json").read_text())
    assert (sup["world_size"], sup["global_batch"]) == (2, 16)
    log = (tmp_path / "sup" / "log.jsonl").read_text().splitlines()
    assert len(log) == 2  # one writer, one line per epoch
    model = SupervisedModel.load(tmp_path / "sup" / "best")
    assert model.classes == tuple(json.loads((tmp_path / "data" / "annotations.json").read_text())["classes"])
    written = sorted(p.name for p in (tmp_path / "sup").iterdir())
    assert written == ["best", "last", "log.jsonl", "run_config.json", "supervised.json"]  # run_config: --config
