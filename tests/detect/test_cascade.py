"""The cascade (detect/cascade.py): the violence head gates the motion encoder, and the
alerts are exactly those of the full path."""

from __future__ import annotations

import numpy as np
import pytest

from motionvigil.datasets.synthetic import generate_corpus, generate_sequence
from motionvigil.detect import Detector
from motionvigil.detect.builtin import load_builtin_detector
from motionvigil.detect.cascade import Cascade
from motionvigil.detect.timeline import alert_segments
from motionvigil.detect.windows import window_starts


@pytest.fixture(scope="module")
def builtin() -> Detector:
    return load_builtin_detector()


def windows_of(joints: np.ndarray, det: Detector) -> tuple[list[np.ndarray], list[int]]:
    starts = window_starts(len(joints), det.window, det.stride)
    return [joints[s : s + det.window] for s in starts], starts


def check_same(det: Detector, cascade: Cascade, joints: np.ndarray) -> tuple[int, int]:
    """Full vs cascade on one sequence: same violence and alerts, alerting windows named
    alike; returns (windows, alerting windows)."""
    windows, starts = windows_of(joints, det)
    full = det.score_windows(windows, starts)
    cut = cascade.score_windows(windows, starts)
    assert [r.violence for r in cut] == pytest.approx([r.violence for r in full], abs=1e-12)
    assert [r.alert for r in cut] == [r.alert for r in full]
    for a, b in zip(full, cut):
        if b.scores:  # embedded: the very same class scores
            assert b.violent_class == a.violent_class
            assert list(b.scores.values()) == pytest.approx(list(a.scores.values()), abs=1e-5)
        else:
            assert not a.alert and b.violent_class == "" and b.top_class == ""
    assert alert_segments(cut) == alert_segments(full)
    return len(windows), sum(r.alert for r in full)


def test_cascade_skips_the_encoder_below_the_gate_and_keeps_every_alert(builtin):
    joints = np.concatenate([generate_sequence(np.random.default_rng(s), actions=["walk", "punch", "kick", "wave"]
                                               ).joints for s in range(3)])
    cascade = Cascade(builtin)
    n, alerting = check_same(builtin, cascade, joints)
    assert alerting > 0, "the test needs alerting windows to mean something"
    assert 0 < cascade.counts.embedded < n and cascade.counts.windows == n
    assert cascade.counts.encoder_windows_saved == n - cascade.counts.embedded
    # a lower gate embeds more windows; every window at gate 0
    low = Cascade(builtin, gate=0.0)
    check_same(builtin, low, joints)
    assert low.counts.embedded == n


def test_gate_above_the_threshold_is_refused(builtin):
    with pytest.raises(ValueError, match="above the alert threshold"):
        Cascade(builtin, gate=builtin.threshold + 1e-3)


def test_a_detector_without_a_head_embeds_every_window(builtin):
    classes = ("kick", "punch", "walk", "wave")
    corpus = generate_corpus(2, seed=0, num_sequences=0, classes=classes)
    det = Detector.build(builtin.bundle, corpus.clips, classes)
    joints = generate_sequence(np.random.default_rng(1), actions=["walk", "punch"]).joints
    cascade = Cascade(det)
    n, _ = check_same(det, cascade, joints)
    assert not cascade.gated and cascade.counts.embedded == n
    with pytest.raises(ValueError, match="needs the embedding of every window"):
        det.results(*windows_of(joints, det), np.zeros((0, 128), np.float32), rows=[])


@pytest.mark.slow
def test_same_alerts_on_the_detection_studys_sequences(builtin, shared_data):
    """UTKinect's long calm sequences and the study's stitched real sequences (3 violent
    clips among 12): the cascade on and off raise the same alerts."""
    from motionvigil.datasets.registry import load_dataset
    from motionvigil.studies.detection import DetectionSettings, real_sequences

    for need in ("utkinect", "msr_action3d", "hdm05", "bandai2"):
        if not (shared_data / need).is_dir():
            pytest.skip(f"{shared_data / need} is absent")
    utk = load_dataset("utkinect", shared_data / "utkinect", mode="sequences").clips
    pool = load_dataset("mocap_violence", shared_data, skip_bad=True)
    test = [c for c in pool.clips if len(c.labels) == 1 and c.split == "test"]
    sequences = [c.joints for c in utk] + [j for j, _ in real_sequences(test, DetectionSettings(sequences=4), 0)]
    cascade = Cascade(builtin)
    windows = alerting = 0
    for joints in sequences:
        n, a = check_same(builtin, cascade, joints)
        windows, alerting = windows + n, alerting + a
    assert alerting > 0 and cascade.counts.embedded < windows
    print(f"cascade: {windows} windows, {cascade.counts.embedded} embedded, {alerting} alerting")


def test_serves_batched_scorer_with_the_cascade_gives_the_same_alerts(builtin):
    """serve and worker score through BatchScorer: the cascade there changes no alert either."""
    from motionvigil.serve.fastpath import BatchScorer

    joints = np.concatenate([generate_sequence(np.random.default_rng(s), actions=["walk", "punch", "kick", "wave"]
                                               ).joints for s in (0, 1)])
    windows, starts = windows_of(joints, builtin)
    on = BatchScorer(builtin, cascade=True)
    full = BatchScorer(builtin).score_windows(windows, starts)
    cut = on.score_windows(windows, starts)
    assert sum(r.alert for r in full) > 0
    assert [r.violence for r in cut] == pytest.approx([r.violence for r in full], abs=1e-12)
    assert alert_segments(cut) == alert_segments(full)
    assert 0 < on.cascade.counts.embedded < len(windows)


def test_scenes_of_several_streams_score_as_each_stream_alone(builtin):
    """score_scenes takes the scenes of several streams in one call (the serve/worker
    batch), equal start frames included: the same persons, pairs, scores and alerts as
    each stream's own score_scene, with the cascade and without."""
    rng = np.random.default_rng(3)
    w = builtin.window

    def scenes_of(seed: int, ids: tuple[int, int], gap: float) -> list[dict[int, np.ndarray]]:
        a = generate_sequence(np.random.default_rng(seed), actions=["walk", "punch", "kick"]).joints
        b = generate_sequence(np.random.default_rng(seed + 1), actions=["walk", "wave"]).joints
        n = min(len(a), len(b))
        b = b[:n] + np.array([gap, 0.0, 0.0], np.float32)  # close enough for a pair, or not
        return [{ids[0]: a[s : s + w], ids[1]: b[s : s + w]} for s in window_starts(n, w, builtin.stride)]

    streams = [scenes_of(1, (3, 7), 0.6), scenes_of(5, (1, 2), 0.8), scenes_of(9, (4, 5), 6.0)]
    starts = [list(range(0, builtin.stride * len(sc), builtin.stride)) for sc in streams]  # equal across streams
    order = rng.permutation(sum(len(sc) for sc in streams))  # the batch interleaves the streams
    items = [(k, s, sc) for k, (ss, scs) in enumerate(zip(starts, streams)) for s, sc in zip(ss, scs)]
    items = [items[i] for i in order]
    for scorer in (builtin, Cascade(builtin)):
        together = scorer.score_scenes([s for _, s, _ in items], [sc for _, _, sc in items])
        assert len(together) == len(items)
        pairs = 0
        for (k, s, sc), got in zip(items, together):
            alone = scorer.score_scene([s], [sc])
            assert [r.persons for r in got] == [r.persons for r in alone]
            assert [r.violence for r in got] == pytest.approx([r.violence for r in alone], abs=1e-9)
            assert [(r.alert, r.violent_class, r.start_s) for r in got] == [(r.alert, r.violent_class, r.start_s)
                                                                           for r in alone]
            pairs += sum(len(r.persons) == 2 for r in got)
        assert pairs > 0  # the close streams' pairs were scored
