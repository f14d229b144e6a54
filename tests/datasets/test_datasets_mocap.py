"""Real-data dataset loaders (MSR Action3D, HDM05, UTKinect, Bandai-2, the pooled
benchmark) and the on-disk conversion cache.

Each real dataset is loaded once per module (module-scoped fixtures) through a
temporary cache folder, so the pooled benchmark loads from that cache. Cache tests use
small synthetic Kinect files and run without the real data.
"""

from __future__ import annotations

import json
import math
import re
import shutil
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from motionvigil.datasets import cache as cache_mod
from motionvigil.datasets import load_dataset
from motionvigil.datasets.cache import (
    CACHE_ENV_VAR,
    STATS,
    cache_key,
    cached_smpl22,
    convert_many,
    default_cache_dir,
    entry_path,
    reset_stats,
)
from motionvigil.datasets.loaders.bandai2 import index_bandai2
from motionvigil.datasets.loaders.mocap_violence import (
    LABEL_MAP,
    SOURCES,
    class_table,
    format_class_table,
)
from motionvigil.datasets.loaders.msr_action3d import (
    MSR_ACTION_NAMES,
    index_msr_action3d,
    index_summary,
    read_action_names,
)
from motionvigil.errors import MotionFileError
from motionvigil.io.kinect import read_utkinect, read_utkinect_labels

REPO = Path(__file__).resolve().parents[2]
# never tracked (a13_s09_e02) or tracked span mostly lost (the others): rejected by the reader
MSR_BAD = [
    "a13_s09_e02_skeleton3D.txt",
    "a20_s02_e02_skeleton3D.txt",
    "a20_s02_e03_skeleton3D.txt",
    "a20_s06_e01_skeleton3D.txt",
]
MSR_GOOD = 567 - len(MSR_BAD)
MSR_VIOLENT = {"forward punch", "side boxing", "forward kick", "side kick"}
UTK_CLASSES = {
    "walk", "sit down", "stand up", "pick up", "carry", "throw", "push", "pull", "wave hands", "clap hands",
}  # fmt: skip
BANDAI_STYLES = {"active", "elderly", "exhausted", "feminine", "masculine", "normal", "youthful"}


def expected_frames(num_rows: int, fps_in: float) -> int:
    """Frames at 20 Hz of ``num_rows`` rows at ``fps_in`` (the resampler's rule)."""
    return math.floor((num_rows - 1) * 20.0 / fps_in + 1e-6) + 1


def assert_smpl22_clips(dataset) -> None:
    """Every clip: float32 [T, 22, 3], T >= 2, finite, 20 Hz; a split; unique ids."""
    assert len({c.clip_id for c in dataset}) == len(dataset)
    for clip in dataset:
        assert clip.joints.dtype == np.float32, clip.clip_id
        assert clip.joints.ndim == 3 and clip.joints.shape[1:] == (22, 3), clip.clip_id
        assert clip.num_frames >= 2 and np.isfinite(clip.joints).all(), clip.clip_id
        assert clip.meta["fps"] == 20.0
        assert clip.split in ("train", "test")


def split_subjects(dataset) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {"train": set(), "test": set()}
    for clip in dataset:
        out[clip.split].add(clip.subject)
    return out


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("motionvigil-cache")


@pytest.fixture(scope="module")
def msr_root(data_path) -> Path:
    return data_path("msr_action3d")


@pytest.fixture(scope="module")
def msr(msr_root, cache_dir):
    return load_dataset("msr_action3d", msr_root, skip_bad=True, cache_dir=cache_dir)


@pytest.fixture(scope="module")
def hdm05(data_path, cache_dir):
    return load_dataset("hdm05", data_path("hdm05"), cache_dir=cache_dir)


@pytest.fixture(scope="module")
def utk_root(data_path) -> Path:
    return data_path("utkinect")


@pytest.fixture(scope="module")
def utk(utk_root):
    return load_dataset("utkinect", utk_root)


@pytest.fixture(scope="module")
def bandai(data_path, cache_dir):
    return load_dataset("bandai2", data_path("bandai2"), cache_dir=cache_dir)


@pytest.fixture(scope="module")
def pool(shared_data, msr, hdm05, utk, bandai, cache_dir):
    """The pooled benchmark, loaded after the sources so that it reads their cache."""
    return load_dataset("mocap_violence", shared_data, skip_bad=True, cache_dir=cache_dir)


# --------------------------------------------------------------------------- MSR Action3D


def test_msr_action_names_match_the_mat_file(msr_root):
    assert read_action_names(msr_root) == MSR_ACTION_NAMES
    assert MSR_ACTION_NAMES[2] == "hammer" and MSR_ACTION_NAMES[19] == "pickup and throw"


def test_msr_index_counts_files_classes_violence_subjects(msr_root):
    records = index_msr_action3d(msr_root)
    assert len(records) == 567
    assert {r.label for r in records} == set(MSR_ACTION_NAMES)
    assert {r.label for r in records if r.violent} == MSR_VIOLENT
    assert len({r.subject for r in records}) == 10
    summary = index_summary(records)
    assert (summary["clips"], summary["classes"], summary["violent_classes"], summary["subjects"]) == (
        567, 20, 4, 10,
    )  # fmt: skip
    assert sum(summary["splits"].values()) == 567
    assert all(r.split is None for r in index_msr_action3d(msr_root, "none"))
    with pytest.raises(ValueError, match="split_scheme"):
        index_msr_action3d(msr_root, "random")


def test_msr_bad_file_stops_loading_by_default(msr, msr_root, cache_dir):
    with pytest.raises(MotionFileError, match=r"a13_s09_e02.*--skip-bad"):
        load_dataset("msr_action3d", msr_root, cache_dir=cache_dir)


def test_msr_skip_bad_loads_the_rest_and_names_the_bad_files(msr):
    assert len(msr) == MSR_GOOD
    assert [Path(p).name for p, _ in msr.bad_files] == MSR_BAD
    assert "all zeros" in msr.bad_files[0][1]
    assert all("cannot be repaired" in message for _, message in msr.bad_files[1:])
    assert all(name in msr.description for name in MSR_BAD)
    assert set(msr.violent_classes) == MSR_VIOLENT
    assert Counter(len(c.labels) for c in msr) == {1: MSR_GOOD}


def test_msr_clips_are_smpl22_at_20hz(msr):
    assert_smpl22_clips(msr)
    for clip in msr:
        assert clip.num_frames == expected_frames(clip.meta["source_frames"], 15.0), clip.clip_id
        assert clip.violent == (clip.labels[0] in MSR_VIOLENT)
        assert re.fullmatch(r"s\d\d", clip.subject)


def test_msr_cross_subject_split_is_subject_disjoint(msr):
    subjects = split_subjects(msr)
    assert subjects["train"] == {"s01", "s03", "s05", "s07", "s09"}
    assert subjects["test"] == {"s02", "s04", "s06", "s08", "s10"}


# --------------------------------------------------------------------------- HDM05


def test_hdm05_classes_violence_and_actor_split(hdm05):
    assert len(hdm05) == 287
    assert len(hdm05.classes) == 11
    assert hdm05.classes[5] == "kickLFront1Reps"  # class folder 6
    assert hdm05.violent_classes == ("kickLFront1Reps",)
    assert {c.violent for c in hdm05 if c.labels == ("kickLFront1Reps",)} == {True}
    assert not any(c.violent for c in hdm05 if c.labels != ("kickLFront1Reps",))
    subjects = split_subjects(hdm05)
    assert subjects == {"train": {"bd", "bk", "dg"}, "test": {"mm", "tr"}}
    for clip in hdm05:
        folder = Path(clip.source).parent
        assert folder.parent.name == clip.split and int(folder.name) == clip.meta["class_no"]
    assert_smpl22_clips(hdm05)
    for clip in hdm05:
        assert clip.num_frames == expected_frames(clip.meta["source_frames"], 120.0), clip.clip_id


# --------------------------------------------------------------------------- UTKinect


def test_utkinect_one_clip_per_labelled_segment(utk, utk_root):
    labels = read_utkinect_labels(utk_root / "joints" / "actionLabel.txt")
    assert len(utk) == sum(len(segs) for segs in labels.values())  # 199 in the shipped file
    assert {c.labels[0] for c in utk} == UTK_CLASSES == set(utk.classes)
    assert not any(c.violent for c in utk) and utk.violent_classes == ()
    assert_smpl22_clips(utk)
    assert split_subjects(utk) == {
        "train": {f"s{i:02d}" for i in (1, 3, 5, 7, 9)},
        "test": {f"s{i:02d}" for i in (2, 4, 6, 8, 10)},
    }


def test_utkinect_clip_lengths_match_segment_durations(utk):
    for clip in utk:
        rows = clip.meta["row_end"] - clip.meta["row_start"]
        assert clip.num_frames == expected_frames(rows, 30.0), clip.clip_id
        assert abs(clip.num_frames - rows / 30.0 * 20.0) <= 1.0, clip.clip_id


def test_utkinect_segments_map_frame_numbers_to_rows(utk, utk_root):
    motion = read_utkinect(utk_root / "joints" / "joints_s01_e01.txt")
    numbers = motion.meta["frame_numbers"]
    for clip in (c for c in utk if c.meta["sequence"] == "s01_e01"):
        a, b = clip.meta["row_start"], clip.meta["row_end"]
        start, end = clip.meta["start_frame"], clip.meta["end_frame"]
        assert start <= numbers[a] and numbers[b - 1] <= end
        assert a == 0 or numbers[a - 1] < start
        assert b == len(numbers) or numbers[b] > end


def test_utkinect_sequences_mode_and_alternative_label_file(utk_root):
    sequences = load_dataset("utkinect", utk_root, mode="sequences")
    assert len(sequences) == 20
    assert sum(len(c.segments) for c in sequences) == 199
    for clip in sequences:
        assert all(0 <= s.start < s.end <= clip.num_frames for s in clip.segments)
    modified = load_dataset("utkinect", utk_root, label_file="actionLabel_modified.txt")
    push = next(c for c in modified if c.clip_id == "s03_e01_push")
    assert (push.meta["start_frame"], push.meta["end_frame"]) == (3556, 3622)


# --------------------------------------------------------------------------- Bandai-2


def test_bandai2_labels_styles_captions_split(bandai):
    assert len(bandai) == 560
    assert len(bandai.classes) == 10 and bandai.violent_classes == ()
    assert set(Counter(c.labels[0] for c in bandai).values()) == {56}
    assert {c.meta["style"] for c in bandai} == BANDAI_STYLES
    for clip in bandai:
        assert 2 <= len(clip.captions) <= 3
        assert all(clip.meta["style"] in caption for caption in clip.captions), clip.captions
        assert clip.split == ("test" if clip.meta["take"] in (7, 8) else "train")
        assert clip.subject == f"take{clip.meta['take']}"
    wave = next(c for c in bandai if c.clip_id == "wave-left-hand_elderly_001")
    assert "a person waves the left hand in an elderly manner" in wave.captions
    turn = next(c for c in bandai if c.clip_id == "walk-turn-left_exhausted_001")
    assert "someone walks while turning left, in an exhausted way" in turn.captions
    assert Counter(c.split for c in bandai) == {"train": 420, "test": 140}
    assert_smpl22_clips(bandai)


def test_bandai2_json_disagreeing_with_name_is_rejected(data_path, tmp_path):
    src = data_path("bandai2")
    shutil.copytree(src / "cfg", tmp_path / "cfg")
    (tmp_path / "data").mkdir()
    stem = "dataset-2_walk_normal_001"
    shutil.copy(src / "data" / f"{stem}.bvh", tmp_path / "data")
    (tmp_path / "data" / f"{stem}.json").write_text(json.dumps({"content": 3, "style": 5}))
    with pytest.raises(MotionFileError, match="disagree with the file name"):
        index_bandai2(tmp_path)
    (tmp_path / "data" / f"{stem}.json").write_text(json.dumps({"content": 0, "style": 5}))
    assert len(index_bandai2(tmp_path)) == 1


# --------------------------------------------------------------------------- pooled benchmark


def test_pool_violent_classes_are_kick_and_punch(pool):
    assert set(pool.violent_classes) == {"kick", "punch"}
    counts = pool.class_counts()
    assert counts["kick"] > 0 and counts["punch"] > 0
    for clip in pool:
        assert clip.violent == (clip.labels[0] in ("kick", "punch")), clip.clip_id
    kick_sources = {c.dataset for c in pool if c.labels == ("kick",)}
    assert kick_sources == {"msr_action3d", "hdm05"}


def test_pool_holds_every_source_clip_under_a_mapped_label(pool, msr, hdm05, utk, bandai):
    sources = {"msr_action3d": msr, "hdm05": hdm05, "utkinect": utk, "bandai2": bandai}
    assert len(pool) == sum(len(d) for d in sources.values())
    for name, dataset in sources.items():
        assert {(name, c) for c in dataset.classes} <= set(LABEL_MAP)
    assert [Path(p).name for p, _ in pool.bad_files] == MSR_BAD


def test_pool_split_is_subject_disjoint_and_prefixed(pool):
    subjects = split_subjects(pool)
    assert subjects["train"].isdisjoint(subjects["test"])
    prefixes = {s.split("_")[0] for s in subjects["train"] | subjects["test"]}
    assert prefixes == {"msr", "hdm05", "utk", "bandai"}
    assert "hdm05_bd" in subjects["train"] and "msr_s02" in subjects["test"]


def test_pool_class_table_counts_sum_to_clip_counts(pool):
    rows = class_table(pool)
    assert [r.label for r in rows] == list(pool.classes)
    assert sum(r.total for r in rows) == len(pool)
    assert sum(r.train for r in rows) == len(pool.split("train"))
    assert sum(r.test for r in rows) == len(pool.split("test"))
    by_label = {r.label: r for r in rows}
    assert by_label["kick"].violent_category == "kick"
    assert by_label["wave both hands"].datasets == ("msr_action3d", "utkinect", "bandai2")
    assert by_label["walk"].datasets == ("utkinect", "bandai2")
    assert all(r.datasets and r.total > 0 for r in rows)


def test_pool_docs_table_is_current(pool):
    doc = (REPO / "docs" / "mocap_violence.md").read_text(encoding="utf-8")
    assert format_class_table(class_table(pool)) in doc


def test_pool_sources_option(shared_data, msr, cache_dir):
    only = load_dataset(
        "mocap_violence", shared_data, sources=("msr_action3d",), skip_bad=True, cache_dir=cache_dir
    )
    assert len(only) == MSR_GOOD and set(only.violent_classes) == {"kick", "punch"}
    assert SOURCES == ("msr_action3d", "hdm05", "utkinect", "bandai2")


# --------------------------------------------------------------------------- cache (synthetic files)

# MSR joint order: 1 l-shoulder, 2 r-shoulder, 3 shoulder centre, 4 spine, 5 l-hip, 6 r-hip,
# 7 hip centre, 8/9 elbows, 10/11 wrists, 12/13 hands, 14/15 knees, 16/17 ankles,
# 18/19 feet, 20 head; a person 2.5 m from the sensor, facing it (right side at +X).
_STANDING = [
    (-0.18, 1.45), (0.18, 1.45), (0.0, 1.45), (0.0, 1.2), (-0.1, 0.95), (0.1, 0.95), (0.0, 0.95),
    (-0.2, 1.15), (0.2, 1.15), (-0.22, 0.9), (0.22, 0.9), (-0.22, 0.82), (0.22, 0.82),
    (-0.1, 0.5), (0.1, 0.5), (-0.1, 0.08), (0.1, 0.08), (-0.1, 0.02), (0.1, 0.02), (0.0, 1.7),
]  # fmt: skip


def write_kinect_file(path: Path, num_frames: int = 30, wave: float = 0.3, zeros: bool = False) -> Path:
    """A synthetic MSR Action3D skeleton file: standing, the right wrist moving."""
    joints = np.array([[x, y, 2.5] for x, y in _STANDING])[None].repeat(num_frames, axis=0)
    joints[:, 17:19, 2] -= 0.1
    joints[:, 10, 1] += wave * np.sin(np.arange(num_frames) / 15.0 * 2 * np.pi)
    if zeros:
        joints[:] = 0.0
    rows = np.concatenate([joints.reshape(-1, 3), np.ones((joints.shape[0] * 20, 1))], axis=1)
    path.write_text("\n".join(" ".join(f"{v:.6f}" for v in row) for row in rows) + "\n")
    return path


@pytest.fixture
def motion_file(tmp_path) -> Path:
    return write_kinect_file(tmp_path / "a01_s01_e01_skeleton3D.txt")


@pytest.fixture(autouse=True)
def _fresh_stats():
    reset_stats()


def _entry(path: Path, cache: Path, reader_kwargs=None) -> Path:
    slot, _ = cache_key(path, reader_kwargs)
    return entry_path(slot, cache)


def test_cache_second_call_is_a_hit(motion_file, tmp_path):
    cache = tmp_path / "cache"
    joints1, meta1 = cached_smpl22(motion_file, cache_dir=cache)
    entry = _entry(motion_file, cache)
    mtime = entry.stat().st_mtime_ns
    joints2, meta2 = cached_smpl22(motion_file, cache_dir=cache)
    assert (meta1["cache"], meta2["cache"]) == ("miss", "hit")
    assert (STATS.misses, STATS.hits, STATS.built) == (1, 1, 1)
    assert entry.stat().st_mtime_ns == mtime
    np.testing.assert_array_equal(joints1, joints2)
    assert joints2.dtype == np.float32 and joints2.shape == (39, 22, 3)
    assert meta2["source"] == str(motion_file) and meta2["source_frames"] == 30
    assert not list(cache.rglob("*.tmp*"))  # atomic writes leave no temporary files


def test_cache_entry_holds_no_pickles(motion_file, tmp_path):
    cached_smpl22(motion_file, cache_dir=tmp_path)
    with np.load(_entry(motion_file, tmp_path), allow_pickle=False) as data:
        assert set(data.files) == {"joints", "meta", "key", "version"}
        assert json.loads(str(data["meta"][()]))["source_layout"] == "kinect_msr"
        assert str(data["version"][()]) == cache_mod.CACHE_VERSION


@pytest.mark.parametrize("damage", ["truncate", "garbage", "empty"])
def test_cache_corrupt_entry_is_rebuilt(motion_file, tmp_path, damage):
    expected, _ = cached_smpl22(motion_file, cache_dir=tmp_path)
    entry = _entry(motion_file, tmp_path)
    data = entry.read_bytes()
    damaged = {"truncate": data[: len(data) // 2], "garbage": b"not a zip" * 50, "empty": b""}
    entry.write_bytes(damaged[damage])
    joints, meta = cached_smpl22(motion_file, cache_dir=tmp_path)
    assert meta["cache"] == "corrupt" and STATS.corrupt == 1
    np.testing.assert_array_equal(joints, expected)
    assert cached_smpl22(motion_file, cache_dir=tmp_path)[1]["cache"] == "hit"


def test_cache_wrong_arrays_count_as_corrupt(motion_file, tmp_path):
    cached_smpl22(motion_file, cache_dir=tmp_path)
    entry = _entry(motion_file, tmp_path)
    _, key = cache_key(motion_file)
    with open(entry, "wb") as fh:
        np.savez(fh, joints=np.zeros((5, 21, 3), np.float32), meta=np.str_("{}"),
                 key=np.str_(key), version=np.str_(cache_mod.CACHE_VERSION))  # fmt: skip
    assert cached_smpl22(motion_file, cache_dir=tmp_path)[1]["cache"] == "corrupt"


def test_cache_stale_version_is_rebuilt_in_place(motion_file, tmp_path, monkeypatch):
    cached_smpl22(motion_file, cache_dir=tmp_path)
    entry = _entry(motion_file, tmp_path)
    monkeypatch.setattr(cache_mod, "CACHE_VERSION", "smpl22-v999+test")
    _, meta = cached_smpl22(motion_file, cache_dir=tmp_path)
    assert meta["cache"] == "stale" and STATS.stale == 1
    assert _entry(motion_file, tmp_path) == entry  # same slot, overwritten
    with np.load(entry, allow_pickle=False) as data:
        assert str(data["version"][()]) == "smpl22-v999+test"
    assert cached_smpl22(motion_file, cache_dir=tmp_path)[1]["cache"] == "hit"


def test_cache_stale_key_recorded_inside_is_rebuilt(motion_file, tmp_path):
    joints, _ = cached_smpl22(motion_file, cache_dir=tmp_path)
    entry = _entry(motion_file, tmp_path)
    with open(entry, "wb") as fh:
        np.savez(fh, joints=joints, meta=np.str_("{}"), key=np.str_("another file"),
                 version=np.str_(cache_mod.CACHE_VERSION))  # fmt: skip
    assert cached_smpl22(motion_file, cache_dir=tmp_path)[1]["cache"] == "stale"


def test_cache_key_follows_content_and_reader_kwargs(motion_file, tmp_path):
    cached_smpl22(motion_file, cache_dir=tmp_path)
    joints30, meta30 = cached_smpl22(motion_file, {"fps": 30.0}, cache_dir=tmp_path)
    assert meta30["cache"] == "miss" and joints30.shape[0] == expected_frames(30, 30.0)
    write_kinect_file(motion_file, wave=0.1)  # same name, new content
    assert cached_smpl22(motion_file, cache_dir=tmp_path)[1]["cache"] == "miss"
    assert len(list(tmp_path.rglob("*.npz"))) == 3


def test_cache_default_folder_from_environment(motion_file, tmp_path, monkeypatch):
    monkeypatch.setenv(CACHE_ENV_VAR, str(tmp_path / "env-cache"))
    assert default_cache_dir() == tmp_path / "env-cache"
    cached_smpl22(motion_file)
    assert len(list((tmp_path / "env-cache").rglob("*.npz"))) == 1


def test_cache_unwritable_folder_still_converts(motion_file, tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder should be")
    joints, meta = cached_smpl22(motion_file, cache_dir=blocker)
    assert joints.shape == (39, 22, 3) and STATS.write_errors == 1


def test_convert_many_stops_on_first_bad_file(tmp_path):
    good = write_kinect_file(tmp_path / "a01_s01_e01_skeleton3D.txt")
    bad = write_kinect_file(tmp_path / "a01_s01_e02_skeleton3D.txt", zeros=True)
    with pytest.raises(MotionFileError, match="a01_s01_e02.*all zeros"):
        convert_many([good, bad, good], cache_dir=tmp_path / "c", progress=False)


def test_convert_many_skip_bad_reports_and_goes_on(tmp_path, capsys):
    good = write_kinect_file(tmp_path / "a01_s01_e01_skeleton3D.txt")
    bad = write_kinect_file(tmp_path / "a01_s01_e02_skeleton3D.txt", zeros=True)
    missing = tmp_path / "a01_s01_e03_skeleton3D.txt"
    other = write_kinect_file(tmp_path / "a02_s01_e01_skeleton3D.txt", wave=0.2)
    result = convert_many([good, bad, missing, other], cache_dir=tmp_path / "c", skip_bad=True, progress=True)
    assert [item.path for item in result.converted] == [good, other]
    assert [path for path, _ in result.bad] == [bad, missing]
    assert "all zeros" in result.bad[0][1] and "no such file" in result.bad[1][1]
    uncached = convert_many([good], use_cache=False, progress=False)
    assert uncached.converted[0].meta["cache"] == "off"
    np.testing.assert_array_equal(uncached.converted[0].joints, result.converted[0].joints)


def test_cache_amc_key_includes_its_asf(data_path, tmp_path):
    amc = data_path("hdm05/train/6/HDM_bd_kickLFront1Reps_001_120.amc")
    shutil.copy(amc, tmp_path)
    shutil.copy(amc.parent / "HDM_bd.asf", tmp_path)
    local = tmp_path / amc.name
    cached_smpl22(local, cache_dir=tmp_path / "c")
    asf = tmp_path / "HDM_bd.asf"
    asf.write_text(asf.read_text() + "\n")  # new bytes, same skeleton
    assert cached_smpl22(local, cache_dir=tmp_path / "c")[1]["cache"] == "miss"
