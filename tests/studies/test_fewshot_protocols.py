"""Table 1 / Table 2 protocols and the meta-training loop, end to end on a small
synthetic corpus (shape of the outputs, same episodes for both rows, resume)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from motionvigil.datasets.labelled import LabelledSet
from motionvigil.datasets.select import split_train_val_test
from motionvigil.datasets.synthetic import load_synthetic
from motionvigil.studies.fewshot_protocols import (
    EpisodicProtocol,
    GlobalProtocol,
    rows_to_csv,
    rows_to_markdown,
    run_episodic,
    run_global,
)
from motionvigil.fewshot.adaptation import AdaptSettings
from motionvigil.fewshot.maml import MetaSettings, meta_train
from motionvigil.models import preset
from motionvigil.models.bundle import MotionTextBundle
from motionvigil.models.text import TextEmbeddingCache
from motionvigil.pretrain import PretrainRun, TrainSettings
from motionvigil.training.runtime import Runtime

FAST = AdaptSettings(steps=2)


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("fs")
    ds = load_synthetic(None, clips_per_class=8, sequences=0, seed=1)
    keep = set(ds.classes[:10]) | {"kick", "punch"}
    clips = [c for c in ds.clips if set(c.labels) <= keep]
    ds = type(ds)(ds.name, clips, tuple(c for c in ds.classes if c in keep), ds.violent_classes)
    train_c, val_c, test_c = split_train_val_test([ds], 0.2, 0)
    cache = TextEmbeddingCache(tmp / "text")
    pre = PretrainRun(tmp / "pre", preset("tiny"), TrainSettings(epochs=1, batch_size=16, progress=False),
                      Runtime(torch.device("cpu")), cache).fit(train_c, val_c)
    sets = [LabelledSet.build(c, ds.classes) for c in (train_c, val_c, test_c)]
    return tmp, pre, sets, cache


def meta(tmp, pre_dir, train, val, iterations, resume=True, inner=FAST):
    settings = MetaSettings(iterations=iterations, ways=3, shots=1, queries=2, inner=inner, val_every=2,
                            val_episodes=2, progress=False)
    return meta_train(MotionTextBundle.load(pre_dir), train, val, tmp / "maml", settings, resume=resume)


@pytest.mark.parametrize("inner", [FAST, AdaptSettings(steps=2, top_layers=1)], ids=["full", "fast_top1"])
def test_meta_training_resumes_to_the_same_weights(setup, tmp_path, inner):
    tmp, _, (train, val, _), _ = setup
    a = meta(tmp_path / "a", tmp / "pre" / "best", train, val, 4, inner=inner)
    meta(tmp_path / "b", tmp / "pre" / "best", train, val, 2, inner=inner)
    b = meta(tmp_path / "b", tmp / "pre" / "best", train, val, 4, inner=inner)
    for (name, pa), (_, pb) in zip(a.model.named_parameters(), b.model.named_parameters()):
        torch.testing.assert_close(pa, pb, msg=name)
    start = MotionTextBundle.load(tmp / "pre" / "best")
    moved = max((p - q).abs().max().item() for p, q in zip(a.model.motion_encoder.parameters(),
                                                         start.model.motion_encoder.parameters()))
    assert moved > 0 or a.info.get("meta_iteration") == 0


def test_fast_meta_training_moves_every_layer(setup, tmp_path):
    """Meta-training with the fast inner loop (top layer only) still updates the lower
    layers through the first-order query gradient, and records the setting."""
    tmp, _, (train, val, _), _ = setup
    settings = MetaSettings(iterations=3, ways=3, shots=1, queries=2, inner=AdaptSettings(steps=2, top_layers=1),
                            val_every=100, val_episodes=2, progress=False)
    start = MotionTextBundle.load(tmp / "pre" / "best")
    meta_train(MotionTextBundle.load(tmp / "pre" / "best"), train, val, tmp_path / "maml", settings)
    last = MotionTextBundle.load(tmp_path / "maml" / "last")
    before = dict(start.model.motion_encoder.named_parameters())
    for name, p in last.model.motion_encoder.named_parameters():
        if name.startswith(("encoder.layers.0.", "encoder.layers.1.")) and name.endswith("weight"):
            assert not torch.equal(p, before[name]), name
    recorded = json.loads((tmp_path / "maml" / "meta_train.json").read_text())
    assert recorded["settings"]["inner"]["top_layers"] == 1


def test_episodic_rows(setup):
    tmp, pre, (train, val, test), cache = setup
    maml = meta(tmp, tmp / "pre" / "best", train, val, 2)
    protocol = EpisodicProtocol(ways=(5,), shots=(0, 1), episodes=3, queries=2)
    rows = run_episodic(pre, maml, test, protocol, cache, FAST, progress=False)
    assert [(r["config"], r["model"]) for r in rows] == [("5-w 0-s", "TMR"), ("5-w 1-s", "TMR"), ("5-w 1-s", "MAML"),
                                                         ("5-w", "chance")]
    for row in rows:
        assert row["n_episodes"] == (2000 if row["model"] == "chance" else 3)
        for key in ("mAP", "top1", "top5", "recall1", "recall5"):
            assert 0.0 <= row[key] <= 1.0
        assert row["top5"] == 1.0  # 5-way: every true label is in the top 5
    assert abs(rows[-1]["top1"] - 0.2) < 0.02  # chance: one class in five
    md = rows_to_markdown(rows, ("config", "model"))
    table, note = md.split("\n\n")
    assert table.count("\n") == 5 and "| 5-w 1-s | MAML |" in table and "| 5-w | chance |" in table
    assert "† |" in table and "(n=" in table and "standard deviation over episodes" in note
    assert rows_to_csv(rows, ("config", "model")).splitlines()[0].startswith("config,model,mAP,mAP_std")


def test_too_few_clips_is_reported_not_crashed(setup):
    tmp, pre, (_, _, test), cache = setup
    rows = run_episodic(pre, None, test, EpisodicProtocol(ways=(5,), shots=(50,), episodes=1), cache, FAST, False)
    assert rows[0]["model"] == "-" and "need 5 classes" in rows[0]["skipped"]


def test_global_rows(setup):
    tmp, pre, (train, val, test), cache = setup
    maml = meta(tmp, tmp / "pre" / "best", train, val, 2)
    rows = run_global(pre, maml, train, test, GlobalProtocol(shots=(1,), repeats=2), cache, FAST, progress=False)
    assert [r["model"] for r in rows] == ["chance", "Text-only (0-shot)", "Proto 1-shot", "MAML 1-shot"]
    assert rows[2]["n_episodes"] == 2 and rows[0]["n_episodes"] == 200
    n_classes = len(test.classes)
    # with all classes as candidates, top-1 cannot beat top-5 and chance is far below 1
    for row in rows:
        assert row["top1"] <= row["top5"] <= 1.0
    assert np.isfinite(rows[2]["VDR"]) and n_classes >= 10
    assert abs(rows[0]["top1"] - 1 / n_classes) < 0.03 and rows[0]["mAP"] < rows[2]["mAP"]


def test_table_titles_name_a_non_paper_inner_loop():
    import dataclasses

    from motionvigil.studies.fewshot_study import StudySettings, _adaptation_label

    base = StudySettings()
    assert _adaptation_label(base) == ""
    fast = dataclasses.replace(base, meta=dataclasses.replace(base.meta, inner=AdaptSettings(top_layers=1, lr=0.2)))
    assert _adaptation_label(fast) == "; MAML rows: fast mode: top 1 layer(s) adapted, T = 20, alpha = 0.2"


@pytest.mark.parametrize("field", ["meta_batch", "val_every", "val_episodes"])
def test_meta_settings_refuse_non_positive_counts(field):
    with pytest.raises(ValueError, match=f"{field} must be >= 1"):
        MetaSettings(**{field: 0})


@pytest.mark.parametrize("argv, message", [
    (["metatrain", "RUN", "--data", "synthetic", "-o", "OUT", "--val-episodes", "0"], "--val-episodes: must be >= 1"),
    (["fewshot", "RUN", "--data", "synthetic", "--protocol", "episodic", "--inner-lr", "-1"], "--inner-lr: must be"),
    (["fewshot", "RUN", "--data", "synthetic", "--protocol", "episodic", "--fast-top-layers", "two"],
     "--fast-top-layers: not an integer"),
    (["study", "fewshot", "--data", "synthetic", "-o", "OUT", "--inner-steps", "-1"], "--inner-steps: must be >= 0"),
])
def test_adaptation_flags_are_checked_when_parsed(argv, message, capsys):
    from motionvigil.cli import main

    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    assert message in capsys.readouterr().err


def test_zero_inner_steps_is_the_no_adaptation_ablation():
    """--inner-steps 0 parses (issue 18's "meta-trained, 0 inner steps" row) and leaves the
    weights exactly as they are; negative counts are refused by the settings too."""
    import argparse

    import torch

    from motionvigil.cli.common import adapt_settings, add_adaptation_flags
    from motionvigil.fewshot.adaptation import AdaptSettings, adapt

    p = argparse.ArgumentParser()
    add_adaptation_flags(p)
    settings = adapt_settings(p.parse_args(["--inner-steps", "0"]))
    assert settings.steps == 0
    from types import SimpleNamespace

    bundle = SimpleNamespace(model=torch.nn.Linear(2, 3), device="cpu")
    params = {"w": torch.randn(3, 2)}
    out = adapt(bundle, params, None, np.arange(2), np.eye(2, dtype=bool), np.array([True, False]), settings)
    assert torch.equal(out["w"], params["w"])
    with pytest.raises(ValueError, match="steps must be >= 0"):
        AdaptSettings(steps=-1)
