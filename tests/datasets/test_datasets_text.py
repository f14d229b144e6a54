"""Caption and dense-label datasets: HumanML3D, TMR's unified annotations, BABEL.

Real files (``../shared/data``) are used where they exist: the HumanML3D sample and
splits, TMR's KIT-ML annotations, BABEL's vocabulary. Everything else is a small
fixture in the official layout, written to ``tmp_path``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from motionvigil.datasets import load_dataset
from motionvigil.datasets.clip import Segment
from motionvigil.datasets.loaders.babel import (
    babel_classes,
    feature_path,
    read_babel_json,
    read_label_vocabulary,
    violent_class_indices,
)
from motionvigil.datasets.loaders.humanml3d import read_humanml3d_texts, seconds_to_frame
from motionvigil.datasets.loaders.tmr import read_tmr_annotations, read_tmr_splits
from motionvigil.datasets.violence import VIOLENT_CATEGORIES
from motionvigil.errors import MotionFileError
from motionvigil.features.humanml3d import FEATURE_DIM, features_to_joints
from text_fixtures import _label, _sequence, synthetic_features, write_npy

# ----------------------------------------------------------------------------- HumanML3D

H3D_TEXT = (
    "a person walks forward and waves.#a/DET person/NOUN walk/VERB forward/ADV and/CCONJ wave/VERB#0.0#0.0\n"
    "someone strides ahead.#someone/PRON stride/VERB ahead/ADV#0.0#0.0\n"
    "the person raises the left hand.#the/DET person/NOUN raise/VERB the/DET left/ADJ hand/NOUN#0.5#1.25\n"
)


@pytest.fixture()
def h3d_root(tmp_path: Path) -> Path:
    """Official layout: 000001 (features, joints, texts), M000001 (features + texts only),
    000002 (joints only, no texts); splits list two ids without files."""
    root = tmp_path / "HumanML3D"
    feats = synthetic_features(40)
    write_npy(root / "new_joint_vecs" / "000001.npy", feats)
    write_npy(root / "new_joints" / "000001.npy", features_to_joints(feats).astype(np.float32))
    write_npy(root / "new_joint_vecs" / "M000001.npy", synthetic_features(30, phase=1.0))
    write_npy(
        root / "new_joints" / "000002.npy", features_to_joints(synthetic_features(25)).astype(np.float32)
    )
    (root / "texts").mkdir()
    (root / "texts" / "000001.txt").write_text(H3D_TEXT)
    (root / "texts" / "M000001.txt").write_text("a person walks.#a/DET person/NOUN walk/VERB#nan#nan\n\n")
    (root / "train.txt").write_text("000001\nM000001\n999999\n")
    (root / "val.txt").write_text("000002\n")
    (root / "test.txt").write_text("000003\n")
    return root


def test_real_humanml3d_sample_loads(data_path):
    root = data_path("humanml3d/new_joint_vecs/012314.npy").parents[1]
    ds = load_dataset("humanml3d", root=root)
    assert len(ds) == 1
    clip = ds.clips[0]
    assert clip.clip_id == "012314" and clip.split == "train"
    np.testing.assert_array_equal(clip.features, np.load(root / "new_joint_vecs" / "012314.npy"))
    np.testing.assert_array_equal(clip.joints, np.load(root / "new_joints" / "012314.npy"))
    assert clip.joints.shape == (170, 22, 3) and clip.features.shape == (170, FEATURE_DIM)
    assert clip.labels == () and not clip.violent and clip.captions == ()  # no texts/ folder shipped
    # all 29,228 split ids (14,614 + mirrors) are listed; only 012314 has files
    assert "29227 listed ids without motion files" in ds.description


def test_real_humanml3d_splits_without_files_are_counted(data_path):
    root = data_path("humanml3d/test.txt").parent
    ds = load_dataset("humanml3d", root=root, split="test")
    assert len(ds) == 0
    assert "4384 listed ids without motion files" in ds.description
    assert len(load_dataset("humanml3d", root=root, split="train")) == 1


def test_fixture_humanml3d_clips(h3d_root):
    ds = load_dataset("humanml3d", root=h3d_root)
    by_id = {c.clip_id: c for c in ds}
    assert sorted(by_id) == ["000001", "000002", "M000001"]
    assert {k: c.split for k, c in by_id.items()} == {"000001": "train", "000002": "val", "M000001": "train"}
    assert "2 listed ids without motion files" in ds.description
    assert "1 clips without captions" in ds.description

    c1 = by_id["000001"]
    assert c1.captions == ("a person walks forward and waves.", "someone strides ahead.")
    assert c1.meta["segment_captions"] == [("the person raises the left hand.", 0.5, 1.25)]
    assert c1.meta["caption_tokens"][1] == ("someone/PRON", "stride/VERB", "ahead/ADV")
    np.testing.assert_array_equal(c1.features, np.load(h3d_root / "new_joint_vecs" / "000001.npy"))
    assert c1.joints.shape == (40, 22, 3) and c1.features.shape == (40, FEATURE_DIM)

    mirrored = by_id["M000001"]  # no new_joints file: joints recovered from features
    assert mirrored.meta["mirrored"] and mirrored.captions == ("a person walks.",)  # NaN times = whole clip
    np.testing.assert_allclose(mirrored.joints, features_to_joints(mirrored.features), atol=1e-6)

    joints_only = by_id["000002"]
    assert joints_only.features is None and joints_only.captions == () and joints_only.num_frames == 25


def test_fixture_humanml3d_split_and_max_clips(h3d_root):
    train = load_dataset("humanml3d", root=h3d_root, split="train")
    assert [c.clip_id for c in train] == ["000001", "M000001"]
    assert "1 listed ids without motion files" in train.description
    assert len(load_dataset("humanml3d", root=h3d_root, max_clips=1)) == 1
    with pytest.raises(ValueError):
        load_dataset("humanml3d", root=h3d_root, split="bogus")
    (h3d_root / "test.txt").unlink()
    with pytest.raises(MotionFileError, match="test.txt"):
        load_dataset("humanml3d", root=h3d_root, split="test")


@pytest.mark.parametrize(
    "bad_line, problem",
    [
        ("only#two", "expected 'caption#tokens#start#end'"),
        ("a caption#a/DET#x#0.0", "not a number"),
        ("a caption#a/DET#2.0#1.0", "not after start"),
        ("#a/DET#0.0#0.0", "empty caption"),
        ("a caption#a/DET#-1.0#0.0", ">= 0"),
    ],
)
def test_malformed_text_line_names_file_and_line(h3d_root, bad_line, problem):
    path = h3d_root / "texts" / "000001.txt"
    path.write_text("fine caption#fine/ADJ#0.0#0.0\n" + bad_line + "\n")
    with pytest.raises(MotionFileError, match="line 2") as info:
        read_humanml3d_texts(path)
    assert str(path) in str(info.value) and problem in str(info.value)
    with pytest.raises(MotionFileError, match="line 2"):
        load_dataset("humanml3d", root=h3d_root)
    ds = load_dataset("humanml3d", root=h3d_root, skip_bad=True)
    assert "000001" not in {c.clip_id for c in ds} and "1 bad skipped" in ds.description


def test_caption_with_hash_is_kept(tmp_path):
    path = tmp_path / "x.txt"
    path.write_text("a #1 move#a/DET move/NOUN#0.0#0.0\n")
    assert read_humanml3d_texts(path)[0].caption == "a #1 move"


@pytest.mark.parametrize(
    "which, array, problem",
    [
        ("new_joint_vecs", np.zeros((40, 250), np.float32), "shape"),
        ("new_joint_vecs", np.full((40, FEATURE_DIM), np.nan, np.float32), "non-finite"),
        ("new_joints", np.zeros((40, 21, 3), np.float32), "joints"),
        ("new_joints", np.zeros((42, 22, 3), np.float32), "more than 1 frame apart"),
    ],
)
def test_bad_motion_files(h3d_root, which, array, problem):
    write_npy(h3d_root / which / "000001.npy", array)
    with pytest.raises(MotionFileError, match=problem) as info:
        load_dataset("humanml3d", root=h3d_root)
    assert "000001.npy" in str(info.value)
    ds = load_dataset("humanml3d", root=h3d_root, skip_bad=True)
    assert len(ds) == 2 and "1 bad skipped (000001:" in ds.description


def test_one_frame_length_difference_is_accepted(h3d_root):
    joints = np.load(h3d_root / "new_joints" / "000001.npy")
    write_npy(h3d_root / "new_joints" / "000001.npy", joints[:-1])
    clip = {c.clip_id: c for c in load_dataset("humanml3d", root=h3d_root)}["000001"]
    assert clip.num_frames == 39 and len(clip.features) == 40


# ----------------------------------------------------------------------------- TMR


def test_real_kitml_annotations(data_path):
    ann_path = data_path("tmr_annotations/kitml/annotations.json")
    entries = read_tmr_annotations(ann_path)
    assert len(entries) == 5766
    assert sum(len(e.annotations) for e in entries.values()) == 12164
    first = entries["00001"]
    assert first.path == "KIT/4/WalkingStraightForward01_poses" and first.duration == 3.78
    assert first.annotations[0].text == "A person is walking forwards." and first.annotations[0].end == 3.78
    assert entries["M00001"].path == "M/KIT/4/WalkingStraightForward01_poses"
    assert sum(k.startswith("M") for k in entries) == 2883

    splits = read_tmr_splits(ann_path.parent / "splits")
    counts = {name: len(ids) for name, ids in splits.items()}
    assert counts == {
        "all": 5766, "nsim_test": 101, "test": 786, "test_tiny": 10,
        "train": 4688, "train_tiny": 10, "val": 292, "val_tiny": 10,
    }  # fmt: skip
    main = [set(splits[s]) for s in ("train", "val", "test")]
    assert not (main[0] & main[1] or main[0] & main[2] or main[1] & main[2])
    assert set().union(*main) == set(splits["all"]) == set(entries)
    assert sorted(set(splits["nsim_test"]) - set(entries)) == ["01639", "03532", "M03532"]


def test_real_kitml_without_motions_counts_missing(data_path):
    root = data_path("tmr_annotations/kitml/annotations.json").parent
    ds = load_dataset("tmr", root=root)
    assert len(ds) == 0 and "5766 entries without motion files" in ds.description
    nsim = load_dataset("tmr", root=root, split="nsim_test")
    assert "98 entries without motion files; 3 split ids without annotations" in nsim.description


def test_tmr_needs_root_or_annotations():
    with pytest.raises(MotionFileError, match="annotations"):
        load_dataset("tmr")


@pytest.fixture()
def tmr_root(tmp_path: Path) -> Path:
    root = tmp_path / "kitml"
    motions = tmp_path / "guoh3dfeats"
    write_npy(motions / "KIT/3/kick_high_left02_poses.npy", synthetic_features(50))
    write_npy(motions / "M/KIT/3/kick_high_left02_poses.npy", synthetic_features(50, phase=2.0))
    write_npy(motions / "CMU/01/01_01_poses.npy", synthetic_features(70, phase=1.0))

    def text(key: str, i: int, words: str, start: float, end: float) -> dict:
        return {"seg_id": f"{key}_{i}", "text": words, "start": start, "end": end}

    annotations = {
        "000001": {"path": "KIT/3/kick_high_left02_poses", "duration": 2.5, "annotations": [
            text("000001", 0, "a person kicks high with the left leg.", 0.0, 2.5),
            text("000001", 1, "someone kicks.", 0.0, 2.5)]},
        "M000001": {"path": "M/KIT/3/kick_high_left02_poses", "duration": 2.5, "annotations": [
            text("M000001", 0, "a person kicks high with the right leg.", 0.0, 2.5)]},
        "000002": {"path": "CMU/01/01_01_poses", "duration": 3.5, "annotations": [
            text("000002", 0, "a person walks then stops.", 0.0, 3.5),
            text("000002", 1, "a person walks.", 0.5, 1.5)]},
        "000003": {"path": "CMU/02/02_01_poses", "duration": 1.0, "annotations": [
            text("000003", 0, "no motion file for this one.", 0.0, 1.0)]},
        "000004": {"path": "KIT/3/kick_high_left02_poses", "duration": 1.25, "annotations": [
            text("000004", 0, "a person lifts the left leg.", 0.52, 1.77)]},
    }  # fmt: skip
    root.mkdir()
    (root / "annotations.json").write_text(json.dumps(annotations, indent=2))
    (root / "splits").mkdir()
    (root / "splits" / "train.txt").write_text("000001\nM000001\n000003\n")
    (root / "splits" / "val.txt").write_text("000002\n")
    (root / "splits" / "test.txt").write_text("000004\n")
    return root


def test_tmr_fixture_loads(tmr_root):
    motions = tmr_root.parent / "guoh3dfeats"
    ds = load_dataset("tmr", root=tmr_root, motions=motions)
    by_id = {c.clip_id: c for c in ds}
    assert sorted(by_id) == ["000001", "000002", "000004", "M000001"]
    assert "1 entries without motion files" in ds.description
    assert {k: c.split for k, c in by_id.items()} == {
        "000001": "train", "M000001": "train", "000002": "val", "000004": "test"}  # fmt: skip

    kick = by_id["000001"]
    assert kick.captions == ("a person kicks high with the left leg.", "someone kicks.")
    full = np.load(motions / "KIT/3/kick_high_left02_poses.npy")
    np.testing.assert_array_equal(kick.features, full[: round(2.5 * 20)])
    assert kick.joints.shape == (50, 22, 3) and not kick.violent and kick.labels == ()

    cut = by_id["000004"]  # frames [round(0.52*20), round(1.77*20)) = [10, 35)
    np.testing.assert_array_equal(cut.features, full[10:35])
    assert cut.meta["start_s"] == 0.5 and cut.captions == ("a person lifts the left leg.",)

    walk = by_id["000002"]
    assert walk.captions == ("a person walks then stops.",) and walk.num_frames == 70
    assert walk.meta["segment_captions"] == [("a person walks.", 0.5, 1.5)]
    assert by_id["M000001"].meta["path"] == "M/KIT/3/kick_high_left02_poses"


def test_tmr_fixture_per_span_and_splits(tmr_root):
    motions = tmr_root.parent / "guoh3dfeats"
    ds = load_dataset("tmr", root=tmr_root, motions=motions, split="val", per_span=True)
    by_id = {c.clip_id: c for c in ds}
    assert sorted(by_id) == ["000002", "000002:10-30"]
    assert by_id["000002:10-30"].captions == ("a person walks.",) and by_id["000002:10-30"].num_frames == 20
    train = load_dataset("tmr", root=tmr_root, motions=motions, split="train")
    assert len(train) == 2 and "1 entries without motion files" in train.description
    with pytest.raises(MotionFileError, match="nsim_test"):
        load_dataset("tmr", root=tmr_root, motions=motions, split="nsim_test")


def test_tmr_bad_motion_and_annotation(tmr_root):
    motions = tmr_root.parent / "guoh3dfeats"
    write_npy(motions / "CMU/01/01_01_poses.npy", np.zeros((70, 22, 3), np.float32))
    with pytest.raises(MotionFileError, match="01_01_poses.npy"):
        load_dataset("tmr", root=tmr_root, motions=motions)
    ds = load_dataset("tmr", root=tmr_root, motions=motions, skip_bad=True)
    assert len(ds) == 3 and "1 bad skipped (000002:" in ds.description

    data = json.loads((tmr_root / "annotations.json").read_text())
    data["000002"]["annotations"][1]["end"] = 0.25
    (tmr_root / "annotations.json").write_text(json.dumps(data))
    with pytest.raises(MotionFileError, match="entry '000002', annotation 1"):
        read_tmr_annotations(tmr_root / "annotations.json")


def test_tmr_text_beyond_motion_is_bad(tmr_root):
    motions = tmr_root.parent / "guoh3dfeats"
    data = json.loads((tmr_root / "annotations.json").read_text())
    data["000004"]["annotations"][0].update(start=5.0, end=6.0)
    (tmr_root / "annotations.json").write_text(json.dumps(data))
    with pytest.raises(MotionFileError, match="outside the motion"):
        load_dataset("tmr", root=tmr_root, motions=motions, split="test")


# ----------------------------------------------------------------------------- BABEL

VIOLENT_INDEX = {"kick": 31, "punch": 51, "martial art": 59, "hit": 74, "grab person": 78, "evade": 87}


def test_real_babel_vocabulary(data_path):
    vocab_path = data_path("babel/action_label_2_idx.json")
    vocabulary = read_label_vocabulary(vocab_path)
    assert len(vocabulary) == 150 and vocabulary[:2] == ("walk", "stand")
    babel120 = babel_classes(vocab_path.parent, 120)
    babel60 = babel_classes(vocab_path, 60)
    assert babel120 == vocabulary[:120] and babel60 == babel120[:60]
    for category in VIOLENT_CATEGORIES:
        assert babel120.index(category) == VIOLENT_INDEX[category]
    assert violent_class_indices(babel120) == (31, 51, 59, 74, 78, 87)
    assert violent_class_indices(babel60) == (31, 51, 59)  # hit, grab person, evade are BABEL-120 only
    assert violent_class_indices(vocabulary) == (31, 51, 59, 74, 78, 87)
    # borderline categories exist but are not violent
    assert {"throw", "grab body part", "protect"} <= set(babel120)
    with pytest.raises(ValueError):
        babel_classes(vocab_path, 100)


def test_real_babel_fps_and_splits(data_path):
    fps = json.loads(data_path("babel/featp_2_fps.json").read_text())
    assert len(fps) == 12660 and all(k.endswith("_poses.npz") for k in fps)
    splits = json.loads(data_path("babel/amass_splits.json").read_text())
    assert {k: len(v) for k, v in splits.items()} == {"train": 7976, "val": 2659, "test": 2659}


def test_babel_default_root_has_no_annotations(data_path):
    root = data_path("babel/action_label_2_idx.json").parent
    with pytest.raises(MotionFileError, match="no BABEL annotation files"):
        load_dataset("babel", root=root)


@pytest.fixture()
def babel_root(tmp_path: Path, data_path) -> tuple[Path, Path, Path]:
    """(annotation folder, features folder, real vocabulary file)."""
    vocab = data_path("babel/action_label_2_idx.json")
    root, feats = tmp_path / "babel_v1.0_release", tmp_path / "babel_feats"
    root.mkdir()
    train = {
        "1001": _sequence(1001, "CMU/CMU/86/86_05_poses.npz", 3.0, [_label("s1", ["fight"])], [
            _label("f1", ["stand"], 0.0, 1.02),
            _label("f2", ["kick"], 1.02, 2.0),
            _label("f3", ["punch", "arm movements"], 1.5, 2.5),
            _label("f4", ["walk"], 2.5, 3.1),  # ends past the motion: clamped
            _label("f5", ["not a babel category"], 0.0, 3.0),
        ]),
        "1002": _sequence(1002, "KIT/KIT/4/WalkingStraightForward01_poses.npz", 2.0, [_label("s2", ["walk"])], None),
        "1003": _sequence(1003, "CMU/CMU/01/01_01_poses.npz", 2.0, [_label("s3", ["walk"])], None),  # no features
    }  # fmt: skip
    val = {
        "2001": _sequence(2001, "ACCAD/ACCAD/Male1General_c3d/General A1_poses.npz", 2.0, [_label("s4", ["stand"])], [
            _label("g1", ["stand"], 0.0, 0.5),
            _label("g2", ["evade"], 0.5, 1.0),
            _label("g3", None, 1.0, 1.25),  # act_cat null
            _label("g4", ["grab person", "hit"], 1.25, 2.0),
        ]),
    }  # fmt: skip
    (root / "train.json").write_text(json.dumps(train))
    (root / "val.json").write_text(json.dumps(val))
    write_npy(feature_path(feats, "CMU/CMU/86/86_05_poses.npz"), synthetic_features(60))
    write_npy(
        feature_path(feats, "KIT/KIT/4/WalkingStraightForward01_poses.npz"), synthetic_features(40, 1.0)
    )
    write_npy(
        feature_path(feats, "ACCAD/ACCAD/Male1General_c3d/General A1_poses.npz"), synthetic_features(40, 2.0)
    )
    return root, feats, vocab


def test_babel_fixture_schema_parses(babel_root):
    root, _, _ = babel_root
    sequences = {s.sid: s for s in read_babel_json(root / "train.json", "train")}
    assert sorted(sequences) == ["1001", "1002", "1003"]
    assert sequences["1001"].frame_labels[2].act_cat == ("punch", "arm movements")
    assert sequences["1002"].frame_labels is None and sequences["1002"].seq_labels[0].start is None


def test_babel_fixture_babel120(babel_root):
    root, feats, vocab = babel_root
    ds = load_dataset("babel", root=root, features_root=feats, labels_file=vocab)
    assert len(ds.classes) == 120 and ds.violent_classes == (
        "kick",
        "punch",
        "martial art",
        "hit",
        "grab person",
        "evade",
    )
    by_id = {c.clip_id: c for c in ds}
    assert sorted(by_id) == ["1001", "1002", "2001"]
    assert "1 sequences without feature files" in ds.description

    fight = by_id["1001"]
    assert fight.num_frames == 60 and fight.split == "train" and fight.subject == "CMU/86"
    f = seconds_to_frame
    assert (f(1.02), f(2.0), f(1.5), f(2.5)) == (round(1.02 * 20), 40, 30, 50)
    assert set(fight.segments) == {
        Segment("stand", 0, 20), Segment("kick", 20, 40), Segment("punch", 30, 50),
        Segment("arm movements", 30, 50), Segment("walk", 50, 60),
    }  # fmt: skip
    assert fight.labels == ("walk", "stand", "arm movements", "kick", "punch")  # BABEL index order
    assert fight.violent and fight.meta["annotation"] == "frame_ann"
    assert "not a babel category" in fight.meta["act_cats"]

    walk = by_id["1002"]  # no frame_ann: sequence label over the whole clip
    assert walk.segments == (Segment("walk", 0, 40),) and walk.labels == ("walk",) and not walk.violent
    assert walk.meta["annotation"] == "seq_ann"

    val = by_id["2001"]
    # BABEL's test labels are withheld: val.json is the evaluation set by default
    assert val.split == "test" and val.violent
    kept = load_dataset("babel", root=root, features_root=feats, labels_file=vocab, val_as_test=False)
    assert {c.clip_id: c.split for c in kept.clips}["2001"] == "val"
    assert val.labels == ("stand", "hit", "grab person", "evade")
    assert Segment("evade", 10, 20) in val.segments and Segment("hit", 25, 40) in val.segments


def test_babel_fixture_babel60_filters(babel_root):
    root, feats, vocab = babel_root
    ds = load_dataset("babel", root=root, features_root=feats, labels_file=vocab, num_classes=60)
    assert len(ds.classes) == 60 and ds.violent_classes == ("kick", "punch", "martial art")
    by_id = {c.clip_id: c for c in ds}
    assert by_id["1001"].violent and "punch" in by_id["1001"].labels
    val = by_id["2001"]  # evade, hit, grab person are outside BABEL-60
    assert val.labels == ("stand",) and not val.violent
    assert {s.label for s in val.segments} == {"stand"}
    assert {"evade", "hit", "grab person"} <= set(val.meta["act_cats"])
    only_val = load_dataset("babel", root=root, features_root=feats, labels_file=vocab, split="val")
    assert [c.clip_id for c in only_val] == ["2001"]


def test_babel_bad_features_and_schema(babel_root):
    root, feats, vocab = babel_root
    bad = write_npy(feature_path(feats, "CMU/CMU/86/86_05_poses.npz"), np.full((60, FEATURE_DIM), np.nan))
    with pytest.raises(MotionFileError, match="non-finite") as info:
        load_dataset("babel", root=root, features_root=feats, labels_file=vocab)
    assert str(bad) in str(info.value)
    ds = load_dataset("babel", root=root, features_root=feats, labels_file=vocab, skip_bad=True)
    assert len(ds) == 2 and "1 bad skipped (1001:" in ds.description

    data = json.loads((root / "val.json").read_text())
    del data["2001"]["frame_ann"]["labels"][1]["end_t"]
    (root / "val.json").write_text(json.dumps(data))
    with pytest.raises(MotionFileError, match="sequence '2001' frame_ann label 1"):
        load_dataset("babel", root=root, features_root=feats, labels_file=vocab, split="val")
    with pytest.raises(MotionFileError, match="test.json"):
        load_dataset("babel", root=root, features_root=feats, labels_file=vocab, split="test")
