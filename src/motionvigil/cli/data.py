"""Motion files and datasets: ``convert``, ``info``, ``data info``, ``data synth``."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from motionvigil.cli.common import (
    DATA_METAVAR, UsageError, add_alias, add_output, add_reader_flags, add_run_flags, emit, reader_options,
    usage_error,
)


def cmd_convert(args: argparse.Namespace) -> int:
    from motionvigil.features.convert import convert_file

    out = Path(args.output)
    if out.suffix != ".npz":
        return usage_error("convert", f"output must end in .npz, got {out}")
    kwargs = {"asf": args.asf} if args.asf else {}
    converted = convert_file(args.input, out, person=args.person, **kwargs, **reader_options(args))
    frames = converted.joints.shape[-3]
    summary = {"input": str(args.input), "output": str(out), "frames": frames, "fps": converted.fps,
               "features": None if converted.features is None else list(converted.features.shape)}
    if converted.features is None:
        summary.update(persons=converted.num_persons, person_ids=list(converted.person_ids))
        text = (f"{args.input} -> {out}: {converted.num_persons} persons (ids {list(converted.person_ids)}), "
                f"{frames} frames at {converted.fps:g} Hz, shared frame, no features "
                "(HumanML3D features need one body: --person ID)")
    else:
        if args.person is not None:
            summary["person"] = args.person
        text = (f"{args.input} -> {out}: {frames} frames at {converted.fps:g} Hz, "
                f"features {converted.features.shape[0]}x{converted.features.shape[1]}")
    emit(args, summary, text)
    return 0


def cmd_info(args: argparse.Namespace) -> int:
    from motionvigil.io import load_motion
    from motionvigil.skeleton.retarget import mapping_info

    infos = []
    for path in args.inputs:
        motion = load_motion(path, **reader_options(args))
        info = {
            "file": str(path),
            "layout": motion.layout.name,
            "joints": motion.num_joints,
            "frames": motion.num_frames,
            "fps": motion.fps,
            "duration_s": round(motion.duration, 3),
        }
        if motion.num_persons > 1:  # one-person files report exactly what they always did
            info.update(persons=motion.num_persons, person_ids=list(motion.person_ids))
        if motion.present is not None:
            info["present_frames"] = [int(n) for n in motion.presence.sum(axis=1)]
        infos.append({**info, **mapping_info(motion)})
    if args.json:
        print(json.dumps({"files": infos}))
    else:
        for info in infos:
            print(info["file"])
            for key, value in info.items():
                if key != "file":
                    print(f"  {key:16s} {value}")
    return 0


def cmd_data_info(args: argparse.Namespace) -> int:
    from motionvigil.datasets.info import dataset_info

    if (args.name is None) == (args.data is None):
        raise UsageError("give the dataset once: --data NAME[:ROOT] (or NAME[:ROOT] as the argument)")
    name, root = args.name or args.data, getattr(args, "root", None)
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
    emit(args, {"clips": len(dataset), "classes": len(dataset.classes), "violent_classes": len(dataset.violent_classes),
                "output": str(path.parent), "data": f"folder:{path.parent}"},
         f"synthetic corpus: {len(dataset)} clips, {len(dataset.classes)} classes "
          f"({len(dataset.violent_classes)} violent) -> {path.parent} (use --data folder:{path.parent})")
    return 0


def add_convert(sub) -> None:
    p = sub.add_parser("convert", help="motion file -> npz with SMPL-22 joints (20 Hz) and 263-dim features")
    p.add_argument("input", help="BVH, AMC, Kinect txt (MSR, UTKinect, SBU), UTD-MHAD mat, HumanML3D npy or npz file")
    add_output(p, "output .npz (written atomically)")
    p.add_argument("--person", type=int, metavar="ID",
                   help="convert only the person with this id (a multi-person file otherwise keeps every body, "
                        "joints [P, T, 22, 3] in the shared frame, and gets no HumanML3D features)")
    p.add_argument("--asf", help="ASF skeleton for an AMC input (default: found next to it)")
    add_reader_flags(p)
    add_run_flags(p, cmd_convert)


def add_info(sub) -> None:
    p = sub.add_parser("info", help="print layout, joints, frames, fps, units and SMPL-22 mapping of motion files")
    p.add_argument("inputs", nargs="+", metavar="FILE", help="motion files (BVH, AMC, Kinect txt, UTD-MHAD mat, npy, npz)")
    add_reader_flags(p)
    add_run_flags(p, cmd_info, json_help="print one JSON object {files: [...]} on stdout")


def add_data(sub) -> None:
    data = sub.add_parser("data", help="dataset tools").add_subparsers(dest="data_command", required=True)
    p = data.add_parser("info", help="clips, classes, violent classes, subjects and splits of a dataset")
    p.add_argument("name", nargs="?", metavar=DATA_METAVAR,
                   help="registered dataset name (e.g. msr_action3d, hdm05, procedural), as --data takes it")
    p.add_argument("--data", metavar=DATA_METAVAR,
                   help="the dataset (ROOT default: its folder under the shared data root)")
    add_alias(p, "--root", "root")
    p.add_argument("--load", action="store_true", help="load every clip (slower) instead of indexing files")
    add_run_flags(p, cmd_data_info)

    p = data.add_parser("synth", help="write the built-in synthetic corpus as npz files + annotations.json")
    add_output(p, "dataset folder to write")
    p.add_argument("--clips", type=int, default=20, help="clips per class")
    p.add_argument("--sequences", type=int, default=20, help="multi-action sequences")
    add_run_flags(p, cmd_data_synth, seed=True)
