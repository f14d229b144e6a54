"""The built-in detector's card carries the detection study's model rows only: clip and
sequence protocols, not the baselines or the summary blocks (site calibration, ceiling)."""

from __future__ import annotations

import json

from motionvigil.studies.zoo_build import study_choice


def test_study_choice_keeps_the_models_clip_and_sequence_rows(tmp_path):
    clips = {"kind": "clips", "auroc": 0.9, "vdr": 0.5, "selection_per_seed": [{"chosen": {"hidden": 16}}]}
    protocols = {"in_domain": clips, "real_sequences": {"kind": "sequences", "event_recall": 0.2},
                 "site_calibrated": {"kind": "site_calibrated", "sources": {}},
                 "ceiling": {"kind": "ceiling", "sources": {}},
                 "kinematic_head": {"kind": "baseline", "protocols": {}},
                 "calm_sources": {"kind": "calm_sources", "sources": {"utkinect": {
                     "false_alerts_per_min": 0.1, "false_alerts_per_min_ci": [0.0, 0.3], "minutes": 8.5}}}}
    path = tmp_path / "detection.json"
    path.write_text(json.dumps({"protocols": protocols, "seeds": [0, 1, 2]}))
    chosen, figures = study_choice(path)
    assert chosen == {"hidden": 16}
    assert set(figures["protocols"]) == {"in_domain", "real_sequences", "calm_sources"}
    assert figures["protocols"]["in_domain"] == {"auroc": 0.9, "vdr": 0.5}
    assert figures["protocols"]["calm_sources"]["utkinect"]["minutes"] == 8.5
