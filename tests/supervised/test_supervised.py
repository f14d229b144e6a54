"""The fully supervised baseline: head layout, learning, early stopping, checkpoints, resume."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from motionvigil.datasets.select import split_train_val_test
from motionvigil.datasets.synthetic import load_synthetic
from motionvigil.errors import MotionFileError
from motionvigil.datasets.labelled import LabelledSet
from motionvigil.losses import center_loss, class_prototypes
from motionvigil.models import preset
from motionvigil.models.bundle import MotionTextBundle
from motionvigil.models.text import TextEmbeddingCache
from motionvigil.pretrain import PretrainRun, TrainSettings
from motionvigil.supervised import (
    MLPHead,
    SupervisedModel,
    SupervisedSettings,
    macro_average_precision,
    supervised_terms,
    train_supervised,
)
from motionvigil.training.runtime import Runtime

N_CLASSES = 12


@pytest.fixture(scope="module")
def corpus() -> tuple[LabelledSet, LabelledSet]:
    """12 synthetic classes x 8 clips -> (train, val) labelled sets; the test split is dropped."""
    ds = load_synthetic(None, clips_per_class=8, sequences=0, seed=0)
    classes = ds.classes[:N_CLASSES]
    ds.clips = [c for c in ds.clips if c.labels[0] in classes]
    ds.classes = classes
    train, val, _test = split_train_val_test([ds], val_fraction=0.25, seed=0)
    return LabelledSet.build(train, classes), LabelledSet.build(val, classes)


@pytest.fixture(scope="module")
def bundle(corpus, tmp_path_factory) -> MotionTextBundle:
    """A tiny motion-text model pre-trained for one epoch."""
    tmp = tmp_path_factory.mktemp("pre")
    train, val = corpus
    run = PretrainRun(tmp / "run", preset("tiny"), TrainSettings(epochs=1, batch_size=16, progress=False),
                      Runtime(torch.device("cpu")), TextEmbeddingCache(tmp / "text"))
    return run.fit(list(train.clips), list(val.clips))


def fit(out: Path, corpus, bundle, resume: bool = True, **options) -> SupervisedModel:
    train, val = corpus
    settings = SupervisedSettings(**{"batch_size": 16, "progress": False, **options})
    return train_supervised(bundle, train, val, out, settings, resume=resume)


def read_log(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]


def state(module: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def assert_same_state(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> None:
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k


@pytest.fixture(scope="module")
def trained(corpus, bundle, tmp_path_factory):
    """An 8-epoch BCE run with default learning rates; also snapshots the caller's bundle."""
    before = state(bundle.model)
    inputs_before = {k: v.clone() for k, v in bundle.inputs.tensors().items()}
    out = tmp_path_factory.mktemp("sup") / "bce"
    model = fit(out, corpus, bundle, epochs=8, patience=None)
    return out, model, before, inputs_before


def test_head_layout():
    head = MLPHead(256, 7)
    layers = list(head.layers)
    kinds = [type(m) for m in layers]
    assert kinds == [nn.Linear, nn.LayerNorm, nn.GELU, nn.Dropout] * 2 + [nn.Linear]
    linears = [m for m in layers if isinstance(m, nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linears] == [(256, 1024), (1024, 512), (512, 7)]
    assert [m.normalized_shape for m in layers if isinstance(m, nn.LayerNorm)] == [(1024,), (512,)]
    assert all(m.p == 0.1 for m in layers if isinstance(m, nn.Dropout))
    assert head(torch.zeros(3, 256)).shape == (3, 7)
    again = MLPHead.from_config(head.config())
    assert [type(m) for m in again.layers] == kinds and again.config() == head.config()


def test_training_reduces_train_bce_and_learns(trained, corpus):
    out, model, _, _ = trained
    log = read_log(out)
    assert [r["epoch"] for r in log] == list(range(1, 9))
    bce = [r["train/bce"] for r in log]
    assert bce[-1] < 0.6 * bce[0]
    assert all(math.isfinite(b) for b in bce)
    best = max(r["val/mAP"] for r in log)
    positive_rate = corpus[1].labels.mean()
    assert best > 2 * positive_rate  # macro AP well above chance
    assert model.head.in_dim == 128 and model.classes == corpus[0].classes


def test_best_checkpoint_reloads_with_identical_scores(trained, corpus):
    out, model, _, _ = trained
    train, val = corpus
    again = SupervisedModel.load(out / "best")
    clips = list(val.clips) + list(train.clips[:5])
    scores = model.scores(clips)
    assert scores.shape == (len(clips), N_CLASSES) and scores.dtype == np.float32
    assert ((scores >= 0) & (scores <= 1)).all()
    np.testing.assert_array_equal(again.scores(clips), scores)
    assert again.classes == model.classes and again.objective == "bce"
    np.testing.assert_array_equal(again.violent, train.violent)
    # the kept epoch is the one with the best validation mAP, and re-scoring reproduces it
    log = read_log(out)
    best = max(log, key=lambda r: r["val/mAP"])
    config = json.loads((out / "best" / "config.json").read_text())
    assert config["progress"]["best_epoch"] == best["epoch"]
    mean_ap, _ = macro_average_precision(again.logits(list(val.clips)), val.labels)
    assert mean_ap == pytest.approx(best["val/mAP"], abs=1e-6)


def test_caller_bundle_is_not_modified(trained, bundle):
    _, model, before, inputs_before = trained
    assert_same_state(state(bundle.model), before)
    for k, v in bundle.inputs.tensors().items():
        assert torch.equal(v, inputs_before[k])
    assert all(p.requires_grad for p in bundle.model.parameters())
    # ... while the fine-tuned copy did change
    assert any(not torch.equal(v, before[k]) for k, v in state(model.bundle.model).items())


def test_early_stopping_after_patience_epochs(tmp_path, corpus, bundle):
    out = tmp_path / "frozen"
    fit(out, corpus, bundle, epochs=20, patience=3, min_epochs=0, lr=0.0, head_lr=0.0)
    log = read_log(out)
    assert [r["epoch"] for r in log] == [1, 2, 3, 4]  # best at 1, then 3 epochs without improvement
    assert [r["improved"] for r in log] == [True, False, False, False]
    # resuming a stopped run trains no further
    fit(out, corpus, bundle, epochs=20, patience=3, min_epochs=0, lr=0.0, head_lr=0.0)
    assert len(read_log(out)) == 4


def test_early_stopping_waits_for_min_epochs(tmp_path, corpus, bundle):
    """A flat start (the base-rate plateau of BCE) does not end training before min_epochs."""
    out = tmp_path / "warm"
    fit(out, corpus, bundle, epochs=20, patience=3, min_epochs=6, lr=0.0, head_lr=0.0)
    log = read_log(out)
    assert [r["epoch"] for r in log] == [1, 2, 3, 4, 5, 6]
    assert [r["improved"] for r in log] == [True] + [False] * 5


def test_bce_center_inter_runs_with_finite_terms(tmp_path, corpus, bundle):
    out = tmp_path / "three"
    model = fit(out, corpus, bundle, epochs=3, objective="bce_center_inter")
    for r in read_log(out):
        for key in ("train/bce", "train/center", "train/hinge", "train/loss"):
            assert math.isfinite(r[key]), key
        total = r["train/bce"] + 0.5 * r["train/center"] + 0.7 * r["train/hinge"]
        assert r["train/loss"] == pytest.approx(total)
    assert model.objective == "bce_center_inter"
    with pytest.raises(MotionFileError, match="different objective"):
        fit(out, corpus, bundle, epochs=4, objective="bce")


def test_center_and_hinge_use_only_classes_in_the_batch():
    torch.manual_seed(0)
    z = torch.randn(6, 8)
    targets = torch.zeros(6, 4, dtype=torch.bool)
    targets[[0, 1, 2], 0] = True
    targets[[3, 4, 5], 2] = True
    violent = torch.tensor([True, True, False, False])
    terms = supervised_terms(z, torch.zeros(6, 4), targets, violent, "bce_center_inter")
    present = targets[:, [0, 2]]
    assert terms["center"] == pytest.approx(float(center_loss(z, present, class_prototypes(z, present))))
    assert terms["hinge"] > 0  # class 0 (violent) against class 2 (not)
    only_violent = supervised_terms(z[:3], torch.zeros(3, 4), targets[:3], violent, "bce_center_inter")
    assert float(only_violent["hinge"]) == 0.0  # absent class 1 does not count as a violent prototype
    assert set(supervised_terms(z, torch.zeros(6, 4), targets, violent, "bce")) == {"bce", "loss"}


def test_resume_matches_uninterrupted_run(tmp_path, corpus, bundle):
    straight = fit(tmp_path / "a", corpus, bundle, epochs=4, lr=3e-4)
    fit(tmp_path / "b", corpus, bundle, epochs=2, lr=3e-4)
    resumed = fit(tmp_path / "b", corpus, bundle, epochs=4, lr=3e-4)
    last_a = SupervisedModel.load(tmp_path / "a" / "last")
    last_b = SupervisedModel.load(tmp_path / "b" / "last")
    assert_same_state(state(last_a.head), state(last_b.head))
    assert_same_state(state(last_a.bundle.model), state(last_b.bundle.model))
    assert_same_state(state(straight.head), state(resumed.head))
    assert [r["epoch"] for r in read_log(tmp_path / "b")] == [1, 2, 3, 4]
    assert read_log(tmp_path / "a") == read_log(tmp_path / "b")


def test_mismatched_sets_and_settings_are_refused(tmp_path, corpus, bundle):
    train, val = corpus
    other = LabelledSet.build(val.clips, val.classes[::-1])
    with pytest.raises(ValueError, match="vocabulary"):
        train_supervised(bundle, train, other, tmp_path / "x", SupervisedSettings(progress=False))
    with pytest.raises(ValueError, match="objective"):
        SupervisedSettings(objective="focal")
    with pytest.raises(MotionFileError, match="not a supervised checkpoint"):
        bundle.save(tmp_path / "plain")
        SupervisedModel.load(tmp_path / "plain")
