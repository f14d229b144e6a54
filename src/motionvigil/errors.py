"""The one error type users see for bad input files.

Every reader, converter and loader raises :class:`MotionFileError` when a file is
unusable (truncated, wrong counts, NaN/inf, too short, unknown format). The message
always names the file and the problem, so a command-line tool can print it as one line.
"""

from __future__ import annotations

from pathlib import Path


class MotionFileError(ValueError):
    """A motion, annotation or checkpoint file cannot be used.

    Attributes:
        path: the offending file (or folder), as given.
        problem: a short human-readable description of what is wrong.
    """

    def __init__(self, path: str | Path | None, problem: str):
        self.path = None if path is None else str(path)
        self.problem = problem
        where = self.path if self.path is not None else "<in-memory motion>"
        super().__init__(f"{where}: {problem}")


class CheckpointError(MotionFileError):
    """A model, detector or checkpoint folder that fails verification (missing or corrupt
    configuration, weights whose SHA-256 does not match, tensors that do not fit the
    architecture). A :class:`MotionFileError`, so ``except MotionFileError`` still catches
    it; the command line exits with status 4 for it (3 for other bad input files)."""


class UnknownDatasetError(KeyError):
    """A dataset name that no loader is registered for (the message lists the known ones)."""

    def __str__(self) -> str:  # KeyError would quote the whole message
        return str(self.args[0]) if self.args else "unknown dataset"
