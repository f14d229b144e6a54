"""Detection: ``build-detector`` (few-shot, from support clips), ``detect`` (over motion
files; the built-in detector unless a detector folder comes first), ``models`` (the
built-in models' cards) and ``zoo build`` (``make model``)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from motionvigil.cli.common import (
    EXIT_ALERT,
    EXIT_BAD_INPUT,
    EXIT_OK,
    add_device,
    add_json,
    add_pool_root,
    add_reader_flags,
    add_seed,
    add_skip_bad,
    emit,
    load_detector,
    pool_root,
    positive,
    reader_options,
    reporting,
    usage_error,
    value_error,
)
from motionvigil.errors import MotionFileError
from motionvigil.report.model_card import feedback_line, write_detector_card


def cmd_build_detector(args: argparse.Namespace) -> int:
    from motionvigil.detect.support import build_from_prompts, build_from_specs

    if (args.support is None) == (args.prompts is None):
        return usage_error("build-detector", "give --support DATA (few-shot) or --prompts TEXT... (zero-shot)")
    if args.prompts is not None:
        unused = [flag for flag, value in (("--classes", args.classes), ("--adapt", args.adapt),
                                           ("--alerts-per-min", args.alerts_per_min)) if value]
        if unused:
            return usage_error("build-detector", f"{', '.join(unused)} need support clips (--support), not --prompts")
    if args.model is None:  # start from the built-in encoder
        from motionvigil.detect.builtin import verify

        args.model = str(verify())
    from motionvigil.cli.feedback import feedback_specs
    from motionvigil.serve.feedback import FeedbackError

    try:
        with feedback_specs(args.support, args.calm) as (support, calm, used):
            # the detector records the arguments as given (the databases), not the temporary folders
            info = {"calm_data": list(args.calm or ()), **({"feedback": used} if used else {})}
            if args.prompts is not None:
                info["calm_data"] = info["calm_data"] or ["procedural"]
                detector = build_from_prompts(args.model, args.prompts, args.output, calm=calm or ("procedural",),
                                              target_fpr=args.target_fpr, alert_classes=args.alert,
                                              window=args.window, stride=args.stride, device=args.device,
                                              skip_bad=args.skip_bad, reader_options=reader_options(args), info=info)
            else:
                if args.head:
                    info["calm_data"] = info["calm_data"] or list(args.support)
                else:
                    del info["calm_data"]
                info["support_data"] = list(args.support)
                detector = build_from_specs(args.model, support, args.output, classes=args.classes, shots=args.shots,
                                            target_fpr=args.target_fpr, adapt=args.adapt, alert_classes=args.alert,
                                            window=args.window, stride=args.stride, seed=args.seed,
                                            device=args.device, skip_bad=args.skip_bad, head=args.head,
                                            scorer=args.scorer, calm=calm or (), alerts_per_min=args.alerts_per_min,
                                            reader_options=reader_options(args), info=info)
    except FeedbackError as exc:
        print(f"motionvigil build-detector: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except ValueError as exc:  # bad classes, shots or threshold policy for this support set
        return value_error("build-detector", exc)
    card = write_detector_card(detector, args.output)
    emit(args, {"output": str(args.output), "card": str(card), **detector.settings()},
         f"{detector.describe()}\n{feedback_line(detector.info.get('feedback', {}))}\nsaved in {args.output} "
         f"(card: {card})")
    return 0


def cmd_detect(args: argparse.Namespace) -> int:
    from motionvigil.detect import detect_motion, timeline_json
    from motionvigil.detect.timeline import format_alerts, plot_name
    from motionvigil.io import load_motion
    from motionvigil.report.timeline import plot_timeline

    inputs = list(args.inputs)
    # a detector folder first; motion files are never folders
    detector = load_detector(inputs.pop(0) if Path(inputs[0]).is_dir() else None, args.device)
    if not inputs:
        return usage_error("detect", "no motion file given")
    if args.annotate and len(inputs) > 1:
        return usage_error("detect", "--annotate writes one video: give one video file")
    failed, alerted, taken = False, False, set()
    for path in inputs:
        try:
            motion = load_motion(path, **reader_options(args))
            timeline = detect_motion(detector, motion, name="all" if args.name_all else "alerting")
            doc = timeline_json(timeline, str(path)) if args.json else None
            _video_outputs(args, path, motion, timeline, doc)
        except MotionFileError as exc:  # report it and go on with the other files
            print(f"motionvigil detect: error: {exc}", file=sys.stderr)
            failed = True
            continue
        alerted = alerted or bool(timeline.alerts)
        if args.json:  # one line per file, flushed as it finishes (a pipe reader sees each at once)
            print(json.dumps(doc), flush=True)
        else:
            print(format_alerts(timeline, str(path)) + "\n" + peak_line(timeline), flush=True)
        if args.plot_dir:
            plot_timeline(timeline, Path(args.plot_dir) / plot_name(path, taken), title=str(path))
    if failed:
        return EXIT_BAD_INPUT
    return EXIT_ALERT if alerted and args.fail_on_alert else EXIT_OK


def peak_line(timeline) -> str:
    """``  peak violence 0.4321 at 12.50-15.70 s (punch)``: the highest-scoring window of
    ``timeline``, printed whether or not it alerted, so a quiet file still says how close it came."""
    if not timeline.windows:
        return "  peak violence: no window scored"
    best = max(timeline.windows, key=lambda w: w.violence)
    what = [best.violent_class] if best.violent_class else []  # unnamed below the threshold without --name-all
    what += [f"persons {'+'.join(map(str, best.persons))}"] if best.persons else []
    return (f"  peak violence {best.violence:.4f} at {best.start_s:.2f}-{best.end_s:.2f} s "
            f"({', '.join(what) + '; ' if what else ''}threshold {timeline.threshold:.4f})")


def _video_outputs(args: argparse.Namespace, path: str, motion, timeline, doc: dict | None) -> None:
    """For a video: each JSON alert's ``box`` (pixels around its persons while it was open)
    and the ``--annotate`` video; refuses ``--annotate`` for input that is not a video."""
    if "boxes" in motion.meta and doc is not None:
        from motionvigil.io.video import alert_box

        for alert, segment in zip(doc["alerts"], timeline.alerts):
            alert["box"] = alert_box(motion, segment.start_s, segment.end_s, segment.persons)
    if args.annotate:
        from motionvigil.report.annotate import annotate_video

        annotate_video(path, motion, timeline.alerts, args.annotate)


def add_build_detector(sub) -> None:
    p = sub.add_parser("build-detector", help="few-shot violence detector from K support clips per class, or "
                                              "zero-shot from text prompts (--prompts)")
    p.add_argument("model", metavar="RUN_OR_MODEL", nargs="?",
                   help="model folder, or a run folder (maml/best, best, pretrain/best); default: the built-in "
                        "encoder (motionvigil models)")
    p.add_argument("--support", "--data", dest="support", action="append", metavar="NAME[:ROOT]",
                   help="dataset whose training clips give the support examples (e.g. folder:PATH, procedural); "
                        "repeat to pool several")
    p.add_argument("--prompts", nargs="+", metavar="TEXT",
                   help="zero-shot instead of --support: one class per prompt (e.g. punch kick walk), prototypes "
                        "from the text encoder, threshold set on calm motion (--calm, default procedural) at "
                        "--target-fpr (default 0.05)")
    p.add_argument("--classes", nargs="+", help="classes to detect (default: all classes of the data)")
    p.add_argument("--alert", nargs="+", help="classes that raise alerts (default: the violent ones)")
    p.add_argument("--shots", type=int, default=5, help="support examples per class")
    p.add_argument("--target-fpr", type=float, help="with --no-head: threshold for this false-positive rate on the "
                                                    "support clips (default: the F1-maximising threshold); with "
                                                    "--prompts: on the calm clips (default 0.05)")
    p.add_argument("--head", action=argparse.BooleanOptionalAction, default=True,
                   help="score violence with a kinematic head trained on the support data, calm clips and the "
                        "procedural corpus (transfers to unseen sources; docs/detection.md); --no-head: the "
                        "prototype score of the paper")
    p.add_argument("--scorer", choices=("model", "kinematic"), default="model",
                   help="with --head: the learned violence model (person and pair networks, calibrated; "
                        "docs/detection.md) or the 24-feature logistic kinematic head it replaces")
    p.add_argument("--calm", action="append", metavar="NAME[:ROOT]|FOLDER",
                   help="calm motion from your own domain for the head and its threshold (repeatable; default: "
                        "the support data's calm training clips)")
    p.add_argument("--alerts-per-min", type=positive, help="head threshold: false alerts per minute allowed on the "
                                                           "calm clips (default 0.1)")
    p.add_argument("--adapt", action="store_true",
                   help="adapt the motion encoder to the support set (FOMAML inner loop)")
    p.add_argument("--window", type=int, default=64, help="window length in frames at 20 Hz")
    p.add_argument("--stride", type=int, default=10, help="window hop in frames at 20 Hz")
    add_skip_bad(p)
    add_seed(p)
    add_device(p)
    p.add_argument("-o", "--output", required=True, help="detector folder")
    add_reader_flags(p)
    add_json(p, help="print the detector's settings as one JSON object on stdout")
    p.set_defaults(func=cmd_build_detector)


def add_detect(sub) -> None:
    p = sub.add_parser("detect", help="run a detector over motion files: alert segments (or JSON timelines)")
    p.add_argument("inputs", nargs="+", metavar="[DETECTOR] FILE",
                   help="motion files, optionally after a detector folder (from build-detector); without one, the "
                        "built-in detector (motionvigil models)")
    add_json(p, help="one JSON object per file: file, timeline, alerts")
    p.add_argument("--fail-on-alert", action="store_true",
                   help="exit with status 1 when any file raised an alert (default: 0 whenever it ran)")
    p.add_argument("--plot-dir", help="write a PNG timeline per file into this folder")
    p.add_argument("--name-all", action="store_true",
                   help="name the class of every window (runs the motion encoder on all of them; by default a "
                        "detector with a violence score embeds only the windows that alert)")
    p.add_argument("--annotate", metavar="OUT.mp4",
                   help="video input: write the video with each person's box, skeleton and track id, red while "
                        "an alert naming them is open")
    add_device(p)
    add_reader_flags(p)
    p.set_defaults(func=cmd_detect)


def cmd_models(args: argparse.Namespace) -> int:
    from motionvigil.detect.builtin import builtin_models, verify

    models = builtin_models()
    for name in models:
        verify(name)
    if args.json:
        print(json.dumps(models, indent=1))
        return 0
    for name, card in models.items():
        figures = card.get("figures", {}).get("protocols", {})
        print(f"{name}: {card.get('what', '')}")
        print(f"  use: {card.get('use', '')}")
        print(f"  trained on: {'; '.join(card.get('trained_on', {}).values())}")
        for proto, row in figures.items():
            auroc = row.get("auroc")
            print(f"  {proto}: " + (f"AUROC {auroc:.3f}" if auroc is not None else
                                    f"{row.get('false_alerts_per_min', float('nan')):.2f} false alerts/min"))
        print("  card: docs/model_card.md")
    return 0


def cmd_zoo_build(args: argparse.Namespace) -> int:
    from motionvigil.detect.builtin import ZOO
    from motionvigil.studies.zoo_build import build_zoo

    with reporting(args):
        manifest = build_zoo(args.output or ZOO, args.results, pool_root(args), args.epochs)
    card = manifest["models"]["violence_detector"]
    emit(args, manifest, f"built-in detector written to {args.output or ZOO} ({card['build_seconds']:.0f} s); "
                         f"threshold {card['threshold']:.4f}")
    return 0


def add_models(sub) -> None:
    p = sub.add_parser("models", help="list the built-in models with their cards (training data, licences, figures)")
    add_json(p, help="print the cards as one JSON object")
    p.set_defaults(func=cmd_models)
    zoo = sub.add_parser("zoo", help="built-in model files").add_subparsers(dest="zoo_command", required=True)
    p = zoo.add_parser("build", help="train the built-in detector from scratch (make model; about 5 min on 2 cores)")
    p.add_argument("-o", "--output", help="zoo folder (default: the package's own)")
    p.add_argument("--results", default="results/detection/detection.json",
                   help="detection study JSON whose in_domain validation choice and figures the card carries")
    add_pool_root(p, "the mocap_violence sources")
    p.add_argument("--epochs", type=int, default=15, help="encoder pre-training epochs")
    add_json(p, help="print the manifest as one JSON object on stdout")
    p.set_defaults(func=cmd_zoo_build)
