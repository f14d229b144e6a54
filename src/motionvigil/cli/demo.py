"""``demo``: the main job on the built-in data, with an HTML report."""

from __future__ import annotations

import argparse
from pathlib import Path

from motionvigil.cli.common import add_device, add_json, add_output, emit, reporting


def cmd_demo(args: argparse.Namespace) -> int:
    from motionvigil.report.demo import run_demo

    with reporting(args):  # the demo's own summary lines go to stderr with --json
        summary = run_demo(out_dir=Path(args.output), data=args.data, quick=args.quick, device=args.device)
    emit(args, summary)
    return 0


def add_demo(sub) -> None:
    p = sub.add_parser("demo", help="run the main job on the built-in data and write a report")
    add_output(p, "output folder", default="out/demo", aliases=("--out",))
    p.add_argument("--data", default="procedural", metavar="NAME[:ROOT]",
                   help="procedural (the built-in procedural corpus; alias synthetic) or real data, "
                        "e.g. mocap_violence[:ROOT]")
    p.add_argument("--quick", action="store_true", help="tiny sizes (seconds, for tests); the numbers mean nothing")
    add_device(p)
    add_json(p, help="print the summary as one JSON object on stdout (progress on stderr)")
    p.set_defaults(func=cmd_demo)
