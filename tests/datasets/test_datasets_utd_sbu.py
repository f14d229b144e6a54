"""The UTD-MHAD and SBU Kinect datasets: registry, labels, splits, clips and pairs."""

from __future__ import annotations

import itertools
import json
from collections import Counter, defaultdict

import numpy as np
import pytest

from motionvigil.cli import main
from motionvigil.datasets.loaders.sbu_kinect import (
    SBU_CLASSES, SBU_PERSON_PARTICIPANTS, TEST_PARTICIPANTS, TRAIN_PARTICIPANTS, index_sbu, sbu_pairs,
)
from motionvigil.datasets.loaders.utd_mhad import UTD_ACTION_NAMES, index_utd_mhad
from motionvigil.datasets.registry import dataset_names, load_dataset
from motionvigil.datasets.violence import is_violent, violent_category
from motionvigil.io.layouts import KINECT_SBU15, SMPL22
from motionvigil.io.sbu import read_sbu


@pytest.fixture(scope="module")
def utd_root(data_path):
    return data_path("utd_mhad")


@pytest.fixture(scope="module")
def sbu_root(data_path):
    return data_path("sbu_kinect")


@pytest.fixture(scope="module")
def utd(utd_root, tmp_path_factory):
    return load_dataset("utd_mhad", utd_root, cache_dir=tmp_path_factory.mktemp("cache"))


@pytest.fixture(scope="module")
def sbu(sbu_root):
    return load_dataset("sbu_kinect", sbu_root)


@pytest.fixture(scope="module")
def pairs(sbu_root):
    return sbu_pairs(sbu_root)


def test_both_are_registered():
    assert {"utd_mhad", "sbu_kinect"} <= set(dataset_names())


@pytest.mark.parametrize(
    ("label", "category"),
    [("front boxing", "punch"), ("two hand push", "hit"), ("kicking", "kick"), ("punching", "punch"),
     ("pushing", "hit"), ("push", None), ("hugging", None), ("shaking hands", None),
     ("right hand knock on door", None), ("exchanging an object", None)],
)
def test_violent_labels(label, category):
    assert violent_category(label) == category


# --------------------------------------------------------------------------- UTD-MHAD


def test_utd_index_counts_classes_subjects_and_split(utd_root):
    records = index_utd_mhad(utd_root)
    assert len(records) == 861 and len(UTD_ACTION_NAMES) == 27
    per_class = Counter(r.label for r in records)
    assert sorted(per_class.values()) == [31] * 3 + [32] * 24
    assert {label for label, n in per_class.items() if n == 31} == {
        "right hand draw x", "walking in place", "squat"}  # a8_s1, a23_s6, a27_s8 have three takes
    assert [n for n in UTD_ACTION_NAMES if is_violent(n)] == ["front boxing", "two hand push"]
    train = {r.subject for r in records if r.split == "train"}
    test = {r.subject for r in records if r.split == "test"}
    assert train == {"s1", "s3", "s5", "s7"} and test == {"s2", "s4", "s6", "s8"}


def test_utd_clips_are_smpl22_at_20hz_with_labels(utd):
    assert len(utd) == 861 and utd.classes == UTD_ACTION_NAMES
    assert utd.violent_classes == ("front boxing", "two hand push")
    clip = next(c for c in utd if c.clip_id == "a13_s1_t1")
    assert clip.labels == ("front boxing",) and clip.violent and clip.subject == "s1" and clip.split == "train"
    assert clip.joints.shape == ((80 - 1) * 20 // 30 + 1, 22, 3)
    assert clip.meta["native_layout"]["name"] == "kinect_utd"
    assert sum(c.violent for c in utd) == 64
    frames = np.array([c.num_frames for c in utd])
    assert frames.min() >= 20 and utd.info()["splits"] == {"test": 430, "train": 431}
    # standing clips in the canonical frame: head above pelvis
    y = np.concatenate([c.joints[..., 1] for c in utd.clips[::50]])
    assert (y[:, SMPL22.index("head")] > y[:, SMPL22.index("pelvis")]).mean() > 0.99


# --------------------------------------------------------------------------- SBU Kinect


def test_sbu_index_split_is_participant_disjoint(sbu_root):
    records = index_sbu(sbu_root)
    assert len(records) == 147 and len({r.set_name for r in records}) == 11
    assert Counter(r.split for r in records) == {"train": 53, "test": 30, None: 64}
    for r in records:
        assert set(r.participants) == {r.set_name[:3], r.set_name[3:]}
        if r.split == "train":
            assert set(r.participants) <= TRAIN_PARTICIPANTS
        elif r.split == "test":
            assert set(r.participants) <= TEST_PARTICIPANTS
        else:
            assert set(r.participants) & TRAIN_PARTICIPANTS and set(r.participants) & TEST_PARTICIPANTS
    assert Counter(r.label for r in records) == {
        "approaching": 22, "departing": 23, "kicking": 21, "pushing": 21, "shaking hands": 9, "hugging": 11,
        "exchanging an object": 19, "punching": 21}


def _signature(body: np.ndarray) -> np.ndarray:
    """Median lengths of 14 bones of one SBU body ``[T, 15, 3]``."""
    bones = [(j, p) for j, p in enumerate(KINECT_SBU15.parents) if p >= 0]
    return np.array([np.median(np.linalg.norm(body[:, j] - body[:, p], axis=-1)) for j, p in bones])


def test_sbu_participant_table_matches_body_sizes(sbu_root):
    """The file order of the persons, by body size, fits the table far better than the set names."""
    sig = defaultdict(list)
    for r in index_sbu(sbu_root):
        motion = read_sbu(r.path)
        sig[r.set_name].append([_signature(b) for b in motion.bodies.astype(np.float64)])
    per_set = {s: np.median(np.array(v), axis=0) for s, v in sig.items()}  # [2, bones]

    def spread(order: dict[str, tuple[str, str]]) -> float:
        by_participant = defaultdict(list)
        for s, (p0, p1) in order.items():
            by_participant[p0].append(per_set[s][0])
            by_participant[p1].append(per_set[s][1])
        return sum(((np.array(v) - np.mean(v, 0)) ** 2).sum() for v in by_participant.values())

    table = spread(SBU_PERSON_PARTICIPANTS)
    by_name = spread({s: (s[:3], s[3:]) for s in per_set})
    assert table * 3 < by_name
    for flips in itertools.product([False, True], repeat=len(per_set)):  # no other order fits better
        order = {s: (pp[::-1] if f else pp) for (s, pp), f in zip(SBU_PERSON_PARTICIPANTS.items(), flips)}
        assert spread(order) >= table - 1e-12


def test_sbu_one_clip_per_person_per_take(sbu):
    assert len(sbu) == 294 and sbu.classes == SBU_CLASSES
    assert sbu.violent_classes == ("kicking", "pushing", "punching")
    clip = next(c for c in sbu if c.clip_id == "s01s02/03/001/p1")
    assert clip.labels == ("kicking",) and clip.violent and clip.split == "test"
    assert clip.subject == SBU_PERSON_PARTICIPANTS["s01s02"][1] == "s01"
    assert clip.meta["pair"] == "s01s02/03/001" and clip.meta["person"] == 1
    assert clip.joints.ndim == 3 and clip.joints.shape[1:] == (22, 3)
    assert clip.meta["native_joints"].shape == (clip.num_frames, 15, 3)
    assert sbu.info()["splits"] == {"test": 60, "train": 106} and sbu.info()["subjects"] == 5


def test_sbu_pairs_keep_the_shared_frame(pairs):
    assert len(pairs) == 147
    first = pairs[0]
    assert first.take_id == "s01s02/01/001" and first.label == "approaching" and not first.violent
    assert first.participants == ("s02", "s01") and first.split == "test"
    m = first.motion
    assert m.layout is SMPL22 and m.fps == 20.0 and m.joints.shape == (2, 59, 22, 3) and m.person_ids == (0, 1)
    pelvis = SMPL22.index("pelvis")
    gaps = {p.take_id: np.linalg.norm(p.motion.joints[0, :, pelvis] - p.motion.joints[1, :, pelvis], axis=-1)
            for p in pairs}
    by_label = defaultdict(list)
    for p in pairs:
        by_label[p.label].append(gaps[p.take_id])
    approach = np.array([g[-1] - g[0] for g in by_label["approaching"]])
    assert (approach < -0.4).mean() >= 0.9  # they close in by more than 0.4 m
    hug = np.median([g.min() for g in by_label["hugging"]])
    handshake = np.median([g.min() for g in by_label["shaking hands"]])
    assert hug < 0.45 < handshake < 1.3
    assert sum(p.violent for p in pairs) == 63


def test_data_info_lists_both(utd_root, sbu_root, capsys):
    assert main(["data", "info", "--data", f"utd_mhad:{utd_root}", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert (info["clips"], info["classes"], info["violent_classes"], info["subjects"]) == (861, 27, 2, 8)
    assert main(["data", "info", f"sbu_kinect:{sbu_root}", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert (info["clips"], info["takes"], info["classes"], info["violent_classes"]) == (294, 147, 8, 3)
    assert info["splits"] == {"test": 60, "train": 106} and info["aside_takes"] == 64


def test_sbu_split_keeps_the_most_sets(sbu_root):
    """Of every way to split the five participants in two, ours keeps the most whole sets."""
    sets = {r.set_name for r in index_sbu(sbu_root)}
    people = sorted({p for s in sets for p in (s[:3], s[3:])})

    def kept(test: set[str]) -> int:
        sides = [{s for s in sets if {s[:3], s[3:]} <= side} for side in (test, set(people) - test)]
        return sum(map(len, sides)) if all(sides) else 0

    best = max(kept(set(c)) for n in range(1, len(people)) for c in itertools.combinations(people, n))
    assert kept(set(TEST_PARTICIPANTS)) == best == 6


def test_reader_evidence_writes_what_docs_quote(shared_data, tmp_path, capsys):
    from motionvigil.datasets.reader_evidence import main as evidence

    out = tmp_path / "readers.json"
    assert evidence(["--data-root", str(shared_data), "-o", str(out)]) == 0
    doc = json.loads(out.read_text())
    utd, sbu = doc["utd_mhad"], doc["sbu_kinect"]
    assert utd["files"] == 861 and utd["faces_sensor"] > 0.95 and utd["right_at_larger_x"] > 0.95
    assert 0.38 < utd["femur_m"]["median"] < 0.50
    assert sbu["takes"] == 147 and 0.42 <= sbu["femur_m"]["median"] <= 0.46
    assert sbu["classes"]["approaching"]["facing"] > 0.95 and sbu["classes"]["departing"]["facing"] < 0.6
    assert sbu["classes"]["kicking"]["foot_raise"] > 2 * sbu["classes"]["punching"]["foot_raise"]
    assert sbu["participants"]["table_is_best"]
    assert abs(sbu["torso_fraction_hips_to_neck"] - 0.5) < 0.02
