"""Training: ``pretrain`` (motion-text), ``metatrain`` (FOMAML), ``supervised`` (baseline)."""

from __future__ import annotations

import argparse
from pathlib import Path

from motionvigil.cli.common import (
    DEVICE_HELP, SKIP_BAD_HELP, adapt_settings, add_adaptation_flags, add_data, add_device, add_json, add_preset,
    add_seed, add_skip_bad, count, emit, reporting, usage_error,
)
from motionvigil.cli.config import add_config_flags, print_or_record


def cmd_pretrain(args: argparse.Namespace) -> int:
    from motionvigil.models import preset
    from motionvigil.pretrain.tmor import settings_from_options
    from motionvigil.pretrain.trainer import TrainSettings, pretrain_on
    from motionvigil.training.runtime import joined_runtime

    if print_or_record(args):
        return 0
    try:
        tmor = settings_from_options(args.tmor_terms, args.visual_features, args.self_supervised_epochs,
                                     args.dbscan_eps, args.dbscan_min_samples)
    except ValueError as exc:
        return usage_error("pretrain", str(exc))
    settings = TrainSettings(epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, seed=args.seed,
                             objective=args.objective, tmor=tmor)
    with reporting(args), joined_runtime(args.device) as runtime:
        bundle = pretrain_on(args.data, args.output, preset(args.preset, args.encoder), settings, runtime,
                             skip_bad=args.skip_bad)
    if runtime.is_main:
        best = Path(args.output) / "best"
        emit(args, {"output": str(args.output), "best": str(best), "best_epoch": bundle.info.get("best_epoch")},
             f"best model (epoch {bundle.info.get('best_epoch')}) saved in {best}")
    return 0


def _fit_from_start(args: argparse.Namespace, settings_for, fit):
    """``metatrain`` and ``supervised``: under the runtime (the process group under torchrun),
    load the training and validation sets and the starting model, and ``fit`` them with
    ``settings_for(runtime)``. Returns what ``fit`` returns and whether this process reports."""
    from motionvigil.training.data import start_model, train_val_sets
    from motionvigil.training.runtime import joined_runtime

    with reporting(args), joined_runtime(args.device) as runtime:
        train, val = train_val_sets(args.data, args.val_fraction, args.seed, args.skip_bad)
        settings = settings_for(runtime)
        result = fit(start_model(args.start, runtime.device), train, val, args.output, settings, runtime=runtime)
    return result, runtime.is_main


def cmd_metatrain(args: argparse.Namespace) -> int:
    from motionvigil.fewshot.maml import MetaSettings, meta_train

    if print_or_record(args):
        return 0

    def settings(runtime):
        return MetaSettings(iterations=args.iterations, ways=args.ways, shots=args.shots, meta_batch=args.meta_batch,
                            outer_lr=args.outer_lr, seed=args.seed, val_every=args.val_every,
                            val_episodes=args.val_episodes, progress=runtime.is_main, inner=adapt_settings(args))

    best, is_main = _fit_from_start(args, settings, meta_train)
    if is_main:
        folder = Path(args.output) / "best"
        emit(args, {"output": str(args.output), "best": str(folder), "best_iteration": best.info.get("meta_iteration")},
             f"best initialisation (iteration {best.info.get('meta_iteration')}) saved in {folder}")
    return 0


def cmd_supervised(args: argparse.Namespace) -> int:
    from motionvigil.supervised import SupervisedSettings, train_supervised

    if print_or_record(args):
        return 0

    def settings(runtime):
        return SupervisedSettings(epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, head_lr=args.head_lr,
                                  objective=args.objective, patience=args.patience, seed=args.seed,
                                  progress=runtime.is_main)

    model, is_main = _fit_from_start(args, settings, train_supervised)
    if is_main:
        folder, epoch = Path(args.output) / "best", model.bundle.info.get("supervised_best_epoch")
        emit(args, {"output": str(args.output), "best": str(folder), "best_epoch": epoch},
             f"best epoch {epoch} saved in {folder}")
    return 0


def add_pretrain(sub) -> None:
    p = sub.add_parser("pretrain", help="motion-text pre-training (TMR or motion-patch ViT)")
    add_data(p, help="dataset to train on; repeat to pool several")
    add_skip_bad(p)
    add_preset(p)
    p.add_argument("--encoder", default="tmr", choices=["tmr", "vit", "unik"], help="encoder architecture")
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
    p.add_argument("--epochs", type=int, default=30, help="training epochs")
    p.add_argument("--batch-size", type=int, default=32, help="clips per batch and process")
    p.add_argument("--lr", type=float, default=1e-4, help="learning rate")
    add_seed(p)
    add_device(p, help=DEVICE_HELP)
    add_json(p)
    add_config_flags(p)
    p.set_defaults(func=cmd_pretrain)


def _add_start_flags(p: argparse.ArgumentParser) -> None:
    """What metatrain and supervised share: the starting model, data, run folder, device."""
    p.add_argument("start", help="pre-trained model: RUN (RUN/best), STUDY (STUDY/pretrain/best) or a model folder")
    add_data(p, help="dataset to train on; repeat to pool several (test splits are never read)")
    p.add_argument("-o", "--output", required=True, help="run folder (resumed from OUTPUT/last if it exists)")
    p.add_argument("--val-fraction", type=float, default=0.15, help="validation share of the training split")
    add_skip_bad(p, help=SKIP_BAD_HELP)
    add_seed(p)
    add_device(p, help=f"{DEVICE_HELP} (torchrun: cuda = one GPU per rank)")
    add_json(p)
    add_config_flags(p)


def add_metatrain(sub) -> None:
    p = sub.add_parser("metatrain", help="FOMAML meta-training from a pre-trained model (torchrun-ready)")
    _add_start_flags(p)
    p.add_argument("--iterations", type=count, default=300, help="meta-training iterations (outer steps)")
    p.add_argument("--ways", type=count, default=5, help="classes per episode")
    p.add_argument("--shots", type=count, default=5, help="support clips per class and episode")
    p.add_argument("--meta-batch", type=count, default=1,
                   help="episodes per outer step and process (x number of processes in all)")
    p.add_argument("--outer-lr", type=float, default=1e-4, help="outer-loop (meta) learning rate")
    p.add_argument("--val-every", type=count, default=50, help="iterations between validations")
    p.add_argument("--val-episodes", type=count, default=10,
                   help="validation episodes (best initialisation = lowest mean query loss over them)")
    add_adaptation_flags(p)
    p.set_defaults(func=cmd_metatrain)


def add_supervised(sub) -> None:
    p = sub.add_parser("supervised", help="supervised baseline: encoder + MLP head (torchrun-ready)")
    _add_start_flags(p)
    p.add_argument("--objective", default="bce", choices=["bce", "bce_center_inter"],
                   help="bce, or bce with centre and inter-class terms")
    p.add_argument("--epochs", type=int, default=30, help="maximum training epochs")
    p.add_argument("--batch-size", type=int, default=32, help="clips per batch and process")
    p.add_argument("--lr", type=float, default=1e-4, help="encoder learning rate")
    p.add_argument("--head-lr", type=float, default=1e-3, help="MLP head learning rate")
    p.add_argument("--patience", type=int, default=5, help="early stopping (epochs without a better val mAP)")
    p.set_defaults(func=cmd_supervised)
