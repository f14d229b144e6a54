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
from motionvigil.cli.common import EXIT_BAD_INPUT, EXIT_BAD_MODEL, add_strict_flags
from motionvigil.errors import CheckpointError, MotionFileError, UnknownDatasetError

DESCRIPTION = ("Few-shot violence detection in 3D skeletal motion. "
               "Run 'motionvigil COMMAND --help' for a command's options.")
EPILOG = """exit status:
  0 ok
  1 detect --fail-on-alert: ran and raised at least one alert
  2 usage error (bad flags or a request the data cannot serve)
  3 bad input file or unknown dataset
  4 a model, detector or checkpoint that fails verification (corrupt, edited, not one)
"""

# the order of --help
SUBCOMMANDS = (
    data.add_convert, data.add_info, data.add_data,
    train.add_pretrain,
    evaluate.add_retrieval, evaluate.add_probe, evaluate.add_study, evaluate.add_fewshot, evaluate.add_tsne,
    detect.add_build_detector, detect.add_detect, detect.add_models,
    train.add_metatrain, train.add_supervised,
    demo.add_demo,
    kinemic.add_parsers,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="motionvigil", description=DESCRIPTION, epilog=EPILOG,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"motionvigil {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    for add in SUBCOMMANDS:
        add(sub)
    add_strict_flags(parser)
    hidden = set(kinemic.hidden_commands())
    sub.metavar = "{" + ",".join(name for name in sub.choices if name not in hidden) + "}"
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command; its exit status (``EXIT_CODES``)."""
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except CheckpointError as exc:  # before MotionFileError, its base class
        print(f"motionvigil {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_BAD_MODEL
    except (MotionFileError, UnknownDatasetError) as exc:
        print(f"motionvigil {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
