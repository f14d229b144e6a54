"""The transferable detector: kinematic features, the violence head, its threshold on
calm motion, detectors that carry a head (save/load, streaming, CLI), detection metrics."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import average_precision_score, roc_auc_score

from motionvigil.cli import main
from motionvigil.datasets.folder import export_dataset
from motionvigil.datasets.labelled import LabelledSet
from motionvigil.datasets.synthetic import generate_corpus, generate_sequence
from motionvigil.detect import Detector, StreamingDetector, detect_motion
from motionvigil.detect.head import ViolenceHead, kinematic_matrix
from motionvigil.detect.head_fit import (
    CalmScan,
    WindowTable,
    alert_rate_threshold,
    alert_spans,
    count_alerts,
    train_head,
)
from motionvigil.errors import MotionFileError
from motionvigil.features.kinematics import KINEMATIC_NAMES, kinematic_features, limb_speed_score
from motionvigil.io import SMPL22, Motion
from motionvigil.metrics.detection import auroc, bootstrap_ci, match_events, overlap_fraction
from motionvigil.metrics.classification import average_precision
from motionvigil.models import MotionTextModel, preset
from motionvigil.models.bundle import MotionTextBundle
from motionvigil.models.checkpoint import CONFIG
from motionvigil.models.inputs import MotionInputs

CLASSES = ("kick", "punch", "walk", "wave", "clap", "stand")


@pytest.fixture(scope="module")
def corpus():
    return generate_corpus(4, seed=3, num_sequences=0, classes=CLASSES)


@pytest.fixture(scope="module")
def detector(corpus) -> Detector:
    torch.manual_seed(0)
    bundle = MotionTextBundle(MotionTextModel(preset("tiny")), MotionInputs.fit("tmr", corpus.clips, 64))
    base = Detector.build(bundle, LabelledSet.build(corpus.clips, CLASSES))
    return base.with_head(corpus.clips, [c.violent for c in corpus.clips], procedural=2)


# ------------------------------------------------------------------ kinematic features


def test_kinematic_features_ignore_body_size_units_mirroring_and_heading(corpus):
    joints = corpus.clips[0].joints.astype(np.float64)
    base = kinematic_features(joints)
    assert base.shape == (len(KINEMATIC_NAMES),)
    np.testing.assert_allclose(kinematic_features(joints * 100.0), base, rtol=1e-4, atol=1e-4)  # metres -> cm
    mirrored = joints * np.array([-1.0, 1.0, 1.0])  # left/right swapped by geometry
    np.testing.assert_allclose(kinematic_features(mirrored), base, rtol=1e-4, atol=1e-4)
    c, s = np.cos(1.1), np.sin(1.1)
    turn = np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]])
    np.testing.assert_allclose(kinematic_features(joints @ turn.T + [3.0, 0.0, -2.0]), base, rtol=1e-4, atol=1e-4)


def test_kinematic_features_see_a_fast_strike():
    rest = np.tile(SMPL22_REST, (40, 1, 1))
    strike = rest.copy()
    strike[18:22, 21, 2] += np.linspace(0.0, 0.6, 4)  # right wrist thrown 60 cm forward in 0.15 s
    strike[22:, 21, 2] += 0.6
    a, b = kinematic_features(rest), kinematic_features(strike)
    speed = KINEMATIC_NAMES.index("arm_speed_max")
    assert a[speed] < 1e-6 < 1.0 < b[speed]
    assert limb_speed_score(strike) > limb_speed_score(rest)


def test_kinematic_features_refuse_bad_windows():
    with pytest.raises(ValueError, match="22, 3"):
        kinematic_features(np.zeros((10, 20, 3)))
    bad = np.tile(SMPL22_REST, (5, 1, 1))
    bad[2, 3, 1] = np.nan
    with pytest.raises(ValueError, match="finite"):
        kinematic_features(bad)


SMPL22_REST = np.array([
    [0, .95, 0], [.06, .9, 0], [-.06, .9, 0], [0, 1.05, 0], [.08, .5, 0], [-.08, .5, 0], [0, 1.2, 0],
    [.08, .08, 0], [-.08, .08, 0], [0, 1.3, 0], [.08, 0, .12], [-.08, 0, .12], [0, 1.5, 0], [.08, 1.42, 0],
    [-.08, 1.42, 0], [0, 1.65, 0], [.18, 1.42, 0], [-.18, 1.42, 0], [.2, 1.15, 0], [-.2, 1.15, 0],
    [.21, .9, 0], [-.21, .9, 0]])  # fmt: skip


# --------------------------------------------------------------------------- head


def test_head_separates_its_training_classes_and_round_trips_json(corpus):
    table = WindowTable.build(corpus.clips, 64, 10)
    head = table.fit()
    scores = table.clip_scores(head)
    assert auroc(scores, table.violent) > 0.9
    again = ViolenceHead.from_json(json.loads(json.dumps(head.to_json())))
    np.testing.assert_array_equal(again.score(table.features), head.score(table.features))


def test_head_refuses_one_class_and_bad_parameters():
    x = np.random.default_rng(0).normal(size=(10, len(KINEMATIC_NAMES)))
    with pytest.raises(ValueError, match="both violent and calm"):
        ViolenceHead.fit(x, np.zeros(10, bool), "kinematic")
    head = ViolenceHead.fit(x, np.arange(10) % 2 == 0, "kinematic")
    d = head.to_json()
    d["coef"] = d["coef"][:-1]
    with pytest.raises(ValueError, match="coefficients"):
        ViolenceHead.from_json(d)
    d = head.to_json()
    d["scale"][0] = 0.0
    with pytest.raises(ValueError, match="positive scales"):
        ViolenceHead.from_json(d)


# ---------------------------------------------------------------------- threshold


def test_count_alerts_merges_overlapping_windows_only():
    scan = CalmScan(np.array([0.9, 0.9, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.9]), np.arange(9) * 10, 200)
    assert count_alerts(scan, 64, 0.5) == 2  # windows 0,1 overlap; window 8 starts 80 > 10 + 64
    assert count_alerts(scan, 64, 0.95) == 0
    assert alert_spans(scan, 64, 0.5) == [(0.0, 74 / 20), (80 / 20, 144 / 20)]  # first start .. last end, seconds
    assert alert_spans(scan, 64, 0.95) == []


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(0, 1), min_size=3, max_size=60), st.floats(0.0, 30.0))
def test_alert_rate_threshold_meets_its_target_at_and_above_it(scores, target):
    scan = CalmScan(np.array(scores), np.arange(len(scores)) * 10, len(scores) * 10 + 64)
    threshold, rate = alert_rate_threshold([scan], 64, target)
    minutes = scan.frames / 20.0 / 60.0
    assert rate <= target + 1e-12
    for t in np.unique(scores):
        if t >= threshold:
            assert count_alerts(scan, 64, t) / minutes <= target + 1e-12


def test_train_head_needs_calm_clips(corpus):
    violent = [c for c in corpus.clips if c.violent]
    with pytest.raises(ValueError, match="calm"):
        train_head(violent, [True] * len(violent), 64, 10, procedural=0)


# ------------------------------------------------------------------ the detector


def test_detector_with_head_scores_by_head_and_saves_it(detector, tmp_path):
    assert detector.head is not None and detector.policy == "alerts_per_min=0.1"
    seq = generate_sequence(np.random.default_rng(1), actions=["walk", "punch", "kick"]).joints
    timeline = detect_motion(detector, Motion(seq, 20.0, SMPL22))
    kin = kinematic_matrix([seq[int(round(w.start_s * 20)) : int(round(w.end_s * 20))] for w in timeline.windows])
    np.testing.assert_allclose([w.violence for w in timeline.windows], detector.head.score(kin), atol=1e-9)
    assert "kinematic head" in detector.describe()
    detector.save(tmp_path / "det")
    loaded = Detector.load(tmp_path / "det")
    assert loaded.head is not None and loaded.threshold == detector.threshold
    again = detect_motion(loaded, Motion(seq, 20.0, SMPL22))
    np.testing.assert_allclose([w.violence for w in again.windows], [w.violence for w in timeline.windows], atol=1e-6)
    stream = StreamingDetector(loaded)
    live = stream.push(seq, SMPL22, 20.0)
    np.testing.assert_allclose([w.violence for w in live], [w.violence for w in timeline.windows], atol=1e-5)


def test_edited_head_in_config_is_a_one_line_error(detector, tmp_path):
    detector.save(tmp_path / "det")
    cfg = json.loads((tmp_path / "det" / CONFIG).read_text())
    cfg["detector"]["head"]["coef"] = [1.0]
    (tmp_path / "det" / CONFIG).write_text(json.dumps(cfg))
    with pytest.raises(MotionFileError, match="invalid detector settings"):
        Detector.load(tmp_path / "det")


@pytest.mark.slow
def test_cli_build_detector_uses_the_model_by_default_and_calm_data(corpus, detector, tmp_path, capsys):
    detector.bundle.save(tmp_path / "model")
    export_dataset(corpus, tmp_path / "data")
    calm = generate_corpus(3, seed=9, num_sequences=0, classes=("walk", "stand", "clap"))
    export_dataset(calm, tmp_path / "calm")
    assert main(["build-detector", str(tmp_path / "model"), "--support", f"folder:{tmp_path / 'data'}",
                 "--calm", f"folder:{tmp_path / 'calm'}", "--shots", "2", "--alerts-per-min", "0.5",
                 "-o", str(tmp_path / "det")]) == 0
    out = capsys.readouterr().out
    assert "learned model" in out and "alerts_per_min=0.5" in out
    loaded = Detector.load(tmp_path / "det")
    assert loaded.head.kind == "model"
    assert loaded.calibration["n_calm_clips"] > sum(not c.violent for c in corpus.clips if c.split == "train")
    assert main(["build-detector", str(tmp_path / "model"), "--support", f"folder:{tmp_path / 'data'}",
                 "--scorer", "kinematic", "--shots", "2", "-o", str(tmp_path / "det1")]) == 0
    assert "kinematic head" in capsys.readouterr().out and Detector.load(tmp_path / "det1").head.kind == "kinematic_head"
    assert main(["build-detector", str(tmp_path / "model"), "--support", f"folder:{tmp_path / 'data'}",
                 "--no-head", "--shots", "2", "-o", str(tmp_path / "det2")]) == 0
    assert Detector.load(tmp_path / "det2").head is None
    assert main(["build-detector", str(tmp_path / "model"), "--support", f"folder:{tmp_path / 'data'}",
                 "--target-fpr", "0.1", "-o", str(tmp_path / "det3")]) == 2
    assert "--no-head" in capsys.readouterr().err and not (tmp_path / "det3").exists()


# ------------------------------------------------------------------------ metrics


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 5), st.booleans()), min_size=2, max_size=40))
def test_auroc_and_ap_match_scikit_learn_with_ties(pairs):
    s = np.array([p[0] for p in pairs], float)
    y = np.array([p[1] for p in pairs])
    if y.all() or not y.any():
        assert np.isnan(auroc(s, y))
        return
    assert auroc(s, y) == pytest.approx(roc_auc_score(y, s))
    assert average_precision(s, y) == pytest.approx(average_precision_score(y, s))


def test_bootstrap_ci_brackets_the_estimate_and_keeps_both_classes():
    rng = np.random.default_rng(0)
    y = np.r_[np.ones(20, bool), np.zeros(80, bool)]
    s = rng.normal(size=100) + 1.5 * y
    lo, hi = bootstrap_ci(auroc, s, y, 300, 0)
    assert lo < auroc(s, y) < hi and hi - lo < 0.4


def test_event_matching_rule_is_half_of_the_shorter_interval():
    assert overlap_fraction((0.0, 2.0), (1.0, 10.0)) == pytest.approx(0.5)
    counts = match_events([(0.0, 2.0), (20.0, 22.0), (5.0, 5.5)], [(1.0, 10.0), (30.0, 31.0)])
    assert counts == {"events_found": 1, "events": 2, "alerts_matched": 2, "alerts": 3}
    assert match_events([], [(0.0, 1.0)]) == {"events_found": 0, "events": 1, "alerts_matched": 0, "alerts": 0}
