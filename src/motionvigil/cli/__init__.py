"""The ``motionvigil`` command line. Thin: parses arguments and calls the library.

One module per command group, each defining its parsers beside its handlers: ``data``
(convert, info, data), ``train`` (pretrain, metatrain, supervised), ``evaluate``
(retrieval, probe, study, fewshot, tsne), ``detect`` (build-detector, detect), ``demo``
and ``kinemic`` (kinemic-*, formerly synth-*); ``common`` holds the flags they share.
"""

from __future__ import annotations

import argparse
import sys

from motionvigil import __version__
from motionvigil.cli import data, demo, detect, evaluate, kinemic, train
from motionvigil.cli.common import add_strict_flags
from motionvigil.cli.serve import add_serve
from motionvigil.errors import MotionFileError, UnknownDatasetError

DESCRIPTION = "The ``motionvigil`` command line. Thin: parses arguments and calls the library."

# the order of --help
SUBCOMMANDS = (
    data.add_convert, data.add_info, data.add_data,
    train.add_pretrain,
    evaluate.add_retrieval, evaluate.add_probe, evaluate.add_study, evaluate.add_fewshot, evaluate.add_tsne,
    detect.add_build_detector, detect.add_detect, detect.add_models,
    train.add_metatrain, train.add_supervised,
    demo.add_demo,
    kinemic.add_parsers,
    add_serve,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="motionvigil", description=DESCRIPTION)
    parser.add_argument("--version", action="version", version=f"motionvigil {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    for add in SUBCOMMANDS:
        add(sub)
    add_strict_flags(parser)
    hidden = set(kinemic.hidden_commands())
    sub.metavar = "{" + ",".join(name for name in sub.choices if name not in hidden) + "}"
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (MotionFileError, UnknownDatasetError) as exc:
        print(f"motionvigil {args.command}: error: {exc}", file=sys.stderr)
        return 2
