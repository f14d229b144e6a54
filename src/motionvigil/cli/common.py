"""Flags and error handling shared by the subcommands, written once."""

from __future__ import annotations

import argparse
import contextlib
import json
import sys

from motionvigil.errors import MotionFileError

DATA_METAVAR = "NAME[:ROOT]"
SKIP_BAD_HELP = "skip unusable files (listed) instead of stopping"
DEVICE_HELP = "cpu, cuda, cuda:N or auto"
DATA_HELP = "dataset NAME[:ROOT] (e.g. procedural, msr_action3d:/data/msr) or a folder; repeat to pool several"
JSON_HELP = "print one JSON object on stdout (progress and logs go to stderr)"
DETECTOR_HELP = "detector folder (from build-detector); default: the built-in detector"


def _integer_at_least(text: str, minimum: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < minimum:
        raise argparse.ArgumentTypeError(f"must be >= {minimum}, got {value}")
    return value


def count(text: str) -> int:
    """argparse type: an integer >= 1."""
    return _integer_at_least(text, 1)


def non_negative(text: str) -> int:
    """argparse type: an integer >= 0."""
    return _integer_at_least(text, 0)


def positive(text: str) -> float:
    """argparse type: a finite number > 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not (value > 0 and value != float("inf")):
        raise argparse.ArgumentTypeError(f"must be a finite number > 0, got {text}")
    return value


def add_data(p: argparse.ArgumentParser, help: str = DATA_HELP, flag: str = "--data", *more: str) -> None:
    """A repeatable, required ``NAME[:ROOT]`` dataset flag (``more``: other names for it)."""
    p.add_argument(flag, *more, action="append", required=True, metavar=DATA_METAVAR, help=help)


def add_skip_bad(p: argparse.ArgumentParser, help: str = SKIP_BAD_HELP) -> None:
    p.add_argument("--skip-bad", action="store_true", help=help)


def add_seed(p: argparse.ArgumentParser) -> None:
    p.add_argument("--seed", type=int, default=0, help="random seed")


def device_name(text: str) -> str:
    """argparse type: ``auto`` -> ``cuda`` when a GPU is there, else ``cpu``; others as given."""
    if text != "auto":
        return text
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def add_device(p: argparse.ArgumentParser, help: str = DEVICE_HELP) -> None:
    p.add_argument("--device", default="cpu", type=device_name, help=help)


def add_detector(p: argparse.ArgumentParser, help: str = DETECTOR_HELP) -> None:
    """The optional ``DET`` argument (read back with ``load_detector``)."""
    p.add_argument("detector", metavar="DET", nargs="?", help=help)


def add_threads(p: argparse.ArgumentParser) -> None:
    p.add_argument("--threads", type=count, help="torch threads for inference (default: torch's)")


def load_detector(folder: str | None, device: str = "cpu", threads: int | None = None):
    """The detector saved in ``folder``, or the built-in one when no folder is given, on
    ``device``; with ``threads`` (``--threads``), torch's thread count is set first."""
    from motionvigil.detect import Detector

    if threads:
        import torch

        torch.set_num_threads(threads)
    if folder:
        return Detector.load(folder, device=device)
    from motionvigil.detect.builtin import load_builtin_detector

    return load_builtin_detector(device)


def add_json(p: argparse.ArgumentParser, help: str = JSON_HELP) -> None:
    p.add_argument("--json", action="store_true", help=help)


def add_run_flags(p: argparse.ArgumentParser, func, *, seed: bool = False, skip_bad: bool = False,
                  device: str | None = None, json_help: str = JSON_HELP) -> None:
    """The flags that close a subcommand's options, in this order: ``--seed`` (``seed``),
    ``--skip-bad`` (``skip_bad``), ``--device`` (when ``device``, its help), ``--json``
    (``json_help``); then ``func`` as the subcommand's handler."""
    if seed:
        add_seed(p)
    if skip_bad:
        add_skip_bad(p)
    if device is not None:
        add_device(p, help=device)
    add_json(p, help=json_help)
    p.set_defaults(func=func)


def add_preset(p: argparse.ArgumentParser) -> None:
    p.add_argument("--preset", default="tiny", choices=["tiny", "paper"],
                   help="model sizes: tiny (CPU minutes) or paper (the paper's sizes)")


def add_adaptation_flags(p: argparse.ArgumentParser) -> None:
    """The few-shot inner loop (read back with ``adapt_settings``)."""
    p.add_argument("--inner-steps", type=non_negative, metavar="T",
                   help="inner-loop SGD steps on the support set (default: the paper's T = 20; 0: prototypes of "
                        "the encoder as it is, the 'meta-trained, no inner loop' ablation)")
    p.add_argument("--inner-lr", type=positive, metavar="ALPHA",
                   help="inner-loop learning rate (default: the paper's alpha = 0.02)")
    p.add_argument("--fast-top-layers", type=count, metavar="K",
                   help="fast mode: the inner loop adapts only the top K encoder layers (default: the whole "
                        "encoder, as the paper); meta-train with the same K as you evaluate with")
    p.add_argument("--mixed-precision", action="store_true", help="bfloat16 autocast for the encoder (GPU)")


def adapt_settings(args: argparse.Namespace):
    """The inner-loop settings of ``add_adaptation_flags``."""
    from motionvigil.fewshot.adaptation import AdaptSettings

    given = {"steps": args.inner_steps, "lr": args.inner_lr}
    return AdaptSettings(top_layers=args.fast_top_layers, mixed_precision=args.mixed_precision,
                         **{k: v for k, v in given.items() if v is not None})


# exit statuses (README "Exit codes", top-level --help)
EXIT_OK = 0
EXIT_ALERT = 1  # detect --fail-on-alert: ran and raised alerts
EXIT_USAGE = 2  # a bad command line or request (argparse's own status for usage errors)
EXIT_BAD_INPUT = 3  # an unusable input file or unknown dataset (MotionFileError, UnknownDatasetError)
EXIT_BAD_MODEL = 4  # a model, detector or checkpoint that fails verification (CheckpointError)
EXIT_BROKEN_PIPE = 141  # the output's reader went away (128 + SIGPIPE, as a shell reports it)


def quiet_broken_pipe() -> int:
    """The reader of stdout went away (``motionvigil models --json | head``): stop without a
    traceback. stdout is pointed at /dev/null so that the interpreter's final flush of
    what is still buffered cannot raise again; the status is :data:`EXIT_BROKEN_PIPE`."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # stdout is not a real file (tests): nothing left to flush
        pass
    return EXIT_BROKEN_PIPE


def usage_error(command: str, message: str) -> int:
    """Print ``motionvigil COMMAND: error: MESSAGE`` on stderr; the usage-error status."""
    print(f"motionvigil {command}: error: {message}", file=sys.stderr)
    return EXIT_USAGE


def value_error(command: str, exc: ValueError) -> int:
    """A library ValueError about the request (bad classes, shots, mode...) as the command's
    error message and exit status 2; a MotionFileError (also a ValueError) goes on to ``main``."""
    if isinstance(exc, MotionFileError):
        raise exc
    return usage_error(command, str(exc))


def reader_options(args: argparse.Namespace) -> dict:
    """``--joint-map`` and ``--scale`` as ``load_motion`` keywords (only those given)."""
    return {k: v for k, v in (("joint_map", getattr(args, "joint_map", None)), ("scale", getattr(args, "scale", None)))
            if v is not None}


def add_reader_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--joint-map", metavar="FILE",
                   help="JSON {SMPL-22 joint: file joint} for skeletons not mapped automatically")
    p.add_argument("--scale", type=positive, metavar="S",
                   help="file units -> metres (e.g. 0.001 for millimetres) when the unit cannot be inferred")


def add_strict_flags(parser: argparse.ArgumentParser) -> None:
    """Every command with --skip-bad also takes --strict (class folders skip unreadable files
    unless --strict; other datasets stop unless --skip-bad): skip_bad is None, True or False."""
    for action in list(parser._actions):
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                add_strict_flags(sub)
        elif "--skip-bad" in action.option_strings:
            action.default = None
            parser.add_argument("--strict", dest="skip_bad", action="store_false",
                                help="stop at the first unreadable file (class folders otherwise skip and list them)")


def add_alias(p: argparse.ArgumentParser, flag: str, dest: str, **kwargs) -> None:
    """A former spelling of an option, still accepted but hidden from ``--help``."""
    p.add_argument(flag, dest=dest, default=argparse.SUPPRESS, help=argparse.SUPPRESS, **kwargs)


def add_output(p: argparse.ArgumentParser, help: str, required: bool = True, default: str | None = None,
               aliases: tuple[str, ...] = ()) -> None:
    """``-o/--output`` (and former spellings of it, hidden)."""
    p.add_argument("-o", "--output", required=required and default is None, default=default, help=help)
    for flag in aliases:
        add_alias(p, flag, "output")


def add_pool_root(p: argparse.ArgumentParser, what: str) -> None:
    """``--data mocap_violence[:ROOT]`` for studies over the real pool's source folders (the
    former ``--data-root ROOT`` is a hidden alias); read back with ``pool_root``."""
    p.add_argument("--data", metavar="mocap_violence[:ROOT]",
                   help=f"the real data: mocap_violence, ROOT holding {what} (default: the shared data root)")
    add_alias(p, "--data-root", "data_root")


def pool_root(args: argparse.Namespace) -> str | None:
    """The ROOT of ``add_pool_root``'s flags (``None``: the default); a usage error for
    another dataset name."""
    root = getattr(args, "data_root", None)
    if args.data is None:
        return root
    name, _, given = args.data.partition(":")
    if name != "mocap_violence":
        raise UsageError(f"--data: this command reads the mocap_violence sources, got {name!r}")
    return given or root


class UsageError(Exception):
    """A bad request found after parsing (``main`` prints it; exit status 2)."""


@contextlib.contextmanager
def reporting(args: argparse.Namespace):
    """With ``--json``, whatever the library prints goes to stderr, keeping stdout for the one
    JSON object (``emit``)."""
    if getattr(args, "json", False):
        with contextlib.redirect_stdout(sys.stderr):
            yield
    else:
        yield


def emit(args: argparse.Namespace, summary: dict, text: str | None = None) -> None:
    """The command's report: one JSON object with ``--json``, else ``text``."""
    if getattr(args, "json", False):
        print(json.dumps(summary, default=str))
    elif text is not None:
        print(text)
