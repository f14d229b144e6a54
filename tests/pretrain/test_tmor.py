"""T-MOR: DBSCAN masks, the cluster-guided loss, augmentation, the UNIK encoder, training."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from motionvigil.features.humanml3d import LOCAL_VEL, RIC, ROOT_LIN_VEL, ROTATIONS, joints_to_features
from motionvigil.models import preset
from motionvigil.models.bundle import MotionTextBundle
from motionvigil.models.inputs import MotionInputs
from motionvigil.models.motion_text import MotionTextModel
from motionvigil.models.text import TextEmbeddingCache
from motionvigil.models.unik import UnikEncoder
from motionvigil.pretrain import PretrainRun, TrainSettings
from motionvigil.pretrain.batches import PairSource
from motionvigil.pretrain.tmor import (
    NOISE,
    TERMS,
    TmorSettings,
    augmented_sequence,
    choose_dbscan,
    cluster_contrastive,
    cluster_embeddings,
    cluster_stats,
    pairwise_scores,
    positive_mask,
    rotate_features,
    rotate_vertical,
    text_masks,
)
from motionvigil.pretrain.tmor_objective import TmorObjective, load_heads
from motionvigil.training.runtime import Runtime

from toy_motion import toy_clip


@pytest.fixture(scope="module")
def clips():
    rng = np.random.default_rng(0)
    return [toy_clip(i, rng, walk=True, labelled=True) for i in range(30)]


@pytest.fixture(scope="module")
def text_cache(tmp_path_factory):
    return TextEmbeddingCache(tmp_path_factory.mktemp("text"))


@pytest.fixture(scope="module")
def visual_npz(tmp_path_factory, clips):
    """Stand-in "frozen video features" (no video exists here): a class direction + noise per clip."""
    rng = np.random.default_rng(1)
    directions = rng.normal(size=(3, 32))
    path = tmp_path_factory.mktemp("visual") / "visual.npz"
    np.savez(path, **{c.clip_id: (directions[i % 3] + 0.1 * rng.normal(size=32)).astype(np.float32)
                      for i, c in enumerate(clips)})
    return path


# ---- DBSCAN, masks and the loss on hand-made cases ----------------------------------------
def test_positive_mask_hand_made_with_noise():
    clusters = torch.tensor([0, 0, 1, NOISE, NOISE, 1])
    expected = torch.tensor([
        [1, 1, 0, 0, 0, 0],
        [1, 1, 0, 0, 0, 0],
        [0, 0, 1, 0, 0, 1],
        [0, 0, 0, 1, 0, 0],  # noise: only its own other view, even against another noise point
        [0, 0, 0, 0, 1, 0],
        [0, 0, 1, 0, 0, 1],
    ], dtype=torch.bool)
    assert torch.equal(positive_mask(clusters), expected)


def test_dbscan_finds_two_clusters_and_a_noise_point():
    angles = np.radians([0.0, 2.0, 4.0, 90.0, 92.0, 94.0, 200.0])
    emb = np.stack([np.cos(angles), np.sin(angles)], 1) * np.array([[1.0], [3.0], [0.5], [2.0], [1.0], [7.0], [1.0]])
    labels = cluster_embeddings(emb, eps=0.01, min_samples=2)  # cosine distance: scale does not matter
    assert labels[0] == labels[1] == labels[2] != NOISE
    assert labels[3] == labels[4] == labels[5] != NOISE
    assert labels[0] != labels[3] and labels[6] == NOISE
    assert cluster_stats(labels) == {"clusters": 2, "noise_fraction": pytest.approx(1 / 7),
                                     "largest_fraction": pytest.approx(3 / 7)}
    # from the DBSCAN labels to the positives / negatives of the contrastive terms
    mask = positive_mask(torch.as_tensor(labels))
    assert mask[0, 2] and mask[5, 3] and not mask[0, 3] and not mask[6, 0] and mask[6, 6] and mask[6].sum() == 1


def test_cluster_contrastive_matches_hand_computation():
    a = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    c = torch.tensor([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    pos = torch.tensor([[1, 1, 0], [1, 1, 0], [0, 0, 1]], dtype=torch.bool)
    t = 0.5
    cos = torch.nn.functional.normalize(a, dim=1) @ torch.nn.functional.normalize(c, dim=1).T
    e = torch.exp(cos / t)
    rows = [-math.log((e[i] * pos[i]).sum() / e[i].sum()) for i in range(3)]
    cols = [-math.log((e[:, j] * pos[:, j]).sum() / e[:, j].sum()) for j in range(3)]
    expected = 0.5 * (np.mean(rows) + np.mean(cols))
    assert float(cluster_contrastive(a, c, pos, t)) == pytest.approx(expected, rel=1e-6)
    # excluded candidates take no part; with all others positive the loss is zero
    excluded = torch.tensor([[0, 0, 1], [0, 0, 1], [1, 1, 0]], dtype=torch.bool)
    assert float(cluster_contrastive(a, c, pos, t, excluded)) == pytest.approx(0.0, abs=1e-6)
    with pytest.raises(ValueError, match="diagonal"):
        cluster_contrastive(a, c, pos & ~torch.eye(3, dtype=torch.bool), t)


def test_text_masks_leave_out_same_cluster_and_same_caption():
    clusters = torch.tensor([0, 0, 1, NOISE])
    sentences = torch.nn.functional.normalize(torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0], [0.0, -1.0]]), dim=1)
    pos, excluded = text_masks(clusters, sentences, 0.6)
    assert torch.equal(pos, torch.eye(4, dtype=torch.bool))
    assert excluded[0, 1] and excluded[1, 0]  # same cluster
    assert excluded[0, 2] and excluded[2, 0]  # same caption, other cluster
    assert not excluded[0, 3] and not excluded[3, 1] and not excluded.diagonal().any()


def test_dbscan_parameters_chosen_on_validation_pairs():
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(3, 16))
    emb = np.concatenate([centres[k] + 0.2 * rng.normal(size=(5, 16)) for k in range(3)])
    classes = np.repeat(["a", "b", "c"], 5)
    assert pairwise_scores(np.repeat([0, 1, 2], 5), classes) == {"precision": 1.0, "recall": 1.0, "f1": 1.0,
                                                                  "fbeta": 1.0}
    one = pairwise_scores(np.zeros(15, dtype=int), classes)
    p = 30 / 105
    assert one["recall"] == 1.0 and one["precision"] == pytest.approx(p)
    assert one["fbeta"] == pytest.approx(1.25 * p / (0.25 * p + 1))  # beta 0.5 weighs precision
    eps, ms, table = choose_dbscan(emb, classes, eps_grid=(0.001, 0.05, 0.9), min_samples_grid=(2, 3))
    # too small: all noise (F1 0); too large: classes merge; ties go to the larger min_samples
    assert eps == 0.05 and ms == 3 and len(table) == 6
    f1 = {(r["eps"], r["min_samples"]): r["f1"] for r in table}
    assert f1[(0.001, 2)] == 0.0 and f1[(0.05, 3)] > f1[(0.9, 3)] > 0.0
    # a setting that puts most of the TRAINING set into one cluster is not eligible
    train = np.concatenate([centres[0] + 0.2 * rng.normal(size=(8, 16)), centres[1] + 0.2 * rng.normal(size=(2, 16))])
    eps, ms, table = choose_dbscan(emb, classes, (0.05, 0.9), (3,), train_embeddings=train, max_cluster_fraction=0.5)
    assert eps is None and ms is None and not any(r["eligible"] for r in table)
    eps, ms, _ = choose_dbscan(emb, classes, (0.05, 0.9), (3,), train_embeddings=train, max_cluster_fraction=0.9)
    assert (eps, ms) == (0.05, 3)


# ---- the positive view -----------------------------------------------------------------------
def test_rotation_of_features_is_not_a_rotation_of_joints(clips):
    joints = clips[0].joints
    feats = joints_to_features(joints)
    # rotating the joints is a no-op for the 263-dim features (they are canonicalised) ...
    np.testing.assert_allclose(joints_to_features(rotate_vertical(joints, 0.7)), feats, atol=1e-4)
    # ... so the augmentation turns the facing-frame blocks instead
    turned = rotate_features(feats, 0.7)
    assert np.abs(turned[:, RIC] - feats[:, RIC]).max() > 0.05
    np.testing.assert_allclose(turned[:, RIC].reshape(len(feats), -1, 3),
                               rotate_vertical(feats[:, RIC].reshape(len(feats), -1, 3), 0.7), atol=1e-6)
    np.testing.assert_array_equal(turned[:, ROTATIONS], feats[:, ROTATIONS])
    speed = np.linalg.norm(feats[:, ROOT_LIN_VEL], axis=1)
    np.testing.assert_allclose(np.linalg.norm(turned[:, ROOT_LIN_VEL], axis=1), speed, atol=1e-6)
    np.testing.assert_allclose(rotate_features(turned, -0.7), feats, atol=1e-5)
    assert np.abs(turned[:, LOCAL_VEL] - feats[:, LOCAL_VEL]).max() > 0


@pytest.mark.parametrize("kind", ["unik", "tmr"])
def test_augmented_view_is_cropped_and_rotated(clips, kind):
    inputs = MotionInputs.fit(kind, clips, max_frames=40)
    clip = clips[1]
    full = inputs.sequence(clip)
    rng = np.random.default_rng(3)
    for _ in range(5):
        view = augmented_sequence(clip, inputs, rng, min_crop=0.5)
        limit = min(len(full), 40)
        assert view.shape[1] == full.shape[1] and min(limit, 16) <= len(view) <= limit
    no_turn = augmented_sequence(clip, inputs, np.random.default_rng(0), max_angle=0.0, min_crop=1.0)
    start = next(s for s in range(len(full) - len(no_turn) + 1) if np.allclose(full[s : s + len(no_turn)], no_turn))
    assert start >= 0
    turned = augmented_sequence(clip, inputs, np.random.default_rng(0), max_angle=math.pi, min_crop=1.0)
    assert np.abs(turned - no_turn).max() > 0.1


# ---- the UNIK encoder ------------------------------------------------------------------------
def test_unik_encoder_shapes_masks_and_padding_invariance():
    torch.manual_seed(0)
    cfg = preset("tiny", "unik")
    enc = UnikEncoder(cfg.unik, cfg.embed_dim).eval()
    x = torch.randn(3, 20, 66)
    mask = torch.ones(3, 20, dtype=torch.bool)
    mask[1, 12:] = False
    mask[2, 5:] = False
    out = enc(x, mask)
    assert out.shape == (3, cfg.embed_dim) and torch.isfinite(out).all()
    frames = enc.frame_features(x, mask)
    assert frames.shape == (3, 20, cfg.unik.channels[-1])
    assert torch.all(frames[1, 12:] == 0) and torch.all(frames[2, 5:] == 0) and frames[1, :12].abs().sum() > 0
    # what lies in padded frames does not matter, and a clip alone gives the same output
    garbage = x.clone()
    garbage[1, 12:] = 100.0
    torch.testing.assert_close(enc(garbage, mask), out)
    torch.testing.assert_close(enc(x[1:2, :12], mask[1:2, :12]), out[1:2], atol=1e-5, rtol=1e-4)
    with pytest.raises(ValueError, match="66"):
        enc(torch.randn(1, 5, 63), torch.ones(1, 5, dtype=torch.bool))


def test_unik_plugs_into_model_inputs_and_checkpoints(tmp_path, clips):
    cfg = preset("tiny", "unik")
    torch.manual_seed(0)
    model = MotionTextModel(cfg)
    inputs = MotionInputs.fit("unik", clips, cfg.max_frames)
    bundle = MotionTextBundle(model, inputs)
    emb = bundle.embed_clips(clips[:5])
    assert emb.shape == (5, cfg.embed_dim)
    bundle.save(tmp_path / "m")
    again = MotionTextBundle.load(tmp_path / "m")
    assert again.config == cfg and again.inputs.kind == "unik"
    np.testing.assert_allclose(again.embed_clips(clips[:5]), emb, atol=1e-6)


# ---- training -------------------------------------------------------------------------------
def test_loss_decreases_on_a_toy_batch(clips, text_cache, visual_npz):
    torch.manual_seed(0)
    cfg = preset("tiny", "unik")
    model = MotionTextModel(cfg)
    objective = TmorObjective(model, TmorSettings(terms=TERMS, visual_features=str(visual_npz)))
    inputs = MotionInputs.fit("unik", clips, cfg.max_frames)
    source = PairSource.build(clips[:12], inputs, text_cache)
    clusters = np.array([0, NOISE, 1, 0, NOISE, 1, 0, NOISE, 1, 0, 2, 2])
    batch = objective.batch(source, list(range(12)), inputs, text_cache, np.random.default_rng(0), clusters)
    assert batch["augmented"].shape[0] == 12 and batch["visual"].shape == (12, 32)
    assert batch["clusters"].tolist() == clusters.tolist()
    optimizer = torch.optim.AdamW(objective.parameters(), lr=3e-3)
    objective.train()
    losses = []
    for _ in range(25):
        terms = objective(batch)
        assert set(terms) == {"mm", "mv", "mt", "contrastive", "loss"}
        optimizer.zero_grad()
        terms["loss"].backward()
        optimizer.step()
        losses.append(float(terms["loss"].detach()))
    assert losses[-1] < 0.6 * losses[0]


def _tmor_run(out, clips, text_cache, visual_npz, epochs):
    settings = TrainSettings(epochs=epochs, batch_size=8, lr=1e-3, seed=0, progress=False, objective="tmor",
                             tmor=TmorSettings(terms=TERMS, self_supervised_epochs=1, visual_features=str(visual_npz),
                                               eps_grid=(0.05, 0.2), min_samples_grid=(2, 3),
                                               max_cluster_fraction=0.9))
    return PretrainRun(out, preset("tiny", "unik"), settings, Runtime(torch.device("cpu")), text_cache).fit(
        clips[:22], clips[22:], resume=True)


def test_tmor_pretraining_logs_clusters_and_resumes_identically(tmp_path, clips, text_cache, visual_npz):
    straight = _tmor_run(tmp_path / "a", clips, text_cache, visual_npz, epochs=3)
    log = [json.loads(line) for line in (tmp_path / "a" / "log.jsonl").read_text().splitlines()]
    assert [r["tmor/terms"] for r in log] == ["mm+mv", "mm+mv+mt", "mm+mv+mt"]
    assert log[0]["tmor/noise_fraction"] == 1.0 and log[0]["tmor/clusters"] == 0  # epoch 1: nothing to cluster yet
    for r in log[1:]:  # eps / min_samples chosen on the validation clips, largest cluster capped
        assert r["tmor/eps"] in (0.05, 0.2) and r["tmor/min_samples"] in (2, 3) and "tmor/fallback" not in r
        assert 0.0 <= r["tmor/noise_fraction"] < 1.0 and r["tmor/clusters"] >= 1 and "tmor/val_pair_fbeta" in r
        assert r["tmor/largest_fraction"] <= 0.9
    assert "train/mt" not in log[0] and "train/mt" in log[1] and "val/mt" in log[0]
    heads = load_heads(tmp_path / "a" / "best")
    assert heads is not None and set(heads) == {"motion", "text", "visual"}
    run_b = tmp_path / "b"
    _tmor_run(run_b, clips, text_cache, visual_npz, epochs=2)
    resumed = _tmor_run(run_b, clips, text_cache, visual_npz, epochs=3)
    for p, q in zip(straight.model.parameters(), resumed.model.parameters()):
        assert torch.equal(p, q)
    last_a, last_b = load_heads(tmp_path / "a" / "last"), load_heads(run_b / "last")
    for p, q in zip(last_a.parameters(), last_b.parameters()):
        assert torch.equal(p, q)


def test_settings_refuse_bad_terms():
    with pytest.raises(ValueError, match="visual_features"):
        TmorSettings(terms=("mm", "mv"))
    with pytest.raises(ValueError, match="subset"):
        TmorSettings(terms=("mm", "xx"))
    with pytest.raises(ValueError, match="stage 1"):
        TmorSettings(terms=("mt",), self_supervised_epochs=2).active_terms(0)
    assert TmorSettings(terms=("mm", "mt"), self_supervised_epochs=2).active_terms(1) == ("mm",)


def test_runs_saved_before_the_unik_config_existed_still_resume():
    from motionvigil.pretrain.trainer import _normalised_model

    current = preset("tiny", "tmr")
    old = current.to_dict()
    del old["unik"]  # what a run folder written before this option holds
    assert _normalised_model(old, current) == current.to_dict()
    assert _normalised_model(preset("paper", "tmr").to_dict(), current) != current.to_dict()
    assert _normalised_model({"bogus": 1}, current) is None
