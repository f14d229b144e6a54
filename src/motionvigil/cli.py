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

    run_demo(out_dir=Path(args.out), data=args.data, quick=args.quick)
    return 0


def _cmd_data_info(args: argparse.Namespace) -> int:
    from motionvigil.datasets.info import dataset_info

    info = dataset_info(args.name, args.root, load=args.load)
    if args.json:
        print(json.dumps(info))
    else:
        for key, value in info.items():
            print(f"{key:16s} {value}")
    return 0


def _cmd_data_synth(args: argparse.Namespace) -> int:
    from motionvigil.datasets.folder import export_dataset
    from motionvigil.datasets.synthetic import generate_corpus

    dataset = generate_corpus(args.clips, seed=args.seed, num_sequences=args.sequences)
    path = export_dataset(dataset, args.output)
    print(f"synthetic corpus: {len(dataset)} clips, {len(dataset.classes)} classes "
          f"({len(dataset.violent_classes)} violent) -> {path.parent} (use --data folder:{path.parent})")
    return 0


def _cmd_pretrain(args: argparse.Namespace) -> int:
    from motionvigil.models import preset
    from motionvigil.pretrain.trainer import TrainSettings, pretrain_on
    from motionvigil.training.runtime import start_runtime, stop_runtime

    runtime = start_runtime(args.device)
    settings = TrainSettings(epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, seed=args.seed)
    try:
        bundle = pretrain_on(args.data, args.output, preset(args.preset, args.encoder), settings, runtime,
                             skip_bad=args.skip_bad)
    finally:
        stop_runtime(runtime)
    if runtime.is_main:
        print(f"best model (epoch {bundle.info.get('best_epoch')}) saved in {Path(args.output) / 'best'}")
    return 0


def _cmd_retrieval(args: argparse.Namespace) -> int:
    from motionvigil.atomic import write_text_atomic
    from motionvigil.eval.pretrained import evaluate_run, format_report

    report = evaluate_run(args.run, args.data, split=args.split, device=args.device, skip_bad=args.skip_bad)
    out = Path(args.run) / "retrieval.json"
    write_text_atomic(out, json.dumps(report, indent=2))
    print(json.dumps(report) if args.json else format_report(report))
    if not args.json:
        print(f"\nwritten to {out}")
    return 0


def _cmd_study_fewshot(args: argparse.Namespace) -> int:
    import dataclasses

    from motionvigil.eval.fewshot_study import StudySettings, run_fewshot_study

    base = StudySettings()
    settings = dataclasses.replace(
        base,
        preset=args.preset,
        encoder=args.encoder,
        seed=args.seed,
        pretrain=dataclasses.replace(base.pretrain, epochs=args.pretrain_epochs),
        meta=dataclasses.replace(base.meta, iterations=args.meta_iterations),
        episodic=dataclasses.replace(base.episodic, episodes=args.episodes),
    )
    result = run_fewshot_study(args.data, args.output, settings, pretrained=args.pretrained, device=args.device,
                               skip_bad=args.skip_bad)
    out = Path(args.output)
    for name in ("table1", "table2"):
        print((out / f"{name}.md").read_text())
    label = " (synthetic data)" if any(d.split(":")[0] == "synthetic" for d in args.data) else ""
    print(f"tables{label} written to {out} (md, csv, json); total {result['summary']['timings']['total_s']:.0f} s")
    return 0


def _cmd_fewshot(args: argparse.Namespace) -> int:
    from motionvigil.eval.fewshot_eval import evaluate_fewshot

    rows = evaluate_fewshot(args.run, args.data, args.protocol, episodes=args.episodes, device=args.device,
                            skip_bad=args.skip_bad)
    if args.json:
        print(json.dumps(rows, default=float))
    return 0


def _cmd_tsne(args: argparse.Namespace) -> int:
    import numpy as np

    from motionvigil.datasets.labelled import LabelledSet
    from motionvigil.datasets.select import load_specs, split_train_val_test
    from motionvigil.eval.fewshot_study import pool
    from motionvigil.models.bundle import MotionTextBundle
    from motionvigil.report.tsne import tsne_before_after

    run = Path(args.run)
    pre = MotionTextBundle.load(run / "pretrain" / "best")
    maml = MotionTextBundle.load(run / "maml" / "best")
    datasets = load_specs(args.data, skip_bad=args.skip_bad)
    classes = pool(datasets)
    train_c, _, test_c = split_train_val_test(datasets, 0.15, args.seed)
    train, test = LabelledSet.build(train_c, classes), LabelledSet.build(test_c, classes)
    usable = [c for c in range(len(classes)) if test.labels[:, c].sum() >= 2 and train.labels[:, c].sum() >= args.shots]
    rng = np.random.default_rng(args.seed)
    violent = [c for c in usable if test.violent[c]]
    calm = [c for c in rng.permutation([c for c in usable if not test.violent[c]])]
    chosen = (violent + calm)[: args.classes]
    out = Path(args.output) if args.output else run
    for path in tsne_before_after(pre, maml, train, test, out, chosen, shots=args.shots, seed=args.seed):
        print(path)
    return 0


def _cmd_build_detector(args: argparse.Namespace) -> int:
    from motionvigil.detect.support import build_from_specs

    try:
        detector = build_from_specs(args.model, args.support, args.output, classes=args.classes, shots=args.shots,
                                    target_fpr=args.target_fpr, adapt=args.adapt, alert_classes=args.alert,
                                    window=args.window, stride=args.stride, seed=args.seed, device=args.device,
                                    skip_bad=args.skip_bad)
    except ValueError as exc:  # bad classes, shots or threshold policy for this support set
        if isinstance(exc, MotionFileError):
            raise
        print(f"motionvigil build-detector: error: {exc}", file=sys.stderr)
        return 2
    print(detector.describe())
    print(f"saved in {args.output}")
    return 0


def _cmd_detect(args: argparse.Namespace) -> int:
    from motionvigil.detect import Detector, detect_motion, plot_timeline, timeline_json
    from motionvigil.detect.timeline import format_alerts, plot_name
    from motionvigil.io import load_motion

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

    data = sub.add_parser("data", help="dataset tools").add_subparsers(dest="data_command", required=True)
    p = data.add_parser("info", help="clips, classes, violent classes, subjects and splits of a dataset")
    p.add_argument("name", help="registered dataset name (e.g. msr_action3d, hdm05, synthetic)")
    p.add_argument("--root", help="dataset folder (default: its folder under the shared data root)")
    p.add_argument("--load", action="store_true", help="load every clip (slower) instead of indexing files")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=_cmd_data_info)

    p = data.add_parser("synth", help="write the built-in synthetic corpus as npz files + annotations.json")
    p.add_argument("-o", "--output", required=True)
    p.add_argument("--clips", type=int, default=20, help="clips per class")
    p.add_argument("--sequences", type=int, default=20, help="multi-action sequences")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=_cmd_data_synth)

    p = sub.add_parser("pretrain", help="motion-text pre-training (TMR or motion-patch ViT)")
    p.add_argument("--data", action="append", required=True, metavar="NAME[:ROOT]",
                   help="dataset to train on; repeat to pool several")
    p.add_argument("--skip-bad", action="store_true", help="skip unusable files (listed) instead of stopping")
    p.add_argument("--preset", default="tiny", choices=["tiny", "paper"])
    p.add_argument("--encoder", default="tmr", choices=["tmr", "vit"])
    p.add_argument("-o", "--output", required=True, help="run folder (resumed if it exists)")
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--lr", type=float, default=1e-4)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="cpu", help="cpu, cuda, cuda:N or auto")
    p.set_defaults(func=_cmd_pretrain)

    p = sub.add_parser("retrieval", help="text-motion retrieval and zero-shot evaluation of a pre-trained run")
    p.add_argument("run", help="run folder (or a model folder)")
    p.add_argument("--data", action="append", required=True, metavar="NAME[:ROOT]")
    p.add_argument("--skip-bad", action="store_true", help="skip unusable files (listed) instead of stopping")
    p.add_argument("--split", default="test")
    p.add_argument("--device", default="cpu")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_cmd_retrieval)

    study = sub.add_parser("study", help="multi-step studies").add_subparsers(dest="study_command", required=True)
    p = study.add_parser("fewshot", help="pre-train, meta-train, Table 1 (episodic) and Table 2 (global) in one run")
    p.add_argument("--data", action="append", required=True, metavar="NAME[:ROOT]")
    p.add_argument("--skip-bad", action="store_true", help="skip unusable files (listed) instead of stopping")
    p.add_argument("-o", "--output", required=True)
    p.add_argument("--preset", default="tiny", choices=["tiny", "paper"])
    p.add_argument("--encoder", default="tmr", choices=["tmr", "vit"])
    p.add_argument("--pretrained", help="use this pre-trained run/model instead of pre-training")
    p.add_argument("--pretrain-epochs", type=int, default=20)
    p.add_argument("--meta-iterations", type=int, default=300)
    p.add_argument("--episodes", type=int, default=200)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="cpu")
    p.set_defaults(func=_cmd_study_fewshot)

    p = sub.add_parser("fewshot", help="evaluate a few-shot study folder (pretrain/ + maml/) with one protocol")
    p.add_argument("run", help="study folder holding pretrain/best and maml/best")
    p.add_argument("--data", action="append", required=True, metavar="NAME[:ROOT]")
    p.add_argument("--skip-bad", action="store_true", help="skip unusable files (listed) instead of stopping")
    p.add_argument("--protocol", choices=["episodic", "global"], default="episodic")
    p.add_argument("--episodes", type=int, default=200)
    p.add_argument("--device", default="cpu")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_cmd_fewshot)

    p = sub.add_parser("tsne", help="t-SNE of test embeddings before and after MAML adaptation (PNG)")
    p.add_argument("run", help="study folder holding pretrain/best and maml/best")
    p.add_argument("--data", action="append", required=True, metavar="NAME[:ROOT]")
    p.add_argument("--classes", type=int, default=8, help="how many classes to show (violent ones first)")
    p.add_argument("--skip-bad", action="store_true", help="skip unusable files (listed) instead of stopping")
    p.add_argument("--shots", type=int, default=5)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("-o", "--output", help="folder for the PNGs (default: the run folder)")
    p.set_defaults(func=_cmd_tsne)

    p = sub.add_parser("build-detector", help="few-shot violence detector from K support clips per class")
    p.add_argument("model", metavar="RUN_OR_MODEL",
                   help="model folder, or a run folder (maml/best, best, pretrain/best)")
    p.add_argument("--support", action="append", required=True, metavar="NAME[:ROOT]",
                   help="dataset whose training clips give the support examples (e.g. folder:PATH, synthetic); "
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
    p.add_argument("--skip-bad", action="store_true", help="skip unusable files (listed) instead of stopping")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="cpu")
    p.add_argument("-o", "--output", required=True, help="detector folder")
    p.set_defaults(func=_cmd_build_detector)

    p = sub.add_parser("detect", help="run a detector over motion files: alert segments (or JSON timelines)")
    p.add_argument("detector", help="detector folder (from build-detector)")
    p.add_argument("inputs", nargs="+", metavar="FILE")
    p.add_argument("--json", action="store_true", help="one JSON object per file: file, timeline, alerts")
    p.add_argument("--plot-dir", help="write a PNG timeline per file into this folder")
    p.add_argument("--device", default="cpu")
    p.set_defaults(func=_cmd_detect)

    p = sub.add_parser("demo", help="run the main job on the built-in data and write a report")
    p.add_argument("--out", default="out/demo", help="output folder")
    p.add_argument("--data", default="synthetic", metavar="NAME[:ROOT]",
                   help="synthetic (default: the built-in procedural corpus) or real data, e.g. mocap_violence[:ROOT]")
    p.add_argument("--quick", action="store_true", help="tiny sizes (seconds, for tests); the numbers mean nothing")
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
