"""The ``motionvigil`` command line. Thin: parses arguments and calls the library."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from motionvigil import __version__
from motionvigil.errors import MotionFileError, UnknownDatasetError


def _cmd_convert(args: argparse.Namespace) -> int:
    from motionvigil.features.convert import convert_file

    out = Path(args.output)
    if out.suffix != ".npz":
        raise SystemExit(f"motionvigil convert: output must end in .npz, got {out}")
    kwargs = {"asf": args.asf} if args.asf else {}
    converted = convert_file(args.input, out, **kwargs, **_reader_options(args))
    print(
        f"{args.input} -> {out}: {len(converted.joints)} frames at {converted.fps:g} Hz, "
        f"features {converted.features.shape[0]}x{converted.features.shape[1]}"
    )
    return 0


def _cmd_info(args: argparse.Namespace) -> int:
    from motionvigil.io import load_motion
    from motionvigil.skeleton.retarget import mapping_info

    for path in args.inputs:
        motion = load_motion(path, **_reader_options(args))
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


def _reader_options(args: argparse.Namespace) -> dict:
    """``--joint-map`` and ``--scale`` as ``load_motion`` keywords (only those given)."""
    return {k: v for k, v in (("joint_map", args.joint_map), ("scale", args.scale)) if v is not None}


def _add_reader_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--joint-map", metavar="FILE",
                   help="JSON {SMPL-22 joint: file joint} for skeletons not mapped automatically")
    p.add_argument("--scale", type=_positive, metavar="S",
                   help="file units -> metres (e.g. 0.001 for millimetres) when the unit cannot be inferred")


def _add_strict_flags(parser: argparse.ArgumentParser) -> None:
    """Every command with --skip-bad also takes --strict (class folders skip unreadable files
    unless --strict; other datasets stop unless --skip-bad): skip_bad is None, True or False."""
    for action in list(parser._actions):
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                _add_strict_flags(sub)
        elif "--skip-bad" in action.option_strings:
            action.default = None
            parser.add_argument("--strict", dest="skip_bad", action="store_false",
                                help="stop at the first unreadable file (class folders otherwise skip and list them)")


def _cmd_demo(args: argparse.Namespace) -> int:
    from motionvigil.demo import run_demo

    run_demo(out_dir=Path(args.out), data=args.data, quick=args.quick)
    return 0


def _cmd_data_info(args: argparse.Namespace) -> int:
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
    settings = TrainSettings(epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, seed=args.seed,
                             objective=args.objective, tmor=_tmor_settings(args))
    try:
        bundle = pretrain_on(args.data, args.output, preset(args.preset, args.encoder), settings, runtime,
                             skip_bad=args.skip_bad)
    finally:
        stop_runtime(runtime)
    if runtime.is_main:
        print(f"best model (epoch {bundle.info.get('best_epoch')}) saved in {Path(args.output) / 'best'}")
    return 0


def _tmor_settings(args: argparse.Namespace):
    """``--objective tmor`` options -> TmorSettings (terms: mm+mt, plus mv with --visual-features)."""
    from motionvigil.pretrain.tmor import TmorSettings

    if args.tmor_terms:
        terms = tuple(t.strip() for t in args.tmor_terms.split(",") if t.strip())
    else:
        terms = ("mm", "mv", "mt") if args.visual_features else ("mm", "mt")
    auto = lambda v, cast: None if v in (None, "auto") else cast(v)  # noqa: E731
    try:
        return TmorSettings(terms=terms, self_supervised_epochs=args.self_supervised_epochs,
                            eps=auto(args.dbscan_eps, float), min_samples=auto(args.dbscan_min_samples, int),
                            visual_features=args.visual_features)
    except ValueError as exc:
        raise SystemExit(f"motionvigil pretrain: {exc}") from None


def _cmd_probe(args: argparse.Namespace) -> int:
    from motionvigil.studies.probe import ProbeSettings, format_probe, probe_run

    try:
        settings = ProbeSettings(mode=args.mode, epochs=args.epochs, seed=args.seed, task=args.task)
        report = probe_run(args.run, args.data, settings, scratch=args.scratch, device=args.device,
                           skip_bad=args.skip_bad, output=args.output)
    except ValueError as exc:  # e.g. detection with an encoder without per-frame features
        if isinstance(exc, MotionFileError):
            raise
        print(f"motionvigil probe: error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(report) if args.json else format_probe(report))
    return 0


def _cmd_retrieval(args: argparse.Namespace) -> int:
    from motionvigil.atomic import write_text_atomic
    from motionvigil.studies.pretrained import evaluate_run, format_report

    report = evaluate_run(args.run, args.data, split=args.split, device=args.device, skip_bad=args.skip_bad)
    out = Path(args.run) / "retrieval.json"
    write_text_atomic(out, json.dumps(report, indent=2))
    print(json.dumps(report) if args.json else format_report(report))
    if not args.json:
        print(f"\nwritten to {out}")
    return 0


def _cmd_study_fewshot(args: argparse.Namespace) -> int:
    import dataclasses

    from motionvigil.studies.fewshot_study import StudySettings, run_fewshot_study

    base = StudySettings()
    # the fast mode (and mixed precision) applies to meta-training and evaluation alike
    inner = _adapt_settings(args)
    settings = dataclasses.replace(
        base,
        preset=args.preset,
        encoder=args.encoder,
        seed=args.seed,
        pretrain=dataclasses.replace(base.pretrain, epochs=args.pretrain_epochs),
        meta=dataclasses.replace(base.meta, iterations=args.meta_iterations, inner=inner),
        episodic=dataclasses.replace(base.episodic, episodes=args.episodes),
    )
    result = run_fewshot_study(args.data, args.output, settings, pretrained=args.pretrained, device=args.device,
                               skip_bad=args.skip_bad)
    if int(os.environ.get("RANK", "0")) != 0:  # under torchrun, rank 0 reports
        return 0
    out = Path(args.output)
    for name in ("table1", "table2"):
        print((out / f"{name}.md").read_text())
    label = " (synthetic data)" if any(d.split(":")[0] == "synthetic" for d in args.data) else ""
    print(f"tables{label} written to {out} (md, csv, json); total {result['summary']['timings']['total_s']:.0f} s")
    return 0


def _cmd_study_detection(args: argparse.Namespace) -> int:
    from motionvigil.studies.detection import detection_study
    from motionvigil.studies.detection_report import render_markdown

    result = detection_study(args.output, args.preset, args.data_root, args.seed, progress=not args.json)
    if args.json:
        print(json.dumps(result, indent=1))
    else:
        print(render_markdown(result))
        print(f"written to {args.output} (detection.json, detection.md, PR curves); {result['seconds']:.0f} s")
    return 0


def _cmd_study_cross_skeleton(args: argparse.Namespace) -> int:
    import dataclasses

    from motionvigil.studies.cross_skeleton import PAPER, StudySettings, run_cross_skeleton

    settings = StudySettings(preset=args.preset, seed=args.seed, arms=tuple(args.arm or StudySettings().arms),
                             device=args.device)
    if args.preset == "paper":
        settings = dataclasses.replace(settings, **PAPER)
    overrides = {k: v for k, v in (("pretrain_epochs", args.pretrain_epochs), ("finetune_epochs", args.finetune_epochs),
                                   ("episodes", args.episodes)) if v is not None}
    settings = dataclasses.replace(settings, **overrides)
    command = "motionvigil " + " ".join(sys.argv[1:]) if sys.argv[1:] else ""
    result = run_cross_skeleton(args.data_root, settings, args.markdown, command=command,
                                log=lambda msg: print(msg, file=sys.stderr, flush=True))
    print(json.dumps(result, indent=2, default=float) if args.json else result["markdown"])
    return 0


def _count(text: str) -> int:
    """argparse type: an integer >= 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def _positive(text: str) -> float:
    """argparse type: a finite number > 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not (value > 0 and value != float("inf")):
        raise argparse.ArgumentTypeError(f"must be a finite number > 0, got {text}")
    return value


def _add_adaptation_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--inner-steps", type=_count, metavar="T",
                   help="inner-loop SGD steps on the support set (default: the paper's T = 20)")
    p.add_argument("--inner-lr", type=_positive, metavar="ALPHA",
                   help="inner-loop learning rate (default: the paper's alpha = 0.02)")
    p.add_argument("--fast-top-layers", type=_count, metavar="K",
                   help="fast mode: the inner loop adapts only the top K encoder layers (default: the whole "
                        "encoder, as the paper); meta-train with the same K as you evaluate with")
    p.add_argument("--mixed-precision", action="store_true", help="bfloat16 autocast for the encoder (GPU)")


def _adapt_settings(args: argparse.Namespace):
    """The inner-loop settings of ``_add_adaptation_flags``."""
    from motionvigil.fewshot.adaptation import AdaptSettings

    given = {"steps": args.inner_steps, "lr": args.inner_lr}
    return AdaptSettings(top_layers=args.fast_top_layers, mixed_precision=args.mixed_precision,
                         **{k: v for k, v in given.items() if v is not None})


def _cmd_fewshot(args: argparse.Namespace) -> int:
    from motionvigil.studies.fewshot_eval import evaluate_fewshot

    from motionvigil.studies.fewshot_protocols import rows_to_markdown

    adapt = _adapt_settings(args)
    rows = evaluate_fewshot(args.run, args.data, args.protocol, episodes=args.episodes, device=args.device,
                            skip_bad=args.skip_bad, adapt=adapt)
    if int(os.environ.get("RANK", "0")) == 0:
        lead = ("config", "model") if args.protocol == "episodic" else ("model",)
        print(json.dumps(rows, default=float) if args.json else rows_to_markdown(rows, lead))
    return 0


def _cmd_tsne(args: argparse.Namespace) -> int:
    import numpy as np

    from motionvigil.datasets.labelled import LabelledSet
    from motionvigil.datasets.select import load_specs, split_train_val_test
    from motionvigil.studies.fewshot_study import pool
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
                                    skip_bad=args.skip_bad, head=args.head, calm=args.calm or (),
                                    alerts_per_min=args.alerts_per_min, reader_options=_reader_options(args))
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
            timeline = detect_motion(detector, load_motion(path, **_reader_options(args)))
        except MotionFileError as exc:  # report it and go on with the other files
            print(f"motionvigil detect: error: {exc}", file=sys.stderr)
            failed = True
            continue
        print(json.dumps(timeline_json(timeline, str(path))) if args.json else format_alerts(timeline, str(path)))
        if args.plot_dir:
            plot_timeline(timeline, Path(args.plot_dir) / plot_name(path, taken), title=str(path))
    return 2 if failed else 0


def _cmd_metatrain(args: argparse.Namespace) -> int:
    from motionvigil.fewshot.maml import MetaSettings, meta_train
    from motionvigil.training.data import start_model, train_val_sets
    from motionvigil.training.runtime import start_runtime, stop_runtime

    runtime = start_runtime(args.device)  # joins the process group under torchrun
    try:
        train, val = train_val_sets(args.data, args.val_fraction, args.seed, args.skip_bad)
        inner = _adapt_settings(args)
        settings = MetaSettings(iterations=args.iterations, ways=args.ways, shots=args.shots,
                                meta_batch=args.meta_batch, outer_lr=args.outer_lr, seed=args.seed,
                                val_every=args.val_every, val_episodes=args.val_episodes,
                                progress=runtime.is_main, inner=inner)
        best = meta_train(start_model(args.start, runtime.device), train, val, args.output, settings, runtime=runtime)
    finally:
        stop_runtime(runtime)
    if runtime.is_main:
        print(f"best initialisation (iteration {best.info.get('meta_iteration')}) saved in {Path(args.output) / 'best'}")
    return 0


def _cmd_supervised(args: argparse.Namespace) -> int:
    from motionvigil.supervised import SupervisedSettings, train_supervised
    from motionvigil.training.data import start_model, train_val_sets
    from motionvigil.training.runtime import start_runtime, stop_runtime

    runtime = start_runtime(args.device)  # joins the process group under torchrun
    try:
        train, val = train_val_sets(args.data, args.val_fraction, args.seed, args.skip_bad)
        settings = SupervisedSettings(epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
                                      head_lr=args.head_lr, objective=args.objective, patience=args.patience,
                                      seed=args.seed, progress=runtime.is_main)
        model = train_supervised(start_model(args.start, runtime.device), train, val, args.output, settings,
                                 runtime=runtime)
    finally:
        stop_runtime(runtime)
    if runtime.is_main:
        print(f"best epoch {model.bundle.info.get('supervised_best_epoch')} saved in {Path(args.output) / 'best'}")
    return 0


def _synth_bundle(path: str):
    from motionvigil.models.bundle import MotionTextBundle

    folder = Path(path)
    if (folder / "best" / "config.json").is_file():
        folder = folder / "best"
    return MotionTextBundle.load(folder)


def _cmd_synth_train(args: argparse.Namespace) -> int:
    from motionvigil.datasets.select import load_specs
    from motionvigil.synthesis.denoiser import denoiser_preset
    from motionvigil.synthesis.prior import PriorSettings, train_prior
    from motionvigil.synthesis.text import sentence_fn

    clips = [c for ds in load_specs(args.data, skip_bad=args.skip_bad) for c in ds.clips if c.split != "test"]
    settings = PriorSettings(steps=args.steps, batch_size=args.batch_size, lr=args.lr, seed=args.seed)
    model = train_prior(clips, denoiser_preset(args.preset), sentence_fn(), args.output, settings, log=print)
    print(f"text-to-motion prior ({model.info['train_clips']} clips, final loss {model.info['final_loss']:.4f}) "
          f"saved in {args.output}")
    return 0


def _cmd_synth_finetune(args: argparse.Namespace) -> int:
    from motionvigil.datasets.select import load_specs
    from motionvigil.synthesis.finetune import FinetuneSettings
    from motionvigil.synthesis.kinemic import MiningSettings, build_generator, few_shot_sample
    from motionvigil.synthesis.text import sentence_fn

    target, = load_specs([args.data], skip_bad=args.skip_bad)
    train = [c for c in target.clips if c.split != "test"]
    fewshot = few_shot_sample(train, target.classes, args.shots, args.seed)
    sources = [c for ds in load_specs(args.source, skip_bad=args.skip_bad) for c in ds.clips if c.split != "test"]
    settings = FinetuneSettings(steps=args.steps, seed=args.seed, w_contrastive=args.contrastive)
    model, summary = build_generator(args.prior, fewshot, sources, _synth_bundle(args.encoder), sentence_fn(),
                                     MiningSettings(top_k=args.top_k), settings, use_mining=not args.no_mining,
                                     log=print)
    model.info["lengths"] = fewshot.lengths()
    model.save(args.output)
    print(json.dumps({"classes": len(fewshot.classes), "samples": len(fewshot.clips), **summary}, indent=1))
    print(f"action-to-motion generator saved in {args.output}")
    return 0


def _cmd_synth_generate(args: argparse.Namespace) -> int:
    from motionvigil.synthesis.generate import generate_clips, write_generated
    from motionvigil.synthesis.model import SynthesisModel
    from motionvigil.synthesis.text import class_description, sentence_fn

    model = SynthesisModel.load(args.model)
    conditions, captions = None, None
    if args.prompt or model.actions is None:
        if not (args.prompt or args.classes):
            raise SystemExit("motionvigil synth-generate: a text-to-motion prior needs --class or --prompt")
        names = list(args.classes or [f"prompt{i}" for i in range(len(args.prompt))])
        captions = list(args.prompt or [class_description(c) for c in names])
        if len(captions) != len(names):
            raise SystemExit("motionvigil synth-generate: give one --prompt per --class")
        import torch

        conditions = torch.from_numpy(sentence_fn()(captions))
    else:
        names = list(args.classes or model.actions.classes)
        unknown = [c for c in names if c not in model.actions.classes]
        if unknown:
            raise SystemExit(f"motionvigil synth-generate: classes {unknown} are not in the model "
                             f"({', '.join(model.actions.classes)})")
    stored = model.info.get("lengths") or {}
    lengths = {c: ([args.frames] if args.frames else stored.get(c) or [model.cfg.max_frames]) for c in names}
    clips = generate_clips(model, names, args.per_class, lengths, seed=args.seed, conditions=conditions,
                           guidance=args.guidance, captions=captions)
    path = write_generated(clips, names, args.output, description=f"generated by {args.model}")
    print(f"{len(clips)} clips of {len(names)} classes -> {path.parent} (load with --data folder:{path.parent})")
    return 0


def _cmd_synth_preview(args: argparse.Namespace) -> int:
    from motionvigil.synthesis.preview import write_preview

    path = write_preview(args.generated, args.real, args.output, per_class=args.per_class,
                         max_classes=args.max_classes, seed=args.seed)
    print(f"preview written to {path}")
    return 0


def _cmd_synth_eval(args: argparse.Namespace) -> int:
    from motionvigil.synthesis.augment import ExperimentSettings, run_experiments

    settings = ExperimentSettings(shots=args.shots, seeds=args.seeds, per_class=args.per_class,
                                  finetune_steps=args.finetune_steps)
    report = run_experiments(args.data, args.prior, _synth_bundle(args.encoder), args.source, args.output, settings)
    print(report)
    return 0


def _add_synthesis_parsers(sub) -> None:
    """``synth-*`` subcommands (KineMIC, docs/kinemic.md)."""
    p = sub.add_parser("synth-train", help="train a text-to-motion diffusion prior on captioned data")
    p.add_argument("--data", action="append", required=True, metavar="NAME[:ROOT]",
                   help="captioned dataset (synthetic, bandai2, humanml3d, ...); repeat to pool (test splits unused)")
    p.add_argument("--preset", default="tiny", choices=["tiny", "paper"])
    p.add_argument("-o", "--output", required=True, help="checkpoint folder")
    p.add_argument("--steps", type=int, default=2000)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--lr", type=float, default=2e-4)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--skip-bad", action="store_true")
    p.set_defaults(func=_cmd_synth_train)

    p = sub.add_parser("synth-finetune", help="KineMIC: few-shot LoRA fine-tuning of a prior on a labelled dataset")
    p.add_argument("prior", help="text-to-motion prior folder (synth-train)")
    p.add_argument("--data", required=True, metavar="NAME[:ROOT]", help="target dataset (its training split)")
    p.add_argument("--source", action="append", required=True, metavar="NAME[:ROOT]",
                   help="captioned source corpus to mine; repeat to pool")
    p.add_argument("--encoder", required=True, help="pre-trained TMR motion encoder (pretrain run or model folder)")
    p.add_argument("--shots", type=int, default=10)
    p.add_argument("--steps", type=int, default=300)
    p.add_argument("--top-k", type=int, default=5, help="captions mined per class")
    p.add_argument("--contrastive", type=float, default=0.1, help="weight of the motion-space contrastive term")
    p.add_argument("--no-mining", action="store_true", help="fine-tune on the few-shot samples only")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--skip-bad", action="store_true")
    p.add_argument("-o", "--output", required=True, help="checkpoint folder of the generator")
    p.set_defaults(func=_cmd_synth_finetune)

    p = sub.add_parser("synth-generate", help="sample clips from a synthesis model into a folder dataset")
    p.add_argument("model", help="fine-tuned generator or text-to-motion prior folder")
    p.add_argument("-o", "--output", required=True, help="dataset folder (annotations.json + clips/)")
    p.add_argument("--class", dest="classes", action="append", metavar="NAME", help="class to generate (repeat)")
    p.add_argument("--prompt", action="append", help="text prompt (repeat; one per --class)")
    p.add_argument("--per-class", type=int, default=10)
    p.add_argument("--frames", type=int, help="feature frames per clip (default: the few-shot lengths)")
    p.add_argument("--guidance", type=float, help="classifier-free guidance scale (default: the model's)")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=_cmd_synth_generate)

    p = sub.add_parser("synth-preview", help="HTML page with GIFs of generated clips beside real ones")
    p.add_argument("generated", help="folder written by synth-generate")
    p.add_argument("--real", metavar="NAME[:ROOT]", help="dataset with real clips of the same classes")
    p.add_argument("-o", "--output", required=True, help="HTML file")
    p.add_argument("--per-class", type=int, default=2)
    p.add_argument("--max-classes", type=int, default=8)
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=_cmd_synth_preview)

    p = sub.add_parser("synth-eval", help="KineMIC augmentation study: real / synthetic / real + synthetic")
    p.add_argument("--data", action="append", required=True, metavar="NAME[:ROOT]", help="target dataset (repeat)")
    p.add_argument("--prior", required=True, help="text-to-motion prior folder")
    p.add_argument("--encoder", required=True, help="pre-trained TMR motion encoder")
    p.add_argument("--source", action="append", required=True, metavar="NAME[:ROOT]", help="captioned source corpus")
    p.add_argument("--shots", type=int, default=10)
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--per-class", type=int, default=20, help="synthetic clips per class")
    p.add_argument("--finetune-steps", type=int, default=300)
    p.add_argument("-o", "--output", required=True, help="result folder (results.json, tables.md)")
    p.set_defaults(func=_cmd_synth_eval)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="motionvigil", description=__doc__)
    parser.add_argument("--version", action="version", version=f"motionvigil {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("convert", help="motion file -> npz with SMPL-22 joints (20 Hz) and 263-dim features")
    p.add_argument("input", help="BVH, AMC, Kinect txt, HumanML3D npy or npz file")
    p.add_argument("-o", "--output", required=True, help="output .npz (written atomically)")
    p.add_argument("--asf", help="ASF skeleton for an AMC input (default: found next to it)")
    _add_reader_flags(p)
    p.set_defaults(func=_cmd_convert)

    p = sub.add_parser("info", help="print layout, joints, frames, fps, units and SMPL-22 mapping of motion files "
                                    "as JSON lines")
    p.add_argument("inputs", nargs="+")
    _add_reader_flags(p)
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
    p.add_argument("--encoder", default="tmr", choices=["tmr", "vit", "unik"])
    p.add_argument("-o", "--output", required=True, help="run folder (resumed if it exists)")
    p.add_argument("--objective", default="default", choices=["default", "tmor"],
                   help="default: the encoder's own (TMR losses, CLIP for vit, InfoNCE for unik); "
                        "tmor: cluster-guided multi-modal contrastive (docs/tmor.md)")
    p.add_argument("--tmor-terms", help="comma-separated subset of mm,mv,mt (default: mm,mt; mm,mv,mt with "
                                        "--visual-features)")
    p.add_argument("--self-supervised-epochs", type=int, default=0,
                   help="tmor: the first N epochs use mm+mv only (stage 1), the rest every term (stage 2)")
    p.add_argument("--dbscan-eps", default="auto", help="tmor: DBSCAN eps (cosine), or auto (chosen on validation)")
    p.add_argument("--dbscan-min-samples", default="auto", help="tmor: DBSCAN min_samples, or auto")
    p.add_argument("--visual-features", metavar="NPZ",
                   help="tmor: precomputed frozen video features, one array per clip id (enables mv)")
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

    p = sub.add_parser("probe", help="linear probe / fine-tune / frame-wise detection / zero-shot of a pre-trained "
                                     "encoder against the same backbone from scratch (docs/tmor.md)")
    p.add_argument("run", help="pre-training run folder (or a model folder)")
    p.add_argument("--data", action="append", required=True, metavar="NAME[:ROOT]")
    p.add_argument("--mode", default="linear", choices=["linear", "finetune"])
    p.add_argument("--task", default="classify", choices=["classify", "detect"],
                   help="classify clips (and zero-shot), or frame-wise detection on long sequences")
    p.add_argument("--scratch", action="store_true", help="the run's architecture with random initial weights")
    p.add_argument("--epochs", type=int, default=None, help="training epochs (default: per mode)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--skip-bad", action="store_true", help="skip unusable files (listed) instead of stopping")
    p.add_argument("--device", default="cpu")
    p.add_argument("-o", "--output", help="also write the JSON report here")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_cmd_probe)

    study = sub.add_parser("study", help="multi-step studies").add_subparsers(dest="study_command", required=True)
    p = study.add_parser("fewshot", help="pre-train, meta-train, Table 1 (episodic) and Table 2 (global) in one run")
    p.add_argument("--data", action="append", required=True, metavar="NAME[:ROOT]")
    p.add_argument("--skip-bad", action="store_true", help="skip unusable files (listed) instead of stopping")
    p.add_argument("-o", "--output", required=True)
    p.add_argument("--preset", default="tiny", choices=["tiny", "paper"])
    p.add_argument("--encoder", default="tmr", choices=["tmr", "vit"])
    p.add_argument("--pretrained", help="use this pre-trained run/model instead of pre-training")
    p.add_argument("--pretrain-epochs", type=int, default=20)
    p.add_argument("--meta-iterations", type=_count, default=300)
    p.add_argument("--episodes", type=_count, default=200)
    _add_adaptation_flags(p)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="cpu", help="cpu, cuda, cuda:N or auto")
    p.set_defaults(func=_cmd_study_fewshot)

    p = study.add_parser("detection", help="violence detection on unseen sources: leave-one-source-out, DeepMimic, "
                                           "long sequences; learned detector vs limb-speed baseline")
    p.add_argument("-o", "--output", required=True, help="folder for detection.json, detection.md and PR curves")
    p.add_argument("--preset", default="tiny", choices=["tiny", "quick"],
                   help="tiny: 3 seeds, the full benchmark; quick: 1 seed, small corpus (tests)")
    p.add_argument("--data-root", help="folder holding msr_action3d/, hdm05/, utkinect/, bandai2/ "
                                       "(default: the shared data root)")
    p.add_argument("--seed", type=int, action="append", help="repeat to choose the seeds (default: the preset's)")
    p.add_argument("--json", action="store_true", help="print the result JSON on stdout")
    p.set_defaults(func=_cmd_study_detection)

    p = study.add_parser("cross-skeleton", help="train on one skeleton family (Kinect / mocap), evaluate on another")
    p.add_argument("--data-root", help="folder holding msr_action3d/, utkinect/, hdm05/, bandai2/ (default: loaders' own)")
    p.add_argument("--preset", default="tiny", choices=["tiny", "paper"])
    p.add_argument("--arm", action="append", choices=["vit_native", "vit_smpl", "tmr"], help="repeat; default all")
    p.add_argument("--pretrain-epochs", type=int)
    p.add_argument("--finetune-epochs", type=int)
    p.add_argument("--episodes", type=int)
    p.add_argument("--markdown", metavar="FILE", help="also write the Markdown tables here (atomically)")
    p.add_argument("--json", action="store_true", help="print the full result as JSON")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N")
    p.set_defaults(func=_cmd_study_cross_skeleton)

    p = sub.add_parser("fewshot", help="evaluate a few-shot study folder (pretrain/ + maml/) with one protocol")
    p.add_argument("run", help="study folder holding pretrain/best and maml/best")
    p.add_argument("--data", action="append", required=True, metavar="NAME[:ROOT]")
    p.add_argument("--skip-bad", action="store_true", help="skip unusable files (listed) instead of stopping")
    p.add_argument("--protocol", choices=["episodic", "global"], default="episodic")
    p.add_argument("--episodes", type=_count, default=200)
    _add_adaptation_flags(p)
    p.add_argument("--device", default="cpu", help="cpu, cuda, cuda:N or auto")
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
    p.add_argument("--target-fpr", type=float, help="with --no-head: threshold for this false-positive rate on the "
                                                    "support clips (default: the F1-maximising threshold)")
    p.add_argument("--head", action=argparse.BooleanOptionalAction, default=True,
                   help="score violence with a kinematic head trained on the support data, calm clips and the "
                        "procedural corpus (transfers to unseen sources; docs/detection.md); --no-head: the "
                        "prototype score of the paper")
    p.add_argument("--calm", action="append", metavar="NAME[:ROOT]|FOLDER",
                   help="calm motion from your own domain for the head and its threshold (repeatable; default: "
                        "the support data's calm training clips)")
    p.add_argument("--alerts-per-min", type=float, help="head threshold: false alerts per minute allowed on the calm "
                                                        "clips (default 0.1)")
    p.add_argument("--adapt", action="store_true",
                   help="adapt the motion encoder to the support set (FOMAML inner loop)")
    p.add_argument("--window", type=int, default=64, help="window length in frames at 20 Hz")
    p.add_argument("--stride", type=int, default=10, help="window hop in frames at 20 Hz")
    p.add_argument("--skip-bad", action="store_true", help="skip unusable files (listed) instead of stopping")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="cpu")
    p.add_argument("-o", "--output", required=True, help="detector folder")
    _add_reader_flags(p)
    p.set_defaults(func=_cmd_build_detector)

    p = sub.add_parser("detect", help="run a detector over motion files: alert segments (or JSON timelines)")
    p.add_argument("detector", help="detector folder (from build-detector)")
    p.add_argument("inputs", nargs="+", metavar="FILE")
    p.add_argument("--json", action="store_true", help="one JSON object per file: file, timeline, alerts")
    p.add_argument("--plot-dir", help="write a PNG timeline per file into this folder")
    p.add_argument("--device", default="cpu")
    _add_reader_flags(p)
    p.set_defaults(func=_cmd_detect)

    for name, helptext in (("metatrain", "FOMAML meta-training from a pre-trained model (torchrun-ready)"),
                           ("supervised", "supervised baseline: encoder + MLP head (torchrun-ready)")):
        p = sub.add_parser(name, help=helptext)
        p.add_argument("start", help="pre-trained model: RUN (RUN/best), STUDY (STUDY/pretrain/best) or a model folder")
        p.add_argument("--data", action="append", required=True, metavar="NAME[:ROOT]",
                       help="dataset to train on; repeat to pool several (test splits are never read)")
        p.add_argument("-o", "--output", required=True, help="run folder (resumed from OUTPUT/last if it exists)")
        p.add_argument("--val-fraction", type=float, default=0.15, help="validation share of the training split")
        p.add_argument("--skip-bad", action="store_true", help="skip unusable files (listed) instead of stopping")
        p.add_argument("--seed", type=int, default=0)
        p.add_argument("--device", default="cpu", help="cpu, cuda, cuda:N or auto (torchrun: cuda = one GPU per rank)")
        if name == "metatrain":
            p.add_argument("--iterations", type=_count, default=300)
            p.add_argument("--ways", type=_count, default=5)
            p.add_argument("--shots", type=_count, default=5)
            p.add_argument("--meta-batch", type=_count, default=1,
                           help="episodes per outer step and process (x number of processes in all)")
            p.add_argument("--outer-lr", type=float, default=1e-4)
            p.add_argument("--val-every", type=_count, default=50, help="iterations between validations")
            p.add_argument("--val-episodes", type=_count, default=10,
                           help="validation episodes (best initialisation = lowest mean query loss over them)")
            _add_adaptation_flags(p)
            p.set_defaults(func=_cmd_metatrain)
        else:
            p.add_argument("--objective", default="bce", choices=["bce", "bce_center_inter"])
            p.add_argument("--epochs", type=int, default=30)
            p.add_argument("--batch-size", type=int, default=32, help="clips per batch and process")
            p.add_argument("--lr", type=float, default=1e-4, help="encoder learning rate")
            p.add_argument("--head-lr", type=float, default=1e-3)
            p.add_argument("--patience", type=int, default=5, help="early stopping (epochs without a better val mAP)")
            p.set_defaults(func=_cmd_supervised)

    p = sub.add_parser("demo", help="run the main job on the built-in data and write a report")
    p.add_argument("--out", default="out/demo", help="output folder")
    p.add_argument("--data", default="synthetic", metavar="NAME[:ROOT]",
                   help="synthetic (default: the built-in procedural corpus) or real data, e.g. mocap_violence[:ROOT]")
    p.add_argument("--quick", action="store_true", help="tiny sizes (seconds, for tests); the numbers mean nothing")
    p.set_defaults(func=_cmd_demo)
    _add_synthesis_parsers(sub)
    _add_strict_flags(parser)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (MotionFileError, UnknownDatasetError) as exc:
        print(f"motionvigil {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
