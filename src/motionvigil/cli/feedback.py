"""``feedback export``: the operators' verdicts from ``serve --feedback-db`` as a dataset
folder; and the ``build-detector --calm / --support FEEDBACK.db`` path, which exports
dismissed (calm) or confirmed (support) alert windows to a temporary folder and hands
that to the ordinary folder loader, so feedback trains and calibrates exactly like any
other data."""

from __future__ import annotations

import argparse
import contextlib
import sys
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from motionvigil.cli.common import EXIT_BAD_INPUT, EXIT_OK, add_json, emit, usage_error

VERDICT_CHOICES = {"confirm": ("confirm",), "dismiss": ("dismiss",), "all": ("confirm", "dismiss")}


def cmd_feedback_export(args: argparse.Namespace) -> int:
    from motionvigil.serve.feedback import FeedbackError, open_existing
    from motionvigil.serve.feedback_export import export_feedback

    out = Path(args.output)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        return usage_error("feedback export", f"{out}: exists and is not an empty folder; choose a new one")
    try:
        store = open_existing(args.db)
        try:
            summary = export_feedback(store, out, VERDICT_CHOICES[args.verdict])
        finally:
            store.close()
    except FeedbackError as exc:
        print(f"motionvigil feedback export: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    counts = ", ".join(f"{summary[v]['alerts']} {v}ed ({summary[v]['seconds']:.1f} s)"
                       for v in VERDICT_CHOICES[args.verdict])
    emit(args, {**{k: v for k, v in summary.items() if k != "files"}, "output": str(out),
                "files": len(summary["files"])},
         f"wrote {len(summary['files'])} clip(s) to {out}: {counts}")
    return EXIT_OK


@contextlib.contextmanager
def feedback_specs(support: Sequence[str] | None, calm: Sequence[str] | None) -> Iterator[tuple[Any, Any, dict]]:
    """``(support, calm, used)``: the specs with every feedback database replaced by a
    temporary folder of its confirmed (support) or dismissed (calm) alert windows;
    ``used`` says how much feedback that was (for the detector's info and card). The
    folders are removed on exit.

    Raises:
        FeedbackError: a database that is not one, or holds no such window.
    """
    from motionvigil.serve.feedback import open_existing
    from motionvigil.serve.feedback_export import export_feedback, is_feedback_db

    used: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="motionvigil-feedback-") as tmp:
        def expand(specs: Sequence[str] | None, role: str, verdict: str) -> list[str] | None:
            if specs is None:
                return None
            out = []
            for n, spec in enumerate(specs):
                if not is_feedback_db(spec):
                    out.append(spec)
                    continue
                store = open_existing(spec)
                try:
                    summary = export_feedback(store, Path(tmp) / f"{role}-{n}", (verdict,))
                finally:
                    store.close()
                part = summary[verdict]
                entry = used.setdefault(role, {"databases": [], "alerts": 0, "windows": 0, "seconds": 0.0})
                entry["databases"].append(str(spec))
                for key in ("alerts", "windows"):
                    entry[key] += part[key]
                entry["seconds"] = round(entry["seconds"] + part["seconds"], 2)
                out.append(str(Path(tmp) / f"{role}-{n}"))
            return out

        yield expand(support, "support", "confirm"), expand(calm, "calm", "dismiss"), used


def add_feedback(sub) -> None:
    p = sub.add_parser("feedback", help="operators' verdicts on alerts (serve --feedback-db)")
    fsub = p.add_subparsers(dest="feedback_command", required=True)
    e = fsub.add_parser("export", help="write reviewed alert windows as a class-per-subfolder dataset folder "
                                       "(confirmed: the alert's class; dismissed: calm)")
    e.add_argument("db", metavar="FEEDBACK.db", help="feedback database written by serve --feedback-db")
    e.add_argument("-o", "--output", required=True, metavar="FOLDER", help="new (or empty) folder to write")
    e.add_argument("--verdict", choices=sorted(VERDICT_CHOICES), default="all",
                   help="which reviewed alerts to export")
    add_json(e, help="print the export's summary as one JSON object")
    e.set_defaults(func=cmd_feedback_export)
