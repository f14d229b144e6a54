"""The procedural corpus ("synthetic"): determinism, vocabulary, physical plausibility,
annotations, subject-disjoint splits, HumanML3D features and a learnability baseline."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from motionvigil.datasets import VIOLENT_CATEGORIES, Dataset, is_violent, load_dataset
from motionvigil.datasets.synthetic import (
    ACTION_NAMES,
    ACTIONS,
    ACTIONS_BY_NAME,
    CONFUSABLE_PAIRS,
    generate_clip,
    generate_corpus,
    generate_sequence,
    load_synthetic,
    random_body,
)
from motionvigil.features.humanml3d import joints_to_features
from motionvigil.skeleton.smpl22 import REFERENCE_BONE_LENGTHS, bone_lengths, facing_direction

PELVIS, HEAD = 0, 15
L_ANKLE, R_ANKLE, L_FOOT, R_FOOT = 7, 8, 10, 11
L_WRIST, R_WRIST = 20, 21
FPS = 20.0


@pytest.fixture(scope="module")
def corpus() -> Dataset:
    return generate_corpus(20, seed=0, num_sequences=20)


def _singles(ds: Dataset):
    return [c for c in ds if c.meta["kind"] == "action"]


def _sequences(ds: Dataset):
    return [c for c in ds if c.meta["kind"] == "sequence"]


def _speeds(joints: np.ndarray) -> np.ndarray:
    """Per-frame joint speeds ``[T-1, 22]`` (m/s)."""
    return np.linalg.norm(np.diff(joints.astype(np.float64), axis=0), axis=-1) * FPS


# --------------------------------------------------------------------------- determinism


def test_same_seed_gives_identical_clip():
    a = generate_clip("punch", np.random.default_rng(5))
    b = generate_clip("punch", np.random.default_rng(5))
    assert a.joints.tobytes() == b.joints.tobytes()
    assert a.captions == b.captions and a.meta == b.meta


def test_same_seed_gives_identical_corpus_and_different_seeds_differ():
    a = generate_corpus(1, seed=3, num_sequences=3)
    b = generate_corpus(1, seed=3, num_sequences=3)
    c = generate_corpus(1, seed=4, num_sequences=3)
    assert [x.clip_id for x in a] == [x.clip_id for x in b]
    for x, y in zip(a, b):
        assert x.joints.tobytes() == y.joints.tobytes()
        fields = ("labels", "captions", "segments", "subject", "split")
        assert [getattr(x, f) for f in fields] == [getattr(y, f) for f in fields]
    differ = sum(x.joints.shape != z.joints.shape or not np.array_equal(x.joints, z.joints)
                 for x, z in zip(a, c))  # fmt: skip
    assert differ == len(a)


def test_different_rng_states_give_different_clips():
    a = generate_clip("walk", np.random.default_rng(0), num_frames=60)
    b = generate_clip("walk", np.random.default_rng(1), num_frames=60)
    assert not np.allclose(a.joints, b.joints)


# --------------------------------------------------------------------------- vocabulary


def test_vocabulary_covers_violent_categories_and_confusable_neighbours():
    assert len(ACTION_NAMES) >= 30
    assert len(set(ACTION_NAMES)) == len(ACTION_NAMES)
    assert set(VIOLENT_CATEGORIES) <= set(ACTION_NAMES)
    for violent, neighbour in CONFUSABLE_PAIRS:
        assert is_violent(violent) and not is_violent(neighbour), (violent, neighbour)
        assert violent in ACTIONS_BY_NAME and neighbour in ACTIONS_BY_NAME
    wanted = [("punch", "wave"), ("kick", "step"), ("kick", "walk"), ("grab person", "hug"),
              ("martial art", "dance"), ("hit", "reach"), ("hit", "point"), ("evade", "crouch"),
              ("evade", "duck")]  # fmt: skip
    assert set(wanted) <= set(CONFUSABLE_PAIRS)
    everyday = {"walk", "run", "jump", "sit down", "stand up", "turn", "raise arms", "clap", "throw",
                "pick up", "stretch", "bow", "squat", "jog in place", "wave both hands", "side step",
                "look around", "scratch head", "drink", "lift", "push", "pull"}  # fmt: skip
    assert everyday <= set(ACTION_NAMES)


def test_action_table_is_consistent():
    for spec in ACTIONS:
        assert (spec.category is not None) == is_violent(spec.name), spec.name
        assert spec.category in (None, *VIOLENT_CATEGORIES)
        assert 2 <= len(spec.captions) <= 4, spec.name
        if spec.limb is not None:
            assert spec.lateral and spec.limb in ("arm", "leg")
        uses_side = any("{side}" in t for t in spec.captions)
        assert uses_side == spec.lateral, spec.name


def test_dataset_vocabulary(corpus):
    assert corpus.name == "synthetic"
    assert corpus.classes == ACTION_NAMES
    assert set(corpus.violent_classes) == set(VIOLENT_CATEGORIES)
    counts = corpus.class_counts()
    assert all(counts[name] >= 20 for name in ACTION_NAMES)


# --------------------------------------------------------------------------- geometry


@pytest.mark.parametrize("name", ACTION_NAMES)
def test_bone_lengths_are_constant_and_human(name):
    for seed in range(2):
        clip = generate_clip(name, np.random.default_rng([11, seed]), noise=False)
        lengths = bone_lengths(clip.joints.astype(np.float64))
        assert np.ptp(lengths, axis=0).max() < 1e-4, name
        ratio = lengths.mean(axis=0) / REFERENCE_BONE_LENGTHS
        assert ratio.min() >= 0.8 - 1e-5 and ratio.max() <= 1.2 + 1e-5


def test_random_bodies_stay_within_limits_and_are_symmetric():
    rng = np.random.default_rng(0)
    for _ in range(200):
        body = random_body(rng)
        ratio = body.bone_lengths / REFERENCE_BONE_LENGTHS
        assert 0.8 <= ratio.min() and ratio.max() <= 1.2
        assert 0.85 <= body.height_factor <= 1.15
        # femur, tibia, upper arm, forearm: left and right share the jitter
        for left, right in ((4, 5), (7, 8), (18, 19), (20, 21)):
            assert ratio[left - 1] == pytest.approx(ratio[right - 1])


def test_sensor_noise_is_applied_and_in_range():
    clip = generate_clip("stand", np.random.default_rng(2))
    assert 0.005 <= clip.meta["noise_m"] <= 0.010
    assert np.ptp(bone_lengths(clip.joints.astype(np.float64)), axis=0).max() > 1e-3


def test_joint_speeds_are_human_and_finite(corpus):
    for clip in corpus:
        assert np.isfinite(clip.joints).all(), clip.clip_id
        speed = _speeds(clip.joints)
        ends = np.percentile(speed[:, [L_WRIST, R_WRIST, L_ANKLE, R_ANKLE]], 99)
        assert ends < 12.0, (clip.labels, ends)
        assert np.percentile(speed[:, PELVIS], 99) < 6.0, clip.labels


def test_feet_stay_on_the_floor(corpus):
    """The lowest foot joint is on the floor in a typical frame (the canonical floor is the
    clip's lowest noisy point, a few cm under the true floor; runs bounce)."""
    for clip in corpus:
        lowest = clip.joints[:, [L_ANKLE, R_ANKLE, L_FOOT, R_FOOT], 1].min(axis=1)
        assert lowest.min() >= 0.0, clip.labels
        assert np.median(lowest) < 0.08, (clip.labels, np.median(lowest))


def test_head_above_pelvis(corpus):
    """Head above pelvis in >= 95% of frames, except the crouching/bending classes
    (``ActionSpec.low``: crouch, duck, pick up, squat, lift), which may bring it down."""
    low = {spec.name for spec in ACTIONS if spec.low}
    assert low == {"crouch", "duck", "pick up", "squat", "lift"}
    for clip in _singles(corpus):
        if clip.labels[0] in low:
            continue
        j = clip.joints
        assert (j[:, HEAD, 1] > j[:, PELVIS, 1]).mean() >= 0.95, clip.labels


@pytest.mark.parametrize("name", [spec.name for spec in ACTIONS if spec.limb is not None])
def test_the_named_side_limb_moves_more(name):
    limb = ACTIONS_BY_NAME[name].limb
    left_joint, right_joint = (L_WRIST, R_WRIST) if limb == "arm" else (L_ANKLE, R_ANKLE)
    for seed in range(3):
        for side in ("left", "right"):
            clip = generate_clip(name, np.random.default_rng([21, seed]), side=side, noise=False)
            assert clip.meta["side"] == side
            rel = clip.joints.astype(np.float64) - clip.joints[:, :1].astype(np.float64)
            path = np.linalg.norm(np.diff(rel, axis=0), axis=-1).sum(axis=0)
            acting, other = (left_joint, right_joint) if side == "left" else (right_joint, left_joint)
            assert path[acting] > 1.1 * path[other], (name, side, path[acting], path[other])


def _turned_left_deg(joints: np.ndarray) -> float:
    """Signed change of facing from the first to the last frame (positive: to the left)."""
    f = facing_direction(joints[[0, -1]].astype(np.float64))
    return float(np.degrees(np.arctan2(f[0, 2] * f[1, 0] - f[0, 0] * f[1, 2], (f[0] * f[1]).sum())))


# what each action must visibly do (right-side clips; the canonical frame faces +Z, left is +X)
SEMANTIC_CHECKS = {
    "punch": lambda j: (j[:, R_WRIST, 2] - j[:, PELVIS, 2]).max() > 0.3,  # fist well in front
    "kick": lambda j: j[:, R_ANKLE, 1].max() > 0.35,  # kicking foot well off the floor
    "wave": lambda j: (j[:, R_WRIST, 1] - j[:, HEAD, 1]).max() > 0.0,  # hand above the head
    "raise arms": lambda j: (j[:, [L_WRIST, R_WRIST], 1].min(axis=1) - j[:, HEAD, 1]).max() > 0.0,
    "clap": lambda j: np.linalg.norm(j[:, L_WRIST] - j[:, R_WRIST], axis=-1).min() < 0.15,  # hands meet
    "scratch head": lambda j: np.linalg.norm(j[:, R_WRIST] - j[:, HEAD], axis=-1).min() < 0.2,
    "sit down": lambda j: j[-1, PELVIS, 1] < 0.85 * j[0, PELVIS, 1],
    "stand up": lambda j: j[0, PELVIS, 1] < 0.85 * j[-1, PELVIS, 1],
    "squat": lambda j: j[:, PELVIS, 1].min() < 0.8 * j[0, PELVIS, 1],
    "crouch": lambda j: j[:, PELVIS, 1].min() < 0.8 * j[0, PELVIS, 1],
    "pick up": lambda j: j[:, R_WRIST, 1].min() < 0.45,  # hand down near the floor
    "jump": lambda j: j[:, [L_ANKLE, R_ANKLE, L_FOOT, R_FOOT], 1].min(axis=1).max() > 0.08,  # airborne
    "walk": lambda j: np.linalg.norm(j[-1, PELVIS, [0, 2]] - j[0, PELVIS, [0, 2]]) > 1.0,
    "run": lambda j: np.linalg.norm(j[-1, PELVIS, [0, 2]] - j[0, PELVIS, [0, 2]]) > 2.0,
    "side step": lambda j: j[-1, PELVIS, 0] - j[0, PELVIS, 0] < -0.15,  # moved to the right (-X)
    "turn": lambda j: _turned_left_deg(j) < -60.0,  # turned to the right
}


@pytest.mark.parametrize("name", sorted(SEMANTIC_CHECKS))
def test_actions_do_what_their_name_says(name):
    for seed in range(5):
        clip = generate_clip(name, np.random.default_rng([31, seed]), side="right")
        assert SEMANTIC_CHECKS[name](clip.joints.astype(np.float64)), (name, seed)


@pytest.mark.parametrize("name", ["turn", "side step"])
def test_left_versions_mirror_the_direction(name):
    clip = generate_clip(name, np.random.default_rng(3), side="left", noise=False)
    j = clip.joints.astype(np.float64)
    if name == "turn":
        assert _turned_left_deg(j) > 60.0
    else:
        assert j[-1, PELVIS, 0] - j[0, PELVIS, 0] > 0.15


def test_clips_are_canonical(corpus):
    for clip in corpus:
        j = clip.joints
        assert j.dtype == np.float32 and j.ndim == 3 and j.shape[1:] == (22, 3)
        assert j[..., 1].min() == pytest.approx(0.0, abs=1e-6)
        assert np.abs(j[0, PELVIS, [0, 2]]).max() < 1e-5


# --------------------------------------------------------------------------- annotations


def test_clip_fields(corpus):
    ids = [c.clip_id for c in corpus]
    assert len(set(ids)) == len(ids)
    for clip in corpus:
        assert re.fullmatch(r"synthetic_\d{6}", clip.clip_id)
        assert clip.dataset == "synthetic" and clip.meta["synthetic"] is True
        assert clip.violent == any(is_violent(label) for label in clip.labels)
        assert clip.subject is not None and clip.split in ("train", "test")
    for clip in _singles(corpus):
        assert 40 <= clip.num_frames <= 120
        assert clip.segments == (clip.segments[0],) and clip.segments[0].end == clip.num_frames


def test_sequence_segments_tile_the_clip(corpus):
    sequences = _sequences(corpus)
    assert len(sequences) == 20
    for clip in sequences:
        segments = clip.segments
        assert 2 <= len(segments) <= 4
        assert segments[0].start == 0 and segments[-1].end == clip.num_frames
        for a, b in zip(segments[:-1], segments[1:]):
            assert a.end == b.start
            assert a.label != b.label
        assert {s.label for s in segments} == set(clip.labels)
        assert all(s.label in clip.labels for s in segments)


def test_sequence_with_chosen_actions():
    clip = generate_sequence(np.random.default_rng(0), actions=["walk", "kick", "turn"])
    assert [s.label for s in clip.segments] == ["walk", "kick", "turn"]
    assert clip.violent and set(clip.labels) == {"walk", "kick", "turn"}
    assert all(", then " in caption for caption in clip.captions)


def test_captions_are_filled_and_truthful(corpus):
    for clip in corpus:
        assert 2 <= len(clip.captions) <= 4, clip.captions
        for caption in clip.captions:
            assert caption.strip() and "{" not in caption and "  " not in caption
    for clip in _singles(corpus):
        spec = ACTIONS_BY_NAME[clip.labels[0]]
        if spec.limb is not None:  # every "<side> hand/arm/..." names the acting side
            pattern = r"\b(left|right) (?:hand|arm|fist|leg|foot)\b"
            named = [m for c in clip.captions for m in re.findall(pattern, c)]
            assert named and set(named) == {clip.meta["side"]}, clip.captions
        speed = clip.meta["speed"]
        if any(w in c.split() for c in clip.captions for w in ("quickly", "fast")):
            assert speed >= 1.15
        if any(w in c.split() for c in clip.captions for w in ("slowly", "slow")):
            assert speed <= 0.85


# --------------------------------------------------------------------------- splits and loading


def test_train_and_test_subjects_are_disjoint(corpus):
    train = {c.subject for c in corpus if c.split == "train"}
    test = {c.subject for c in corpus if c.split == "test"}
    assert train and test and not train & test
    fraction = len(corpus.split("test")) / len(corpus)
    assert 0.2 <= fraction <= 0.4
    for split in ("train", "test"):
        counts = corpus.split(split).class_counts()
        assert all(counts[name] > 0 for name in ACTION_NAMES), split


def test_registered_loader_ignores_root():
    ds = load_dataset("synthetic", clips_per_class=1, sequences=2, seed=1)
    assert ds.name == "synthetic" and len(ds) == len(ACTION_NAMES) + 2
    again = load_synthetic(Path("/nonexistent"), clips_per_class=1, sequences=2, seed=1)
    assert all(a.joints.tobytes() == b.joints.tobytes() for a, b in zip(ds, again))


def test_unknown_action_and_bad_side_are_rejected():
    with pytest.raises(KeyError):
        generate_clip("teleport", np.random.default_rng(0))
    with pytest.raises(ValueError):
        generate_clip("punch", np.random.default_rng(0), side="middle")


# --------------------------------------------------------------------------- downstream use


def test_humanml3d_features_on_every_clip(corpus):
    for clip in corpus:
        features = joints_to_features(clip.joints)
        assert features.shape == (clip.num_frames - 1, 263)
        assert np.isfinite(features).all(), clip.clip_id


def _handmade_features(joints: np.ndarray) -> np.ndarray:
    """Per-joint mean speed and range of root-relative positions (22 + 66 values)."""
    j = joints.astype(np.float64)
    speed = _speeds(j).mean(axis=0)
    rel = j - j[:, :1]
    return np.concatenate([speed, (rel.max(axis=0) - rel.min(axis=0)).ravel()])


def test_nearest_centroid_baseline_is_above_chance_but_not_perfect(corpus):
    """Learnable but not trivial: a nearest-centroid classifier on standardized hand-made
    features, trained on train subjects and tested on unseen test subjects."""
    data = {}
    for split in ("train", "test"):
        clips = [c for c in _singles(corpus) if c.split == split]
        x = np.stack([_handmade_features(c.joints) for c in clips])
        data[split] = (x, np.array([c.labels[0] for c in clips]))
    x_train, y_train = data["train"]
    x_test, y_test = data["test"]
    mean, std = x_train.mean(axis=0), x_train.std(axis=0) + 1e-8
    classes = np.array(ACTION_NAMES)
    centroids = np.stack([((x_train[y_train == k] - mean) / std).mean(axis=0) for k in classes])
    z_test = (x_test - mean) / std
    predicted = classes[np.argmin(((z_test[:, None] - centroids[None]) ** 2).sum(axis=-1), axis=1)]
    accuracy = float((predicted == y_test).mean())
    chance = 1.0 / len(classes)
    confusions = Counter((a, b) for a, b in zip(y_test, predicted) if a != b).most_common(5)
    print(f"\nnearest-centroid accuracy {accuracy:.4f} on {len(y_test)} test clips "
          f"(chance {chance:.4f}); top confusions {confusions}")  # fmt: skip
    assert accuracy > 3 * chance
    assert accuracy < 0.95
