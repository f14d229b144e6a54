"""The learned violence model: networks and their calibration, the detector that carries
it (scores, pairs in a scene, save/load), and model training's refusals."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from motionvigil.datasets.labelled import LabelledSet
from motionvigil.datasets.synthetic import generate_corpus, generate_sequence
from motionvigil.datasets.synthetic.pairs import stage
from motionvigil.detect import Detector, detect_motion
from motionvigil.detect.model import PERSON_FEATURES, Net, ViolenceModel, person_matrix
from motionvigil.detect.model_fit import fold_groups, kinect_like, train_model
from motionvigil.detect.pairs import close_pairs
from motionvigil.errors import MotionFileError
from motionvigil.io import SMPL22, Motion
from motionvigil.models import MotionTextModel, preset
from motionvigil.models.bundle import MotionTextBundle
from motionvigil.models.checkpoint import CONFIG
from motionvigil.models.inputs import MotionInputs

CLASSES = ("kick", "punch", "walk", "wave", "clap", "stand")


@pytest.fixture(scope="module")
def corpus():
    return generate_corpus(6, seed=5, num_sequences=0, classes=CLASSES)


@pytest.fixture(scope="module")
def detector(corpus) -> Detector:
    torch.manual_seed(0)
    bundle = MotionTextBundle(MotionTextModel(preset("tiny")), MotionInputs.fit("tmr", corpus.clips, 64))
    base = Detector.build(bundle, LabelledSet.build(corpus.clips, CLASSES))
    return base.with_model(corpus.clips, [c.violent for c in corpus.clips], procedural=2, hidden=8, alpha=1.0)


def test_net_separates_its_classes_round_trips_json_and_calibration_rescales_it():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, len(PERSON_FEATURES)))
    y = x[:, 0] + 0.3 * rng.normal(size=400) > 0.5
    net = Net.fit(x, y, PERSON_FEATURES, hidden=8, alpha=0.1)
    assert ((net.score(x) >= 0.5) == y).mean() > 0.9
    again = Net.from_json(json.loads(json.dumps(net.to_json())), PERSON_FEATURES)
    np.testing.assert_allclose(again.score(x), net.score(x))
    flat = net.calibrated(net.logit(x) * 0.0 + rng.normal(size=400), y)  # logits that say nothing
    assert abs(flat.platt[0]) < 0.5 and 0.2 < flat.score(x).mean() < 0.8
    with pytest.raises(ValueError, match="feature names"):
        Net.from_json(net.to_json(), PERSON_FEATURES[:-1])
    with pytest.raises(ValueError, match="both"):
        Net.fit(x, np.ones(400, bool), PERSON_FEATURES)


def test_kinect_like_copies_keep_shape_and_stay_near_the_original(corpus):
    j = corpus.clips[0].joints
    copy = kinect_like(j, np.random.default_rng(0))
    assert copy.shape[1:] == (22, 3) and 0.7 * len(j) <= len(copy) <= 1.4 * len(j)
    assert np.isfinite(copy).all() and not np.allclose(copy[: min(len(j), len(copy))], j[: len(copy)])


def test_fold_groups_use_datasets_when_there_are_several_else_subjects(corpus):
    clips = corpus.clips[:10]
    groups = fold_groups(clips)
    assert set(groups) <= {f"fold{i}" for i in range(5)} and len(set(groups)) > 1
    from dataclasses import replace

    mixed = [replace(c, dataset="a" if i % 2 else "b") for i, c in enumerate(clips)]
    assert fold_groups(mixed) == [c.dataset for c in mixed]


def test_train_model_needs_both_classes(corpus):
    calm = [c for c in corpus.clips if not c.violent]
    with pytest.raises(ValueError, match="violent and calm"):
        train_model(calm, [False] * len(calm))


def test_detector_with_model_scores_people_and_pairs_and_saves_it(detector, tmp_path):
    assert isinstance(detector.head, ViolenceModel) and detector.head.pair is not None
    assert "learned model" in detector.describe()
    cal = detector.calibration
    assert cal["threshold"] < 0.999 or cal["calm_score_quantiles"]["0.999"] >= 0.999  # no saturated threshold
    seq = generate_sequence(np.random.default_rng(1), actions=["walk", "punch", "kick"]).joints
    timeline = detect_motion(detector, Motion(seq, 20.0, SMPL22))
    starts = [int(round(w.start_s * 20)) for w in timeline.windows]
    own = detector.head.score_windows([seq[s : s + detector.window] for s in starts])
    np.testing.assert_allclose([w.violence for w in timeline.windows], own, atol=1e-9)
    detector.save(tmp_path / "det")
    loaded = Detector.load(tmp_path / "det")
    assert isinstance(loaded.head, ViolenceModel) and loaded.threshold == detector.threshold
    a = seq[:64].astype(np.float64)
    rest = np.repeat(a[:1], 64, axis=0)
    scene = stage(a, rest, 0.05, np.random.default_rng(2))
    results = loaded.score_scene([0], [{3: scene[0], 7: scene[1]}])
    assert [r.persons for r in results] == [(3,), (7,), (3, 7)]
    assert results[2].violence == pytest.approx(float(loaded.head.score_pairs([scene[0]], [scene[1]])[0]))
    far = scene.copy()
    far[1, :, :, 0] += 5.0
    assert [r.persons for r in loaded.score_scene([0], [{3: far[0], 7: far[1]}])] == [(3,), (7,)]
    assert close_pairs({1: far[0], 2: far[1]}) == []


def test_edited_model_in_config_is_a_one_line_error(detector, tmp_path):
    detector.save(tmp_path / "det")
    cfg = json.loads((tmp_path / "det" / CONFIG).read_text())
    cfg["detector"]["head"]["person"]["w2"] = [1.0]
    (tmp_path / "det" / CONFIG).write_text(json.dumps(cfg))
    with pytest.raises(MotionFileError, match="invalid detector settings"):
        Detector.load(tmp_path / "det")


def test_person_matrix_of_no_windows_is_empty():
    assert person_matrix([]).shape == (0, len(PERSON_FEATURES))


def test_gated_scene_embeds_only_what_alerts_and_keeps_every_alert(detector):
    """The cascade on a scene: the same violence and alerts as embedding everything; a
    window is embedded only when it or a pair it is in reaches the gate, so a pair that
    alerts while neither person does still names a class."""
    seq = generate_sequence(np.random.default_rng(1), actions=["walk", "punch", "kick", "walk"]).joints
    a = seq.astype(np.float64)
    scene = stage(a, np.repeat(a[:1], len(a), axis=0), 0.05, np.random.default_rng(2))
    w, stride = detector.window, detector.stride
    starts = list(range(0, len(a) - w + 1, stride))
    scenes = [{3: scene[0, s : s + w], 7: scene[1, s : s + w]} for s in starts]
    full = detector.score_scene(starts, scenes)
    pairs = [r for r in full if len(r.persons) == 2]
    alone = {(r.start_s, r.persons[0]): r.violence for r in full if len(r.persons) == 1}
    # a gate between the persons' own peak and the pairs' peak: only pairs can reach it
    top_own, top_pair = max(alone.values()), max(r.violence for r in pairs)
    assert top_pair > top_own, "the staged strike should score higher as a pair than alone"
    gate = (top_own + top_pair) / 2
    embedded: list[int] = []

    def embed(ws):
        embedded.append(len(ws))
        return np.zeros((len(ws), detector.bundle.config.embed_dim), np.float32) + 1.0

    gated = detector.score_scene(starts, scenes, gate=gate, embed=embed)
    assert [(r.start_s, r.persons, r.violence, r.alert) for r in gated] == \
           [(r.start_s, r.persons, r.violence, r.alert) for r in full]
    hot = [r for r in gated if len(r.persons) == 2 and r.violence >= gate]
    assert hot and all(r.violent_class for r in hot)  # named through its persons' embeddings
    assert all(r.violent_class == "" for r in gated if len(r.persons) == 1 and r.violence < gate
               and not any(p.start_s == r.start_s and p.violence >= gate for p in hot))
    assert sum(embedded) == 2 * len({r.start_s for r in hot}) < 2 * len(starts)


def _scenes_table(n: int, signal: int, rng: np.random.Generator, groups: str) -> "WindowTable":
    """``n`` two-direction scenes, half violent, one window per item; the violent
    direction stands out on feature ``signal`` only."""
    from motionvigil.detect.head_fit import WindowTable
    from motionvigil.detect.model import PAIR_FEATURES

    x = rng.normal(0.0, 1.0, (2 * n, len(PAIR_FEATURES)))
    violent = np.zeros(2 * n, bool)
    violent[np.arange(0, 2 * n, 2)[: n // 2]] = True  # the first n/2 scenes' actor direction
    x[violent, signal] += 3.0
    return WindowTable(x, np.arange(2 * n), violent, np.array([groups] * (2 * n), dtype=object))


def test_real_scenes_weigh_as_chosen_on_their_folds():
    from motionvigil.detect.model_fit import ModelSettings, PairData, pair_training, weighted

    rng = np.random.default_rng(0)
    staged = _scenes_table(300, 0, rng, "staged")  # staged scenes: violence shows on feature 0
    real = _scenes_table(24, 1, rng, "real")  # real ones: on feature 1, which staged scenes never show
    both = weighted(staged, real, "balanced")
    w = both.weights()
    assert w[: 600].sum() == pytest.approx(w[600:].sum()) == pytest.approx(600.0)
    assert weighted(staged, real, "per_scene").weights()[600:].sum() == pytest.approx(48.0)
    folds = [f"set{(i // 2) % 4}" for i in range(48)]
    table, info = pair_training(PairData(staged, real, folds), ModelSettings(hidden=8, alpha=1.0), 0)
    assert info["real_weight"] == "balanced" and info["folds"] == 3
    assert info["validation_auroc"]["balanced"] > info["validation_auroc"]["per_scene"]
    assert table.weights()[600:].sum() == pytest.approx(600.0)
    assert "validation_by_class" not in info  # no labels given
    labels = ["punching" if real.violent[2 * j] else ("hugging" if j % 3 == 0 else "departing") for j in range(24)]
    _, info = pair_training(PairData(staged, real, folds, labels), ModelSettings(hidden=8, alpha=1.0), 0)
    record = info["validation_by_class"]
    assert record["scenes"] == {"departing": labels.count("departing"), "hugging": labels.count("hugging"),
                                "punching": 12}
    assert set(record["auroc_against"]) == {"departing", "hugging"}
    assert 0.0 <= record["violent_above_every_calm"] <= record["violent_above_every_calm_but_contact"] <= 1.0
    _, one = pair_training(PairData(staged, real, ["set0"] * 48), ModelSettings(), 0)
    assert one["real_weight"] == "per_scene" and "one fold" in one["reason"]
    alone, info = pair_training(PairData(staged, None), ModelSettings(), 0)
    assert len(alone.violent) == 600 and info["real_weight"] == "per_scene"


def test_the_pair_validation_record_by_class():
    from motionvigil.detect.model_fit import by_class

    scores = np.array([0.9, 0.8, 0.5, 0.95, 0.3, 0.6])
    violent = np.array([True, True, True, False, False, False])
    record = by_class(scores, violent, ["kicking", "punching", "pushing", "hugging", "departing", "departing"])
    assert record["auroc_against"] == {"departing": pytest.approx(5 / 6), "hugging": 0.0}
    assert record["violent_above_every_calm"] == 0.0  # the hug outscores every strike
    assert record["violent_above_every_calm_but_contact"] == pytest.approx(2 / 3)
    assert record["scenes"]["departing"] == 2


def test_copies_of_real_scenes_are_chosen_on_their_folds_and_never_cross_them():
    from dataclasses import replace

    from motionvigil.datasets.synthetic.pairs import PairScene
    from motionvigil.detect.head_fit import WindowTable
    from motionvigil.detect.model_fit import ModelSettings, PairData, pair_copies, pair_training

    rng = np.random.default_rng(1)
    scene = PairScene("s01s02/punching/001", rng.normal(size=(2, 40, 22, 3)).astype(np.float32), True, "sbu", "s01s02")
    copies, of = pair_copies([scene, scene], copies=3, seed=0)
    assert of == [0, 0, 0, 1, 1, 1] and all(c.joints.shape[0] == 2 and c.joints.shape[2:] == (22, 3) for c in copies)
    assert not np.array_equal(copies[0].joints, copies[1].joints)
    again, _ = pair_copies([scene], copies=3, seed=0)  # seeded by the scene's id: the same copies
    assert all(np.array_equal(a.joints, b.joints) for a, b in zip(again, copies[:3]))

    staged = _scenes_table(300, 0, rng, "staged")
    folds = [f"set{(i // 2) % 4}" for i in range(48)]
    # real scenes that are pure noise (random labels): only a network that saw a held-out
    # scene's own copies could rank the held-out scenes
    noise = rng.normal(0.0, 1.0, (48, staged.features.shape[1]))
    labels = np.zeros(48, bool)
    labels[np.arange(0, 48, 2)[rng.permutation(24)[:12]]] = True
    real = WindowTable(noise, np.arange(48), labels, np.array(["real"] * 48, dtype=object))
    dup = WindowTable(np.tile(noise, (4, 1)), np.arange(192), np.tile(labels, 4), np.array(["real"] * 192, dtype=object))
    copy_of = [j % 24 for j in range(96)]  # copy c of scene c % 24 (items 2c, 2c + 1)
    dup = replace(dup, features=np.concatenate([noise[2 * (c % 24) : 2 * (c % 24) + 2] for c in range(96)]),
                  violent=np.concatenate([labels[2 * (c % 24) : 2 * (c % 24) + 2] for c in range(96)]))
    table, info = pair_training(PairData(staged, real, folds, (), dup, copy_of), ModelSettings(hidden=16, alpha=1e-4),
                                0)
    assert set(info["validation_auroc"]) == {"per_scene", "balanced", "per_scene+copies", "balanced+copies"}
    assert info["validation_auroc"]["balanced+copies"] < 0.8  # the held-out scenes' copies were not trained on
    assert len(table.violent) == 600 + 48 + (192 if info["real_copies"] else 0)
    _, plain = pair_training(PairData(staged, real, folds), ModelSettings(hidden=8, alpha=1.0), 0)
    assert plain["real_copies"] == 0 and set(plain["validation_auroc"]) == {"per_scene", "balanced"}
