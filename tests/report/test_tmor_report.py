"""The tmor-tables block (docs/tmor.md): probe reports and a pre-training log rendered as tables.

The inputs are tiny fake files of the same shape as ``motionvigil probe -o`` reports and a
run's ``train.json`` / ``log.jsonl``, written in a temporary folder.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from motionvigil.report.blocks import KINDS, render_doc
from motionvigil.report.tmor import kept_epoch, render_files


def table_rows(text: str) -> list[list[str]]:
    lines = [line for line in text.splitlines() if line.startswith("|")]
    return [[c.strip() for c in line.strip("|").split("|")] for line in lines][2:]


def split(n_test: int, **extra) -> dict:
    return {"n_train": 10, "n_val": 2, "n_test": n_test, "classes": 3, **extra}


def probe(task: str, mode: str, datasets: dict, epochs: int | None = None) -> dict:
    return {"run": "runs/x", "init": "pretrained", "datasets": datasets,
            "settings": {"task": task, "mode": mode, "seed": 0, "epochs": epochs, "smooth": 9}}


def write(root: Path, name: str, data) -> str:
    path = root / name
    if name.endswith(".jsonl"):
        path.write_text("".join(json.dumps(line) + "\n" for line in data), encoding="utf-8")
    else:
        path.write_text(json.dumps(data), encoding="utf-8")
    return name


def zs(top1: float) -> dict:
    return {"top1": top1, "top5": 60.0, "chance_top1": 33.3333, "chance_top5": 100.0, "n": 4, "n_classes": 3,
            "prompt_template": "a person {label}", "text_side": "model text encoder"}


def test_classify_cells_come_from_the_right_file_and_column(tmp_path):
    files = [
        write(tmp_path, "classify_linear_tmor.json", probe("classify", "linear", {
            "msr_action3d": {**split(4), "top1": 25.04, "mAP": 30.0, "zero_shot": zs(50.0)},
            "hdm05": {**split(5), "top1": 80.0, "mAP": 81.0, "zero_shot": zs(40.0)}})),
        write(tmp_path, "msr_finetune_tmor.json", probe("classify", "finetune",
                                                        {"msr_action3d": {**split(4), "top1": 12.34, "mAP": 1.0}}, 15)),
    ]
    rows = table_rows(render_files(["classify", *files], tmp_path))
    assert rows == [["T-MOR cluster-guided (L_mm -> L_mm+L_mt)", "25.0", "30.0", "12.3", "1.0", "80.0", "81.0", "-", "-"]]
    text = render_files(["classify", *files], tmp_path)
    assert "MSR Action3D 4 test clips (3 classes; 10 train, 2 validation; fine-tuning at most 15 epochs)" in text
    zero = table_rows(render_files(["zeroshot", files[0]], tmp_path))
    assert zero == [["T-MOR cluster-guided (L_mm -> L_mm+L_mt)", "50.0 (33.3)", "60.0 (100.0)", "40.0 (33.3)",
                     "60.0 (100.0)"]]


def test_files_with_different_splits_are_refused(tmp_path):
    files = [write(tmp_path, f"msr_finetune_{m}.json", probe("classify", "finetune", {
        "msr_action3d": {**split(n), "top1": 1.0, "mAP": 1.0}})) for m, n in (("scratch", 4), ("tmor", 5))]
    with pytest.raises(ValueError, match="disagree"):
        render_files(["classify", *files], tmp_path)


def test_detect_row(tmp_path):
    d = {**split(3, true_events=7), "mAP@0.1": 41.06, "mAP@0.3": 20.0, "mAP@0.5": 5.55, "frame_acc": 12.0,
         "predicted_events": 9}
    name = write(tmp_path, "detect_finetune_stage1.json", probe("detect", "finetune", {"utkinect": d}, 15))
    text = render_files(["detect", name], tmp_path)
    assert table_rows(text) == [["T-MOR stage 1 only (L_mm)", "fine-tune", "41.1", "20.0", "5.5", "12.0", "9 / 7"]]
    assert text.startswith("utkinect: 3 test sequences (7 action events, 3 classes)")


def test_pretrain_and_dbscan_tables_from_the_log(tmp_path):
    train = write(tmp_path, "tmor_train.json", {
        "train_clips": 40, "val_clips": 6,
        "settings": {"seed": 0, "objective": "tmor", "tmor": {
            "terms": ["mm", "mt"], "self_supervised_epochs": 1, "eps": None, "min_samples": None,
            "eps_grid": [0.01, 0.1], "min_samples_grid": [2], "max_cluster_fraction": 0.25}}})
    epoch1 = {"epoch": 1, "train/loss": 2.0, "val/contrastive": 4.0, "tmor/terms": "mm", "tmor/eps": None,
              "tmor/min_samples": None, "tmor/clusters": 0, "tmor/noise_fraction": 1.0, "tmor/largest_fraction": 0.0}
    epoch2 = {**epoch1, "epoch": 2, "train/loss": 1.5, "val/contrastive": 3.0, "tmor/terms": "mm+mt",
              "tmor/fallback": "instance"}
    epoch3 = {**epoch1, "epoch": 3, "train/loss": 1.0, "val/contrastive": 3.5, "tmor/terms": "mm+mt", "tmor/eps": 0.1,
              "tmor/min_samples": 2, "tmor/clusters": 5, "tmor/noise_fraction": 0.125, "tmor/largest_fraction": 0.2,
              "tmor/val_pair_precision": 0.6, "tmor/val_pair_recall": 0.1, "tmor/val_pair_fbeta": 0.3}
    log = write(tmp_path, "tmor_log.jsonl", [epoch1, epoch2, epoch3])
    assert kept_epoch([epoch1, epoch2, epoch3])["epoch"] == 2
    rows = table_rows(render_files(["pretrain", train, log], tmp_path))
    assert rows == [["T-MOR cluster-guided (L_mm -> L_mm+L_mt)", "T-MOR: epochs 1-1 mm, then mm+mt", "3", "2", "3.000",
                     "1.000"]]
    rows = table_rows(render_files(["dbscan", train, log], tmp_path))
    assert rows[0][7] == "epoch 1: no clustering yet"
    assert rows[1][7] == "none eligible: instance level"
    assert rows[2] == ["3", "mm+mt", "0.1", "2", "5", "0.12", "0.20", "0.60 / 0.10 / 0.30", "1.000", "3.500"]


def test_registered_block_renders_in_a_doc(tmp_path):
    assert KINDS["tmor-tables"] == "motionvigil.report.tmor:render_files"
    name = write(tmp_path, "detect_linear_scratch.json", probe("detect", "linear", {"utkinect": {
        **split(3, true_events=7), "mAP@0.1": 1.0, "mAP@0.3": 2.0, "mAP@0.5": 3.0, "frame_acc": 4.0,
        "predicted_events": 5}}))
    doc = f"x\n<!-- tmor-tables:start detect {name} -->\nold\n<!-- tmor-tables:end -->\n"
    out = render_doc(doc, tmp_path)
    assert "| UNIK from scratch | linear | 1.0 | 2.0 | 3.0 | 4.0 | 5 / 7 |" in out and "old" not in out
    with pytest.raises(ValueError, match="TABLE"):
        render_files(["nope", name], tmp_path)
