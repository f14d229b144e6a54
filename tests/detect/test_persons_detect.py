"""Several persons end to end in detect/: detect_motion (tracks, pairs, alerts per person
or pair, JSON, text), the MIN_PRESENT rule, lost bodies never scored, and the
StreamingDetector equal to detect_motion on the same recording (synthetic and real
Kinect), with bounded memory. A fake pair model (tests/scenes.py) stands in for the
lead's; the detector is a tiny random one (code paths, not accuracy)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scenes import FakePairModel, offline_results, push_in_chunks, three_persons, tiny_detector, with_pairs

from motionvigil.detect import StreamingDetector, detect_motion, timeline_json
from motionvigil.detect.scene import MIN_PRESENT, frames_needed
from motionvigil.detect.timeline import format_alerts
from motionvigil.detect.windows import window_starts
from motionvigil.errors import MotionFileError
from motionvigil.io import SMPL22, Motion, load_motion

TOL = 1e-5


@pytest.fixture(scope="module")
def plain():
    return tiny_detector()


@pytest.fixture(scope="module")
def detector(plain):
    """With a fake pair model whose pair score is above both persons' mean."""
    return with_pairs(plain, bonus=0.02)


@pytest.fixture(scope="module")
def motion() -> Motion:
    bodies, layout, ids, present = three_persons(20.0)
    return Motion.from_bodies(bodies, 20.0, layout, person_ids=ids, present=present, source="three.npz")


@pytest.fixture(scope="module")
def timeline(detector, motion):
    return detect_motion(detector, motion)


def key(r):
    return (r.persons, r.start_s)


def assert_same(a, b):
    a, b = sorted(a, key=key), sorted(b, key=key)
    assert [key(r) for r in a] == [key(r) for r in b] and len(a) > 10
    for x, y in zip(a, b):
        assert x.end_s == pytest.approx(y.end_s, abs=1e-9)
        np.testing.assert_allclose(list(x.scores.values()), list(y.scores.values()), atol=TOL, rtol=0)
        assert x.violence == pytest.approx(y.violence, abs=TOL) and x.alert == y.alert


# --------------------------------------------------------------------------- offline


def test_lost_frames_are_absent(motion):
    assert not motion.presence[0, 10:13].any() and motion.presence[0, 9] and motion.presence[0, 13]
    assert np.isfinite(motion.joints).all() and (motion.bodies[0, 10:13] != 0).any()  # filled, not zeros


def test_tracks_pairs_and_alerts_name_persons(detector, timeline, motion):
    assert [t.id for t in timeline.tracks] == [4, 1, 9]
    starts = {r.start_s for r in offline_results(timeline)}
    assert [w.start_s for w in timeline.windows] == sorted(starts)  # one scene result per window
    for w in timeline.windows:  # the scene's result is its most violent person or pair
        assert w.violence == max(r.violence for r in offline_results(timeline) if r.start_s == w.start_s)
    pairs = {p.ids for p in timeline.pairs}
    assert pairs <= {(1, 4), (1, 9), (4, 9)} and (1, 4) in pairs and (1, 9) in pairs
    # person 9 appears a third in: no window before that holds it or a pair with it
    first9 = timeline.tracks[2].start_s
    assert first9 == pytest.approx((motion.num_frames // 3 + 1) / 20)
    assert all(r.start_s >= first9 - 0.25 * 3.2 - 1e-9 for r in offline_results(timeline) if 9 in r.persons)
    assert timeline.alerts and all(a.persons for a in timeline.alerts)
    for a in timeline.alerts:  # a segment merges windows of one key only
        assert a.windows == sum(1 for r in offline_results(timeline)
                                if r.persons == a.persons and r.alert and a.start_s <= r.start_s < a.end_s)


def test_timeline_json_and_text(detector, timeline):
    doc = json.loads(json.dumps(timeline_json(timeline, "three.npz")))
    assert list(doc) == ["file", "duration_s", "threshold", "policy", "timeline", "alerts", "tracks", "pairs"]
    assert [t["id"] for t in doc["tracks"]] == [4, 1, 9]
    assert set(doc["tracks"][0]) == {"id", "start", "end", "timeline"}
    assert doc["tracks"][0]["timeline"][0].keys() == doc["timeline"][0].keys() - {"persons"}
    assert [p["ids"] for p in doc["pairs"]] == [list(p.ids) for p in timeline.pairs]
    alert = doc["alerts"][0]
    assert list(alert) == ["start", "end", "persons", "class", "score", "windows"]
    text = format_alerts(timeline, "three.npz")
    assert text.splitlines()[0].startswith(f"three.npz: {timeline.duration_s:.1f} s, 3 persons, {len(timeline.windows)} windows")
    named = ["person " + str(a.persons[0]) if len(a.persons) == 1 else "persons " + "+".join(map(str, a.persons))
             for a in timeline.alerts]
    assert [line.split(" s  ")[1].split("  ")[0] for line in text.splitlines()[1:]] == named


def test_pairs_flow_from_the_pair_model(plain, motion):
    fake = with_pairs(plain, bonus=0.0)
    tl = detect_motion(fake, motion)
    n = round(tl.duration_s * 20)
    assert fake.pair_model.calls == [len(window_starts(n, plain.window, plain.stride))]  # every window, one call
    assert {p.ids for p in tl.pairs} == {(1, 4), (1, 9), (4, 9)}
    without = detect_motion(plain, motion)  # no pair model: persons only, the same person results
    assert without.pairs == [] and all(len(r.persons) == 1 for r in offline_results(without))
    assert_same(offline_results(without), [r for t in tl.tracks for r in t.windows])


def test_min_present_decides_who_is_scored(plain):
    w = plain.window
    rng = np.random.default_rng(0)
    bodies = np.stack([rng.normal(size=(w, 22, 3)), rng.normal(size=(w, 22, 3)) + 2.0]).astype(np.float32)
    need = frames_needed(w)
    assert need == 48 == MIN_PRESENT * w
    for seen, scored in ((need, True), (need - 1, False)):
        present = np.ones((2, w), bool)
        present[1, seen:] = False
        tl = detect_motion(plain, Motion(bodies, 20.0, SMPL22, person_ids=(0, 5), present=present))
        assert bool(tl.tracks[1].windows) is scored
        doc = timeline_json(tl)["tracks"][1]
        assert ("scored" not in doc) if scored else (doc["scored"] is False and "shorter" in doc["reason"])


def test_lost_or_absent_bodies_never_reach_the_model(plain, motion):
    fed: list[np.ndarray] = []
    spy = with_pairs(plain)
    original = spy.results  # every scored window passes through results(), embedded or not
    spy.results = lambda windows, *a, **k: fed.extend(windows) or original(windows, *a, **k)
    bodies = motion.bodies.copy()
    bodies[1, 100:110] = 0.0  # lost for half a second, and never marked absent
    detect_motion(spy, Motion(bodies, 20.0, SMPL22, person_ids=motion.person_ids, present=motion.present))
    assert fed and all(np.isfinite(w).all() and (w.reshape(len(w), -1) != 0).any(1).all() for w in fed)


def test_a_person_never_seen_and_bad_bodies(plain, motion):
    bodies = np.concatenate([motion.bodies, np.zeros((1,) + motion.bodies.shape[1:], np.float32)])
    tl = detect_motion(plain, Motion.from_bodies(bodies, 20.0, SMPL22, person_ids=(4, 1, 9, 7)))
    assert tl.tracks[3].reason == "never seen" and tl.tracks[3].start_s is None
    bodies[1, 40, 3] = np.nan
    with pytest.raises(MotionFileError, match=r"x\.npz: person 1, frame 40: joint 3 is NaN"):
        Motion.from_bodies(bodies, 20.0, SMPL22, person_ids=(4, 1, 9, 7), source="x.npz")
    with pytest.raises(MotionFileError, match="no person is seen"):
        Motion.from_bodies(np.zeros((2, 10, 22, 3)), 20.0, SMPL22, source="x.npz")


# ----------------------------------------------------------------------- streaming


@pytest.mark.parametrize("fps,empty_s,most", [(20.0, 0.0, 8), (30.0, 0.0, 8), (30.0, 2.0, 8), (30.0, 0.0, 1)])
def test_stream_equals_offline_for_several_persons(detector, fps, empty_s, most):
    """``empty_s``: nobody in view for the first seconds (pushes of zero persons); ``most``:
    the longest push (1: frame by frame, so a person first seen in a raw frame between two
    20 Hz instants has no 20 Hz frame yet after that push and must not be forgotten)."""
    bodies, layout, ids, present = three_persons(fps)
    present[:, : int(empty_s * fps) + (1 if empty_s else 0)] = False
    motion = Motion.from_bodies(bodies, fps, layout, person_ids=ids, present=present)
    offline = offline_results(detect_motion(detector, motion))
    stream = StreamingDetector(detector)
    assert_same(push_in_chunks(stream, motion, most=most), offline)
    assert stream.buffered_frames <= detector.window - 1


def test_stream_real_kinect_two_persons(detector, data_path):
    """Two real UTKinect recordings on one clock: the second person walks in 2 s late and
    the first is lost (all zeros) for a few frames, as a Kinect loses a skeleton."""
    a = load_motion(data_path("utkinect/joints/joints_s01_e01.txt"))
    b = load_motion(data_path("utkinect/joints/joints_s02_e01.txt"))
    n = min(a.num_frames, b.num_frames, 300)
    bodies = np.stack([a.joints[:n], b.joints[:n] + np.float32([1.0, 0.0, 0.0])])
    present = np.ones((2, n), bool)
    present[1, :61] = False
    bodies[0, 100:104] = 0.0
    motion = Motion.from_bodies(bodies, a.fps, a.layout, person_ids=(0, 1), present=present)
    offline = offline_results(detect_motion(detector, motion))
    assert_same(push_in_chunks(StreamingDetector(detector), motion, seed=1), offline)


def test_stream_memory_is_bounded(plain):
    """People come and go for a long time: only those seen within the last window are kept."""
    stream = StreamingDetector(plain)
    rng = np.random.default_rng(0)
    body = rng.normal(size=(22, 3)).astype(np.float32)
    followed = []
    for k in range(60):  # 60 pushes of 20 frames (1 s each), a new person every 2 s
        ids = [k // 2, k // 2 + 1000]
        frames = np.broadcast_to(body, (20, 2, 22, 3)) + rng.normal(scale=0.01, size=(20, 2, 22, 3))
        stream.push(frames, SMPL22, 20.0, ids=ids)
        followed.append(len(stream.persons))
        assert stream.buffered_frames <= plain.window - 1
    assert max(followed) <= 2 * 6  # ids seen within the last 3.2 s (+ the push), not all 60 so far
    assert stream.frames == 1200


def test_stream_persons_input_errors(plain):
    stream = StreamingDetector(plain)
    frame = np.zeros((2, 22, 3)) + np.arange(22)[None, :, None]
    with pytest.raises(MotionFileError, match="unique"):
        stream.push(frame, SMPL22, 20.0, ids=[3, 3])
    with pytest.raises(MotionFileError, match=r"\[n, 2, 22, 3\]"):
        stream.push(frame[:, :20], SMPL22, 20.0, ids=[0, 1])
    bad = frame.copy()
    bad[1, 4] = np.nan
    with pytest.raises(MotionFileError, match="frame 0, person 8: NaN"):
        stream.push(bad, SMPL22, 20.0, ids=[7, 8])
    lost = frame.copy()
    lost[1] = np.nan  # all NaN: absent, not an error
    assert stream.push(lost, SMPL22, 20.0, ids=[7, 8]) == [] and stream.persons == (7,)
    with pytest.raises(ValueError, match="several persons"):
        stream.push(frame[0], SMPL22, 20.0)
    one = StreamingDetector(plain)
    one.push(frame[0], SMPL22, 20.0)
    with pytest.raises(ValueError, match="one body"):
        one.push(frame, SMPL22, 20.0, ids=[0, 1])
