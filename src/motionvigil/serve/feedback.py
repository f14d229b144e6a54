"""Alerts and the operator's feedback on them, stored durably in one SQLite file.

``motionvigil serve --feedback-db PATH`` records every alert it raises (id, stream,
times, persons, class, score, the detector's version, the 20 Hz SMPL-22 motion of the
alert window and the violence timeline around it) and every verdict an operator gives
(``confirm`` / ``dismiss`` with a note). The file is SQLite in WAL mode: readers
(``build-detector --calm FEEDBACK.db``, ``feedback export``) never block the server,
and a committed verdict survives a crash or restart. Each write is one transaction: a
full disk or an I/O error leaves the file as it was and raises :class:`FeedbackError`.

Without ``--feedback-db`` the same store lives in memory (lost at restart).
"""

from __future__ import annotations

import io
import json
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

SCHEMA = "motionvigil-feedback 1"
VERDICTS = ("confirm", "dismiss")
MEMORY_KEEP = 1000  # alerts an in-memory store (no --feedback-db) keeps
FPS = 20.0  # alert motion is stored as the detector sees it: SMPL-22 at 20 Hz

_TABLES = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS alerts (
    id TEXT PRIMARY KEY,
    stream TEXT NOT NULL,
    start_s REAL NOT NULL,          -- stream seconds (as in the alert message)
    end_s REAL NOT NULL,
    raised REAL NOT NULL,           -- unix time the alert began
    persons TEXT NOT NULL,          -- JSON list: [] one-person stream, [id] or [a, b]
    class TEXT NOT NULL,
    score REAL NOT NULL,
    windows INTEGER NOT NULL,
    open INTEGER NOT NULL,          -- 1 while the alert is still running
    threshold REAL NOT NULL,
    detector TEXT NOT NULL,         -- detector version (see detector_version)
    motion BLOB,                    -- npz: joints [P, T, 22, 3] float32, person_ids [P]
    timeline TEXT NOT NULL,         -- JSON [[start_s, end_s, violence], ...] around the alert
    verdict TEXT,                   -- latest verdict: confirm | dismiss | NULL (not reviewed)
    note TEXT,
    reviewed REAL                   -- unix time of the latest verdict
);
CREATE INDEX IF NOT EXISTS alerts_raised ON alerts (raised);
CREATE TABLE IF NOT EXISTS feedback (  -- every verdict ever given, oldest first
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    alert TEXT NOT NULL REFERENCES alerts (id),
    verdict TEXT NOT NULL,
    note TEXT NOT NULL,
    given REAL NOT NULL
);
"""
_SUMMARY = ("id", "stream", "start_s", "end_s", "raised", "persons", "class", "score", "windows", "open",
            "threshold", "detector", "verdict", "note", "reviewed")


class FeedbackError(Exception):
    """A feedback store that cannot be used or written: one line naming the file and the
    problem; ``status`` is the HTTP status the API answers with."""

    def __init__(self, message: str, status: int = 500):
        super().__init__(message)
        self.status = status


def encode_motion(joints: np.ndarray, person_ids: Sequence[int]) -> bytes:
    """``joints [P, T, 22, 3]`` and the persons' ids as a compressed npz blob."""
    buf = io.BytesIO()
    np.savez_compressed(buf, joints=np.asarray(joints, dtype=np.float32),
                        person_ids=np.asarray(list(person_ids), dtype=np.int64))
    return buf.getvalue()


def decode_motion(blob: bytes) -> tuple[np.ndarray, list[int]]:
    """The inverse of :func:`encode_motion`: ``(joints [P, T, 22, 3], person_ids)``."""
    with np.load(io.BytesIO(blob), allow_pickle=False) as z:
        return z["joints"], [int(i) for i in z["person_ids"]]


class FeedbackStore:
    """Alerts and verdicts in SQLite (``path``; ``None``: in memory). Thread-safe: one
    connection behind a lock (writes are small and fast)."""

    def __init__(self, path: str | Path | None = None, *, create: bool = True):
        self.path = None if path is None else Path(path)
        self.name = str(self.path) if self.path is not None else "(in-memory feedback store)"
        if self.path is not None and not create and not self.path.is_file():
            raise FeedbackError(f"{self.path}: no such feedback database", 404)
        if self.path is not None and self.path.is_dir():
            raise FeedbackError(f"{self.path}: a folder, not a feedback database file", 400)
        self.lock = threading.Lock()
        try:
            self.db = sqlite3.connect(":memory:" if self.path is None else str(self.path), timeout=10,
                                      check_same_thread=False, isolation_level=None)
        except sqlite3.Error as exc:
            raise FeedbackError(f"{self.name}: cannot open ({exc})", 500) from None
        try:
            self._prepare(create)
        except sqlite3.OperationalError as exc:  # read-only file or folder, locked, disk full
            self.db.close()
            raise FeedbackError(f"{self.name}: cannot use ({exc})", 500) from None
        except sqlite3.DatabaseError as exc:  # "file is not a database"
            self.db.close()
            raise FeedbackError(f"{self.name}: not a motionvigil feedback database ({exc})", 400) from None
        except FeedbackError:
            self.db.close()
            raise

    def _prepare(self, create: bool) -> None:
        db = self.db
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if tables and "meta" not in tables:
            raise FeedbackError(f"{self.name}: a SQLite database of something else (tables "
                                f"{', '.join(sorted(tables))}), not a motionvigil feedback database", 400)
        if "meta" in tables:
            row = db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
            if row is None or row[0] != SCHEMA:
                raise FeedbackError(f"{self.name}: schema {row[0] if row else 'unknown'!r}, expected {SCHEMA!r}", 400)
        if not tables and not create:
            raise FeedbackError(f"{self.name}: an empty database, not a motionvigil feedback database", 400)
        if self.path is not None:
            mode = db.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                raise FeedbackError(f"{self.name}: cannot switch to WAL journaling (got {mode})", 500)
            db.execute("PRAGMA synchronous = NORMAL")  # WAL + NORMAL: a commit survives a crash of the process
        db.execute("PRAGMA foreign_keys = ON")
        if not tables and create:
            with self._write("create the tables"):
                db.executescript("BEGIN;" + _TABLES +
                                 f"INSERT INTO meta (key, value) VALUES ('schema', '{SCHEMA}');COMMIT;")

    class _Txn:
        def __init__(self, store: "FeedbackStore", what: str):
            self.store, self.what = store, what

        def __enter__(self):
            self.store.lock.acquire()
            return self.store.db

        def __exit__(self, kind, exc, tb):
            db = self.store.db
            try:
                if isinstance(exc, sqlite3.Error):
                    if db.in_transaction:
                        db.rollback()
                    full = isinstance(exc, sqlite3.OperationalError) and "full" in str(exc).lower()
                    problem = "the disk or database is full" if full else str(exc)
                    raise FeedbackError(f"{self.store.name}: cannot {self.what}: {problem}; nothing was written",
                                        507 if full else 500) from None
            finally:
                self.store.lock.release()
            return False

    def _write(self, what: str) -> "FeedbackStore._Txn":
        return FeedbackStore._Txn(self, what)

    def close(self) -> None:
        with self.lock:
            self.db.close()

    # ---- alerts -------------------------------------------------------------------------
    def add_alert(self, record: dict[str, Any], motion: bytes | None) -> bool:
        """Insert a new alert (``record`` holds the summary fields of :data:`_SUMMARY` but
        the verdict); an alert whose id is already stored is kept as it is (False)."""
        with self._write(f"record alert {record['id']}") as db:
            cur = db.execute(
                "INSERT OR IGNORE INTO alerts (id, stream, start_s, end_s, raised, persons, class, score, windows, "
                "open, threshold, detector, motion, timeline) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (record["id"], record["stream"], record["start_s"], record["end_s"], record["raised"],
                 json.dumps(list(record["persons"])), record["class"], record["score"], record["windows"],
                 int(record["open"]), record["threshold"], record["detector"], motion,
                 json.dumps(record["timeline"])))
            added = cur.rowcount == 1
            if added and self.path is None:  # in memory: keep the newest MEMORY_KEEP alerts, not all forever
                old = "SELECT id FROM alerts ORDER BY raised DESC, id LIMIT -1 OFFSET ?"
                db.execute(f"DELETE FROM feedback WHERE alert IN ({old})", (MEMORY_KEEP,))
                db.execute(f"DELETE FROM alerts WHERE id IN ({old})", (MEMORY_KEEP,))
            return added

    def close_alert(self, alert: str, end_s: float, score: float, cls: str, windows: int,
                    motion: bytes | None, timeline: list) -> None:
        """The alert is over: its final span, score and motion (an unknown id is ignored)."""
        with self._write(f"close alert {alert}") as db:
            db.execute("UPDATE alerts SET end_s = ?, score = ?, class = ?, windows = ?, open = 0, "
                       "motion = COALESCE(?, motion), timeline = ? WHERE id = ? AND open = 1",
                       (end_s, score, cls, windows, motion, json.dumps(timeline), alert))

    def give_feedback(self, alert: str, verdict: str, note: str = "") -> dict[str, Any]:
        """Store a verdict on ``alert``; returns the alert's summary.

        Raises:
            FeedbackError: 400 for a verdict other than confirm / dismiss or a note that
            is not text, 404 for an unknown alert, 507 / 500 when it cannot be written.
        """
        if verdict not in VERDICTS:
            raise FeedbackError(f"verdict must be one of {', '.join(VERDICTS)}, got {verdict!r}", 400)
        if not isinstance(note, str) or len(note) > 4000:
            raise FeedbackError("note must be text of at most 4000 characters", 400)
        now = time.time()
        with self._write(f"store feedback on alert {alert}") as db:
            if db.execute("SELECT 1 FROM alerts WHERE id = ?", (alert,)).fetchone() is None:
                raise FeedbackError(f"no alert with id {alert!r}", 404)
            db.execute("BEGIN IMMEDIATE")
            db.execute("INSERT INTO feedback (alert, verdict, note, given) VALUES (?, ?, ?, ?)",
                       (alert, verdict, note, now))
            db.execute("UPDATE alerts SET verdict = ?, note = ?, reviewed = ? WHERE id = ?",
                       (verdict, note, now, alert))
            db.execute("COMMIT")
        found = self.alert(alert, motion=False)
        assert found is not None
        return found

    # ---- reading ------------------------------------------------------------------------
    def _read(self, sql: str, args: Sequence[Any] = ()) -> list[tuple]:
        with self.lock:
            try:
                return self.db.execute(sql, tuple(args)).fetchall()
            except sqlite3.Error as exc:
                raise FeedbackError(f"{self.name}: cannot read ({exc})", 500) from None

    @staticmethod
    def _summary(row: Sequence[Any]) -> dict[str, Any]:
        out = dict(zip(_SUMMARY, row))
        out["persons"] = json.loads(out["persons"])
        out["open"] = bool(out["open"])
        return out

    def alerts(self, stream: str | None = None, since: float | None = None, until: float | None = None,
               verdict: str | None = None, limit: int = 200) -> list[dict[str, Any]]:
        """Alert summaries, newest first; ``since`` / ``until`` bound the unix time the
        alert was raised; ``verdict`` is confirm, dismiss or ``none`` (not reviewed)."""
        where, args = [], []
        if stream is not None:
            where.append("stream = ?")
            args.append(stream)
        if since is not None:
            where.append("raised >= ?")
            args.append(since)
        if until is not None:
            where.append("raised <= ?")
            args.append(until)
        if verdict == "none":
            where.append("verdict IS NULL")
        elif verdict is not None:
            if verdict not in VERDICTS:
                raise FeedbackError(f"verdict filter must be confirm, dismiss or none, got {verdict!r}", 400)
            where.append("verdict = ?")
            args.append(verdict)
        sql = (f"SELECT {', '.join(_SUMMARY)} FROM alerts" + (" WHERE " + " AND ".join(where) if where else "")
               + " ORDER BY raised DESC, id LIMIT ?")
        return [self._summary(r) for r in self._read(sql, [*args, int(limit)])]

    def alert(self, alert: str, motion: bool = True) -> dict[str, Any] | None:
        """One alert's summary, with ``timeline`` and (``motion``) its motion as
        ``{"fps", "persons": [{"id", "joints" [T][22][3]}]}``; None if unknown."""
        rows = self._read(f"SELECT {', '.join(_SUMMARY)}, timeline, motion FROM alerts WHERE id = ?", [alert])
        if not rows:
            return None
        out = self._summary(rows[0][:-2])
        out["timeline"] = json.loads(rows[0][-2])
        if motion:
            out["motion"] = None
            if rows[0][-1] is not None:
                joints, ids = decode_motion(rows[0][-1])
                out["motion"] = {"fps": FPS, "persons": [{"id": i, "joints": np.round(j, 3).tolist()}
                                                         for i, j in zip(ids, joints)]}
        return out

    def history(self, alert: str) -> list[dict[str, Any]]:
        """Every verdict given on ``alert``, oldest first."""
        rows = self._read("SELECT verdict, note, given FROM feedback WHERE alert = ? ORDER BY seq", [alert])
        return [{"verdict": v, "note": n, "given": g} for v, n, g in rows]

    def counts(self) -> dict[str, int]:
        """Stored alerts by latest verdict: ``confirm``, ``dismiss``, ``none``."""
        rows = self._read("SELECT COALESCE(verdict, 'none'), COUNT(*) FROM alerts GROUP BY 1")
        return {"confirm": 0, "dismiss": 0, "none": 0, **{k: int(n) for k, n in rows}}

    def reviewed_motions(self, verdict: str) -> Iterator[tuple[dict[str, Any], np.ndarray, list[int]]]:
        """``(summary, joints [P, T, 22, 3], person_ids)`` of every closed alert whose
        latest verdict is ``verdict``, oldest first."""
        rows = self._read(f"SELECT {', '.join(_SUMMARY)}, motion FROM alerts WHERE verdict = ? AND open = 0 "
                          "AND motion IS NOT NULL ORDER BY raised, id", [verdict])
        for row in rows:
            joints, ids = decode_motion(row[-1])
            yield self._summary(row[:-1]), joints, ids


def open_existing(path: str | Path) -> FeedbackStore:
    """A feedback database that must already exist (for reading: export, build-detector)."""
    return FeedbackStore(path, create=False)
