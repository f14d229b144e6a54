"""Which captions a clip is trained with.

Clips with captions use them; labelled clips without captions get class-label
captions, ``"a person {label}"`` with the label made readable (camelCase split,
``L``/``R`` spelled out, repetition counters dropped: ``kickLFront1Reps`` ->
``"a person kick left front"``).
"""

from __future__ import annotations

import re

from motionvigil.datasets.clip import Clip

LABEL_TEMPLATE = "a person {label}"
_SIDES = {"l": "left", "r": "right"}
_COUNTERS = re.compile(r"^\d+(reps|hops|steps)?$|^(reps|hops|steps)$")


def readable_label(label: str) -> str:
    """``kickLFront1Reps`` -> ``kick left front``; plain labels are lower-cased."""
    words = re.findall(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+[a-z]*", label.replace("_", " ").replace("-", " "))
    if not words:
        return label.strip().lower()
    out = []
    for word in (w.lower() for w in words):
        if _COUNTERS.match(word):
            continue
        out.append(_SIDES.get(word, word))
    return " ".join(out) if out else label.strip().lower()


def label_caption(label: str) -> str:
    return LABEL_TEMPLATE.format(label=readable_label(label))


def clip_captions(clip: Clip) -> tuple[str, ...]:
    """Captions to train ``clip`` with (its own, else one per label)."""
    if clip.captions:
        return tuple(clip.captions)
    return tuple(label_caption(label) for label in clip.labels)
