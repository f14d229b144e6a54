"""What offline and streaming detection share for multi-person input (docs/persons.md):
which persons a window scores, the window each of them gets, and result keys.

A person is scored in a window when present in at least :data:`MIN_PRESENT` of its
frames. The frames of that window where the person is absent are filled from the
window's own present frames (:func:`~motionvigil.io.motion.fill_absent`), so the scored
motion depends only on frames where the person was seen, never on filler from outside
the window: a :class:`~motionvigil.detect.stream.StreamingDetector`, which cannot see
the future, cuts the very windows :func:`~motionvigil.detect.timeline.detect_motion` does.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from motionvigil.detect.windows import WindowResult
from motionvigil.io.motion import fill_absent

MIN_PRESENT = 0.75  # a person is scored in a window when present in at least this share of its frames


def frames_needed(window: int) -> int:
    """Present frames a ``window``-frame window needs for a person to be scored in it."""
    return math.ceil(MIN_PRESENT * window - 1e-9)


def scene_of(ids: Sequence[int], joints: np.ndarray, present: np.ndarray) -> dict[int, np.ndarray]:
    """The scene of one window for ``Detector.score_scene``: person id -> that person's
    window (absent frames filled from the window's present ones), for the persons present
    in at least :data:`MIN_PRESENT` of its frames.

    Args:
        ids: the person ids, one per body.
        joints: ``[P, w, 22, 3]`` the bodies' 20 Hz SMPL-22 frames of the window.
        present: ``[P, w]`` where each body was seen.
    """
    need = frames_needed(joints.shape[1])
    return {int(pid): fill_absent(body, seen) for pid, body, seen in zip(ids, joints, present)
            if int(np.count_nonzero(seen)) >= need}


def by_persons(results: Sequence[WindowResult]) -> dict[tuple[int, ...], list[WindowResult]]:
    """Results grouped by their ``persons`` key, keys in order of first appearance."""
    out: dict[tuple[int, ...], list[WindowResult]] = {}
    for r in results:
        out.setdefault(r.persons, []).append(r)
    return out


def who(persons: Sequence[int]) -> str:
    """``"person 3"``, ``"persons 0+1"``; ``""`` for the body of one-person input."""
    if not persons:
        return ""
    return f"person {persons[0]}" if len(persons) == 1 else "persons " + "+".join(map(str, persons))
