"""The ``motionvigil`` command line: parses arguments and calls the library.

Help: every parser uses :class:`HelpFormatter`, a ``RawDescriptionHelpFormatter`` that
appends ``(default: X)`` to each option's help. We do not use argparse's
``ArgumentDefaultsHelpFormatter`` because it also prints ``(default: None)`` /
``(default: False)`` for options without a default and for switches, repeats defaults the
help already states, and re-wraps the exit-status table of the epilog.
``tests/cli/test_cli_contract.py`` walks every subcommand and fails on an option without help.

Exit statuses (``EXIT_*`` in ``common``): 0 ok, 1 ``detect --fail-on-alert`` raised
alerts, 2 usage error, 3 bad input file or unknown dataset, 4 a model, detector or
checkpoint that fails verification.

One module per command group, each defining its parsers beside its handlers: ``data``
(convert, info, data), ``train`` (pretrain, metatrain, supervised), ``evaluate``
(retrieval, probe, study, fewshot, tsne), ``detect`` (build-detector, detect), ``demo``,
``kinemic`` (kinemic-*, formerly synth-*), ``serve`` (serve, export), ``worker`` and
``feedback`` (feedback export); ``common`` holds the flags they share.
"""

from __future__ import annotations

import argparse
import sys

from motionvigil import __version__
from motionvigil.cli import data, demo, detect, evaluate, kinemic, train
from motionvigil.cli.calibrate import add_calibrate
from motionvigil.cli.common import (
    EXIT_BAD_INPUT,
    EXIT_BAD_MODEL,
    EXIT_USAGE,
    UsageError,
    add_strict_flags,
    quiet_broken_pipe,
)
from motionvigil.cli.config import parse_with_config
from motionvigil.cli.feedback import add_feedback
from motionvigil.cli.serve import add_serve
from motionvigil.cli.worker import add_worker
from motionvigil.errors import CheckpointError, MotionFileError, UnknownDatasetError

DESCRIPTION = ("Few-shot violence detection in 3D skeletal motion. "
               "Run 'motionvigil COMMAND --help' for a command's options.")
EPILOG = """exit status:
  0 ok
  1 detect --fail-on-alert: ran and raised at least one alert
  2 usage error (bad flags or a request the data cannot serve)
  3 bad input file or unknown dataset
  4 a model, detector or checkpoint that fails verification (corrupt, edited, not one)
  141 the reader of the output went away (e.g. | head): the command stops quietly
"""

# the order of --help
SUBCOMMANDS = (
    data.add_convert, data.add_info, data.add_data,
    train.add_pretrain,
    evaluate.add_retrieval, evaluate.add_probe, evaluate.add_study, evaluate.add_fewshot, evaluate.add_tsne,
    detect.add_build_detector, detect.add_detect, add_calibrate, detect.add_models,
    train.add_metatrain, train.add_supervised,
    demo.add_demo,
    kinemic.add_parsers,
    add_serve,
    add_worker,
    add_feedback,
)


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Keeps the layout of descriptions and epilogs (the exit-status table) and appends
    ``(default: X)`` to an option's help. Not ``ArgumentDefaultsHelpFormatter``: that one
    also prints ``(default: None)`` and ``(default: False)`` for flags without a default and
    for switches, and repeats defaults that the help text already states."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        default = action.default
        if ("(default" in text or default is None or default is False or default == argparse.SUPPRESS
                or not action.option_strings
                or isinstance(action, (argparse._HelpAction, argparse._VersionAction))):
            return text
        shown = (" ".join(map(str, default)) if isinstance(default, (list, tuple)) else str(default)).replace("%", "%%")
        return f"{text} (default: {shown})" if text else f"default: {shown}"


def walk_parsers(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()):
    """``(command path, parser)`` for the parser and every subcommand's parser below it."""
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from walk_parsers(sub, (*path, name))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="motionvigil", description=DESCRIPTION, epilog=EPILOG)
    parser.add_argument("--version", action="version", version=f"motionvigil {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    for add in SUBCOMMANDS:
        add(sub)
    add_strict_flags(parser)
    for _, p in walk_parsers(parser):
        p.formatter_class = HelpFormatter
    hidden = set(kinemic.hidden_commands())
    sub.metavar = "{" + ",".join(name for name in sub.choices if name not in hidden) + "}"
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command; its exit status (``EXIT_CODES``)."""
    try:
        args = parse_with_config(build_parser(), argv)
    except SystemExit:  # --help, --version, usage errors: argparse printed and exits
        try:
            sys.stdout.flush()
        except BrokenPipeError:
            return quiet_broken_pipe()
        raise
    try:
        status = args.func(args)
        sys.stdout.flush()  # a closed pipe shows here, not in the interpreter's exit
        return status
    except BrokenPipeError:
        return quiet_broken_pipe()
    except UsageError as exc:
        print(f"motionvigil {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except CheckpointError as exc:  # before MotionFileError, its base class
        print(f"motionvigil {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_BAD_MODEL
    except (MotionFileError, UnknownDatasetError) as exc:
        print(f"motionvigil {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
