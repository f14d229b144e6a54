"""The retrieval table rendered from `motionvigil retrieval -o FILE` reports."""

from __future__ import annotations

from motionvigil.report.retrieval import render_reports


def test_retrieval_rows_come_from_the_report():
    report = {"encoder": "vit", "training": {"best_epoch": 7, "train_clips": 50}, "datasets": {
        "hdm05": {"clips": 99, "retrieval": {"all": {"t2m/R01": 10.14, "t2m/R05": 45.5, "t2m/R10": 70.7, "t2m/MedR": 6.0},
                                             "threshold": {"t2m/R01": 93.9, "m2t/R01": 85.9},
                                             "small_batches": {"t2m/R01": 27.1}},
                  "zero_shot": {"top1": 85.9, "chance_top1": 9.09, "top5": 100.0, "chance_top5": 45.45}},
        "tiny": {"clips": 1}}}
    text = render_reports([report])
    assert "| ViT (random init) | hdm05 | 99 | 10.1 | 45.5 | 70.7 | 6.0 | 93.9 | 85.9 | 27.1 | 85.9 (9.1) | 100.0 (45.5) |" in text
    assert "| ViT (random init) | tiny | 1 | n/a |" in text and "epoch 7, 50 training clips" in text
