"""Scoring the pairs of a multi-person window (see :meth:`Detector.score_scene`).

Every two persons present in the same window whose chests come within
:data:`PAIR_REACH` metres of each other at some frame are a pair; people farther apart
than that for the whole window cannot touch, and are not scored together. A pair's
violence is the learned model's pair score (:meth:`ViolenceModel.score_pairs`, the more
violent of the two directions, computed from both persons' motion and what passes
between them); its alert uses the detector's threshold. The class named is that of
whichever person of the pair scored higher alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import combinations
import numpy as np

from motionvigil.detect.windows import WindowResult
from motionvigil.features.interaction import torso_gap

PAIR_REACH = 2.0  # metres between chests: beyond this at every frame, two people cannot touch


def close_pairs(scene: dict[int, np.ndarray], reach: float = PAIR_REACH) -> list[tuple[int, int]]:
    """Pairs ``(a, b)``, ``a < b``, of the persons of one window within ``reach`` of each other."""
    return [(a, b) for a, b in combinations(sorted(scene), 2) if torso_gap(scene[a], scene[b]) <= reach]


def scene_pairs(keys: Sequence[int], scenes: Sequence[dict[int, np.ndarray]]) -> list[tuple[int, int, int]]:
    """``(key, a, b)`` for the close pairs of every window (``keys[i]`` names ``scenes[i]``)."""
    return [(k, a, b) for k, scene in zip(keys, scenes) for a, b in close_pairs(scene)]


def pair_results(keys: Sequence[tuple[int, int, int]], violence: np.ndarray,
                 own: dict[tuple[int, int], WindowResult], threshold: float) -> dict[int, list[WindowResult]]:
    """``{key: [WindowResult(persons=(a, b)), ...]}`` for the pairs ``keys`` (from
    :func:`scene_pairs`) with their ``violence``, the class named from ``own`` results
    (keyed ``(key, person id)``)."""
    out: dict[int, list[WindowResult]] = {}
    for (s, a, b), v in zip(keys, violence):
        ra, rb = own[(s, a)], own[(s, b)]
        lead = ra if ra.violence >= rb.violence else rb
        out.setdefault(s, []).append(WindowResult(ra.start_s, ra.end_s, dict(lead.scores), float(v),
                                                  bool(v >= threshold), lead.violent_class, (a, b)))
    return out
