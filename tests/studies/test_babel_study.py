"""BABEL through the same few-shot command, on files in the official BABEL schema."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from motionvigil.cli import main
from motionvigil.datasets.loaders.babel import feature_path
from proc_helpers import needs_torchrun, run_script
from text_fixtures import _label, _sequence, synthetic_features, write_npy

ACTIONS = ["walk", "kick", "punch", "stand", "jump", "wave"]


@pytest.fixture()
def babel_folder(tmp_path, data_path):
    """An official-layout BABEL folder: train.json, val.json, the real label vocabulary,
    and 263-dim features under features/ (what ``--data babel:ROOT`` reads by default)."""
    root = tmp_path / "babel"
    root.mkdir()
    shutil.copy(data_path("babel/action_label_2_idx.json"), root / "action_label_2_idx.json")
    splits = {"train": {}, "val": {}}
    sid = 1
    for a, action in enumerate(ACTIONS):
        for k in range(10):
            split = "train" if k < 6 else "val"
            feat_p = f"CMU/CMU/{a}/{a}_{k:02d}_poses.npz"
            frames = 50 + 5 * k
            splits[split][str(sid)] = _sequence(sid, feat_p, frames / 20.0, [_label(f"s{sid}", [action])],
                                                [_label(f"f{sid}", [action], 0.0, frames / 20.0)])
            write_npy(feature_path(root / "features", feat_p), synthetic_features(frames, phase=a + 0.1 * k))
            sid += 1
    for split, content in splits.items():
        (root / f"{split}.json").write_text(json.dumps(content))
    return root


def test_fewshot_study_runs_on_babel_schema(babel_folder, tmp_path, capsys):
    out = tmp_path / "study"
    code = main(["study", "fewshot", "--data", f"babel:{babel_folder}", "-o", str(out),
                 "--pretrain-epochs", "1", "--meta-iterations", "2", "--episodes", "2"])
    assert code == 0
    table1 = json.loads((out / "table1.json").read_text())
    table2 = json.loads((out / "table2.json").read_text())
    ran = [r for r in table1 if "skipped" not in r]
    assert {(r["ways"], r["shots"]) for r in ran if r["model"] != "chance"} >= {(5, 0), (5, 1), (5, 3)}
    assert {r["model"] for r in ran} == {"TMR", "MAML", "chance"}
    assert any("skipped" in r for r in table1)  # 10-way needs more classes than the fixture has
    models = [r["model"] for r in table2]
    assert models[:2] == ["chance", "Text-only (0-shot)"] and models[-2:] == ["Supervised BCE", "Supervised BCE+Center+Inter"]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["classes"] == 120 and set(summary["violent_classes"]) >= {"kick", "punch"}
    for row in ran + table2:
        assert 0.0 <= row["mAP"] <= 1.0 and np.isfinite(row["top1"])
    assert "Table 1" in capsys.readouterr().out
    # the one-seed study also writes fewshot.json, which the docs render in the paper's layout
    from motionvigil.report.fewshot_grid import render_grid

    result = json.loads((out / "fewshot.json").read_text())
    assert result["seeds"] == [0] and result["runs"][0]["table1"] == table1
    assert result["table1"][0]["mAP"]["n"] == 1 and "| 5-w 0-s | TMR |" in render_grid([result])


@pytest.mark.slow
@needs_torchrun
def test_fewshot_study_under_torchrun(babel_folder, tmp_path):
    """The one-command study with 2 processes: every step spread, rank 0 writes the tables
    (the 1- vs 2-process equality of the evaluation is in test_distributed_eval.py)."""
    out = tmp_path / "study"
    proc = run_script("-m motionvigil.cli", ["study", "fewshot", "--data", f"babel:{babel_folder}", "-o", out,
                                             "--pretrain-epochs", "1", "--meta-iterations", "2", "--episodes", "4"],
                      nproc=2, cwd=tmp_path)
    assert proc.stdout.count("Table 1") == 1  # printed once, by rank 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["processes"] == 2
    meta = json.loads((out / "maml" / "meta_train.json").read_text())
    assert meta["episodes_per_step"] == 2
    table1 = json.loads((out / "table1.json").read_text())
    assert {r["model"] for r in table1 if "skipped" not in r} == {"TMR", "MAML", "chance"}
    models = [r["model"] for r in json.loads((out / "table2.json").read_text())]
    assert models[-2:] == ["Supervised BCE", "Supervised BCE+Center+Inter"]
