"""``docs/model_card.md``: the built-in detector's card, rendered from ``zoo/manifest.json``
(whose figures ``motionvigil zoo build`` copies from the detection study's JSON), so the
card cannot disagree with the build. ``python -m motionvigil.report.model_card [OUT]``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from motionvigil.atomic import write_text_atomic

INTENDED_USE = (
    "Research on detecting strikes (punches, kicks and similar sudden limb attacks) in 3D skeletal motion: "
    "ranking or flagging windows of mocap, Kinect or video-estimated skeletons for a person to review.")
FAILURE_MODES = (
    "Fast acrobatics and sport (spins, cartwheels, throws, tennis serves) can look like strikes to the violence "
    "model: it sees the shape and speed of limb motion, not intent.",
    "Slow or small 'strikes' (MSR Action3D's punches and kicks are gestures) score low and are mostly missed at "
    "the default threshold.",
    "The threshold is set for 0.1 false alerts per minute of calm training motion (out of fold); on calm "
    "sources it never saw the rate differs (the calm-source table above), and two-person calm contact (hugs) alerts far more "
    "often than one person's calm motion. Rebuild with your own calm motion (`build-detector --calm`) before "
    "relying on the alert rate.",
    "At that threshold it alerts on few strikes from sources it never saw (the VDR column), although it ranks "
    "them well (AUROC): loosen `--alerts-per-min` where a missed strike costs more than a false alert.",
    "Between two people, contact and intent are inferred from skeletons only (hand/foot-to-body distance, closing "
    "speed, the receiver's recoil); the pair network saw real two-person motion from one lab (SBU Kinect's pairs "
    "outside its test split: its 5 participants, 9 hugs) and scenes staged from one-person clips. Hugs and handshakes "
    "that Kinect tracks badly can alert. The study's two-person figures come from detectors trained on SBU's "
    "training pairs only (participant-disjoint from its test pairs); this detector also saw the pairs SBU puts "
    "aside, some of whose participants are in its test split, so it has no SBU test figure of its own.",
    "Skeletons from video pose estimation are noisier than the Kinect and mocap data it was measured on.",
)
MISUSE = (
    "Automated violence detection can be turned into surveillance of people who have done nothing wrong. This "
    "model must not be used to identify, profile or take decisions about individuals, nor as sole evidence of "
    "anything: its alerts are prompts for a human to look, with the error rates measured below. Deployers are "
    "responsible for the law of their place (e.g. data-protection and biometric rules), for telling the people "
    "recorded, and for not extending monitoring beyond a stated safety purpose.")


def _num(v: Any, digits: int = 3) -> str:
    return "n/a" if v is None else f"{v:.{digits}f}"


def render_card(manifest: dict[str, Any]) -> str:
    card = manifest["models"]["violence_detector"]
    figures = card["figures"]
    lines = ["# Model card: the built-in violence detector", "",
             "Generated from `src/motionvigil/zoo/manifest.json` by `python -m motionvigil.report.model_card` "
             "(`make model` rebuilds both); do not edit by hand.", "",
             "## What it is", "", card["what"] + ".", "",
             f"Alert classes: {', '.join(card['alert_classes'])}. Threshold {card['threshold']:.4f} "
             f"({card['calibration']['policy']}, measured {card['calibration']['alerts_per_min']:.3f} false alerts/min "
             f"on {card['calibration']['calm_minutes']:.1f} min of calm training motion, out of fold"
             + (f"; an alert stays open through lulls of {card['calibration']['hold_s']:g} s, the hold chosen on "
                "validation folds" if "hold_s" in card["calibration"] else "") + ").", "",
             "## Licence and use", "", f"**{card['use']}.**", "",
             "## Training data", "", "| source | licence |", "|---|---|"]
    lines += [f"| {name} | {lic} |" for name, lic in card["trained_on"].items()]
    lines += ["", f"Synthetic part: {card['synthetic_part']}.", "",
              "Recipe: " + ", ".join(f"{k} {v}" for k, v in card["recipe"].items()) +
              f". Build time {card['build_seconds']:.0f} s on the build machine.", "",
              "## Figures", "",
              f"From the detection study (`{figures['source']}`, seeds {figures['seeds']}; the same recipe as the "
              "shipped model, whose `in_domain` configuration for seed 0 has the same network size, regularisation "
              "and augmentation, though its threshold is fitted on its own calm data; the leave-one-source-out rows "
              "show the recipe on sources it did not train on). Mean over seeds; CIs and the speed baseline are in "
              "docs/detection.md.", "",
              "| protocol | violent / calm | AUROC | AP | VDR | FPR | event recall | false alerts / min |",
              "|---|---|---|---|---|---|---|---|"]
    for name, row in figures["protocols"].items():
        if name == "calm_sources":
            continue
        counts = f"{row['n_violent']} / {row['n_calm']}" if "n_violent" in row else f"{row.get('events', 0)} events"
        lines.append(f"| {name} | {counts} | {_num(row.get('auroc'))} | {_num(row.get('ap'))} | {_num(row.get('vdr'))} "
                     f"| {_num(row.get('fpr'))} | {_num(row.get('event_recall'))} | "
                     f"{_num(row.get('false_alerts_per_min'), 2)} |")
    calm = figures["protocols"].get("calm_sources", {})
    if calm:
        lines += ["", "Calm motion of each source, scanned by a detector built without that source:", "",
                  "| source | minutes | false alerts / min [95% CI] |", "|---|---|---|"]
        lines += [f"| {src} | {r['minutes']:.1f} | {_num(r['false_alerts_per_min'], 2)} "
                  f"[{_num(r['false_alerts_per_min_ci'][0], 2)}, {_num(r['false_alerts_per_min_ci'][1], 2)}] |"
                  for src, r in calm.items()]
    lines += ["", "## Intended use", "", INTENDED_USE, "", "## Known failure modes", ""]
    lines += [f"- {x}" for x in FAILURE_MODES]
    lines += ["", "## Misuse", "", MISUSE, "", "## Files", ""]
    lines += [f"- `{name}`: sha256 `{digest}`" for name, digest in card["files"].items()]
    return "\n".join(lines) + "\n"


def feedback_line(used: dict[str, Any]) -> str:
    """``feedback: ...``: how much operator feedback (``build-detector --calm / --support
    FEEDBACK.db``) a detector was built with, from its ``info["feedback"]``."""
    parts = []
    if "calm" in used:
        c = used["calm"]
        parts.append(f"{c['alerts']} dismissed alert(s) ({c['windows']} windows, {c['seconds']:.1f} s of motion) "
                     f"as calm motion for the head and its threshold")
    if "support" in used:
        s = used["support"]
        parts.append(f"{s['alerts']} confirmed alert(s) ({s['windows']} windows, {s['seconds']:.1f} s) as support clips")
    if parts:
        dbs = sorted({db for part in used.values() for db in part.get("databases", [])})
        parts[-1] += f" (from {', '.join(dbs)})"
    return "feedback: " + ("; ".join(parts) if parts else "none")


def render_detector_card(settings: dict[str, Any], name: str) -> str:
    """The card of a detector built with ``build-detector`` (its saved ``settings``):
    classes, threshold and its calibration, the data it was built from, the operator
    feedback it used, intended use and misuse."""
    info, cal = settings.get("info") or {}, settings.get("calibration") or {}
    alert = [c for c, v in zip(settings["classes"], settings["violent"]) if v]
    lines = [f"# Detector card: {name}", "",
             "Written by `motionvigil build-detector` beside the detector it describes.", "",
             "## What it is", "",
             f"Classes: {', '.join(settings['classes'])}. Alert classes: {', '.join(alert) or 'none'}.",
             f"Windows of {settings['window']} frames every {settings['stride']} at 20 Hz. Threshold "
             f"{settings['threshold']:.4f} ({settings['policy']}"
             + (f"; {cal['alerts_per_min']:.3f} false alerts/min on {cal['calm_minutes']:.1f} min of calm motion, "
                "out of fold" if "alerts_per_min" in cal and "calm_minutes" in cal else "") + ").", "",
             "## Data", "",
             f"- model: {info.get('model', 'n/a')}",
             f"- support: {', '.join(map(str, info.get('support_data', []))) or 'n/a'}",
             f"- calm motion: {', '.join(map(str, info.get('calm_data', []))) or 'n/a'}",
             f"- {feedback_line(info.get('feedback', {}))}", "",
             "## Intended use", "", INTENDED_USE, "", "## Misuse", "", MISUSE]
    return "\n".join(lines) + "\n"


def write_detector_card(detector, folder: str | Path) -> Path:
    """Write ``card.md`` into a detector's folder (atomically); its path."""
    path = Path(folder) / "card.md"
    write_text_atomic(path, render_detector_card(detector.settings(), Path(folder).name))
    return path


def main(argv: list[str] | None = None) -> int:
    from motionvigil.detect.builtin import read_manifest

    argv = sys.argv[1:] if argv is None else argv
    text = render_card(read_manifest())
    if argv:
        write_text_atomic(Path(argv[0]), text)
    else:
        print(text, end="")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
