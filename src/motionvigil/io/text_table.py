"""Numeric text tables as the Kinect-style readers store them: one frame (or joint) per line.

Shared by the MSR Action3D, UTKinect and SBU readers. Every failure is a
:class:`MotionFileError` naming the file and the 1-based line.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from motionvigil.errors import MotionFileError


def read_text_lines(path: Path) -> list[str]:
    """The lines of a UTF-8 text file; unreadable or non-text files raise MotionFileError."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise MotionFileError(path, f"cannot read file ({exc.strerror or exc})") from None
    if b"\x00" in raw:
        raise MotionFileError(path, "not a text file (contains NUL bytes)")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MotionFileError(path, f"not a UTF-8 text file (bad byte at offset {exc.start})") from None
    return text.splitlines()


def read_table(path: Path, num_columns: int, sep: str | None = None) -> np.ndarray:
    """Parse a numeric table with exactly ``num_columns`` per line.

    Values are separated by whitespace (``sep=None``) or by ``sep`` (e.g. ``","`` for
    CSV; spaces around a value are ignored). Blank lines are skipped. Errors name the
    1-based line number.

    Returns:
        float64 array ``[rows, num_columns]`` (values may be non-finite; callers check).

    Raises:
        MotionFileError: empty file, a line with the wrong number of values, or a value
            that is not a number.
    """
    tokens: list[str] = []
    line_numbers: list[int] = []
    for number, line in enumerate(read_text_lines(path), start=1):
        if not line.strip():
            continue
        fields = line.split() if sep is None else [field.strip() for field in line.split(sep)]
        if len(fields) != num_columns:
            raise MotionFileError(
                path, f"line {number}: expected {num_columns} values, found {len(fields)}"
            )
        tokens.extend(fields)
        line_numbers.append(number)
    if not line_numbers:
        raise MotionFileError(path, "file holds no data lines")
    try:
        values = np.asarray(tokens, dtype=np.float64)
    except (ValueError, OverflowError):
        # Locate the first offending token only on failure (the fast path is vectorised).
        for i, token in enumerate(tokens):
            try:
                float(token)
            except (ValueError, OverflowError):
                line = line_numbers[i // num_columns]
                raise MotionFileError(path, f"line {line}: {token[:40]!r} is not a number") from None
        raise MotionFileError(path, "file holds values that are not numbers") from None
    return values.reshape(len(line_numbers), num_columns)


_FLOAT32_MAX = float(np.finfo(np.float32).max)


def check_finite(path: Path, values: np.ndarray, what: str, rows_per_frame: int = 1) -> None:
    """Raise MotionFileError naming the first NaN/inf in ``values`` (2-D, one row per line).

    Values too large for float32 (the dtype of :class:`Motion` joints) count as infinite.
    """
    with np.errstate(invalid="ignore"):
        finite = np.abs(values) <= _FLOAT32_MAX
    if not finite.all():
        row = int(np.argwhere(~finite)[0][0])
        raise MotionFileError(
            path,
            f"non-finite {what} (NaN, inf or beyond float32 range) in data line {row + 1} "
            f"(frame {row // rows_per_frame})",
        )


def frame_numbers(path: Path, column: np.ndarray, strict: bool = False) -> np.ndarray:
    """Validate a frame-number column: non-negative integers, never decreasing (UTKinect),
    or always increasing when ``strict`` (SBU)."""
    if not (np.all(column == np.round(column)) and np.all(column >= 0) and np.all(column < 2**53)):
        row = int(np.flatnonzero((column != np.round(column)) | (column < 0) | (column >= 2**53))[0])
        raise MotionFileError(
            path, f"data line {row + 1}: frame number {column[row]!r} is not a non-negative integer"
        )
    numbers = column.astype(np.int64)
    backwards = np.flatnonzero(np.diff(numbers) < 0)
    if len(backwards):
        row = int(backwards[0]) + 1
        raise MotionFileError(
            path,
            f"data line {row + 1}: frame number {numbers[row]} is below the previous one "
            f"({numbers[row - 1]})",
        )
    if strict:
        repeated = np.flatnonzero(np.diff(numbers) == 0)
        if len(repeated):
            row = int(repeated[0]) + 1
            raise MotionFileError(path, f"data line {row + 1}: frame number {numbers[row]} repeats the previous one")
    return numbers
