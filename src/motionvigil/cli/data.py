"""Motion files and datasets: ``convert``, ``info``, ``data info``, ``data synth``."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from motionvigil.cli.common import add_reader_flags, add_seed, reader_options, usage_error


def cmd_convert(args: argparse.Namespace) -> int:
    from motionvigil.features.convert import convert_file

    out = Path(args.output)
    if out.suffix != ".npz":
        return usage_error("convert", f"output must end in .npz, got {out}")
    kwargs = {"asf": args.asf} if args.asf else {}
    converted = convert_file(args.input, out, **kwargs, **reader_options(args))
    print(
        f"{args.input} -> {out}: {len(converted.joints)} frames at {converted.fps:g} Hz, "
        f"features {converted.features.shape[0]}x{converted.features.shape[1]}"
    )
    return 0


def cmd_info(args: argparse.Namespace) -> int:
    from motionvigil.io import load_motion
    from motionvigil.skeleton.retarget import mapping_info

    for path in args.inputs:
        motion = load_motion(path, **reader_options(args))
        info = {
            "file": str(path),
            "layout": motion.layout.name,
            "joints": motion.num_joints,
            "frames": motion.num_frames,
            "fps": motion.fps,
            "duration_s": round(motion.duration, 3),
            **mapping_info(motion),
        }
        print(json.dumps(info))
    return 0


def cmd_data_info(args: argparse.Namespace) -> int:
    from motionvigil.datasets.info import dataset_info

    name, root = args.name, args.root
    if root is None and ":" in name:  # NAME:ROOT, as --data takes it
        name, root = name.split(":", 1)
    info = dataset_info(name, root, load=args.load)
    if args.json:
        print(json.dumps(info))
    else:
        for key, value in info.items():
            print(f"{key:16s} {value}")
    return 0


def cmd_data_synth(args: argparse.Namespace) -> int:
    from motionvigil.datasets.folder import export_dataset
    from motionvigil.datasets.synthetic import generate_corpus

    dataset = generate_corpus(args.clips, seed=args.seed, num_sequences=args.sequences)
    path = export_dataset(dataset, args.output)
    print(f"synthetic corpus: {len(dataset)} clips, {len(dataset.classes)} classes "
          f"({len(dataset.violent_classes)} violent) -> {path.parent} (use --data folder:{path.parent})")
    return 0


def add_convert(sub) -> None:
    p = sub.add_parser("convert", help="motion file -> npz with SMPL-22 joints (20 Hz) and 263-dim features")
    p.add_argument("input", help="BVH, AMC, Kinect txt, HumanML3D npy or npz file")
    p.add_argument("-o", "--output", required=True, help="output .npz (written atomically)")
    p.add_argument("--asf", help="ASF skeleton for an AMC input (default: found next to it)")
    add_reader_flags(p)
    p.set_defaults(func=cmd_convert)


def add_info(sub) -> None:
    p = sub.add_parser("info", help="print layout, joints, frames, fps, units and SMPL-22 mapping of motion files "
                                    "as JSON lines")
    p.add_argument("inputs", nargs="+", metavar="FILE", help="motion files (BVH, AMC, Kinect txt, npy, npz)")
    add_reader_flags(p)
    p.set_defaults(func=cmd_info)


def add_data(sub) -> None:
    data = sub.add_parser("data", help="dataset tools").add_subparsers(dest="data_command", required=True)
    p = data.add_parser("info", help="clips, classes, violent classes, subjects and splits of a dataset")
    p.add_argument("name", help="registered dataset name (e.g. msr_action3d, hdm05, procedural)")
    p.add_argument("--root", help="dataset folder (default: its folder under the shared data root)")
    p.add_argument("--load", action="store_true", help="load every clip (slower) instead of indexing files")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=cmd_data_info)

    p = data.add_parser("synth", help="write the built-in synthetic corpus as npz files + annotations.json")
    p.add_argument("-o", "--output", required=True, help="dataset folder to write")
    p.add_argument("--clips", type=int, default=20, help="clips per class")
    p.add_argument("--sequences", type=int, default=20, help="multi-action sequences")
    add_seed(p)
    p.set_defaults(func=cmd_data_synth)
