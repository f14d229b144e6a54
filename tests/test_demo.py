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
        if "front end" not in heading and heading != "Files":  # the front-end section shows real sample files
            assert "synthetic" in heading.lower(), heading
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
