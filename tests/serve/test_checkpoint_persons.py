"""Checkpoints of a ``StreamSession`` (what ``motionvigil worker`` keeps per camera in Redis)
for a stream of several persons: a session restored from its checkpoint, through the
JSON text of :mod:`motionvigil.serve.checkpoint`, gives exactly the windows, window
messages and alerts of one that never stopped. No Redis needed.

The motion is tests/scenes.py's three persons as a 30 Hz Kinect (persons appearing off
the 20 Hz grid, one gone for more than a window and back, lost frames); the detector a
tiny random one with the fake pair model (code paths, not accuracy).
"""

from __future__ import annotations

import numpy as np
import pytest
from scenes import sequence, three_persons, tiny_detector, with_pairs, with_threshold

from motionvigil.io import Motion
from motionvigil.serve import checkpoint
from motionvigil.serve.session import ProtocolError, StreamSession

THRESHOLD = 0.955  # about the median violence of this motion: alerts start and end, per person and pair


@pytest.fixture(scope="module")
def detector():
    return with_pairs(with_threshold(tiny_detector(), THRESHOLD), bonus=0.02)


@pytest.fixture(scope="module")
def motion() -> Motion:
    bodies, layout, ids, present = three_persons(30.0)
    return Motion.from_bodies(bodies, 30.0, layout, person_ids=ids, present=present)


def messages(motion: Motion, seed: int = 0, most: int = 8) -> list[tuple]:
    """``(t, joints [n, P, J, 3], ids)`` in uneven chunks: the persons seen in each chunk,
    zeros where one is not seen (as serve's ``persons`` frames are stacked)."""
    rng = np.random.default_rng(seed)
    out, i = [], 0
    while i < motion.num_frames:
        part = slice(i, min(motion.num_frames, i + int(rng.integers(1, most + 1))))
        rows = [p for p in range(motion.num_persons) if motion.presence[p, part].any()]
        joints = np.zeros((part.stop - part.start, len(rows), motion.num_joints, 3))
        for k, p in enumerate(rows):
            joints[:, k] = np.where(motion.presence[p, part][:, None, None], motion.bodies[p, part], 0.0)
        out.append((np.arange(part.start, part.stop) / motion.fps, joints, [motion.person_ids[p] for p in rows]))
        i = part.stop
    return out


def session(detector, layout: str, fps: float) -> StreamSession:
    s = StreamSession("cam", detector.window, detector.stride, detector.threshold)
    s.start({"layout": layout, "fps": fps, "windows": True})
    return s


def feed(s: StreamSession, detector, msg: tuple) -> tuple[list, list[int], list[dict]]:
    """One message through the session: its windows (scenes or arrays), their starts, the events."""
    windows, starts = s.push(*msg)
    if not windows:
        return windows, starts, []
    results = detector.score_scene(starts, windows) if isinstance(windows[0], dict) else \
        detector.score_windows(windows, starts)
    return windows, starts, s.events(results)


def assert_same_windows(a: list, b: list) -> None:
    assert len(a) == len(b)
    for x, y in zip(a, b):
        if isinstance(x, dict):
            assert sorted(x) == sorted(y)
            for pid in x:
                np.testing.assert_array_equal(x[pid], y[pid])
        else:
            np.testing.assert_array_equal(x, y)


def restored(s: StreamSession, detector) -> StreamSession:
    """A fresh session continuing from ``s``'s checkpoint (as a worker taking a camera over)."""
    text = checkpoint.dumps(s.state())
    again = StreamSession("cam", detector.window, detector.stride, detector.threshold)
    again.restore(checkpoint.loads(text))
    assert checkpoint.dumps(again.state()) == text  # nothing was lost on the way
    return again


def test_persons_checkpoint_restores_exactly(detector, motion):
    msgs = messages(motion)
    whole = session(detector, motion.layout.name, motion.fps)
    want_w, want_s, want_e = [], [], []
    for msg in msgs:
        w, s, e = feed(whole, detector, msg)
        want_w, want_s, want_e = want_w + w, want_s + s, want_e + e
    want_e += whole.close_alerts()

    # a new session from the checkpoint after every message: every state the stream goes through
    cut = session(detector, motion.layout.name, motion.fps)
    got_w, got_s, got_e, open_keys, followed = [], [], [], [], []
    for msg in msgs:
        w, s, e = feed(cut, detector, msg)
        got_w, got_s, got_e = got_w + w, got_s + s, got_e + e
        state = cut.state()
        open_keys.append([tuple(run["persons"]) for run in state["runs"]])
        followed.append([p["id"] for p in state["stream"]["persons"]])
        cut = restored(cut, detector)
    got_e += cut.close_alerts()

    assert got_s == want_s and len(want_s) > 10
    assert_same_windows(got_w, want_w)
    assert got_e == want_e
    # the checkpoints held what the test is about
    assert any(len(keys) >= 2 and any(len(k) == 2 for k in keys) for keys in open_keys), open_keys
    assert max(map(len, followed)) == 3
    gone = "".join("x" if 4 in ids else "." for ids in followed)  # person 4 followed, forgotten, back
    assert gone.strip(".").count(".") > 0 and gone.startswith("x") and gone.endswith("x"), gone
    assert {e["event"] for e in want_e if e["type"] == "alert"} == {"start", "end"}


def test_one_checkpoint_mid_stream_into_another_process(detector, motion):
    """The worker's case: one checkpoint (with alerts open), then a fresh session goes on."""
    msgs = messages(motion, seed=3)
    whole = session(detector, motion.layout.name, motion.fps)
    events = [feed(whole, detector, msg)[2] for msg in msgs]
    half = session(detector, motion.layout.name, motion.fps)
    for k, msg in enumerate(msgs, 1):
        feed(half, detector, msg)
        if len(half.state()["runs"]) >= 2:
            break
    assert k < len(msgs), "no checkpoint with two open alerts: the test would prove nothing"
    again = StreamSession("cam", detector.window, detector.stride, detector.threshold)
    again.restore(checkpoint.loads(checkpoint.dumps(half.state())))
    with pytest.raises(ProtocolError, match="sends persons per frame; it cannot change"):  # the kind is kept
        again.parse_text('{"t": 99, "joints": []}')
    later = [e for msg in msgs[k:] for e in feed(again, detector, msg)[2]]
    assert later + again.close_alerts() == [e for es in events[k:] for e in es] + whole.close_alerts()
    assert again.frames == whole.frames and again.windows == whole.windows and again.last_t == whole.last_t


def test_a_one_body_checkpoint_of_the_old_form_is_read(detector):
    """Checkpoints written before persons existed (one open alert ``run``, no persons) still restore."""
    joints = sequence(4, ("walk", "punch", "kick", "punch")).astype(np.float64)
    t = np.arange(len(joints)) / 20
    msgs = [(t[i : i + 5], joints[i : i + 5]) for i in range(0, len(joints), 5)]
    whole = session(detector, "smpl22", 20)
    events = [feed(whole, detector, msg)[2] for msg in msgs]
    half = session(detector, "smpl22", 20)
    for k, msg in enumerate(msgs, 1):
        feed(half, detector, msg)
        if half.state()["runs"]:
            break
    state = half.state()
    assert len(state["runs"]) == 1 and k < len(msgs)
    old = dict(state, run={key: v for key, v in state["runs"][0].items() if key != "persons"})
    del old["runs"], old["persons"]
    old["stream"] = {key: state["stream"][key] for key in ("retarget", "buffer", "frames")}
    again = StreamSession("cam", detector.window, detector.stride, detector.threshold)
    again.restore(checkpoint.loads(checkpoint.dumps(old)))
    assert checkpoint.dumps(again.state()) == checkpoint.dumps(state)
    later = [e for msg in msgs[k:] for e in feed(again, detector, msg)[2]]
    assert later + again.close_alerts() == [e for es in events[k:] for e in es] + whole.close_alerts()
