"""Small helpers shared by the hand-written text-format parsers (BVH, ASF/AMC, Kinect)."""

from __future__ import annotations

from collections.abc import Iterable


def is_float(token: str) -> bool:
    """Whether ``float(token)`` succeeds."""
    try:
        float(token)
    except ValueError:
        return False
    return True


def first_non_float(tokens: Iterable[str]) -> str | None:
    """The first token that is not a number, or ``None`` if all are."""
    return next((t for t in tokens if not is_float(t)), None)
