"""What a joint name says: its side and the body part it names (step 1 of ``auto_map``).

:func:`split_name` strips namespaces and known prefixes, reads the side and normalises
the rest; the part tables (:data:`LEG_PARTS`, :data:`ARM_PARTS`, :data:`CENTRE_PARTS`)
hold the synonyms of the naming families :mod:`motionvigil.skeleton.auto_map` lists.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = [
    "ARM_PARTS", "ARM_SLOTS", "CENTRE_PARTS", "LEG_PARTS", "LEG_SLOTS", "JointName", "split_name", "tag_stripped",
]  # fmt: skip

LEG_SLOTS = ("hip", "knee", "ankle", "foot")
ARM_SLOTS = ("collar", "shoulder", "elbow", "wrist")

# Synonyms, after the side is removed and the rest lower-cased without separators.
# Values: the limb slots the name can mean. Two slots ``(usual, other)``: the name means
# ``other`` when another joint of the limb is named for ``usual`` alone, else ``usual``
# (e.g. "Shoulder": the clavicle beside an "Arm", the shoulder joint otherwise).
LEG_PARTS: dict[str, tuple[int, ...]] = {
    **dict.fromkeys(("upleg", "upperleg", "thigh", "femur", "legupper", "hip", "uprleg", "thighbone"), (0,)),
    **dict.fromkeys(("leg", "lowerleg", "calf", "knee", "shin", "tibia", "leglower", "lowleg", "crus"), (1,)),
    "ankle": (2,),
    "foot": (2, 3),  # Mixamo, Bandai: the ankle; SMPL (beside "Ankle"): the foot
    **dict.fromkeys(("toebase", "toe", "toes", "ball", "toe0", "forefoot", "toe1", "football"), (3,)),
}
ARM_PARTS: dict[str, tuple[int, ...]] = {
    **dict.fromkeys(("clavicle", "collar", "collarbone", "clav"), (0,)),
    "shoulder": (1, 0),  # SMPL, Kinect: the shoulder joint; Mixamo, Bandai (beside "Arm"): the clavicle
    **dict.fromkeys(("arm", "upperarm", "humerus", "armupper", "uparm", "bicep"), (1,)),
    **dict.fromkeys(("forearm", "lowerarm", "elbow", "armlower", "lowarm", "radius", "ulna"), (2,)),
    **dict.fromkeys(("wrist", "hand"), (3,)),
}
CENTRE_PARTS: dict[str, str] = {
    **dict.fromkeys(("pelvis", "hips", "hip"), "pelvis"),
    **dict.fromkeys(("neck", "neck1", "neck01", "neckbase", "necklower", "lowerneck"), "neck"),
    "head": "head",
}

_NAMESPACE_RE = re.compile(r"^.*[:|]")
_PREFIX_RE = re.compile(
    r"^(?:mixamorig\d*[_ ]?|character\d*_|bip0*\d+(?:$|[ _])|biped[ _]|cc_base_|def[-_]|rig[-_]|bvh[-_])", re.I
)
_SIDE_RES = (
    re.compile(r"^(left|right)[ _.\-]?(.+)$", re.I),
    re.compile(r"^(.+?)[ _.\-]?(left|right)$", re.I),
    re.compile(r"^([lr])[ _.\-](.+)$", re.I),
    re.compile(r"^(.+?)[ _.\-]([lr])$", re.I),
    re.compile(r"^([LR])([A-Z][a-z].*)$"),
)
_TAG_RE = re.compile(r"^(.*?[A-Za-z])(?:[ _.\-][A-Za-z0-9]|\d+)$")


@dataclass
class JointName:
    """What a joint name says: its side (``"left"``, ``"right"`` or ``None``) and part key."""

    side: str | None
    key: str


def split_name(name: str) -> JointName:
    """Strip namespaces and known prefixes, read the side, normalise the rest.

    ``"mixamorig:LeftUpLeg"`` -> ``("left", "upleg")``; ``"thigh_l"`` -> ``("left",
    "thigh")``; ``"Bip01 R Calf"`` -> ``("right", "calf")``; ``"Spine1"`` -> ``(None, "spine1")``.
    """
    bare = _NAMESPACE_RE.sub("", name.strip())
    bare = _PREFIX_RE.sub("", bare).strip(" _.-")
    side = None
    for pattern in _SIDE_RES:
        m = pattern.match(bare)
        if m is None:
            continue
        first, second = m.groups()
        tag, rest = (first, second) if first.lower() in ("left", "right", "l", "r") else (second, first)
        if tag.lower() in ("left", "right", "l", "r") and rest.strip(" _.-"):
            side = "left" if tag.lower().startswith("l") else "right"
            bare = rest
            break
    return JointName(side, re.sub(r"[^a-z0-9]", "", bare.lower()))


def tag_stripped(name: str) -> str | None:
    """The part key of ``name`` without a trailing tag (``UpLeg.A``, ``Thigh2`` -> ``upleg``, ``thigh``)."""
    bare = _PREFIX_RE.sub("", _NAMESPACE_RE.sub("", name.strip())).strip(" _.-")
    m = _TAG_RE.match(bare)
    return re.sub(r"[^a-z0-9]", "", m.group(1).lower()) if m else None

