"""Cross-skeleton transfer: native skeletons kept by the loaders, chain definitions per
layout, native motion patches, and the study (synthetic families + real files)."""

from __future__ import annotations

import numpy as np
import pytest

from motionvigil.datasets.clip import Clip, Dataset
from motionvigil.datasets.native import native_skeleton, to_smpl22_native, with_native
from motionvigil.datasets.synthetic import generate_corpus
from motionvigil.datasets.synthetic.sensors import as_kinect_sdk
from motionvigil.studies import cross_skeleton as xs
from motionvigil.features.patches import CHAINS, chain_indices, chain_points, chain_problems
from motionvigil.io import load_motion
from motionvigil.io.layouts import KINECT_MSR, KINECT_SBU15, KINECT_SDK, KINECT_UTD, SMPL22
from motionvigil.io.motion import Layout, Motion
from motionvigil.models.inputs import MotionInputs
from motionvigil.models.text import TextEmbeddingCache
from motionvigil.skeleton.retarget import to_smpl22

REAL_FILES = {  # a few files per layout: punch, kick, jogging, arm wave; walk, waves, raise hand; ...
    "kinect_msr": [f"msr_action3d/skeletons/{n}_skeleton3D.txt"
                   for n in ("a05_s01_e01", "a14_s02_e01", "a16_s03_e02", "a01_s05_e01")],
    "kinect_sdk": ["utkinect/joints/joints_s01_e01.txt", "utkinect/joints/joints_s02_e02.txt"],
    "cmu_asf": ["hdm05/train/6/HDM_bd_kickLFront1Reps_001_120.amc",
                "hdm05/train/6/HDM_bk_kickLFront1Reps_007_120.amc",
                "hdm05/test/11/HDM_mm_throwBasketball_010_120.amc"],
    "bandai_bvh": [f"bandai2/data/dataset-2_{n}.bvh" for n in
                   ("walk_normal_001", "wave-left-hand_elderly_003", "raise-up-right-hand_active_005")],
}


def _real(data_path, rel: str) -> Motion:
    return load_motion(data_path(rel))  # data_path skips when the file is absent


# --------------------------------------------------------------------------- native skeletons


@pytest.mark.parametrize("layout", sorted(REAL_FILES))
def test_native_joints_share_the_canonical_frame_of_the_smpl_joints(data_path, layout):
    for rel in REAL_FILES[layout]:
        motion = _real(data_path, rel)
        smpl, native = to_smpl22_native(motion)
        assert motion.layout.name == layout and native.shape == (smpl.num_frames, motion.num_joints, 3)
        np.testing.assert_allclose(smpl.joints, to_smpl22(motion).joints, atol=1e-5)  # unchanged retargeting
        # same rigid frame: retargeting the canonical native joints gives the canonical SMPL joints
        from motionvigil.skeleton.mappings import mapping_matrix

        remapped = np.einsum("sj,tjc->tsc", mapping_matrix(motion.layout), native)
        np.testing.assert_allclose(remapped, smpl.joints, atol=1e-4)
        assert abs(float(smpl.joints[..., 1].min())) < 1e-5  # SMPL floor at 0, as before
        assert smpl.fps == 20.0


def _left_side_fraction(joints: np.ndarray, layout: Layout, part: int) -> float:
    """Share of frames whose left chain end lies left of the right one. "Left" comes from a
    label-free direction: forward = where the toes point (mean over both feet)."""
    ch = chain_indices(layout)
    toe = sum(joints[:, k[-1]] - joints[:, k[-2]] for k in ch[3:])
    toe[:, 1] = 0.0
    left = np.cross([0.0, 1.0, 0.0], toe)
    gap = joints[:, ch[part][-1]] - joints[:, ch[part + 1][-1]]
    return float(np.mean(np.einsum("tc,tc->t", gap, left) > 0))


@pytest.mark.parametrize("layout", sorted(REAL_FILES))
def test_chains_are_valid_and_left_is_left_on_real_files(data_path, layout):
    hands, feet = [], []
    for rel in REAL_FILES[layout]:
        motion = _real(data_path, rel)
        assert chain_problems(motion.layout) == []
        _, native = to_smpl22_native(motion)
        hands.append(_left_side_fraction(native, motion.layout, 1))
        feet.append(_left_side_fraction(native, motion.layout, 3))
        torso = chain_indices(motion.layout)[0]
        head_up = native[:, torso[-1], 1] > native[:, torso[0], 1]
        assert head_up.mean() > 0.9  # the torso chain runs from the hips up to the head
    assert np.mean(hands) > 0.75 and np.mean(feet) > 0.75, (hands, feet)


def test_chain_problems_catch_broken_definitions():
    for layout in (SMPL22, KINECT_MSR, KINECT_SDK, KINECT_UTD, KINECT_SBU15):
        assert chain_problems(layout) == []
    parents = list(KINECT_SDK.parents)
    parents[KINECT_SDK.index("left_elbow")] = KINECT_SDK.index("hip_centre")  # elbow hangs off the hips
    broken = Layout("kinect_sdk", KINECT_SDK.joint_names, tuple(parents))
    assert chain_problems(broken) == ["left_arm: 'left_shoulder' is not an ancestor of 'left_elbow'"]
    crossed = dict(CHAINS)
    crossed["kinect"] = (CHAINS["kinect"][0], CHAINS["kinect"][2], CHAINS["kinect"][1], *CHAINS["kinect"][3:])
    with pytest.MonkeyPatch.context() as mp:  # left and right arm chains swapped in the definition
        mp.setattr("motionvigil.features.patches.CHAINS", crossed)
        assert any("other side" in p for p in chain_problems(KINECT_SDK))
    assert "no body-chain definition" in chain_problems(Layout("generic", ("a", "b"), (-1, 0)))[0]
    assert set(CHAINS) == {"smpl22", "kinect", "kinect_sbu15", "bandai_bvh", "cmu_asf"}


# --------------------------------------------------------------------------- inputs


def _kinect_family(clips: list[Clip]) -> list[Clip]:
    """Synthetic clips seen by a Kinect: SDK joints from the SMPL ones, then the native path."""
    out = []
    for c in clips:
        motion = Motion(as_kinect_sdk(c.joints), 20.0, KINECT_SDK)
        smpl, native = to_smpl22_native(motion)
        clip = Clip(c.clip_id, smpl.joints, c.labels, c.violent, "synthetic_kinect", subject=c.subject,
                    split=c.split, captions=c.captions)
        out.append(with_native(clip, native, KINECT_SDK))
    return out


def _smpl_family(clips: list[Clip]) -> list[Clip]:
    return [with_native(Clip(c.clip_id, c.joints, c.labels, c.violent, "synthetic_smpl", subject=c.subject,
                             split=c.split, captions=c.captions), c.joints, SMPL22) for c in clips]


@pytest.fixture(scope="module")
def corpus():
    return generate_corpus(6, seed=3, num_sequences=0, num_subjects=4, test_fraction=0.5,
                           classes=("kick", "run", "walk", "wave", "throw", "pick up"))


def test_vit_native_inputs_use_the_clips_own_skeleton(corpus):
    kinect = _kinect_family(corpus.clips[:6])
    smpl = _smpl_family(corpus.clips[:6])
    native = MotionInputs.fit("vit_native", kinect, 64)
    retargeted = MotionInputs.fit("vit", kinect, 64)
    a, b = native.sequence(kinect[0]), retargeted.sequence(kinect[0])
    assert a.shape == b.shape == (kinect[0].num_frames, 240)
    assert not np.allclose(a, b)  # Kinect chains (hands, no collars) differ from SMPL-22's
    joints, layout = native_skeleton(kinect[0])
    expected = native.normalizer.normalize(chain_points(joints, layout).reshape(len(joints), -1))
    np.testing.assert_allclose(a, expected)
    # for a clip whose native skeleton IS SMPL-22 the two kinds agree
    np.testing.assert_allclose(MotionInputs.fit("vit_native", smpl, 64).sequence(smpl[1]),
                               MotionInputs.fit("vit", smpl, 64).sequence(smpl[1]), atol=1e-5)
    x, mask = native.collate([native.crop(a, None)])
    assert x.shape == (1, 3, 64 if len(a) > 48 else -(-len(a) // 16) * 16, 80) and mask.any()
    with pytest.raises(ValueError, match="no native skeleton"):
        native.sequence(corpus.clips[0])


# --------------------------------------------------------------------------- study


def test_shared_clips_relabel_to_coarse_classes():
    mk = lambda label: Clip(label, np.zeros((4, 22, 3), np.float32), (label,), False, "x")  # noqa: E731
    out = xs.shared_clips([mk(n) for n in ("forward kick", "jogging", "hand clap", "depositFloorR", "run")])
    assert [c.labels for c in out] == [("kick",), ("jog",), ("bend down",), ("jog",)]
    assert [c.violent for c in out] == [True, False, False, False]


def test_study_on_synthetic_families(corpus, tmp_path):
    kinect = Dataset("synthetic_kinect", _kinect_family(corpus.clips), corpus.classes)
    mocap = Dataset("synthetic_smpl", _smpl_family(corpus.clips), corpus.classes)
    s = xs.StudySettings(arms=("vit_native", "tmr"), pretrain_epochs=1, finetune_epochs=1, episodes=4,
                         shots=2, queries=2, val_fraction=0.2)
    result = xs.run_study({"kinect": [kinect], "mocap": [mocap]}, s, TextEmbeddingCache(tmp_path / "text"),
                          classification={"synthetic_smpl": "kinect"},
                          retrieval=("synthetic_kinect", "mocap"))
    rows = result["rows"]
    settings = {(r["arm"], r["setting"]) for r in rows}
    for arm in ("vit_native", "tmr"):
        assert {(arm, "zero-shot"), (arm, "linear probe"), (arm, "fine-tuned"),
                (arm, "support kinect / queries mocap"), (arm, "support mocap / queries kinect")} <= settings
    for r in rows:
        if "value" in r:
            assert 0.0 <= r["value"] <= 100.0
        else:
            assert r["episodes"] == 4 and 0.0 <= r["top1"] <= 1.0
            assert set(r["classes"]) <= set(xs.SHARED_CLASSES)
    table = xs.study_markdown(result)
    assert "| vit_native | tmr |" in table and "support kinect / queries mocap" in table


# --------------------------------------------------------------------------- cache and loaders


def _write_msr_file(path, clip: Clip) -> None:
    """An MSR Action3D text file (20 joints x ``x y z confidence`` per frame, MSR order)."""
    sdk = as_kinect_sdk(clip.joints)
    order = [KINECT_SDK.index(n) for n in KINECT_MSR.joint_names]
    lines = [f"{x:.5f} {y:.5f} {z:.5f} 1" for frame in sdk[:, order] for x, y, z in frame]
    path.write_text("\n".join(lines) + "\n")


def test_cache_keeps_native_joints_on_request(corpus, tmp_path):
    from motionvigil.datasets import cache as cache_mod

    motion_file = tmp_path / "a01_s01_e01_skeleton3D.txt"
    _write_msr_file(motion_file, corpus.clips[0])
    plain, meta_plain = cache_mod.cached_smpl22(motion_file, cache_dir=tmp_path / "c")
    assert "native_joints" not in meta_plain
    joints, meta = cache_mod.cached_smpl22(motion_file, cache_dir=tmp_path / "c", native=True)
    assert meta["cache"] == "stale"  # the entry had no native joints: rebuilt with them
    again, meta2 = cache_mod.cached_smpl22(motion_file, cache_dir=tmp_path / "c", native=True)
    assert meta2["cache"] == "hit"
    np.testing.assert_array_equal(plain, joints)
    np.testing.assert_array_equal(meta["native_joints"], meta2["native_joints"])
    assert meta2["native_joints"].shape == (len(joints), 20, 3)
    assert meta2["native_layout"]["name"] == "kinect_msr"
    (entry,) = (tmp_path / "c").rglob("*.npz")
    with np.load(entry, allow_pickle=False) as data:
        assert set(data.files) == {"joints", "meta", "key", "version", "native"}
    # the native skeleton, retargeted, is the cached SMPL-22 clip
    from motionvigil.skeleton.mappings import mapping_matrix

    np.testing.assert_allclose(np.einsum("sj,tjc->tsc", mapping_matrix(KINECT_MSR), meta2["native_joints"]),
                               joints, atol=1e-4)


def test_utkinect_loader_keeps_native_joints(shared_data):
    from motionvigil.datasets.loaders.utkinect import load_utkinect

    if not (shared_data / "utkinect").is_dir():
        pytest.skip("utkinect not present")
    ds = load_utkinect(shared_data / "utkinect")
    for clip in ds.clips[:20]:
        joints, layout = native_skeleton(clip)
        assert layout.name == "kinect_sdk" and joints.shape == (clip.num_frames, 20, 3)
        head = clip.joints[:, SMPL22.index("head")]
        np.testing.assert_allclose(joints[:, layout.index("head")], head, atol=1e-5)


def test_cached_loader_puts_native_joints_in_clip_meta(corpus, tmp_path):
    from motionvigil.datasets.loaders.msr_action3d import load_msr_action3d

    root = tmp_path / "msr" / "skeletons"
    root.mkdir(parents=True)
    for i, clip in enumerate(corpus.clips[:3]):
        _write_msr_file(root / f"a0{i + 1}_s01_e01_skeleton3D.txt", clip)
    for _ in range(2):  # converted, then from the cache
        ds = load_msr_action3d(tmp_path / "msr", cache_dir=tmp_path / "c")
        assert [c.meta["cache"] for c in ds.clips] in (["miss"] * 3, ["hit"] * 3)
        for clip in ds.clips:
            joints, layout = native_skeleton(clip)
            assert layout.name == "kinect_msr" and joints.shape == (clip.num_frames, 20, 3)
    assert ds.clips[0].meta["cache"] == "hit"


def test_cross_family_draws_keep_support_and_queries_apart(corpus):
    kinect, smpl = xs.shared_clips(_kinect_family(corpus.clips)), xs.shared_clips(_smpl_family(corpus.clips))
    s = xs.StudySettings(episodes=6, ways=5, shots=2, queries=3)
    for sup, qry in ((kinect, smpl), (kinect, kinect)):
        draws = list(xs.cross_family_draws(sup, qry, s))
        assert len(draws) == 6
        for d in draws:
            assert len(set(d.classes)) == 5 and d.violent.sum() == 1  # "kick" is the one violent shared class
            assert d.violent[list(d.classes).index("kick")]
            for row, i in zip(d.targets, d.query):
                assert d.classes[int(np.argmax(row))] == qry[i].labels[0] and row.sum() == 1
            for row, i in zip(d.support_targets, d.support):
                assert d.classes[int(np.argmax(row))] == sup[i].labels[0]
            assert all(qry[i].dataset == qry[0].dataset for i in d.query)
        if sup is qry:
            assert all(set(d.support).isdisjoint(set(d.query)) for d in draws)
