"""The HTML report in a real browser: headless Chromium driven by Selenium.

The report is loaded from ``file://`` and checked as a user would see it: no console
errors, the tables hold the rows the report writes, every embedded PNG/GIF decodes
(``naturalWidth > 0``), and a screenshot is a non-blank PNG.

The browser comes from ``browser_helpers.chrome`` (Debian's chromium and chromium-driver,
selenium from the dev extra); the tests skip, saying what is missing, when one is absent.
"""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import numpy as np
import pytest

from browser_helpers import chrome
from motionvigil.report import html as H


@pytest.fixture(scope="module")
def browser():
    """A headless Chromium session (module-wide), or skip when the browser stack is absent."""
    with chrome() as driver:
        yield driver


def _open(driver, path: Path) -> None:
    driver.get_log("browser")  # drop entries left by an earlier page
    driver.get(path.resolve().as_uri())
    assert driver.execute_script("return document.readyState") == "complete"


def _severe(driver) -> list[dict]:
    return [e for e in driver.get_log("browser") if e.get("level") == "SEVERE"]


_TABLES_JS = """
return Array.from(document.querySelectorAll('table')).map(t => ({
  caption: t.caption ? t.caption.innerText.trim() : '',
  kv: t.classList.contains('kv'),
  headers: Array.from(t.querySelectorAll('thead th')).map(th => th.innerText.trim()),
  highlighted: t.querySelectorAll('tr.hl').length,
  rows: Array.from(t.querySelectorAll('tbody tr, :scope > tr')).map(
      tr => Array.from(tr.cells).map(td => td.innerText.trim())),
}));
"""

_IMAGES_JS = """
return Array.from(document.images).map(img => ({
  kind: img.src.slice(0, 15), complete: img.complete,
  width: img.naturalWidth, height: img.naturalHeight, alt: img.alt,
}));
"""


def _images_decoded(driver) -> list[dict]:
    images = driver.execute_script(_IMAGES_JS)
    for img in images:
        assert img["complete"] and img["width"] > 0 and img["height"] > 0, img
    return images


def _screenshot(driver, path: Path) -> tuple[int, int]:
    """Full-page screenshot (window grown to the page height, at most 6000 px) saved as
    PNG at ``path``; checks that it decodes and is not blank. Returns its size."""
    from PIL import Image

    height = int(driver.execute_script("return document.documentElement.scrollHeight"))
    driver.set_window_size(1280, max(600, min(height, 6000)))
    data = driver.get_screenshot_as_png()
    path.write_bytes(data)
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    with Image.open(io.BytesIO(data)) as im:
        im.load()
        rgb = np.asarray(im.convert("RGB"), dtype=np.float64)
    assert rgb.shape[0] >= 600 and rgb.shape[1] >= 1000, rgb.shape
    grey = rgb.mean(axis=2)
    assert grey.std() > 5.0, "screenshot is (nearly) one flat colour"
    packed = rgb.astype(np.int64) @ np.array([1 << 16, 1 << 8, 1])  # one integer per colour
    colours = len(np.unique(packed))
    assert colours > 50, f"screenshot has only {colours} colours"
    dark = (grey < 100).mean()  # text, plot lines and table borders
    assert 0.001 < dark < 0.5, f"share of dark pixels {dark:.4f}"
    return im.size


# --------------------------------------------------------------------------- the checks can fail


def test_broken_page_is_caught(browser, tmp_path):
    """Negative control: a missing image and an undecodable data URI show up as a SEVERE
    console entry and as naturalWidth == 0, so the checks below are not vacuous."""
    page = tmp_path / "broken.html"
    page.write_text(
        '<!DOCTYPE html><html><head><meta charset="utf-8"><title>x</title></head><body>'
        '<img id="a" src="missing.png"><img id="b" src="data:image/png;base64,AAAA"></body></html>',
        encoding="utf-8",
    )
    _open(browser, page)
    images = browser.execute_script(_IMAGES_JS)
    assert [img["width"] for img in images] == [0, 0]
    severe = _severe(browser)
    assert any("missing.png" in e.get("message", "") for e in severe), severe
    with pytest.raises(AssertionError):
        _images_decoded(browser)


# --------------------------------------------------------------------------- a small report, every block kind


def _small_report(tmp_path: Path) -> Path:
    from motionvigil.report.figures import ScoreSet, animate_skeleton, plot_pr_curves
    from motionvigil.skeleton.smpl22 import forward_kinematics, reference_offsets

    rng = np.random.default_rng(0)
    truth = np.r_[np.ones(20, bool), np.zeros(30, bool)]
    scores = truth * 0.4 + rng.random(50)
    pr_png = tmp_path / "pr.png"
    plot_pr_curves([ScoreSet("clips", scores, truth)], pr_png, "precision-recall")
    frames = 12
    quats = np.zeros((frames, 22, 4))
    quats[..., 0] = 1.0
    root = np.c_[np.linspace(0, 0.5, frames), np.full(frames, 0.95), np.zeros(frames)]
    gif = animate_skeleton(
        forward_kinematics(quats, root, reference_offsets()), tmp_path / "walk.gif", "walk", step=1
    )
    sections = [
        H.Section("Summary", [H.Note("a note"), H.KeyValues([("data", "test"), ("threshold", "0.5")])]),
        H.Section(
            "Table",
            [
                H.Table(
                    ["model", "mAP", "VDR"],
                    [["TMR", "0.512", "0.80"], ["MAML", "0.733 ± 0.02", "0.9"]],
                    caption="Table 1",
                    highlight=[False, True],
                )
            ],
        ),
        H.Section(
            "Figures",
            [
                H.Row([H.Figure(pr_png, "precision-recall", width=400), H.Figure(gif, "alert")]),
                H.Code("a <b>code</b> block & more"),
            ],
        ),
    ]
    return H.write_report(tmp_path / "small.html", sections, title="small report <test>")


def test_small_report_renders(browser, tmp_path):
    report = _small_report(tmp_path)
    _open(browser, report)
    assert _severe(browser) == []
    assert browser.title == "small report <test>"  # escaped in the file, unescaped by the browser
    tables = browser.execute_script(_TABLES_JS)
    assert [t["kv"] for t in tables] == [True, False]
    assert [r[0] for r in tables[0]["rows"]] == ["data", "threshold"]
    assert tables[1]["caption"] == "Table 1"
    assert tables[1]["headers"] == ["model", "mAP", "VDR"]
    assert tables[1]["rows"] == [["TMR", "0.512", "0.80"], ["MAML", "0.733 ± 0.02", "0.9"]]
    assert [t["highlighted"] for t in tables] == [0, 1]
    assert (
        browser.execute_script("return document.querySelector('pre').innerText")
        == "a <b>code</b> block & more"
    )
    images = _images_decoded(browser)
    assert [img["kind"] for img in images] == ["data:image/png;", "data:image/gif;"]
    assert images[1]["width"] == images[1]["height"] == 220  # animate_skeleton's default size
    shot = tmp_path / "small.png"
    _screenshot(browser, shot)
    assert shot.stat().st_size > 5000


# --------------------------------------------------------------------------- the demo's report


@pytest.fixture(scope="module")
def demo_report(tmp_path_factory, browser):
    """The report of ``motionvigil demo --quick`` (the 20-second smoke run, as in test_demo),
    or of an existing demo folder given as ``$MOTIONVIGIL_DEMO_OUT`` (e.g. ``out/demo``
    after ``make demo``)."""
    from motionvigil.cli import main

    given = os.environ.get("MOTIONVIGIL_DEMO_OUT")
    if given:
        if not (Path(given) / "report_synthetic.html").is_file():
            pytest.fail(f"$MOTIONVIGIL_DEMO_OUT={given} holds no report_synthetic.html")
        return Path(given)
    out = tmp_path_factory.mktemp("demo_browser")
    assert main(["demo", "--quick", "--out", str(out)]) == 0
    return out


def _by_caption(tables: list[dict], start: str) -> dict:
    found = [t for t in tables if t["caption"].startswith(start)]
    assert len(found) == 1, (start, [t["caption"] for t in tables])
    return found[0]


@pytest.mark.slow
def test_demo_report_renders(browser, demo_report, tmp_path):
    from motionvigil.studies.fewshot_protocols import TABLE_HEADERS

    work = demo_report / "synthetic"
    report = demo_report / "report_synthetic.html"
    _open(browser, report)
    assert _severe(browser) == []
    assert "synthetic" in browser.title.lower()

    tables = browser.execute_script(_TABLES_JS)
    if any(t["headers"][:2] == ["format", "file"] for t in tables):  # real sample files present
        assert tables[0]["headers"][:2] == ["format", "file"]  # first: the built-in detector on real files
    summary = next(t for t in tables if t["kv"])
    keys = [r[0] for r in summary["rows"]]
    for key in ("data", "synthetic or real", "classes", "clips", "model", "settings", "long motion"):
        assert key in keys, (key, keys)
    assert all(len(r) == 2 for r in summary["rows"])

    table1 = json.loads((work / "table1_synthetic.json").read_text())
    rows1 = table1["rows"] if isinstance(table1, dict) else table1
    t1 = _by_caption(tables, "Table 1")
    assert t1["headers"] == ["config", "model", *TABLE_HEADERS]
    assert len(t1["rows"]) == len(rows1)
    assert [r[:2] for r in t1["rows"]] == [[str(r["config"]), str(r["model"])] for r in rows1]
    assert {r[1] for r in t1["rows"]} == {"TMR", "MAML", "chance"}
    assert all(len(r) == len(t1["headers"]) for r in t1["rows"])

    timeline = json.loads((work / "timeline_synthetic.json").read_text())
    alerts = json.loads((work / "alerts_synthetic.json").read_text())
    truth = _by_caption(tables, "ground truth")
    assert [r[0] for r in truth["rows"]] == [t["label"] for t in timeline["truth"]]
    assert truth["highlighted"] == sum(t["violent"] for t in timeline["truth"]) > 0
    alert_table = _by_caption(tables, "alert segments")
    assert len(alert_table["rows"]) == len(alerts["alerts"])
    detector = _by_caption(tables, "detector")
    assert [r[0] for r in detector["rows"]] == [
        "threshold",
        "policy",
        "calibrated on",
        "windows",
        "alert classes",
    ]
    pr = [t for t in tables if t["headers"][:2] == ["score set", "AP"]]
    assert len(pr) == 1 and len(pr[0]["rows"]) >= 1

    images = _images_decoded(browser)
    kinds = [img["kind"] for img in images]
    assert kinds.count("data:image/png;") >= 3  # PR curve, timeline, t-SNE
    if alerts["alerts"]:
        assert "data:image/gif;" in kinds  # animated skeletons of the alerts
    assert len(images) == report.read_text(encoding="utf-8").count("<img ")

    _screenshot(browser, tmp_path / "report.png")
    assert _severe(browser) == []
