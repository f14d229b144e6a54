"""Every generated part of the docs, rendered (or checked) from the results files it names.

A doc marks each generated part with a start and an end marker:

    <!-- fewshot-tables:start results/fewshot/A/fewshot.json results/fewshot/B/fewshot.json -->
    ...
    <!-- fewshot-tables:end -->

The kind (``fewshot-tables`` here) names a renderer in :data:`KINDS`; the arguments
are results files relative to the repository root (``--root``), and for the inline
``value`` kind a key path and a format, so that a number inside a sentence is tied to its
JSON too:

    MAML reaches <!-- value:start results/x/fewshot.json table1.3.mAP.mean .3f -->0.953<!-- value:end --> mAP

Block kinds fill whole lines between the markers; ``value`` fills the text between them.
``python -m motionvigil.report.blocks DOC... [--check] [--strict DOC]`` re-renders every
block of every doc (``--check``: change nothing, exit 1 naming the docs whose blocks
differ from their files; ``--strict DOC``: also fail when DOC holds a measured number,
i.e. a decimal or a percentage, outside marked blocks and code). ``make results-render`` and ``make results-check`` run it over README.md and docs/.
"""

from __future__ import annotations

import argparse
import importlib
import json
import math
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from motionvigil.atomic import write_text_atomic

MARKER = re.compile(r"<!-- (?P<kind>[a-z][a-z0-9-]*):start(?P<args>(?: [^ >]+)*) -->")
INLINE = frozenset({"value"})


def results_file(root: Path, name: str) -> Path:
    """``root / name``, with a one-line error naming it when it is missing."""
    path = root / name
    if not path.is_file():
        raise FileNotFoundError(f"{name}: results file named in a docs marker is missing (make results writes it)")
    return path


def load_json(root: Path, name: str) -> Any:
    """The JSON file ``name`` (relative to ``root``), with a one-line error when it is missing."""
    path = results_file(root, name)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{name}: not valid JSON ({exc.msg}, line {exc.lineno})") from None


def num(v: Any, digits: int = 3) -> str:
    """``v`` with ``digits`` decimals; ``n/a`` for a missing or NaN value."""
    return "n/a" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.{digits}f}"


def lookup(data: Any, key_path: str, source: str = "") -> Any:
    """``data["a"]["b"][3]`` for ``"a.b.3"`` (an integer part indexes a list)."""
    node = data
    for part in key_path.split("."):
        try:
            node = node[int(part)] if isinstance(node, list) else node[part]
        except (KeyError, IndexError, ValueError, TypeError):
            raise KeyError(f"{source}: no {key_path!r} (failed at {part!r})") from None
    return node


def render_value(args: list[str], root: Path) -> str:
    """``FILE KEY.PATH [FORMAT]``: one number (or string) from a JSON file, formatted with
    a Python format spec (default ``.3f`` for floats)."""
    if len(args) not in (2, 3):
        raise ValueError(f"value marker takes FILE KEY.PATH [FORMAT], got {' '.join(args)!r}")
    value = lookup(load_json(root, args[0]), args[1], args[0])
    spec = args[2] if len(args) == 3 else (".3f" if isinstance(value, float) else "")
    if value is None:
        return "n/a"
    return format(value, spec)


# block kind -> "module:function" rendering it from the marker's arguments and the root folder
KINDS = {
    "value": "motionvigil.report.blocks:render_value",
    "detection-table": "motionvigil.report.detection:render_files",
    "fewshot-tables": "motionvigil.report.fewshot:render_files",
    "fewshot-compare": "motionvigil.report.fewshot_compare:render_files",
    "retrieval-table": "motionvigil.report.retrieval:render_files",
    "bench-table": "motionvigil.report.bench:render_files",
    "serve-search": "motionvigil.report.serve:render_files",
    "cross-skeleton-tables": "motionvigil.report.cross_skeleton:render_files",
    "tmor-tables": "motionvigil.report.tmor:render_files",
    "kinemic": "motionvigil.report.kinemic:render_files",
}


def renderer(kind: str) -> Callable[[list[str], Path], str]:
    """The function that renders blocks of ``kind`` (imported when first needed)."""
    if kind not in KINDS:
        raise ValueError(f"unknown block kind {kind!r} (known: {', '.join(sorted(KINDS))})")
    module, _, name = KINDS[kind].partition(":")
    return getattr(importlib.import_module(module), name)


def render_doc(text: str, root: Path) -> str:
    """``text`` with every marked block re-rendered from the files its marker names."""
    out, pos = [], 0
    for m in MARKER.finditer(text):
        if m.start() < pos:
            continue
        kind, args = m.group("kind"), m.group("args").split()
        end_marker = f"<!-- {kind}:end -->"
        end = text.find(end_marker, m.end())
        if end < 0:
            raise ValueError(f"{kind} block opened at line {text.count(chr(10), 0, m.start()) + 1} has no {end_marker}")
        body = renderer(kind)(args, root)
        out += [text[pos : m.end()], body if kind in INLINE else f"\n{body.strip(chr(10))}\n"]
        pos = end
    out.append(text[pos:])
    return "".join(out)


# a decimal, or a percentage that is not a confidence level ("95% CI" is a setting)
NUMBER = re.compile(r"(?<![\w.])\d+\.\d+(?![\w.])"
                    r"|(?<![\w.])\d+(?:\.\d+)? ?%(?! ?(?:CI|confidence|bootstrap|Student|interval))")
CODE = re.compile(r"```.*?```|`[^`\n]*`", re.S)


def unmarked_numbers(text: str) -> list[tuple[int, str]]:
    """``(line, number)`` for every decimal number or percentage in ``text`` outside a
    marked block and outside code (fenced or inline: settings such as `alpha = 0.2` are
    written as code). A doc checked with ``--strict`` must have none: its measured
    numbers all come from results files."""
    keep = list(text)
    spans = [(m.start(), text.find(f"<!-- {m.group('kind')}:end -->", m.end())) for m in MARKER.finditer(text)]
    spans += [(m.start(), m.end()) for m in CODE.finditer(text)]
    for start, end in spans:
        if end > start:
            keep[start:end] = [c if c == "\n" else " " for c in keep[start:end]]
    masked = "".join(keep)
    return [(masked.count("\n", 0, m.start()) + 1, m.group()) for m in NUMBER.finditer(masked)]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m motionvigil.report.blocks",
                                description="render the docs' generated blocks from the results files they name")
    p.add_argument("docs", nargs="+", help="markdown files holding <!-- KIND:start FILE... --> markers")
    p.add_argument("--root", default=".", help="folder the files in the markers are relative to (default: .)")
    p.add_argument("--check", action="store_true", help="change nothing; exit 1 when a block is out of date")
    p.add_argument("--strict", action="append", default=[], metavar="DOC",
                   help="also fail when DOC holds a decimal number or percentage outside marked blocks and code")
    args = p.parse_args(argv)
    for doc in map(Path, args.strict):
        loose = unmarked_numbers(doc.read_text(encoding="utf-8"))
        if loose:
            shown = ", ".join(f"line {line}: {n}" for line, n in loose[:5]) + (" ..." if len(loose) > 5 else "")
            print(f"{doc}: {len(loose)} number(s) outside marked blocks ({shown}); quote them through a "
                  "results file or write settings as code", file=sys.stderr)
            return 1
    stale = []
    for doc in map(Path, args.docs):
        try:
            text = doc.read_text(encoding="utf-8")
            new = render_doc(text, Path(args.root))
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:  # a file of the wrong shape
            msg = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
            print(f"{doc}: {msg}", file=sys.stderr)
            return 1
        if new != text:
            stale.append(str(doc))
            if not args.check:
                write_text_atomic(doc, new)
    if args.check and stale:
        print(f"generated blocks differ from the results files in: {', '.join(stale)} "
              "(make results-render re-renders them)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
