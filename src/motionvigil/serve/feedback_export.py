"""Reviewed alerts as a class-per-subfolder dataset (``motionvigil feedback export``).

``FOLDER/<class>/<alert id>.npz`` holds each confirmed alert window (its class is the
alert's), ``FOLDER/calm/<alert id>.npz`` each dismissed one: 20 Hz SMPL-22 motion, one
body per file (``<alert id>-p<person>.npz`` for each body of a multi-person alert).
``subjects.csv`` names the stream of each file as its subject (so a detector's
out-of-fold threshold holds a camera's windows out together) and ``feedback.json`` lists
what was exported. This is the folder format ``--support`` / ``--calm FOLDER`` read
(``datasets.folder``). The folder is written beside its final place and renamed into it,
so a failure leaves nothing half-written.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from motionvigil.io.arrays import save_npz
from motionvigil.io.layouts import SMPL22
from motionvigil.io.motion import Motion
from motionvigil.serve.feedback import FPS, VERDICTS, FeedbackError, FeedbackStore

CALM = "calm"  # the class folder of dismissed alert windows
SQLITE_MAGIC = b"SQLite format 3\x00"
DB_SUFFIXES = (".db", ".sqlite", ".sqlite3")


def is_feedback_db(spec: str) -> bool:
    """Does a ``--support`` / ``--calm`` argument name a feedback database (a file that
    is SQLite, or any file named ``*.db`` / ``*.sqlite``, which is then checked)?"""
    path = Path(spec)
    if not path.is_file():
        return False
    if path.suffix.lower() in DB_SUFFIXES:
        return True
    with path.open("rb") as f:
        return f.read(len(SQLITE_MAGIC)) == SQLITE_MAGIC


def _safe(name: str) -> str:
    keep = "".join(c if c.isalnum() or c in "-_." else "_" for c in name).strip("._")
    return keep or "unnamed"


def export_feedback(store: FeedbackStore, folder: str | Path, verdicts: tuple[str, ...] = VERDICTS) -> dict[str, Any]:
    """Write the reviewed alerts of ``store`` with a verdict in ``verdicts`` to ``folder``
    (which must not exist, or be empty). Returns the summary also written as
    ``feedback.json``: counts and seconds per verdict, and one entry per file.

    Raises:
        FeedbackError: a bad verdict, an existing non-empty folder, nothing to export,
        or a write that failed (nothing is left behind).
    """
    folder = Path(folder)
    bad = [v for v in verdicts if v not in VERDICTS]
    if bad:
        raise FeedbackError(f"verdicts are {', '.join(VERDICTS)}, got {', '.join(bad)}", 400)
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise FeedbackError(f"{folder}: exists and is not an empty folder; choose a new one", 400)
    summary: dict[str, Any] = {"source": store.name, "files": [],
                               **{v: {"alerts": 0, "windows": 0, "seconds": 0.0} for v in verdicts}}
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    try:
        subjects = ["file,subject"]
        for verdict in verdicts:
            for alert, joints, ids in store.reviewed_motions(verdict):
                label = _safe(alert["class"]) if verdict == "confirm" else CALM
                (tmp / label).mkdir(exist_ok=True)
                for pid, body in zip(ids, joints):
                    name = f"{alert['id']}.npz" if len(ids) == 1 else f"{alert['id']}-p{pid}.npz"
                    save_npz(tmp / label / name, Motion(body, FPS, SMPL22, source=f"feedback:{alert['id']}"))
                    rel = f"{label}/{name}"
                    subjects.append(f"{rel},{_safe(alert['stream'])}")
                    summary["files"].append({"file": rel, "alert": alert["id"], "verdict": verdict,
                                             "stream": alert["stream"], "person": pid, "note": alert["note"],
                                             "class": alert["class"], "detector": alert["detector"],
                                             "frames": int(body.shape[0])})
                summary[verdict]["alerts"] += 1
                summary[verdict]["windows"] += int(alert["windows"])
                summary[verdict]["seconds"] += float(joints.shape[1]) / FPS
        if not summary["files"]:
            raise FeedbackError(f"{store.name}: no closed alert with verdict {' or '.join(verdicts)} to export", 400)
        (tmp / "subjects.csv").write_text("\n".join(subjects) + "\n")
        (tmp / "feedback.json").write_text(json.dumps(summary, indent=1) + "\n")
        if folder.exists():
            folder.rmdir()  # empty (checked above)
        os.replace(tmp, folder)
    except OSError as exc:
        raise FeedbackError(f"{folder}: cannot write the export ({exc.strerror or exc}); nothing was written",
                            507) from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return summary
