"""Detection: ``build-detector`` (few-shot, from support clips) and ``detect`` (over motion files)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from motionvigil.cli.common import add_data, add_device, add_json, add_seed, add_skip_bad, value_error
from motionvigil.errors import MotionFileError


def cmd_build_detector(args: argparse.Namespace) -> int:
    from motionvigil.detect.support import build_from_specs

    try:
        detector = build_from_specs(args.model, args.support, args.output, classes=args.classes, shots=args.shots,
                                    target_fpr=args.target_fpr, adapt=args.adapt, alert_classes=args.alert,
                                    window=args.window, stride=args.stride, seed=args.seed, device=args.device,
                                    skip_bad=args.skip_bad)
    except ValueError as exc:  # bad classes, shots or threshold policy for this support set
        return value_error("build-detector", exc)
    print(detector.describe())
    print(f"saved in {args.output}")
    return 0


def cmd_detect(args: argparse.Namespace) -> int:
    from motionvigil.detect import Detector, detect_motion, timeline_json
    from motionvigil.detect.timeline import format_alerts, plot_name
    from motionvigil.io import load_motion
    from motionvigil.report.timeline import plot_timeline

    detector = Detector.load(args.detector, device=args.device)
    failed, taken = False, set()
    for path in args.inputs:
        try:
            timeline = detect_motion(detector, load_motion(path))
        except MotionFileError as exc:  # report it and go on with the other files
            print(f"motionvigil detect: error: {exc}", file=sys.stderr)
            failed = True
            continue
        print(json.dumps(timeline_json(timeline, str(path))) if args.json else format_alerts(timeline, str(path)))
        if args.plot_dir:
            plot_timeline(timeline, Path(args.plot_dir) / plot_name(path, taken), title=str(path))
    return 2 if failed else 0


def add_build_detector(sub) -> None:
    p = sub.add_parser("build-detector", help="few-shot violence detector from K support clips per class")
    p.add_argument("model", metavar="RUN_OR_MODEL",
                   help="model folder, or a run folder (maml/best, best, pretrain/best)")
    add_data(p, flag="--support",
             help="dataset whose training clips give the support examples (e.g. folder:PATH, procedural); "
                  "repeat to pool several")
    p.add_argument("--classes", nargs="+", help="classes to detect (default: all classes of the data)")
    p.add_argument("--alert", nargs="+", help="classes that raise alerts (default: the violent ones)")
    p.add_argument("--shots", type=int, default=5, help="support examples per class")
    p.add_argument("--target-fpr", type=float, help="threshold for this false-positive rate on the support clips "
                                                    "(default: the F1-maximising threshold)")
    p.add_argument("--adapt", action="store_true",
                   help="adapt the motion encoder to the support set (FOMAML inner loop)")
    p.add_argument("--window", type=int, default=64, help="window length in frames at 20 Hz")
    p.add_argument("--stride", type=int, default=10, help="window hop in frames at 20 Hz")
    add_skip_bad(p)
    add_seed(p)
    add_device(p)
    p.add_argument("-o", "--output", required=True, help="detector folder")
    p.set_defaults(func=cmd_build_detector)


def add_detect(sub) -> None:
    p = sub.add_parser("detect", help="run a detector over motion files: alert segments (or JSON timelines)")
    p.add_argument("detector", help="detector folder (from build-detector)")
    p.add_argument("inputs", nargs="+", metavar="FILE")
    add_json(p, help="one JSON object per file: file, timeline, alerts")
    p.add_argument("--plot-dir", help="write a PNG timeline per file into this folder")
    add_device(p)
    p.set_defaults(func=cmd_detect)
