"""Text helpers shared by the ASF and AMC parsers: reading a file, parsing a line's numbers.

Both raise :class:`MotionFileError` naming the file (and, for numbers, the line and what
was being read), the form every Acclaim parsing error takes.
"""

from __future__ import annotations

import math
from pathlib import Path

from motionvigil.errors import MotionFileError
from motionvigil.io.tokens import first_non_float

__all__ = ["line_floats", "read_text"]


def read_text(path: Path, what: str) -> str:
    """The file's text (latin-1, so any byte decodes); MotionFileError if unreadable."""
    if not path.is_file():
        raise MotionFileError(path, f"no such {what} file")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise MotionFileError(path, f"cannot read {what} file ({exc.strerror})") from None
    if not data.strip():
        raise MotionFileError(path, f"empty {what} file")
    return data.decode("latin-1")



def line_floats(tokens: list[str], path: Path, lineno: int, what: str) -> list[float]:
    """Parse finite floats; MotionFileError naming the line and ``what`` otherwise."""
    try:
        values = list(map(float, tokens))
    except ValueError:
        bad = first_non_float(tokens)
        raise MotionFileError(path, f"line {lineno}: {what}: non-numeric value {bad!r}") from None
    if not all(map(math.isfinite, values)):
        bad_value = next(v for v in values if not math.isfinite(v))
        raise MotionFileError(path, f"line {lineno}: {what}: non-finite value {bad_value!r} (NaN or inf)")
    return values

