"""The demo's alert matching: the detection study's rule and the full event summary."""

from __future__ import annotations

import pytest

from motionvigil.detect.timeline import AlertSegment, Timeline
from motionvigil.metrics.temporal_detection import TruthSegment
from motionvigil.studies.demo_long_motion import MATCH_RULE, describe_match, match_alerts


def test_event_precision_recall_false_alerts_per_minute_and_alerted_seconds():
    truth = [TruthSegment("walk", 0, 10, False), TruthSegment("kick", 10, 14, True),
             TruthSegment("sit", 14, 40, False), TruthSegment("punch", 40, 44, True),
             TruthSegment("walk", 44, 60, False)]
    alerts = [AlertSegment(11, 13, "kick", 0.9, 3),      # inside the kick: found
              AlertSegment(20, 22, "kick", 0.8, 3),      # during calm motion: false
              AlertSegment(43.5, 47.5, "punch", 0.7, 4)]  # 0.5 s of 4 s with the punch: below 50 %
    m = match_alerts(Timeline(None, 60.0, 0.5, "test", [], alerts), truth)
    assert (m["events_found"], m["events"], m["alerts_matched"], m["alerts"]) == (1, 2, 1, 3)
    assert m["event_recall"] == pytest.approx(0.5) and m["event_precision"] == pytest.approx(1 / 3)
    assert m["false_alerts"] == 2 and m["false_alerts_per_min"] == pytest.approx(2.0)
    assert m["alerted_s"] == pytest.approx(8.0) and m["violent_s"] == pytest.approx(8.0)
    assert m["found_mask"] == [True, False] and m["alert_correct"] == [True, False, False]
    line = describe_match(m)
    assert "1 of 2 violent segments" in line and "2.00 per min" in line and "50%" in MATCH_RULE


def test_no_alerts_gives_undefined_precision_not_a_crash():
    m = match_alerts(Timeline(None, 30.0, 0.5, "test", [], []), [TruthSegment("kick", 1, 3, True)])
    assert m["event_recall"] == 0.0 and m["false_alerts_per_min"] == 0.0
    assert "precision n/a" in describe_match(m)
