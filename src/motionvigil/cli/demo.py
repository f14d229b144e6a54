"""``demo``: the main job on the built-in data, with an HTML report."""

from __future__ import annotations

import argparse
from pathlib import Path


def cmd_demo(args: argparse.Namespace) -> int:
    from motionvigil.report.demo import run_demo

    run_demo(out_dir=Path(args.out), data=args.data, quick=args.quick)
    return 0


def add_demo(sub) -> None:
    p = sub.add_parser("demo", help="run the main job on the built-in data and write a report")
    p.add_argument("--out", default="out/demo", help="output folder")
    p.add_argument("--data", default="procedural", metavar="NAME[:ROOT]",
                   help="procedural (default: the built-in procedural corpus; alias synthetic) or real data, "
                        "e.g. mocap_violence[:ROOT]")
    p.add_argument("--quick", action="store_true", help="tiny sizes (seconds, for tests); the numbers mean nothing")
    p.set_defaults(func=cmd_demo)
