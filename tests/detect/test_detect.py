"""Detection: detectors (build, thresholds, save/load), streaming == offline, alert segments, CLI.

The model is a randomly initialised tiny bundle: none of these properties needs a
trained encoder (scores are compared between code paths, not judged for accuracy).
"""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import torch

from motionvigil.cli import main
from motionvigil.datasets.folder import export_dataset
from motionvigil.datasets.labelled import LabelledSet
from motionvigil.datasets.synthetic import generate_corpus, generate_sequence
from motionvigil.detect import (
    Detector,
    StreamingDetector,
    WindowResult,
    alert_segments,
    detect_motion,
    timeline_json,
)
from motionvigil.detect.support import select_support
from motionvigil.detect.thresholds import leave_one_out_violence
from motionvigil.detect.windows import centre_crop
from motionvigil.errors import MotionFileError
from motionvigil.metrics.classification import best_f1_threshold, threshold_for_fpr
from motionvigil.fewshot.adaptation import AdaptSettings, encoder_params
from motionvigil.io import KINECT_SDK, SMPL22, Motion, load_motion
from motionvigil.io.arrays import save_npz
from motionvigil.losses import class_prototypes
from motionvigil.models import MotionTextModel, preset
from motionvigil.models.bundle import MotionTextBundle
from motionvigil.models.inputs import MotionInputs
from motionvigil.skeleton.resample import resample_joints
from motionvigil.models.checkpoint import read_config, weights_path
from motionvigil.datasets.synthetic.sensors import as_kinect_sdk

CLASSES = ("kick", "punch", "walk", "wave", "clap")
TOL = 1e-5


@pytest.fixture(scope="module")
def corpus():
    return generate_corpus(4, seed=0, num_sequences=0, classes=CLASSES)


@pytest.fixture(scope="module")
def bundle(corpus) -> MotionTextBundle:
    torch.manual_seed(0)
    return MotionTextBundle(MotionTextModel(preset("tiny")), MotionInputs.fit("tmr", corpus.clips, 64))


@pytest.fixture(scope="module")
def support(corpus) -> LabelledSet:
    return LabelledSet.build(corpus.clips, CLASSES)


@pytest.fixture(scope="module")
def detector(bundle, support) -> Detector:
    return Detector.build(bundle, support)


@pytest.fixture(scope="module")
def sequence() -> np.ndarray:
    """SMPL-22 joints at 20 Hz of walk -> punch -> kick (about 8-10 s)."""
    return generate_sequence(np.random.default_rng(1), actions=["walk", "punch", "kick"]).joints


def brute_force_loo(detector: Detector, support: LabelledSet) -> np.ndarray:
    """Each support clip's violence score against prototypes rebuilt without it."""
    z = torch.from_numpy(detector.bundle.embed_clips([centre_crop(c, detector.window) for c in support.clips]))
    labels = torch.from_numpy(support.labels)
    out = []
    for i in range(len(z)):
        keep = torch.arange(len(z)) != i
        protos = class_prototypes(z[keep], labels[keep])
        cos = torch.nn.functional.normalize(z[i], dim=0) @ protos.T
        out.append(float(cos[torch.from_numpy(detector.violent)].max()))
    return np.array(out)


def assert_same_results(a: list[WindowResult], b: list[WindowResult], tol: float = TOL) -> None:
    assert len(a) == len(b) > 0
    for x, y in zip(a, b):
        assert (x.start_s, x.end_s) == pytest.approx((y.start_s, y.end_s), abs=1e-9)
        assert x.scores.keys() == y.scores.keys()
        np.testing.assert_allclose(list(x.scores.values()), list(y.scores.values()), atol=tol, rtol=0)
        assert x.violence == pytest.approx(y.violence, abs=tol)


# ---------------------------------------------------------------- detector and storage


def test_build_describes_threshold_and_policy(detector, support):
    assert detector.classes == CLASSES and detector.violent_classes == ("kick", "punch")
    assert detector.prototypes.shape == (5, detector.bundle.config.embed_dim)
    np.testing.assert_allclose(np.linalg.norm(detector.prototypes, axis=1), 1.0, atol=1e-6)
    assert detector.policy == "f1" and (detector.window, detector.stride) == (64, 10)
    text = detector.describe()
    assert f"threshold: {detector.threshold:.4f}" in text and "policy f1" in text and "4-shot" in text


def test_save_load_round_trip_gives_identical_scores(detector, sequence, tmp_path):
    detector.save(tmp_path / "det")
    loaded = Detector.load(tmp_path / "det")
    np.testing.assert_array_equal(loaded.prototypes, detector.prototypes)
    assert loaded.classes == detector.classes and loaded.threshold == detector.threshold
    assert loaded.policy == detector.policy
    np.testing.assert_array_equal(loaded.violent, detector.violent)
    assert loaded.calibration == detector.calibration and loaded.describe() == detector.describe()
    motion = Motion(sequence, 20.0, SMPL22)
    a, b = detect_motion(detector, motion), detect_motion(loaded, motion)
    assert [w.scores for w in a.windows] == [w.scores for w in b.windows]  # bit-identical


def test_adapted_detector_keeps_its_weights(bundle, support, sequence, tmp_path):
    before = {k: v.detach().clone() for k, v in encoder_params(bundle).items()}
    det = Detector.build(bundle, support, adapt=True, settings=AdaptSettings(steps=2))
    after = encoder_params(det.bundle)
    assert all(torch.equal(before[k], v) for k, v in encoder_params(bundle).items())  # caller's model untouched
    assert any(not torch.equal(before[k], after[k]) for k in before)
    assert "encoder adapted (2 steps" in det.describe()
    det.save(tmp_path / "adapted")
    loaded = Detector.load(tmp_path / "adapted")
    motion = Motion(sequence, 20.0, SMPL22)
    assert [w.scores for w in detect_motion(det, motion).windows] == [
        w.scores for w in detect_motion(loaded, motion).windows
    ]


def test_corrupt_or_wrong_folders_raise_motion_file_error(detector, bundle, tmp_path):
    with pytest.raises(MotionFileError, match="not a detector folder"):
        Detector.load(tmp_path)
    bundle.save(tmp_path / "model")
    with pytest.raises(MotionFileError, match="not a detector"):
        Detector.load(tmp_path / "model")
    detector.save(tmp_path / "det")
    broken = tmp_path / "broken"
    shutil.copytree(tmp_path / "det", broken)
    weights = weights_path(broken, read_config(broken))
    data = bytearray(weights.read_bytes())
    data[len(data) // 2] ^= 0xFF
    weights.write_bytes(bytes(data))
    with pytest.raises(MotionFileError, match="SHA-256"):
        Detector.load(broken)
    edited = tmp_path / "edited"
    shutil.copytree(tmp_path / "det", edited)
    config = json.loads((edited / "config.json").read_text())
    config["detector"]["violent"] = config["detector"]["violent"][:2]
    (edited / "config.json").write_text(json.dumps(config))
    with pytest.raises(MotionFileError, match="invalid detector settings"):
        Detector.load(edited)


# ----------------------------------------------------------------------- thresholds


def test_leave_one_out_scores_match_rebuilt_prototypes(detector, support):
    z = detector.bundle.embed_clips([centre_crop(c, 64) for c in support.clips])
    loo = leave_one_out_violence(z, support.labels, detector.violent)
    np.testing.assert_allclose(loo, brute_force_loo(detector, support), atol=1e-5)


def test_f1_policy_uses_leave_one_out_scores(detector, support):
    loo = brute_force_loo(detector, support)
    truth = (support.labels & detector.violent).any(1)
    assert detector.threshold == pytest.approx(best_f1_threshold(loo, truth), abs=1e-6)
    det = Detector.build(detector.bundle, support, violent=["kick"])
    assert det.violent_classes == ("kick",)
    one_kick = [c for c in support.clips if c.labels[0] != "kick"] + [support.clips[0]]
    assert one_kick[-1].labels == ("kick",)
    with pytest.raises(ValueError, match="'f1' threshold needs"):  # a lone kick has no leave-one-out score
        Detector.build(detector.bundle, one_kick, CLASSES, violent=["kick"])
    det = Detector.build(detector.bundle, one_kick, CLASSES, violent=["kick"], target_fpr=0.1)
    assert det.calibration["n_violent"] == 0 and det.calibration["n_nonviolent"] == 16


@pytest.mark.parametrize("target", [0.0, 0.1, 0.25, 0.5])
def test_target_fpr_policy_bounds_support_false_alarms(bundle, support, target):
    det = Detector.build(bundle, support, target_fpr=target)
    assert det.policy == f"target_fpr={target:g}"
    # The detector's own (float64) leave-one-out scores: the threshold sits just above a
    # calm score, so the float32 brute force (equal within 1e-5, tested above) may land on
    # either side of it.
    z = bundle.embed_clips([centre_crop(c, det.window) for c in support.clips])
    loo = leave_one_out_violence(z, support.labels, det.violent)
    np.testing.assert_allclose(loo, brute_force_loo(det, support), atol=1e-5)
    calm = loo[~(support.labels & det.violent).any(1)]
    assert np.mean(calm >= det.threshold) <= target + 1e-12
    assert det.threshold == pytest.approx(threshold_for_fpr(calm, target), abs=1e-6)
    assert det.calibration["FPR"] <= target and det.calibration["n_nonviolent"] == len(calm) == 12
    assert f"policy target_fpr={target:g}" in det.describe()


def test_prompt_detector_and_calibration(bundle, support, tmp_path):
    from motionvigil.models.text import TextEmbeddingCache

    det = Detector.from_prompts(bundle, CLASSES, TextEmbeddingCache(tmp_path / "text"))
    text = bundle.embed_texts([f"a person {c}" for c in CLASSES], TextEmbeddingCache(tmp_path / "text"))
    np.testing.assert_allclose(det.prototypes, text / np.linalg.norm(text, axis=1, keepdims=True), atol=1e-6)
    assert det.policy == "fixed" and "prompts" in det.describe()
    calibrated = det.calibrate(support, target_fpr=0.25)
    calm = calibrated.calibration
    assert calibrated.policy == "target_fpr=0.25" and calm["FPR"] <= 0.25 and calm["n_nonviolent"] == 12
    np.testing.assert_array_equal(calibrated.prototypes, det.prototypes)


def test_support_selection_uses_train_clips_and_segments():
    ds = generate_corpus(3, seed=0, num_sequences=4, classes=CLASSES)
    chosen = select_support([ds], ("kick", "walk"), shots=10, seed=0)
    assert all(c.split == "train" for c in chosen.clips)
    assert all(len(c.labels) == 1 for c in chosen.clips)  # whole single-action clips or cut-out segments
    with pytest.raises(ValueError, match="unknown class"):
        select_support([ds], ("kick", "fly"), shots=2)


# ------------------------------------------------------------------ streaming == offline


def test_stream_equals_offline_smpl22_in_chunks(detector, sequence):
    offline = detect_motion(detector, Motion(sequence, 20.0, SMPL22))
    stream = StreamingDetector(detector)
    rng = np.random.default_rng(0)
    results, i = [], 0
    while i < len(sequence):
        n = int(rng.integers(1, 8))
        results += stream.push(sequence[i : i + n], SMPL22, 20.0)
        assert stream.buffered_frames <= detector.window - 1
        i += n
    assert_same_results(results, offline.windows)
    assert [r.alert for r in results] == [w.alert for w in offline.windows]


def test_stream_accepts_kinect_layout_at_30_fps(detector, sequence):
    kinect = as_kinect_sdk(resample_joints(sequence, 20.0, 30.0))
    offline = detect_motion(detector, Motion(kinect, 30.0, KINECT_SDK))
    stream = StreamingDetector(detector)
    results = [r for frame in kinect for r in stream.push(frame, KINECT_SDK, 30.0)]
    assert_same_results(results, offline.windows)
    with pytest.raises(ValueError, match="reset"):
        stream.push(sequence[:2], SMPL22, 20.0)
    with pytest.raises(MotionFileError, match="non-numeric, NaN"):
        stream.push(np.full((1, 20, 3), np.nan), KINECT_SDK, 30.0)
    with pytest.raises(MotionFileError, match=r"\[n, 20, 3\]"):
        stream.push(np.zeros((1, 22, 3)), KINECT_SDK, 30.0)


def test_stream_real_utkinect_file(detector, data_path):
    motion = load_motion(data_path("utkinect/joints/joints_s01_e01.txt"))
    assert motion.layout.name == "kinect_sdk"
    motion = motion.with_joints(motion.joints[:240])  # 8 s at 30 Hz
    offline = detect_motion(detector, motion)
    stream = StreamingDetector(detector)
    results = [r for frame in motion.joints for r in stream.push(frame, motion.layout, motion.fps)]
    assert_same_results(results, offline.windows)


def test_short_motion_gets_one_window(detector, sequence):
    timeline = detect_motion(detector, Motion(sequence[:30], 20.0, SMPL22))
    assert [(w.start_s, w.end_s) for w in timeline.windows] == [(0.0, 1.5)]


# ----------------------------------------------------------------------- alert segments


def _window(start: float, violence: float, threshold: float = 0.5, cls: str = "kick") -> WindowResult:
    return WindowResult(start, start + 3.2, {cls: violence, "walk": 0.1}, violence, violence >= threshold, cls)


def test_alert_segments_merge_overlapping_windows():
    windows = [_window(0.0, 0.6), _window(0.5, 0.9, cls="punch"), _window(1.0, 0.7), _window(1.5, 0.2),
               _window(2.0, 0.55), _window(9.0, 0.1), _window(20.0, 0.8), _window(30.0, 0.6)]
    segments = alert_segments(windows)
    assert [(s.start_s, s.end_s, s.top_class, s.windows) for s in segments] == [
        (0.0, pytest.approx(5.2), "punch", 4),  # the quiet window at 1.5 s lies inside the alert
        (20.0, pytest.approx(23.2), "kick", 1),
        (30.0, pytest.approx(33.2), "kick", 1),
    ]
    assert segments[0].max_score == 0.9
    assert alert_segments([_window(0.0, 0.1)]) == []


# ----------------------------------------------------------------------------- the CLI


def test_cli_detect_json_and_plot(detector, sequence, tmp_path, capsys):
    detector.save(tmp_path / "det")
    save_npz(tmp_path / "seq.npz", Motion(sequence, 20.0, SMPL22))
    plots = tmp_path / "plots"
    rc = main(["detect", str(tmp_path / "det"), str(tmp_path / "seq.npz"), "--json", "--plot-dir", str(plots)])
    assert rc == 0
    doc = json.loads(capsys.readouterr().out.strip())
    assert {"file", "timeline", "alerts"} <= doc.keys() and doc["file"] == str(tmp_path / "seq.npz")
    assert {"start", "end", "violence", "top_class"} <= doc["timeline"][0].keys()
    expected = timeline_json(detect_motion(detector, load_motion(tmp_path / "seq.npz")))
    assert doc["timeline"] == expected["timeline"] and doc["alerts"] == expected["alerts"]
    assert all({"start", "end", "class", "max_score"} <= a.keys() for a in doc["alerts"])
    png = plots / "seq.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cli_detect_bad_file(detector, tmp_path, capsys):
    detector.save(tmp_path / "det")
    (tmp_path / "bad.npz").write_bytes(b"not a numpy archive")
    plots = tmp_path / "plots"
    rc = main(["detect", str(tmp_path / "det"), str(tmp_path / "bad.npz"), "--plot-dir", str(plots)])
    err = capsys.readouterr().err
    assert rc == 3 and "motionvigil detect: error:" in err and "bad.npz" in err and len(err.splitlines()) == 1
    assert not plots.exists() or not any(plots.iterdir())
    assert main(["detect", str(tmp_path), str(tmp_path / "bad.npz")]) == 4  # not a detector folder


def test_cli_build_detector_from_folder_dataset(corpus, bundle, tmp_path, capsys):
    export_dataset(corpus, tmp_path / "data")
    bundle.save(tmp_path / "run" / "best")
    out = tmp_path / "det"
    rc = main(["build-detector", str(tmp_path / "run"), "--support", f"folder:{tmp_path / 'data'}",
               "--classes", "kick", "punch", "walk", "--shots", "2", "--no-head", "--target-fpr", "0.5", "-o", str(out)])
    assert rc == 0 and "policy target_fpr=0.5" in capsys.readouterr().out
    det = Detector.load(out)
    assert det.classes == ("kick", "punch", "walk") and det.info["shots"] == {"kick": 2, "punch": 2, "walk": 2}
    rc = main(["build-detector", str(tmp_path / "run"), "--support", f"folder:{tmp_path / 'data'}",
               "--classes", "walk", "wave", "-o", str(tmp_path / "none")])
    assert rc == 2 and "violent" in capsys.readouterr().err
