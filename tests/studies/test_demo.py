"""``motionvigil demo --quick``: the whole job on a small synthetic corpus, one HTML report."""

from __future__ import annotations

import json
import re

import pytest

from motionvigil.cli import main


pytestmark = pytest.mark.slow  # the whole demo (make test-fast skips it)


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    assert main(["demo", "--quick", "--out", str(out)]) == 0
    return out


def test_report_is_self_contained_and_synthetic(demo_run):
    report = demo_run / "report_synthetic.html"
    assert report.is_file()
    text = report.read_text(encoding="utf-8")
    assert "http://" not in text and "https://" not in text
    assert "<script" not in text.lower()
    assert not re.search(r"""(src|href)\s*=\s*["'](?!data:|#)""", text)  # nothing loaded from elsewhere
    title = re.search(r"<title>(.*?)</title>", text, re.S).group(1)
    assert "synthetic" in title.lower()
    for heading in re.findall(r"<h2>(.*?)</h2>", text):
        # the front-end and built-in detector sections show real sample files, and say so
        if "front end" not in heading and "built-in detector on real files" not in heading and heading != "Files":
            assert "synthetic" in heading.lower(), heading
    assert re.findall(r"<h2>(.*?)</h2>", text)[0] == "The built-in detector on real files, before any training"
    assert len(re.findall(r'src="data:image/png;base64,', text)) >= 3
    for header in ("<th>mAP</th>", "<th>VDR</th>", "<th>FPR</th>"):
        assert header in text
    assert re.search(r"<td[^>]*>TMR</td>", text) and re.search(r"<td[^>]*>MAML</td>", text)
    assert "threshold" in text and "policy" in text


def test_outputs_timeline_and_alerts(demo_run):
    work = demo_run / "synthetic"
    timeline = json.loads((work / "timeline_synthetic.json").read_text())
    alerts = json.loads((work / "alerts_synthetic.json").read_text())
    assert timeline["timeline"] and timeline["duration_s"] > 30
    assert {"kick", "punch"} <= {t["label"] for t in timeline["truth"] if t["violent"]}
    assert alerts["match"]["violent_segments"] >= 2
    assert set(alerts) >= {"alerts", "truth", "threshold", "policy"}
    for name in ("table1_synthetic.json", "pr_curve_synthetic.png", "timeline_synthetic.png",
                 "summary_synthetic.json", "detector_synthetic/config.json"):
        assert (work / name).is_file(), name
    summary = json.loads((work / "summary_synthetic.json").read_text())
    assert summary["synthetic"] and summary["quick"]
    assert {"TMR_mAP", "MAML_mAP"} <= set(summary["headline"])


def test_summary_records_the_builtin_detector_on_real_files(demo_run, shared_data):
    from motionvigil.detect.builtin import ZOO

    if not (ZOO / "manifest.json").is_file():
        pytest.skip("no built-in model built (make model)")
    summary = json.loads((demo_run / "synthetic" / "summary_synthetic.json").read_text())
    rows = summary["builtin_detector"]
    assert {r["format"] for r in rows} >= {"bvh (Bandai Namco)", "asf/amc (HDM05)", "kinect (MSR Action3D)"}
    assert all(r["windows"] >= 1 and 0.0 <= r["max_violence"] <= 1.0 for r in rows)
