"""``--config FILE`` and ``--print-config`` for the training commands (pretrain,
metatrain, supervised).

Each run writes its resolved options to ``OUTPUT/run_config.json`` (not ``config.json``:
a folder holding ``config.json`` is taken for a model folder by ``resolve_model``).
``--config`` reads such a file (or a plain JSON object of option: value, keyed by the
options' destinations, e.g. ``batch_size``) so a run can be repeated exactly; options given
on the command line win. ``--print-config`` prints the resolved options and exits.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from motionvigil import __version__

RUN_CONFIG = "run_config.json"
COMMANDS = ("pretrain", "metatrain", "supervised")
NOT_OPTIONS = {"func", "command", "config", "print_config", "help"}


class ConfigError(Exception):
    """An unreadable or mismatched ``--config`` file (a usage error)."""


def add_config_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", metavar="FILE",
                   help=f"read the options from a {RUN_CONFIG} a run wrote (OUTPUT/{RUN_CONFIG}) to repeat it; "
                        "options on the command line win")
    p.add_argument("--print-config", action="store_true",
                   help="print the resolved options as one JSON object and exit without running")


def _options(parser: argparse.ArgumentParser) -> dict[str, argparse.Action]:
    return {a.dest: a for a in parser._actions if a.dest not in NOT_OPTIONS and a.dest != argparse.SUPPRESS}


def read_config(path: str, command: str, parser: argparse.ArgumentParser) -> dict[str, Any]:
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"--config {path}: cannot read it ({exc})") from None
    if isinstance(doc, dict) and "options" in doc:
        if doc.get("command") not in (None, command):
            raise ConfigError(f"--config {path}: written by `motionvigil {doc.get('command')}`, not {command}")
        doc = doc["options"]
    if not isinstance(doc, dict):
        raise ConfigError(f"--config {path}: expected a JSON object of options")
    unknown = sorted(set(doc) - set(_options(parser)))
    if unknown:
        raise ConfigError(f"--config {path}: unknown option(s) for {command}: {', '.join(unknown)}")
    return doc


def parse_with_config(parser: argparse.ArgumentParser, argv: list[str] | None) -> argparse.Namespace:
    """``parser.parse_args(argv)``, with the options of ``--config FILE`` (training commands)
    filling in whatever the command line leaves out."""
    argv = list(sys.argv[1:] if argv is None else argv)
    command = next((a for a in argv if not a.startswith("-")), None)
    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("--config")
    given, _ = pre.parse_known_args(argv)
    if command not in COMMANDS or not given.config:
        return parser.parse_args(argv)
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices[command]
    try:
        values = read_config(given.config, command, sub)
    except ConfigError as exc:
        parser.exit(2, f"motionvigil {command}: error: {exc}\n")
    actions = _options(sub)
    for dest in values:  # let the file supply required options; None = not on the command line
        action = actions[dest]
        action.required, action.default = False, None
        if not action.option_strings:
            action.nargs = "?"
    args = parser.parse_args(argv)
    for dest, value in values.items():
        if getattr(args, dest, None) is None:
            setattr(args, dest, value)
    return args


def resolved(args: argparse.Namespace) -> dict[str, Any]:
    """The command's options as ``run_config.json`` holds them."""
    options = {k: v for k, v in vars(args).items() if k not in NOT_OPTIONS}
    return {"motionvigil": __version__, "command": args.command, "options": options}


def print_or_record(args: argparse.Namespace) -> bool:
    """With ``--print-config``: print the resolved options, True (do not run). Otherwise
    write them to ``OUTPUT/run_config.json`` (rank 0 under torchrun), False."""
    doc = resolved(args)
    if args.print_config:
        print(json.dumps(doc, indent=1, sort_keys=True, default=str))
        return True
    if os.environ.get("RANK", "0") == "0":
        from motionvigil.atomic import write_text_atomic

        out = Path(args.output)
        out.mkdir(parents=True, exist_ok=True)
        write_text_atomic(out / RUN_CONFIG, json.dumps(doc, indent=1, sort_keys=True, default=str))
    return False
