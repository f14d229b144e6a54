"""The ``motionvigil`` command line. Thin: parses arguments and calls the library."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from motionvigil import __version__
from motionvigil.errors import MotionFileError


def _cmd_convert(args: argparse.Namespace) -> int:
    from motionvigil.features.convert import convert_file

    out = Path(args.output)
    if out.suffix != ".npz":
        raise SystemExit(f"motionvigil convert: output must end in .npz, got {out}")
    kwargs = {"asf": args.asf} if args.asf else {}
    converted = convert_file(args.input, out, **kwargs)
    print(
        f"{args.input} -> {out}: {len(converted.joints)} frames at {converted.fps:g} Hz, "
        f"features {converted.features.shape[0]}x{converted.features.shape[1]}"
    )
    return 0


def _cmd_info(args: argparse.Namespace) -> int:
    from motionvigil.io import load_motion

    for path in args.inputs:
        motion = load_motion(path)
        info = {
            "file": str(path),
            "layout": motion.layout.name,
            "joints": motion.num_joints,
            "frames": motion.num_frames,
            "fps": motion.fps,
            "duration_s": round(motion.duration, 3),
        }
        print(json.dumps(info))
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from motionvigil.demo import run_demo

    run_demo(out_dir=Path(args.out), data_root=Path(args.data) if args.data else None)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="motionvigil", description=__doc__)
    parser.add_argument("--version", action="version", version=f"motionvigil {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("convert", help="motion file -> npz with SMPL-22 joints (20 Hz) and 263-dim features")
    p.add_argument("input", help="BVH, AMC, Kinect txt, HumanML3D npy or npz file")
    p.add_argument("-o", "--output", required=True, help="output .npz (written atomically)")
    p.add_argument("--asf", help="ASF skeleton for an AMC input (default: found next to it)")
    p.set_defaults(func=_cmd_convert)

    p = sub.add_parser("info", help="print layout, joints, frames and fps of motion files as JSON lines")
    p.add_argument("inputs", nargs="+")
    p.set_defaults(func=_cmd_info)

    p = sub.add_parser("demo", help="run the main job on the built-in data and write a report")
    p.add_argument("--out", default="out/demo", help="output folder")
    p.add_argument("--data", help="real data folder (default: $MOTIONVIGIL_SHARED_DATA or ../shared/data)")
    p.set_defaults(func=_cmd_demo)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except MotionFileError as exc:
        print(f"motionvigil {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
