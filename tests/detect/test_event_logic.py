"""The event logic: an alert held open through short lulls, and the hold chosen on
validation events (``model_fit.choose_hold``), the same in offline segments, calm-motion
counting and a stream session."""

from __future__ import annotations

import numpy as np

from motionvigil.detect.head_fit import CalmScan, alert_rate_threshold, alert_spans, count_alerts
from motionvigil.detect.model_fit import choose_hold
from motionvigil.detect.timeline import alert_segments
from motionvigil.detect.windows import WindowResult, alert_runs
from motionvigil.serve.session import StreamSession

W, S = 64, 10


def scan_of(scores) -> CalmScan:
    scores = np.asarray(scores, float)
    return CalmScan(scores, np.arange(len(scores)) * S, (len(scores) - 1) * S + W)


def test_a_hold_merges_alerts_across_a_lull():
    sc = scan_of([0.9, 0] + [0] * 7 + [0.9])  # alerting windows start at 0 and 90: a 26-frame lull
    assert count_alerts(sc, W, 0.5) == 2
    assert count_alerts(sc, W, 0.5, hold=20) == 2
    assert count_alerts(sc, W, 0.5, hold=26) == 1
    assert alert_spans(sc, W, 0.5, 20.0, hold=26) == [(0.0, (90 + W) / 20.0)]


def test_alert_runs_merge_on_the_latest_end_so_far():
    assert alert_runs([], []) == []
    # the second window ends last; the third starts before that end, the fourth 1 after it
    assert alert_runs([0, 1, 5, 12], [4, 11, 6, 13]) == [(0, 2), (3, 3)]
    assert alert_runs([0, 1, 5, 12], [4, 11, 6, 13], hold=1) == [(0, 3)]
    assert alert_runs([0.0, 3.2], [3.2, 6.4]) == [(0, 1)]  # touching spans are one alert


def test_segments_and_stream_events_use_the_same_hold():
    def win(start_s, alert):
        return WindowResult(start_s, start_s + 3.2, {}, 0.9 if alert else 0.1, alert, "punch")

    results = [win(0.0, True), win(0.5, False), win(4.0, False), win(4.5, True), win(20.0, False)]
    assert len(alert_segments(results)) == 2  # 4.5 s starts 1.3 s after the first one ended
    merged = alert_segments(results, hold_s=1.5)
    assert [(a.start_s, a.end_s, a.windows) for a in merged] == [(0.0, 7.7, 2)]
    for hold, starts in ((0.0, 2), (1.5, 1)):
        session = StreamSession("cam", W, S, 0.5, hold)
        events = session.events(results) + session.close_alerts()
        assert sum(e["event"] == "start" for e in events) == starts
        assert sum(e["event"] == "end" for e in events) == starts


def test_the_hold_that_finds_most_events_at_its_own_threshold_wins():
    calm = [scan_of([0.1, 0.8, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.7] + [0.1] * 200)]
    # two calm bumps 0.4 s apart in window starts: without a hold they are two alerts, with one, one
    event = scan_of([0.1] * 10 + [0.75] + [0.1] * 10)
    events = [(event, (100, 170))]
    minutes = calm[0].frames / 20 / 60
    budget = 1.5 / minutes  # room for one alert on the calm scan, not two
    t0, _ = alert_rate_threshold(calm, W, budget)
    assert t0 == 0.8  # without a hold, 0.7 would make two alerts
    choice = choose_hold(calm, events, W, budget, candidates=(0.0, 1.0, 3.0))
    assert choice["candidates"]["0"]["events_found"] == 0
    assert choice["candidates"]["1"]["threshold"] <= 0.7 and choice["candidates"]["1"]["events_found"] == 1
    assert choice["hold_s"] == 1.0  # 3 s finds it too: ties go to the shorter hold
    assert choose_hold(calm, [], W, budget)["hold_s"] == 0.0
