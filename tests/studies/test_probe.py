"""Transfer evaluation: event-level mAP on hand-computed cases, and ``motionvigil probe`` end to end."""

from __future__ import annotations

import json

import numpy as np
import pytest

from motionvigil.cli import main
from motionvigil.datasets.clip import Clip, Dataset, Segment
from motionvigil.datasets.folder import export_dataset
from motionvigil.datasets.synthetic import generate_corpus
from motionvigil.datasets.synthetic.corpus import generate_sequence
from motionvigil.studies.probe import frame_targets, smooth_probs
from motionvigil.metrics.temporal_detection import (
    Event,
    class_average_precision,
    detection_report,
    event_map,
    frames_to_events,
    temporal_iou,
)


# ---- event-level mAP ---------------------------------------------------------------------------
def test_frames_to_events_runs_and_mean_scores():
    probs = np.array([
        [0.9, 0.1, 0.0],  # background
        [0.2, 0.7, 0.1],
        [0.1, 0.5, 0.4],
        [0.1, 0.2, 0.7],
        [0.0, 0.6, 0.4],
        [0.0, 0.8, 0.2],
    ])
    events = frames_to_events(probs, "s", background=0)
    assert [(e.label, e.start, e.end) for e in events] == [(1, 1, 3), (2, 3, 4), (1, 4, 6)]
    assert [e.score for e in events] == pytest.approx([0.6, 0.7, 0.7])
    with_bg = frames_to_events(probs, "s", background=None)
    assert (with_bg[0].label, with_bg[0].start, with_bg[0].end, with_bg[0].score) == (0, 0, 1, pytest.approx(0.9))


def test_temporal_iou():
    assert temporal_iou((0, 10), (0, 10)) == 1.0
    assert temporal_iou((0, 10), (5, 15)) == pytest.approx(5 / 15)
    assert temporal_iou((0, 4), (4, 8)) == 0.0


def test_class_ap_hand_computed():
    truth = [Event("a", 1, 0, 10), Event("a", 1, 20, 30)]
    preds = [Event("a", 1, 0, 10, 0.9),   # TP (IoU 1)        precision 1/1
             Event("a", 1, 40, 50, 0.8),  # FP (no overlap)
             Event("a", 1, 21, 29, 0.7)]  # TP (IoU 0.8)      precision 2/3
    assert class_average_precision(preds, truth, 0.5) == pytest.approx((1 + 2 / 3) / 2)
    # the same interval in another sequence never matches
    assert class_average_precision([Event("b", 1, 0, 10, 0.9)], truth, 0.1) == 0.0
    # a duplicate of an already matched event is a false positive
    dup = [Event("a", 1, 0, 10, 0.9), Event("a", 1, 1, 10, 0.8), Event("a", 1, 20, 30, 0.5)]
    assert class_average_precision(dup, truth, 0.5) == pytest.approx((1 + 2 / 3) / 2)
    assert np.isnan(class_average_precision(preds, [], 0.5))


def test_event_map_over_thresholds_and_classes():
    truth = [Event("a", 1, 0, 10), Event("a", 2, 10, 20)]
    # class 1: IoU 0.4 -> a hit at 0.1 and 0.3, a miss at 0.5; class 2: exact
    preds = [Event("a", 1, 0, 4, 0.9), Event("a", 2, 10, 20, 0.8), Event("a", 3, 30, 40, 0.99)]
    r = event_map(preds, truth)
    assert r["classes"] == 2  # class 3 has no ground truth: its false alarm counts nowhere
    assert r["mAP@0.1"] == 1.0 and r["mAP@0.3"] == 1.0 and r["mAP@0.5"] == pytest.approx(0.5)
    # from frame probabilities: a perfect frame-wise prediction gives mAP 1
    probs = np.eye(3)[[0, 1, 1, 1, 0, 2, 2]] * 0.8 + 0.2 / 3
    rep = detection_report({"s": probs}, [Event("s", 1, 1, 4), Event("s", 2, 5, 7)])
    assert rep["mAP@0.5"] == 1.0 and rep["predicted_events"] == 2 and rep["true_events"] == 2


def test_frame_targets_and_smoothing():
    clip = Clip("c", np.zeros((10, 22, 3), np.float32), ("kick", "wave"), False, "t",
                segments=(Segment("kick", 2, 5), Segment("wave", 6, 12), Segment("other", 0, 1)))
    assert frame_targets(clip, ["wave", "kick"]).tolist() == [0, 0, 2, 2, 2, 0, 1, 1, 1, 1]
    probs = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 0.0]])
    np.testing.assert_allclose(smooth_probs(probs, 3), [[0.5, 0.5], [2 / 3, 1 / 3], [2 / 3, 1 / 3], [1.0, 0.0]])
    np.testing.assert_array_equal(smooth_probs(probs, 1), probs)


# ---- end to end ----------------------------------------------------------------------------------
ACTIONS = ("kick", "wave", "jump", "squat")


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    root = tmp_path_factory.mktemp("probe")
    clips = generate_corpus(10, seed=0, num_sequences=0, classes=ACTIONS, num_subjects=5)
    export_dataset(clips, root / "cls")
    seqs = []
    for j in range(8):
        rng = np.random.default_rng([7, j])
        order = [ACTIONS[(j + k) % 3] for k in range(3)]
        clip = generate_sequence(rng, actions=order, clip_id=f"seq{j}")
        clip.split = "test" if j >= 5 else "train"
        seqs.append(clip)
    export_dataset(Dataset("seqs", seqs, ACTIONS), root / "det")
    return root


def test_probe_end_to_end(tmp_path, folders, monkeypatch, capsys):
    monkeypatch.setenv("MOTIONVIGIL_CACHE", str(tmp_path / "cache"))
    run = tmp_path / "run"
    data = f"folder:{folders / 'cls'}"
    assert main(["pretrain", "--data", data, "--encoder", "unik", "--objective", "tmor", "--epochs", "2",
                 "--batch-size", "8", "--lr", "1e-3", "-o", str(run)]) == 0
    capsys.readouterr()
    log = [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]
    assert len(log) == 2 and "tmor/clusters" in log[1] and "tmor/noise_fraction" in log[1]

    assert main(["probe", str(run), "--data", data, "--mode", "linear", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    r = report["datasets"][data]
    assert report["init"] == "pretrained" and report["objective"] == "tmor:mm+mt"
    assert r["classes"] == 4 and r["n_train"] + r["n_val"] + r["n_test"] == 40
    assert r["top1"] > 25.0  # 4 distinct actions: above chance
    assert r["top1"] <= r["top5"] == 100.0 and 0.0 <= r["mAP"] <= 100.0
    zs = r["zero_shot"]
    assert zs["text_side"].startswith("tmor") and zs["n"] == r["n_test"] and zs["chance_top1"] == 25.0

    out = tmp_path / "ft.json"
    assert main(["probe", str(run), "--data", data, "--mode", "finetune", "--epochs", "2", "--scratch",
                 "--json", "-o", str(out)]) == 0
    ft = json.loads(capsys.readouterr().out)
    assert json.loads(out.read_text()) == ft
    r = ft["datasets"][data]
    assert ft["init"] == "scratch" and 1 <= r["best_epoch"] <= 2 and "zero_shot" not in r and 0 <= r["top1"] <= 100

    det = f"folder:{folders / 'det'}"
    assert main(["probe", str(run), "--data", det, "--task", "detect", "--mode", "linear", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)["datasets"][det]
    assert d["n_test"] == 3 and d["n_train"] + d["n_val"] == 5 and d["classes"] == 3  # squat is in no sequence
    assert 100.0 >= d["mAP@0.1"] >= d["mAP@0.3"] >= d["mAP@0.5"] >= 0.0
    assert d["true_events"] == 9 and 0.0 <= d["frame_acc"] <= 100.0
    assert main(["probe", str(run), "--data", det, "--task", "detect", "--mode", "finetune", "--epochs", "2",
                 "--json"]) == 0
    d = json.loads(capsys.readouterr().out)["datasets"][det]
    assert 1 <= d["best_epoch"] <= 2 and 100.0 >= d["mAP@0.1"] >= d["mAP@0.5"] >= 0.0


def test_detection_needs_frame_features(tmp_path, folders, monkeypatch, capsys):
    monkeypatch.setenv("MOTIONVIGIL_CACHE", str(tmp_path / "cache"))
    run = tmp_path / "tmr"
    assert main(["pretrain", "--data", f"folder:{folders / 'cls'}", "--epochs", "1", "--batch-size", "8",
                 "-o", str(run)]) == 0
    capsys.readouterr()
    assert main(["probe", str(run), "--data", f"folder:{folders / 'det'}", "--task", "detect"]) == 2
    assert "per-frame features" in capsys.readouterr().err
