"""The kinemic blocks (tables, summary), on a tiny fake ``kinemic-eval`` results file."""

from __future__ import annotations

import json
from pathlib import Path

from motionvigil.report.blocks import KINDS, render_doc
from motionvigil.report.kinemic import main, render_summary, render_tables
from motionvigil.studies.kinemic_augment import CONDITIONS

CLASSES = ["punch", "kick", "wave"]
QUALITY = {"fid": 10.0, "diversity_gen": 5.0, "diversity_real": 6.0, "multimodality": 2.0,
           "real_classifier_top1": 0.5, "bone_length_cv": 0.02, "foot_skate_mps": 0.4,
           "joint_speed_mean_mps": 0.5, "joint_speed_p95_mps": 1.5, "clips": 6}


def fake_run(seed: int, real_top1: float) -> dict:
    classification = {c: {"top1": 0.4, "mAP": 0.45} for c in CONDITIONS}
    classification["real"] = {"top1": real_top1, "mAP": 0.6}
    confusion = [[2, 1, 0], [0, 3, 0], [1, 0, 2]]
    return {
        "seed": seed, "classes": 3, "real_samples": 6, "test_clips": 9,
        "mining": {"top_captions": {c: [[f"a person does {c}", 0.8]] for c in CLASSES},
                   "window_cosine_mean": 0.3 + 0.1 * seed, "windows": 6},
        "seconds_finetune": 40.0, "seconds_generate": 80.0,
        "classification": classification,
        "per_class_top1": {c: dict(zip(CLASSES, [0.5, 1.0, 0.0 + 0.1 * seed])) for c in CONDITIONS},
        "confusion": {c: confusion for c in ("real", "real+prior", "real+naive", "real+kinemic")},
        "group_top1": {},
        "quality": {**{g: dict(QUALITY) for g in ("real_fewshot", "prior", "naive", "kinemic")},
                    "real_test": {k: QUALITY[k] for k in ("bone_length_cv", "foot_skate_mps", "joint_speed_mean_mps",
                                                          "joint_speed_p95_mps", "real_classifier_top1")}},
        "classes_list": CLASSES,
    }


def write_fake(root: Path) -> str:
    data = {"settings": {"shots": 2, "seeds": 2, "per_class": 2, "finetune_steps": 5, "head_epochs": 3,
                         "head_lr": 1e-3, "top_k": 5},
            "prior": "prior", "sources": ["synthetic"], "encoder": {},
            "datasets": {"toy": [fake_run(0, 0.5), fake_run(1, 0.6)]}}
    (root / "eval.json").write_text(json.dumps(data), encoding="utf-8")
    return "eval.json"


def rows(text: str, first: str) -> list[list[str]]:
    return [[c.strip() for c in line.strip("|").split("|")] for line in text.splitlines()
            if line.startswith(f"| {first} |")]


def test_tables_render_mean_and_std_over_seeds(tmp_path):
    text = render_tables([write_fake(tmp_path)], tmp_path)
    (real,) = rows(text, "real")
    assert real == ["real", "0.550 ± .050", "0.600 ± .000"]
    assert "mean ± population std over 2 seeds (0, 1)" in text
    assert "on its 9 test clips (3 classes)" in text
    # the violent-class confusion (punch, kick) summed over both seeds
    assert rows(text, "punch")[-1] == ["punch", "4", "2", "0"]
    assert "summed over 2 seeds" in text


def test_summary_and_doc_blocks(tmp_path):
    name = write_fake(tmp_path)
    summary = render_summary([name], tmp_path)
    assert "- real only: Top-1 0.550, mAP 0.600" in summary
    assert "real+kinemic: Top-1 0.400 (-15.0 points; above real only in 0 of 2 seeds, below in 2)" in summary
    assert "mean best-window cosine to the shots (TMR space) 0.35" in summary
    assert "mining + KineMIC fine-tuning 40 s" in summary
    assert KINDS["kinemic"] == "motionvigil.report.kinemic:render_files"
    doc = (f"x\n<!-- kinemic:start tables {name} -->\nold\n<!-- kinemic:end -->\n"
           f"<!-- kinemic:start summary {name} -->\nold\n<!-- kinemic:end -->\n")
    new = render_doc(doc, tmp_path)
    assert "| real | 0.550 ± .050 | 0.600 ± .000 |" in new and summary in new and "old" not in new


def test_compact_copy_loads_to_the_same_results_and_renders_the_same(tmp_path):
    name = write_fake(tmp_path)
    src = tmp_path / name
    assert main(["compact", str(src), str(tmp_path / "copy.json")]) == 0
    text = (tmp_path / "copy.json").read_text(encoding="utf-8")
    assert json.loads(text) == json.loads(src.read_text(encoding="utf-8"))
    assert '"real": [\n' in text and "[2,1,0]," in text  # one confusion row per line
    assert render_tables(["copy.json"], tmp_path) == render_tables([name], tmp_path).replace(name, "copy.json")
