"""``motionvigil calibrate``: re-set a detector's threshold on calm recordings from the
site where it will run (:mod:`motionvigil.detect.site`)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from motionvigil.cli.common import (
    EXIT_BAD_INPUT,
    add_device,
    add_json,
    add_reader_flags,
    add_skip_bad,
    emit,
    load_detector,
    positive,
    reader_options,
    usage_error,
    value_error,
)
from motionvigil.errors import MotionFileError


def calm_files(inputs: list[str]) -> list[Path]:
    """The motion files named, folders expanded to every motion file below them."""
    from motionvigil.datasets.folder import motion_files

    out: list[Path] = []
    for item in map(Path, inputs):
        out += motion_files(item) if item.is_dir() else [item]
    return out


def cmd_calibrate(args: argparse.Namespace) -> int:
    from motionvigil.detect.site import calibrate_site
    from motionvigil.io import load_motion
    from motionvigil.report.model_card import write_detector_card

    inputs = list(args.inputs)
    first_is_detector = len(inputs) > 1 and (Path(inputs[0]) / "config.json").is_file()
    detector = load_detector(inputs.pop(0) if first_is_detector else None, args.device)
    files = calm_files(inputs)
    if not files:
        return usage_error("calibrate", f"no motion file in {', '.join(inputs)}")
    if Path(args.output).exists() and any(Path(args.output).iterdir()):
        return usage_error("calibrate", f"{args.output} exists and is not empty: give a new folder")
    motions, used = [], []
    for path in files:
        try:
            motions.append(load_motion(path, **reader_options(args)))
            used.append(str(path))
        except MotionFileError as exc:  # one line; without --skip-bad nothing is written
            print(f"motionvigil calibrate: {'skipped' if args.skip_bad else 'error'}: {exc}", file=sys.stderr)
            if not args.skip_bad:
                return EXIT_BAD_INPUT
    if not motions:
        return usage_error("calibrate", "no readable calm recording")
    try:
        site = calibrate_site(detector, motions, args.alerts_per_min, used, progress=len(motions) > 1)
    except ValueError as exc:
        return value_error("calibrate", exc)
    site.save(args.output)
    card = write_detector_card(site, args.output)
    info = site.calibration["site"]
    allowed = int(info["minutes"] * args.alerts_per_min)
    note = ("" if allowed >= 3 else f"\nnote: {info['minutes']:.1f} min at {args.alerts_per_min:g}/min allows "
            f"{allowed} alert(s), so the threshold sits at the calm recordings' top scores; record "
            f"{3 / args.alerts_per_min:.0f} min or more for a threshold that is not set by one window")
    emit(args, {"output": str(args.output), "card": str(card), "threshold": site.threshold,
                "threshold_before": info["threshold_before"], "minutes": info["minutes"],
                "alerts_per_min": info["alerts_per_min"], "recordings": info["recordings"]},
         f"threshold {info['threshold_before']:.4f} -> {site.threshold:.4f}: {info['alerts_per_min']:.3f} alerts/min "
         f"on {info['minutes']:.1f} min of calm recordings ({info['recordings']} files; budget "
         f"{args.alerts_per_min:g}/min){note}\nsaved in {args.output} (card: {card})")
    return 0


def add_calibrate(sub) -> None:
    p = sub.add_parser("calibrate", help="re-set a detector's threshold on calm recordings from the site where it "
                                         "will run (no violent example needed)")
    p.add_argument("inputs", nargs="+", metavar="[DETECTOR] CALM",
                   help="calm motion files or folders recorded at the site, optionally after a detector folder "
                        "(default: the built-in detector); every window must be ordinary activity, no violence")
    p.add_argument("--alerts-per-min", type=positive, default=0.1,
                   help="false alerts per minute the calm recordings may raise at the new threshold (default 0.1)")
    p.add_argument("-o", "--output", required=True, help="new detector folder (must not exist or be empty)")
    add_skip_bad(p, help="skip files that are not readable motion (each named on stderr) instead of stopping")
    add_json(p, help="print the new threshold and what it was set on as one JSON object")
    add_device(p)
    add_reader_flags(p)
    p.set_defaults(func=cmd_calibrate)
