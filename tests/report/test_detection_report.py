"""The detection study's targets table: each target against the figure it names."""

from __future__ import annotations

from motionvigil.report.detection import targets_table


def _row(value: float, lo: float, hi: float, key: str = "auroc") -> dict:
    return {key: value, f"{key}_ci": [lo, hi]}


def test_targets_are_judged_from_the_means_and_intervals():
    p = {
        "loso_msr_action3d": {**_row(0.95, 0.93, 0.97), **_row(0.5, 0.4, 0.6, "vdr")},
        "loso_utd_mhad": {**_row(0.89, 0.85, 0.93), **_row(0.85, 0.8, 0.9, "vdr")},
        "loso_sbu_kinect": {"auroc": None, "alert_rate_per_class": {"kicking": 0.95, "hugging": 0.2}},
        "calm_sources": {"sources": {"utkinect": {"false_alerts_per_min": 0.6}, "msr_action3d":
                                     {"false_alerts_per_min": 0.5}}},
        "real_sequences": {"event_recall": 0.8, "event_precision": 0.79},
        "kinematic_head": {"protocols": {"loso_msr_action3d": _row(0.90, 0.88, 0.92),
                                         "loso_utd_mhad": _row(0.88, 0.86, 0.90)}},
    }
    rows = {tuple(cell.strip() for cell in line.strip("|").split("|")[:2]): line.rsplit("|", 2)[1].strip()
            for line in targets_table(p) if line.startswith("| ") and "---" not in line and "target |" not in line}
    assert rows[("LOSO AUROC >= 0.90", "msr_action3d")] == "met"
    assert rows[("LOSO AUROC >= 0.90", "utd_mhad")] == "not met"
    assert rows[("LOSO AUROC >= 0.90", "sbu_kinect")] == "n/a"
    assert rows[("violent recall >= 0.80 at the operating point", "utd_mhad")] == "met"
    assert rows[("<= 0.5 false alerts / min, calm source held out", "utkinect")] == "not met"
    assert rows[("<= 0.5 false alerts / min, calm source held out", "msr_action3d")] == "met"
    assert rows[("SBU (held out): >= 0.90 of violent clips alerted", "kicking")] == "met"
    assert rows[("SBU (held out): <= 0.10 of contact clips alerted", "hugging")] == "not met"
    assert rows[("real_sequences event recall >= 0.80", "")] == "met"
    assert rows[("real_sequences event precision >= 0.80", "")] == "not met"
    beyond = "model beats the kinematic head beyond its CI: AUROC"
    assert rows[(beyond, "msr_action3d")] == "met"  # 0.93 above 0.92
    assert rows[(beyond, "utd_mhad")] == "not met"  # 0.85 below 0.90
    assert targets_table({}) == []
