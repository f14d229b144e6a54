"""What the annotation-file loaders (BABEL, TMR) share: checked JSON and the clip loop.

Both read one JSON object of annotations per file, check each value they use (a
:class:`MotionFileError` names the file and the entry), then make clips from the
HumanML3D feature files that are present, skipping bad ones on request.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

from motionvigil.datasets.clip import Clip
from motionvigil.errors import MotionFileError

__all__ = ["collect_clips", "non_negative", "read_json_object"]

T = TypeVar("T")


def read_json_object(path: Path, what: str, keyed_by: str) -> dict:
    """The JSON object in ``path``; ``what`` (e.g. ``"annotations"``) and ``keyed_by`` (its
    keys) name it in the errors.

    Raises:
        MotionFileError: unreadable file, invalid JSON, or JSON that is not an object.
    """
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MotionFileError(path, f"cannot read {what} ({type(exc).__name__}: {exc})") from None
    if not isinstance(data, dict):
        raise MotionFileError(path, f"expected a JSON object keyed by {keyed_by}, got {type(data).__name__}")
    return data


def non_negative(value: Any, path: Path, where: str, expected: str) -> float:
    """``value`` as a float when it is a finite number >= 0 (not a bool).

    Raises:
        MotionFileError: ``"<where>: expected <expected>, got <value>"`` otherwise.
    """
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or value < 0
    ):
        raise MotionFileError(path, f"{where}: expected {expected}, got {value!r}")
    return float(value)


def collect_clips(
    items: Iterable[T],
    make: Callable[[T], list[Clip]],
    key: Callable[[T], str],
    *,
    max_clips: int | None,
    skip_bad: bool,
) -> tuple[list[Clip], list[tuple[str, str]]]:
    """The clips ``make`` gives for each item in turn, at most ``max_clips`` in all.

    Returns:
        ``(clips, problems)``: with ``skip_bad``, an item whose ``make`` raises a
        MotionFileError is skipped and listed in ``problems`` as ``(key(item), message)``.

    Raises:
        MotionFileError: from ``make``, unless ``skip_bad``.
    """
    clips: list[Clip] = []
    problems: list[tuple[str, str]] = []
    for item in items:
        if max_clips is not None and len(clips) >= max_clips:
            break
        try:
            new = make(item)
        except MotionFileError as exc:
            if not skip_bad:
                raise
            problems.append((key(item), str(exc)))
            continue
        clips.extend(new[: None if max_clips is None else max_clips - len(clips)])
    return clips, problems
