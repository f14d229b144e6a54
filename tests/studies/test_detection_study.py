"""`motionvigil study detection`: the JSON schema of every protocol, the written files,
and a missing source as a one-line error. The quick preset runs on the real data."""

from __future__ import annotations

import json

import pytest

from motionvigil.cli import main

CI_KEYS = ("auroc", "ap", "vdr", "fpr")
CLIP_KEYS = ("auroc", "ap", "vdr", "fpr", "threshold", "n_violent", "n_calm") + tuple(f"{k}_ci" for k in CI_KEYS)
SEQUENCE_KEYS = ("event_recall", "event_precision", "false_alerts_per_min", "alerted_s", "violent_s",
                 "event_recall_ci", "false_alerts_per_min_ci")


def test_a_missing_source_is_a_one_line_error_naming_it(tmp_path, capsys):
    (tmp_path / "msr_action3d").mkdir()
    rc = main(["study", "detection", "-o", str(tmp_path / "out"), "--data-root", str(tmp_path)])
    err = capsys.readouterr().err
    assert rc != 0 and "hdm05" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "out" / "detection.json").exists()


@pytest.mark.slow
def test_quick_study_writes_every_protocol(shared_data, tmp_path, capsys):
    out = tmp_path / "det"
    assert main(["study", "detection", "-o", str(out), "--preset", "quick", "--data-root", str(shared_data),
                 "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    result = json.loads((out / "detection.json").read_text())
    assert printed == result and result["seeds"] == [0] and {"machine", "protocols"} <= set(result)
    p = result["protocols"]
    head = p["kinematic_head"]["protocols"]
    for name in ("in_domain", "loso_msr_action3d", "loso_hdm05", "loso_utd_mhad", "loso_sbu_kinect", "sbu_pairs"):
        for row in (p[name], head[name], p["speed_baseline"]["protocols"][name]):
            assert all(k in row for k in CLIP_KEYS), name
            assert row["n_violent"] > 0 and row["n_calm"] > 0
            assert 0.0 <= row["auroc"] <= 1.0 and len(row["auroc_ci"]) == 2
        chosen = p[name]["selection_per_seed"][0]
        assert chosen["validation_folds"] and chosen["chosen"]["hidden"] > 0
        assert head[name]["selection_per_seed"][0]["chosen"]["window"] in (32, 64)
    assert p["loso_msr_action3d"]["n_violent"] == 52 and "msr_action3d" not in p["loso_msr_action3d"]["trained_on"]
    assert p["loso_sbu_kinect"]["n_violent"] == 63 and p["loso_sbu_kinect"]["n_contact"] == 20
    assert p["sbu_pairs"]["n_contact"] > 0 and 0 <= p["sbu_pairs"]["contact_alerted"] <= p["sbu_pairs"]["n_contact"]
    by_class = p["sbu_pairs"]["pair_validation_by_class"]  # out of fold, SBU's training scenes
    assert set(by_class["auroc_against"]) == {"approaching", "departing", "exchanging an object", "hugging",
                                              "shaking hands"}
    assert sum(by_class["scenes"].values()) == 53 and by_class["seeds"] == 1
    assert 0.0 <= by_class["violent_above_every_calm"] <= by_class["violent_above_every_calm_but_contact"] <= 1.0
    assert "pair_validation_by_class" not in p["loso_sbu_kinect"]  # no real scenes in its training
    sources = p["calm_sources"]["sources"]
    assert set(sources) == {"msr_action3d", "hdm05", "utkinect", "bandai2", "utd_mhad", "sbu_kinect"}
    for row in sources.values():
        assert row["minutes"] > 0 and row["false_alerts_per_min"] >= 0
        lo, hi = row["false_alerts_per_min_ci"]
        assert lo <= row["false_alerts_per_min"] <= hi
    site = p["site_calibrated"]["sources"]
    assert set(site) == {"msr_action3d", "hdm05", "utd_mhad", "sbu_kinect"}
    for source, row in site.items():  # the loso detector, re-thresholded on the source's train-split calm motion
        assert row["calibration_minutes"] > 0 and row["test_calm_minutes"] > 0, source
        assert row["n_violent"] > 0 and 0.0 <= row["vdr"] <= 1.0
        assert row["auroc"] == pytest.approx(p[f"loso_{source}"]["auroc"]) if source != "sbu_kinect" else True
    assert site["sbu_kinect"]["n_violent"] + site["sbu_kinect"]["n_calm"] == p["sbu_pairs"]["n_violent"] + \
        p["sbu_pairs"]["n_calm"]  # SBU's test split
    ceiling = p["ceiling"]  # recall at a threshold chosen on the held-out source's own calm motion
    assert set(ceiling["sources"]) == set(site) and ceiling["alerts_per_min"] == 0.5
    for source, row in ceiling["sources"].items():
        assert row["n_violent"] == p[f"loso_{source}"]["n_violent"], source
        assert all(r <= 0.5 for r in row["calm_alerts_per_min_per_seed"]) and 0.0 <= row["vdr"] <= 1.0
    for name in ("utkinect_sequences", "real_sequences"):
        assert all(k in p[name] for k in SEQUENCE_KEYS), name
    assert p["utkinect_sequences"]["events"] == 0 and p["utkinect_sequences"]["minutes"] > 5
    assert set(p["speed_baseline"]["protocols"]) >= {"in_domain", "loso_hdm05", "utkinect_sequences"}
    if "deepmimic" in p:
        assert p["deepmimic"]["n_violent"] == 3 and p["deepmimic"]["n_calm"] == 12
    md = (out / "detection.md").read_text()
    assert "| utd_mhad | model |" in md and "Issue 27's targets" in md and "Ceiling" in md
    assert "| loso_hdm05 | model |" in md and "| loso_sbu_kinect | kinematic head |" in md and "| sbu_kinect |" in md
    assert (out / "pr_in_domain.png").stat().st_size > 1000
