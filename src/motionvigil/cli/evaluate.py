"""Evaluation and studies: ``retrieval``, ``probe``, ``study fewshot|cross-skeleton``,
``fewshot``, ``tsne``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from motionvigil.cli.common import (
    DEVICE_HELP, adapt_settings, add_adaptation_flags, add_data, add_device, add_json, add_output,
    add_pool_root, add_preset, add_seed, add_skip_bad, count, emit, pool_root, reporting, usage_error, value_error,
)


def cmd_retrieval(args: argparse.Namespace) -> int:
    from motionvigil.atomic import write_text_atomic
    from motionvigil.studies.pretrained import evaluate_run, format_report

    report = evaluate_run(args.run, args.data, split=args.split, device=args.device, skip_bad=args.skip_bad)
    out = Path(args.output) if args.output else Path(args.run) / "retrieval.json"
    write_text_atomic(out, json.dumps(report, indent=2))
    print(json.dumps(report) if args.json else format_report(report))
    if not args.json:
        print(f"\nwritten to {out}")
    return 0


def cmd_probe(args: argparse.Namespace) -> int:
    from motionvigil.studies.probe import ProbeSettings, format_probe, probe_run

    try:
        settings = ProbeSettings(mode=args.mode, epochs=args.epochs, seed=args.seed, task=args.task)
        report = probe_run(args.run, args.data, settings, scratch=args.scratch, device=args.device,
                           skip_bad=args.skip_bad, output=args.output)
    except ValueError as exc:  # e.g. detection with an encoder without per-frame features
        return value_error("probe", exc)
    print(json.dumps(report) if args.json else format_probe(report))
    return 0


def cmd_study_fewshot(args: argparse.Namespace) -> int:
    import dataclasses

    from motionvigil.datasets.select import is_procedural
    from motionvigil.studies.fewshot_repeats import write_single_run
    from motionvigil.studies.fewshot_study import StudySettings, run_fewshot_study
    from motionvigil.training.runtime import is_main_process

    if args.pretrained and args.class_split == "novel":
        return usage_error("study fewshot", "--class-split novel pre-trains inside the study, so that no caption of "
                                            "a novel class is seen; leave out --pretrained")
    if args.fold and args.class_split != "novel":
        return usage_error("study fewshot", "--fold needs --class-split novel")
    base = StudySettings()
    seeds = args.seed or [0]
    # the fast mode (and mixed precision) applies to meta-training and evaluation alike
    settings = dataclasses.replace(
        base,
        preset=args.preset,
        encoder=args.encoder,
        seed=seeds[0],
        class_split=args.class_split,
        pretrain=dataclasses.replace(base.pretrain, epochs=args.pretrain_epochs),
        meta=dataclasses.replace(base.meta, iterations=args.meta_iterations, inner=adapt_settings(args)),
        episodic=dataclasses.replace(base.episodic, episodes=args.episodes),
    )
    if len(seeds) > 1 or args.class_split == "novel" or args.headline:
        return _study_fewshot_repeats(args, settings, seeds)
    with reporting(args):
        result = run_fewshot_study(args.data, args.output, settings, pretrained=args.pretrained, device=args.device,
                                   skip_bad=args.skip_bad)
    if not is_main_process():  # under torchrun, rank 0 reports
        return 0
    write_single_run(args.data, args.output, settings)
    if args.json:
        emit(args, result["summary"])
        return 0
    out = Path(args.output)
    for name in ("table1", "table2"):
        print((out / f"{name}.md").read_text())
    label = " (synthetic data)" if any(is_procedural(d) for d in args.data) else ""
    print(f"tables{label} written to {out} (md, csv, json; fewshot.json for the docs); total {result['summary']['timings']['total_s']:.0f} s")
    return 0


def _study_fewshot_repeats(args: argparse.Namespace, settings, seeds: list[int]) -> int:
    """Several seeds, the class-disjoint protocol or the headline preset: one run per
    seed (x fold) and ``fewshot.json`` with the intervals over seeds."""
    from motionvigil.report.fewshot import render_block
    from motionvigil.studies.fewshot_repeats import headline, run_fewshot_repeats
    from motionvigil.training.runtime import is_main_process

    if args.headline:
        settings = headline(settings, args.episodes)
    with reporting(args):
        result = run_fewshot_repeats(args.data, args.output, settings, seeds, args.fold, pretrained=args.pretrained,
                                     device=args.device, progress=not args.json, skip_bad=args.skip_bad)
    if not is_main_process():
        return 0
    if args.json:
        emit(args, {k: v for k, v in result.items() if k != "runs"})
        return 0
    print(render_block([result]))
    print(f"written to {Path(args.output) / 'fewshot.json'} (runs in {Path(args.output) / 'runs'})")
    return 0


def cmd_study_detection(args: argparse.Namespace) -> int:
    from motionvigil.report.detection import detection_study, render_markdown

    result = detection_study(args.output, args.preset, pool_root(args), args.seed, progress=not args.json)
    if args.json:
        print(json.dumps(result, indent=1))
    else:
        print(render_markdown(result))
        print(f"written to {args.output} (detection.json, detection.md, PR curves); {result['seconds']:.0f} s")
    return 0


def cmd_study_cross_skeleton(args: argparse.Namespace) -> int:
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
    result = run_cross_skeleton(pool_root(args), settings, args.output, command=command,
                                log=lambda msg: print(msg, file=sys.stderr, flush=True))
    print(json.dumps(result, indent=2, default=float) if args.json else result["markdown"])
    return 0


def cmd_fewshot(args: argparse.Namespace) -> int:
    from motionvigil.studies.fewshot_eval import evaluate_fewshot
    from motionvigil.studies.fewshot_protocols import rows_to_markdown
    from motionvigil.training.runtime import is_main_process

    rows = evaluate_fewshot(args.run, args.data, args.protocol, episodes=args.episodes, device=args.device,
                            skip_bad=args.skip_bad, adapt=adapt_settings(args))
    if is_main_process():
        lead = ("config", "model") if args.protocol == "episodic" else ("model",)
        print(json.dumps({"protocol": args.protocol, "rows": rows}, default=float) if args.json
              else rows_to_markdown(rows, lead))
    return 0


def cmd_tsne(args: argparse.Namespace) -> int:
    from motionvigil.report.tsne import tsne_study

    with reporting(args):
        paths = tsne_study(args.run, args.data, args.output, count=args.classes, shots=args.shots, seed=args.seed,
                           skip_bad=args.skip_bad, device=args.device)
    emit(args, {"plots": [str(p) for p in paths]}, "\n".join(map(str, paths)))
    return 0


def add_retrieval(sub) -> None:
    p = sub.add_parser("retrieval", help="text-motion retrieval and zero-shot evaluation of a pre-trained run")
    p.add_argument("run", help="run folder (or a model folder)")
    add_data(p)
    add_skip_bad(p)
    p.add_argument("--split", default="test", help="split to evaluate on")
    add_output(p, "write the JSON report here (default: RUN/retrieval.json)", required=False)
    add_device(p)
    add_json(p)
    p.set_defaults(func=cmd_retrieval)


def add_probe(sub) -> None:
    p = sub.add_parser("probe", help="linear probe / fine-tune / frame-wise detection / zero-shot of a pre-trained "
                                     "encoder against the same backbone from scratch (docs/tmor.md)")
    p.add_argument("run", help="pre-training run folder (or a model folder)")
    add_data(p)
    p.add_argument("--mode", default="linear", choices=["linear", "finetune"],
                   help="linear: a frozen encoder and a linear head; finetune: train the encoder too")
    p.add_argument("--task", default="classify", choices=["classify", "detect"],
                   help="classify clips (and zero-shot), or frame-wise detection on long sequences")
    p.add_argument("--scratch", action="store_true", help="the run's architecture with random initial weights")
    p.add_argument("--epochs", type=int, default=None, help="training epochs (default: per mode)")
    add_seed(p)
    add_skip_bad(p)
    add_device(p)
    p.add_argument("-o", "--output", help="also write the JSON report here")
    add_json(p)
    p.set_defaults(func=cmd_probe)


def add_study(sub) -> None:
    study = sub.add_parser("study", help="multi-step studies").add_subparsers(dest="study_command", required=True)
    p = study.add_parser("fewshot", help="pre-train, meta-train, Table 1 (episodic) and Table 2 (global) in one run")
    add_data(p)
    add_skip_bad(p)
    p.add_argument("-o", "--output", required=True, help="study folder (pretrain/, maml/, tables)")
    add_preset(p)
    p.add_argument("--encoder", default="tmr", choices=["tmr", "vit"], help="encoder architecture")
    p.add_argument("--pretrained", help="use this pre-trained run/model instead of pre-training")
    p.add_argument("--pretrain-epochs", type=int, default=20, help="pre-training epochs")
    p.add_argument("--meta-iterations", type=count, default=300, help="meta-training iterations")
    p.add_argument("--episodes", type=count, default=200, help="evaluation episodes")
    p.add_argument("--class-split", default="paper", choices=["paper", "novel"],
                   help="paper: training and test share the classes (only subjects differ); novel: class-disjoint, "
                        "a fixed base/novel split holding violent classes out (docs/results.md)")
    p.add_argument("--fold", type=int, choices=[0, 1], action="append",
                   help="with --class-split novel: which fold(s) to run, repeat for both (default: 0 and 1)")
    p.add_argument("--headline", action="store_true",
                   help="only the headline rows: 5-way 1/5-shot with ablation rows, global 5/30-shot, supervised")
    p.add_argument("--seed", type=int, action="append",
                   help="training seed; repeat to run several and report mean and 95%% CI over seeds "
                        "(writes fewshot.json; default: 0)")
    add_adaptation_flags(p)
    add_device(p, help=DEVICE_HELP)
    add_json(p, help="print the study's summary as one JSON object on stdout")
    p.set_defaults(func=cmd_study_fewshot)

    p = study.add_parser("detection", help="violence detection on unseen sources: leave-one-source-out, DeepMimic, "
                                           "long sequences; learned detector vs limb-speed baseline")
    p.add_argument("-o", "--output", required=True, help="folder for detection.json, detection.md and PR curves")
    p.add_argument("--preset", default="tiny", choices=["tiny", "quick"],
                   help="tiny: 3 seeds, the full benchmark; quick: 1 seed, small corpus (tests)")
    add_pool_root(p, "msr_action3d/, hdm05/, utkinect/, bandai2/")
    p.add_argument("--seed", type=int, action="append", help="repeat to choose the seeds (default: the preset's)")
    add_json(p, help="print the result JSON on stdout (progress on stderr)")
    p.set_defaults(func=cmd_study_detection)

    p = study.add_parser("cross-skeleton", help="train on one skeleton family (Kinect / mocap), evaluate on another")
    add_pool_root(p, "msr_action3d/, utkinect/, hdm05/, bandai2/")
    add_preset(p)
    p.add_argument("--arm", action="append", choices=["vit_native", "vit_smpl", "tmr"], help="repeat; default all")
    p.add_argument("--pretrain-epochs", type=int, help="pre-training epochs (default: the preset's)")
    p.add_argument("--finetune-epochs", type=int, help="fine-tuning epochs (default: the preset's)")
    p.add_argument("--episodes", type=int, help="evaluation episodes (default: the preset's)")
    add_output(p, "also write the results to this file, atomically: FILE.json the whole JSON (docs render from it), any other name the Markdown tables", required=False, aliases=("--markdown",))
    add_json(p, help="print the full result as JSON")
    add_seed(p)
    add_device(p)
    p.set_defaults(func=cmd_study_cross_skeleton)


def add_fewshot(sub) -> None:
    p = sub.add_parser("fewshot", help="evaluate a few-shot study folder (pretrain/ + maml/) with one protocol")
    p.add_argument("run", help="study folder holding pretrain/best and maml/best")
    add_data(p)
    add_skip_bad(p)
    p.add_argument("--protocol", choices=["episodic", "global"], default="episodic",
                   help="episodic (Table 1) or global (Table 2)")
    p.add_argument("--episodes", type=count, default=200, help="episodes (episodic protocol)")
    add_adaptation_flags(p)
    add_device(p, help=DEVICE_HELP)
    add_json(p)
    p.set_defaults(func=cmd_fewshot)


def add_tsne(sub) -> None:
    p = sub.add_parser("tsne", help="t-SNE of test embeddings before and after MAML adaptation (PNG)")
    p.add_argument("run", help="study folder holding pretrain/best and maml/best")
    add_data(p)
    p.add_argument("--classes", type=int, default=8, help="how many classes to show (violent ones first)")
    add_skip_bad(p)
    p.add_argument("--shots", type=int, default=5, help="support clips per class for the adaptation")
    add_seed(p)
    p.add_argument("-o", "--output", help="folder for the PNGs (default: the run folder)")
    add_device(p)
    add_json(p)
    p.set_defaults(func=cmd_tsne)
