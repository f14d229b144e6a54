"""``motionvigil study detection``: run the study (:mod:`motionvigil.studies.detection`)
and write ``detection.json``, ``detection.md`` and PR-curve PNGs.

The JSON is ``{"protocols": {NAME: {...}}, "machine": ..., "seeds": [...], ...}`` with
NaN written as ``null``. The markdown table is rendered from that JSON only, so the
numbers a reader sees are the ones stored (``render_markdown`` is also what the docs
check uses).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from motionvigil.atomic import json_safe, write_text_atomic
from motionvigil.report.blocks import load_json, num

CLIP_PROTOCOLS = ("in_domain", "loso_msr_action3d", "loso_hdm05", "loso_utd_mhad", "deepmimic")
SCENE_PROTOCOLS = ("loso_sbu_kinect", "sbu_pairs")
SEQUENCE_PROTOCOLS = ("utkinect_sequences", "real_sequences")
SCORERS = (("model", None), ("kinematic head", "kinematic_head"), ("speed baseline", "speed_baseline"))


def _ci(row: dict, key: str, digits: int = 3) -> str:
    ci = row.get(f"{key}_ci") or [None, None]
    if row.get(key) is None:
        return "n/a"
    if ci[0] is None:
        return num(row[key], digits)
    return f"{num(row[key], digits)} [{num(ci[0], digits)}, {num(ci[1], digits)}]"


def _rows(p: dict, name: str) -> list[tuple[str, dict]]:
    """``(scorer, row)`` of protocol ``name`` for every scorer present."""
    out = []
    for label, key in SCORERS:
        row = p.get(name) if key is None else p.get(key, {}).get("protocols", {}).get(name)
        if row:
            out.append((label, row))
    return out


def render_markdown(result: dict) -> str:
    """The study's tables (clips, two-person scenes, sequences, calm sources), from the JSON."""
    p = result["protocols"]
    seeds = ", ".join(str(s) for s in result.get("seeds", []))
    target = result.get("settings", {}).get("alerts_per_min", "n/a")
    lines = [f"Detection study: mean over seeds {seeds}, 95% bootstrap CI in brackets. Each scorer sets its own "
             f"threshold on calm training motion (at most {target} false alerts per minute, out of fold for the "
             "model and the kinematic head); VDR/FPR are clip rates at that threshold.", "",
             "| protocol | scorer | violent / calm | AUROC | AP (chance) | VDR | FPR |",
             "|---|---|---|---|---|---|---|"]
    for name in CLIP_PROTOCOLS + SCENE_PROTOCOLS:
        for scorer, row in _rows(p, name):
            chance = row["n_violent"] / max(1, row["n_violent"] + row["n_calm"])
            lines.append(f"| {name} | {scorer} | {row['n_violent']} / {row['n_calm']} | {_ci(row, 'auroc')} | "
                         f"{_ci(row, 'ap')} ({chance:.3f}) | {_ci(row, 'vdr')} | {_ci(row, 'fpr')} |")
    contact = [(name, scorer, row) for name in SCENE_PROTOCOLS for scorer, row in _rows(p, name)
               if "n_contact" in row]
    if contact:
        lines += ["", "Two-person clips: hugging and shaking hands are contact without violence.", "",
                  "| protocol | scorer | contact clips alerted (mean over seeds) | alert rate per class |",
                  "|---|---|---|---|"]
        for name, scorer, row in contact:
            rates = ", ".join(f"{c} {num(v, 2)} ({row['clips_per_class'][c]})"
                              for c, v in row["alert_rate_per_class"].items())
            lines.append(f"| {name} | {scorer} | {num(row['contact_alerted'], 1)} of {row['n_contact']} | {rates} |")
    lines += ["", "Sequences: an alert finds an event when they overlap by at least 50% of the shorter one.", "",
              "| protocol | scorer | minutes | events | event recall | event precision | false alerts / min | "
              "alerted s / violent s |", "|---|---|---|---|---|---|---|---|"]
    for name in SEQUENCE_PROTOCOLS:
        for scorer, row in _rows(p, name):
            lines.append(f"| {name} | {scorer} | {num(row['minutes'], 1)} | {row['events']} | "
                         f"{_ci(row, 'event_recall')} | {_ci(row, 'event_precision')} | "
                         f"{_ci(row, 'false_alerts_per_min', 2)} | {num(row['alerted_s'], 0)} / "
                         f"{num(row['violent_s'], 0)} |")
    calm = _rows(p, "calm_sources")
    if calm:
        lines += ["", "Calm sources held out: each source's calm motion scanned by a detector built without that "
                  "source (Poisson 95% interval on the alerts pooled over seeds).", "",
                  "| source | minutes | " + " | ".join(f"{scorer}: false alerts / min" for scorer, _ in calm) + " |",
                  "|---|---|" + "---|" * len(calm)]
        for source, first in calm[0][1]["sources"].items():
            cells = []
            for _, row in calm:
                r = row["sources"].get(source)
                cells.append("n/a" if not r else f"{num(r['false_alerts_per_min'], 2)} "
                             f"[{num(r['false_alerts_per_min_ci'][0], 2)}, {num(r['false_alerts_per_min_ci'][1], 2)}]")
            lines.append(f"| {source} | {num(first['minutes'], 1)} | " + " | ".join(cells) + " |")
    return "\n".join(lines + site_table(p) + ceiling_table(p) + targets_table(p)) + "\n"


def site_table(p: dict) -> list[str]:
    """The ``site_calibrated`` rows of every scorer."""
    site = _rows(p, "site_calibrated")
    if not site:
        return []
    lines = ["", "Site calibration: the detector trained without a source, re-thresholded on that source's "
             "training-split calm motion (same budget and hold); its test clips scored at that threshold, and "
             "false alerts per minute on its test-split calm motion, which the calibration never saw.", "",
             "| source | scorer | calm min used | threshold | violent / calm | VDR | FPR | false alerts / min (unseen calm) |",
             "|---|---|---|---|---|---|---|---|"]
    for source in site[0][1]["sources"]:
        for scorer, row in site:
            r = row["sources"].get(source)
            if not r:
                continue
            ci = r["test_calm_false_alerts_per_min_ci"]
            lines.append(f"| {source} | {scorer} | {num(r['calibration_minutes'], 1)} | {num(r['threshold'], 3)} | "
                         f"{r['n_violent']} / {r['n_calm']} | {_ci(r, 'vdr')} | {_ci(r, 'fpr')} | "
                         f"{num(r['test_calm_false_alerts_per_min'], 2)} [{num(ci[0], 2)}, {num(ci[1], 2)}] "
                         f"({num(r['test_calm_minutes'], 1)} min) |")
    return lines


def ceiling_table(p: dict) -> list[str]:
    """The ``ceiling`` rows of every scorer: recall at a threshold chosen on the held-out
    source's own calm motion (an upper bound on any operating point, not one)."""
    rows = _rows(p, "ceiling")
    if not rows:
        return []
    lines = ["", f"Ceiling (a bound chosen on test data, not an operating point): each held-out source's violent "
             f"clips at the lowest threshold its own calm motion keeps at or under "
             f"{num(rows[0][1]['alerts_per_min'], 1)} false alerts per minute.", "",
             "| source | scorer | violent alerted (per seed) | VDR |", "|---|---|---|---|"]
    for source in rows[0][1]["sources"]:
        for scorer, row in rows:
            r = row["sources"].get(source)
            if r:
                lines.append(f"| {source} | {scorer} | {', '.join(str(a) for a in r['alerted_per_seed'])} of "
                             f"{r['n_violent']} | {num(r['vdr'], 3)} |")
    return lines


LOSO = {"msr_action3d": "loso_msr_action3d", "hdm05": "loso_hdm05", "utd_mhad": "loso_utd_mhad",
        "sbu_kinect": "loso_sbu_kinect"}


def targets_table(p: dict) -> list[str]:
    """Issue 27's targets against the model's figures in ``p`` (the JSON's ``protocols``):
    a target is met when the mean over seeds meets it ("beyond its CI": the model's 95%
    interval lies wholly above the head's)."""
    rows: list[tuple[str, str, Any, bool | None]] = []

    def add(target: str, what: str, value: Any, met: bool | None) -> None:
        rows.append((target, what, value, met))

    head = p.get("kinematic_head", {}).get("protocols", {})
    for source, name in LOSO.items():
        if name in p:
            a = p[name].get("auroc")
            add("LOSO AUROC >= 0.90", source, _ci(p[name], "auroc"), None if a is None else a >= 0.90)
    for source, name in LOSO.items():
        if name in p:
            v = p[name].get("vdr")
            add("violent recall >= 0.80 at the operating point", source, _ci(p[name], "vdr"),
                None if v is None else v >= 0.80)
    for source, r in p.get("calm_sources", {}).get("sources", {}).items():
        add("<= 0.5 false alerts / min, calm source held out", source, num(r["false_alerts_per_min"], 2),
            r["false_alerts_per_min"] <= 0.5)
    sbu = p.get("loso_sbu_kinect", {}).get("alert_rate_per_class", {})
    for cls in ("kicking", "punching", "pushing"):
        if cls in sbu:
            add("SBU (held out): >= 0.90 of violent clips alerted", cls, num(sbu[cls], 2), sbu[cls] >= 0.90)
    for cls in ("hugging", "shaking hands"):
        if cls in sbu:
            add("SBU (held out): <= 0.10 of contact clips alerted", cls, num(sbu[cls], 2), sbu[cls] <= 0.10)
    seq = p.get("real_sequences", {})
    for key in ("event_recall", "event_precision"):
        if seq.get(key) is not None:
            add(f"real_sequences {key.replace('_', ' ')} >= 0.80", "", _ci(seq, key), seq[key] >= 0.80)
    for key, label in (("auroc", "AUROC"), ("vdr", "recall at the operating point")):
        for source, name in LOSO.items():
            m, h = p.get(name, {}).get(f"{key}_ci"), head.get(name, {}).get(f"{key}_ci")
            if m and h and None not in (m[0], h[1]):
                add(f"model beats the kinematic head beyond its CI: {label}", source,
                    f"{_ci(p[name], key)} vs {_ci(head[name], key)}", m[0] > h[1])
    if not rows:
        return []
    mark = {True: "met", False: "not met", None: "n/a"}
    return ["", "Issue 27's targets (the model; a rate target is met when the mean over seeds meets it).", "",
            "| target | source / class | measured | |", "|---|---|---|---|"] + \
        [f"| {t} | {w} | {v} | {mark[m]} |" for t, w, v, m in rows]


def detection_study(output: str | Path, preset: str = "tiny", data_root: str | Path | None = None,
                    seeds: list[int] | None = None, progress: bool = True) -> dict[str, Any]:
    """Load the data, run every protocol, write ``output``; returns the JSON written."""
    from dataclasses import replace

    from motionvigil.studies.detection import PRESETS, load_study_data
    from motionvigil.studies.detection_run import run_detection_study

    if preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}; known: {', '.join(PRESETS)}")
    s = replace(PRESETS[preset], progress=progress, **({"seeds": tuple(seeds)} if seeds else {}))
    curves, result = run_detection_study(load_study_data(data_root), s)
    result["preset"] = preset
    return write_detection_study(result, output, curves)


def write_detection_study(result: dict, output: str | Path, curves: dict[str, list] | None = None) -> dict:
    """Write ``detection.json`` and ``detection.md`` (and ``pr_<protocol>.png`` from
    ``curves``: protocol -> ``[(label, scores, truth), ...]``)."""
    out = Path(output)
    out.mkdir(parents=True, exist_ok=True)
    result = json_safe(result)
    figures = []
    if curves:
        from motionvigil.report.figures import ScoreSet, plot_pr_curves

        for name, sets in curves.items():
            path = out / f"pr_{name}.png"
            plot_pr_curves([ScoreSet(*x) for x in sets], path, f"{name}: clip violence score")
            figures.append(path.name)
    result["figures"] = figures
    write_text_atomic(out / "detection.json", json.dumps(result, indent=1, allow_nan=False) + "\n")
    write_text_atomic(out / "detection.md", render_markdown(result))
    return result


def render_files(files: list[str], root: Path) -> str:
    """The block for a ``detection-table`` marker (:mod:`motionvigil.report.blocks`): the
    tables of the detection JSON it names (default ``results/detection/detection.json``)."""
    if len(files) > 1:
        raise ValueError(f"detection-table marker takes one results file, got {len(files)}")
    return render_markdown(load_json(root, files[0] if files else "results/detection/detection.json"))
