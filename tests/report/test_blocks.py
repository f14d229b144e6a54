"""Generated docs blocks: markers, the inline value kind, one-seed grids and run comparisons."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from motionvigil.report.blocks import KINDS, main, render_doc, renderer
from motionvigil.report.fewshot_compare import describe, render_compare
from motionvigil.report.fewshot_grid import render_grid

ROOT = Path(__file__).resolve().parents[2]


def _row(config: str, model: str, ways: int, mAP: float) -> dict:
    row = {"config": config, "model": model, "ways": ways, "n_episodes": 200}
    for key, value in (("mAP", mAP), ("top1", mAP - 0.1), ("top5", 1.0 if ways <= 5 else 0.9), ("VDR", 0.9),
                       ("FPR", 0.05)):
        row[key], row[f"{key}_std"] = value, 0.061
    row.update(n_VDR=35, n_FPR=190)
    return row


def _grid(maml: float, top_layers: int | None = None, lr: float = 0.02) -> dict:
    t1 = [_row("5-w 5-s", "TMR", 5, 0.80), _row("5-w 5-s", "MAML", 5, maml),
          _row("10-w 5-s", "TMR", 10, 0.60), _row("10-w 5-s", "MAML", 10, maml - 0.1),
          {"config": "10-w 5-s", "model": "chance", "ways": 10, "mAP": 0.2, "mAP_std": 0.01}]
    t2 = [{"model": "MAML 30-shot", **{k: maml - 0.2 for k in ("mAP", "top1", "top5", "VDR", "FPR")}}]
    timings = {"meta_train_s": 250.0 if top_layers is None else 80.0, "table1_s": 1000.0, "table2_fewshot_s": 40.0}
    run = {"seed": 0, "fold": 0, "table1": t1, "table2": t2, "summary": {"classes": 44, "timings": timings}}
    settings = {"episodic": {"episodes": 200}, "global_protocol": {"repeats": 3},
                "meta": {"inner": {"steps": 20, "lr": lr, "top_layers": top_layers}}}
    return {"data": ["toy"], "class_split": "paper", "seeds": [0], "folds": [0], "runs": [run],
            "settings": settings, "machine": {"cpu": "toy cpu", "cores": 2, "torch_threads": 1, "mm_gflops": 99.0},
            "seconds": 1300.0}


def test_every_kind_names_an_importable_renderer():
    for kind in KINDS:
        assert callable(renderer(kind))
    with pytest.raises(ValueError, match="unknown block kind 'nope'"):
        renderer("nope")


def test_value_marker_quotes_one_number_inline_and_check_fails_when_it_is_stale(tmp_path):
    (tmp_path / "r.json").write_text(json.dumps({"rows": [{"mAP": 0.95312}, {"mAP": 0.5}], "n": 35}))
    doc = tmp_path / "doc.md"
    doc.write_text("MAML <!-- value:start r.json rows.0.mAP .2f -->0.91<!-- value:end --> over "
                   "<!-- value:start r.json n -->?<!-- value:end --> episodes\n")
    assert main([str(doc), "--root", str(tmp_path), "--check"]) == 1
    assert doc.read_text().count("0.91") == 1  # --check changes nothing
    assert main([str(doc), "--root", str(tmp_path)]) == 0
    assert doc.read_text() == ("MAML <!-- value:start r.json rows.0.mAP .2f -->0.95<!-- value:end --> over "
                               "<!-- value:start r.json n -->35<!-- value:end --> episodes\n")
    assert main([str(doc), "--root", str(tmp_path), "--check"]) == 0


@pytest.mark.parametrize("text, message", [
    ("<!-- value:start r.json rows.7.mAP -->x<!-- value:end -->", "no 'rows.7.mAP'"),
    ("<!-- value:start missing.json n -->x<!-- value:end -->", "missing.json: results file named in a docs marker"),
    ("<!-- value:start r.json n -->x", "has no <!-- value:end -->"),
    ("<!-- bogus:start r.json -->x<!-- bogus:end -->", "unknown block kind 'bogus'"),
])
def test_bad_markers_give_one_line_errors(tmp_path, capsys, text, message):
    (tmp_path / "r.json").write_text(json.dumps({"rows": [{"mAP": 0.9}], "n": 3}))
    doc = tmp_path / "doc.md"
    doc.write_text(text)
    assert main([str(doc), "--root", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and err.startswith(str(doc))
    assert doc.read_text() == text


def test_one_seed_grid_shows_the_std_over_episodes_and_marks_top5_at_five_way():
    text = render_grid([_grid(0.95)])
    assert "| 5-w 5-s | MAML | 0.950 ± .061 | 0.850 ± .061 | — | 0.900 ± .061 (35) | 0.050 ± .061 (190) |" in text
    assert "| 10-w 5-s | MAML | 0.850 ± .061 | 0.750 ± .061 | 0.900 ± .061 |" in text
    assert "| 10-w 5-s | chance | 0.200 ± .010 |" in text and "(35)" not in text.split("chance")[1].split("\n")[0]
    assert "training seed 0" in text and "not a confidence interval over training" in text
    assert "all 44 classes" in text and "toy cpu (2 cores, 1 torch thread(s)" in text
    assert ("MAML's mAP is above the prototypes' in 2 of 2 episodic configurations (by +0.150 to +0.250) and in "
            "0 of 0 global rows; the best global row is MAML 30-shot (mAP 0.750).") in text


def test_compare_lists_maml_rows_as_a_to_b_with_the_mean_difference():
    a, b = _grid(0.95), _grid(0.97, top_layers=1, lr=0.2)
    assert describe(a) == "full FOMAML, alpha 0.02" and describe(b) == "fast (top 1 layer), alpha 0.2"
    text = render_compare(a, b)
    assert "| 5-w 5-s | 0.950 -> 0.970 |" in text and "| global 30-shot | 0.750 -> 0.770 |" in text
    assert "mean +0.020, from +0.020 to +0.020" in text and "meta-training 250 s -> 80 s" in text
    with pytest.raises(ValueError, match="one-seed"):
        render_compare({**a, "seeds": [0, 1]}, b)


def test_the_repository_docs_are_up_to_date_with_their_results():
    docs = [str(p) for p in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]]
    assert main([*docs, "--root", str(ROOT), "--check"]) == 0


def test_render_doc_leaves_text_without_markers_alone(tmp_path):
    assert render_doc("no markers here\n", tmp_path) == "no markers here\n"


def test_strict_docs_may_hold_measured_numbers_only_in_blocks_and_code(tmp_path, capsys):
    from motionvigil.report.blocks import unmarked_numbers

    text = ("MAML reaches 0.95 mAP and 12% more; a 95% CI over seeds; `alpha = 0.2` is a setting\n"
            "```\nmotionvigil x --lr 0.5\n```\n"
            "<!-- value:start r.json n -->0.700<!-- value:end --> and version 2.13.0 and 20 epochs\n")
    assert unmarked_numbers(text) == [(1, "0.95"), (1, "12%")]
    (tmp_path / "r.json").write_text('{"n": 0.7}')
    doc = tmp_path / "doc.md"
    doc.write_text(text)
    assert main([str(doc), "--root", str(tmp_path), "--check", "--strict", str(doc)]) == 1
    assert "2 number(s) outside marked blocks (line 1: 0.95, line 1: 12%)" in capsys.readouterr().err
    doc.write_text(text.replace("0.95 mAP and 12% more", "a high mAP"))
    assert main([str(doc), "--root", str(tmp_path), "--check", "--strict", str(doc)]) == 0


def test_reproduce_counts_cells_outside_the_committed_interval(tmp_path, capsys):
    from motionvigil.report.reproduce import compare, main as reproduce

    def result(mean: float, ci: list) -> dict:
        stat = {"mean": mean, "ci": ci, "n": 3}
        return {"table1": [{"config": "5-w 5-s", "model": "MAML", "mAP": stat, "top1": dict(stat)}], "table2": []}

    committed = result(0.95, [0.94, 0.96])
    assert compare(committed, result(0.955, [0.0, 1.0]))["outside"] == []
    bad = compare(committed, result(0.97, [0.0, 1.0]))
    assert bad["cells"] == 2 and bad["inside"] == 0 and bad["outside"][0]["cell"] == "table1 / 5-w 5-s MAML / mAP"
    one_seed = result(0.9504, [float("nan"), float("nan")])  # no interval: equal to 3 decimals
    assert compare(one_seed, result(0.9501, [0, 0]))["outside"] == []
    assert len(compare(one_seed, result(0.9511, [0, 0]))["outside"]) == 2
    (tmp_path / "a").mkdir(), (tmp_path / "b").mkdir()
    for name, res in (("a", committed), ("b", result(0.97, [0.0, 1.0]))):
        (tmp_path / name / "x").mkdir()
        (tmp_path / name / "x" / "fewshot.json").write_text(json.dumps(res))
    assert reproduce([str(tmp_path / "a"), str(tmp_path / "b")]) == 1
    assert json.loads(capsys.readouterr().out)["x/fewshot.json"]["inside"] == 0
    assert reproduce([str(tmp_path / "a"), str(tmp_path / "nope")]) == 2


def test_reproduce_reads_the_detection_studys_bootstrap_intervals():
    from motionvigil.report.reproduce import compare

    committed = {"protocols": {"loso": {"auroc": 0.90, "auroc_ci": [0.85, 0.95], "minutes": 3.0,
                                        "auroc_per_seed": [0.1, 0.2]}}}
    rerun = {"protocols": {"loso": {"auroc": 0.97, "auroc_ci": [0.9, 1.0], "minutes": 9.0,
                                    "auroc_per_seed": [0.9, 0.9]}}}
    report = compare(committed, rerun)
    assert report["cells"] == 1 and report["outside"][0]["cell"] == "protocols / loso / auroc"
    assert compare(committed, committed)["outside"] == []


def test_reproduce_compares_a_partial_rerun_run_by_run(tmp_path):
    from motionvigil.report.reproduce import main as reproduce

    def res(seeds, mAP):
        runs = [{"seed": s, "fold": 0, "table1": [{"config": "5-w 5-s", "model": "MAML", "mAP": mAP + s}],
                 "table2": []} for s in seeds]
        return {"seeds": seeds, "runs": runs, "table1": [], "table2": []}

    (tmp_path / "a.json").write_text(json.dumps(res([0, 1, 2], 0.5)))
    (tmp_path / "b.json").write_text(json.dumps(res([0], 0.5)))
    out = tmp_path / "report.json"
    assert reproduce([str(tmp_path / "a.json"), str(tmp_path / "b.json"), "-o", str(out)]) == 0
    entry = json.loads(out.read_text())
    assert entry["per_run"] == {"runs": 1, "numbers": 1, "identical": 1, "equal_to_3_decimals": 1,
                                "largest_abs_difference": 0.0}
    (tmp_path / "b.json").write_text(json.dumps(res([0], 0.6)))
    assert reproduce([str(tmp_path / "a.json"), str(tmp_path / "b.json")]) == 1
