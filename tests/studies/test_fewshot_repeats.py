"""Seeds x folds -> one row per (config, model) with its interval; the docs renderer."""

from __future__ import annotations

import json

import pytest

from motionvigil.report.blocks import main
from motionvigil.report.fewshot import gain, render_block
from motionvigil.studies.fewshot_repeats import combine


def _row(model: str, mAP: float, config: str = "5-w 5-s") -> dict:
    return {"config": config, "model": model, "mAP": mAP, "top1": mAP, "top5": 1.0, "recall1": mAP,
            "recall5": 1.0, "VDR": 0.5, "FPR": 0.1, "n_VDR": 30, "n_FPR": 200, "n_episodes": 200}


def _run(seed: int, fold: int, tmr: float, maml: float) -> dict:
    t1 = [_row("TMR", tmr), _row("TMR + inner loop", tmr + 0.01), _row("MAML, 0 inner steps", tmr + 0.02),
          _row("MAML", maml), {"config": "5-w 5-s", "model": "-", "skipped": "too few"}]
    t2 = [{"model": "Proto 5-shot", "shots": 5, **{k: tmr for k in ("mAP", "top1", "top5", "VDR", "FPR")}}]
    return {"seed": seed, "fold": fold, "table1": t1, "table2": t2, "summary": {"classes": 22}}


def _result(split: str = "novel") -> dict:
    runs = [_run(0, 0, 0.60, 0.70), _run(0, 1, 0.70, 0.90), _run(1, 0, 0.62, 0.72), _run(1, 1, 0.72, 0.88)]
    return {"data": ["toy"], "class_split": split, "seeds": [0, 1], "folds": [0, 1], "runs": runs,
            "settings": {"episodic": {"episodes": 200}, "global_protocol": {"repeats": 3}},
            "machine": {"cpu": "toy", "cores": 2, "mm_gflops": 100.0}, "seconds": 60.0,
            "table1": combine(runs, "table1"), "table2": combine(runs, "table2")}


def test_folds_are_averaged_within_a_seed_before_the_interval():
    rows = {r["model"]: r for r in combine(_result()["runs"], "table1")}
    assert "-" not in rows  # skipped rows are not averaged
    assert rows["MAML"]["mAP"]["values"] == pytest.approx([0.80, 0.80])
    assert rows["TMR"]["mAP"]["values"] == pytest.approx([0.65, 0.67])
    assert rows["MAML"]["mAP"]["n"] == 2 and rows["MAML"]["n_VDR"] == 30


def test_gain_is_paired_by_seed():
    g = gain(_result(), "5-w 5-s", "MAML")
    assert g["values"] == pytest.approx([0.15, 0.13])


END = "<!-- fewshot-tables:end -->"


def test_docs_block_is_rendered_and_checked(tmp_path):
    res = _result()
    (tmp_path / "r.json").write_text(json.dumps(res))
    doc = tmp_path / "doc.md"
    doc.write_text(f"intro\n<!-- fewshot-tables:start r.json -->\nstale\n{END}\nend\n")
    assert main([str(doc), "--root", str(tmp_path), "--check"]) == 1
    assert main([str(doc), "--root", str(tmp_path)]) == 0
    text = doc.read_text()
    assert render_block([res]) in text and "stale" not in text and text.endswith(f"{END}\nend\n")
    assert "| novel classes | 5-w 5-s | MAML | 0.800 |" in text  # same value in both seeds: no interval shown
    assert main([str(doc), "--root", str(tmp_path), "--check"]) == 0


def test_survival_line_compares_the_gain_under_both_protocols():
    paper, novel = _result("paper"), _result("novel")
    for run in novel["runs"]:  # halve the novel gain: MAML 0.70/0.90 -> TMR + half the gap
        for row in run["table1"]:
            if row["model"] == "MAML":
                tmr = next(r["mAP"] for r in run["table1"] if r["model"] == "TMR")
                row["mAP"] = tmr + (row["mAP"] - tmr) / 2
    text = render_block([paper, novel])
    assert "5-w 5-s: MAML's mAP gain over prototypes is +0.140" in text and "50% of the paper-protocol gain" in text
