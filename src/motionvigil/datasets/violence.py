"""Which actions are violent, and how dataset labels map to the six violent categories.

The method (TMR-to-Violence [docs/papers.md]) treats six BABEL categories as violent: kick, punch, hit,
martial art, evade, grab person. Dataset labels that mean one of these map to it;
everything else is non-violent. Borderline actions are non-violent by decision:
MSR Action3D's ``hammer`` (hitting a nail, not a person) and BABEL's ``throw``,
``grab body part`` and ``protect``.

Pushes: a shove of another person is violent and counts as ``hit`` (a forceful blow
with the hands): SBU Kinect's ``pushing`` (one person shoves the other) and, for
consistency with it, UTD-MHAD's ``two hand push`` (the same shove, of the air). A
plain ``push`` (pushing an object: UTKinect, the synthetic corpus) stays non-violent.
"""

from __future__ import annotations

VIOLENT_CATEGORIES: tuple[str, ...] = ("kick", "punch", "hit", "martial art", "evade", "grab person")

# dataset label -> violent category (labels not listed are non-violent)
LABEL_TO_CATEGORY: dict[str, str] = {
    # the categories themselves (BABEL, synthetic corpus)
    **{c: c for c in VIOLENT_CATEGORIES},
    # MSR Action3D
    "forward punch": "punch",
    "side boxing": "punch",
    "forward kick": "kick",
    "side kick": "kick",
    # HDM05
    "kickLFront1Reps": "kick",
    "kickRFront1Reps": "kick",
    "kickLSide1Reps": "kick",
    "kickRSide1Reps": "kick",
    "punchLFront1Reps": "punch",
    "punchRFront1Reps": "punch",
    "punchLSide1Reps": "punch",
    "punchRSide1Reps": "punch",
    # UTD-MHAD
    "front boxing": "punch",
    "two hand push": "hit",
    # SBU Kinect Interaction (one person strikes or shoves the other)
    "kicking": "kick",
    "punching": "punch",
    "pushing": "hit",
}


def violent_category(label: str) -> str | None:
    """The violent category of ``label`` (case-insensitive for plain words), or ``None``."""
    if label in LABEL_TO_CATEGORY:
        return LABEL_TO_CATEGORY[label]
    return LABEL_TO_CATEGORY.get(label.strip().lower())


def is_violent(label: str) -> bool:
    return violent_category(label) is not None
