"""Length units of a BVH file, inferred from the rest-pose body height.

BVH files carry no unit. :func:`infer_units` measures the body height of the rest pose
(the OFFSET skeleton, or frame 0 when that is degenerate; :func:`rest_height`) and picks
the first of :data:`UNITS` that makes it a plausible human height.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from motionvigil.errors import MotionFileError
from motionvigil.io.bvh_parse import BvhData

__all__ = ["CMU_BVH_SCALE", "UNITS", "infer_scale", "infer_units", "rest_height"]

# Length units recognised from the rest-pose height: (name, metres per file unit).
# "CMU BVH units" are those of the CMU database's BVH conversions (inches / 0.45).
CMU_BVH_SCALE = 0.0254 / 0.45
UNITS: tuple[tuple[str, float], ...] = (
    ("metres", 1.0),
    ("centimetres", 0.01),
    ("millimetres", 0.001),
    ("inches", 0.0254),
    ("CMU BVH units (inches / 0.45)", CMU_BVH_SCALE),
)
_ADULT_HEIGHT = (0.9, 2.3)  # metres: a unit giving a height in here is preferred
_PLAUSIBLE_HEIGHT = (0.5, 3.0)  # metres: the widest range accepted
_DEGENERATE_HEIGHT_FRACTION = 0.25
# Joint names that only the CMU database's BVH conversions use: a hint for CMU units.
_CMU_BVH_HINT = frozenset(("LHipJoint", "RHipJoint", "LowerBack"))


def _offset_skeleton(data: BvhData) -> np.ndarray:
    """Rest-pose points ``[joints + end sites, 3]`` from the OFFSETs alone, raw units."""
    points = np.zeros((len(data.joints), 3), dtype=np.float64)
    for index, joint in enumerate(data.joints):
        base = points[joint.parent] if joint.parent >= 0 else 0.0
        points[index] = base + np.asarray(joint.offset)
    ends = [points[parent] + np.asarray(offset) for parent, offset in data.end_sites]
    return np.concatenate([points, np.asarray(ends).reshape(-1, 3)], axis=0)


def rest_height(data: BvhData, positions: np.ndarray) -> tuple[float, str]:
    """``(height, basis)``: the rest-pose body height in file units and what it was measured on.

    The height is the Y extent of the OFFSET skeleton; if that skeleton is degenerate
    (Y extent under a quarter of its largest extent: all-zero offsets, or a rest pose
    lying flat) the Y extent of frame 0 of ``positions`` is used instead.
    """
    rest = _offset_skeleton(data)
    extents = rest.max(axis=0) - rest.min(axis=0)
    height = float(extents[1])
    if not height > _DEGENERATE_HEIGHT_FRACTION * float(extents.max()) or height == 0.0:
        frame0 = positions[0]
        return float(frame0[:, 1].max() - frame0[:, 1].min()), "frame 0"
    return height, "OFFSET skeleton"


def infer_units(data: BvhData, positions: np.ndarray, source: str | Path) -> tuple[str, float]:
    """``(unit name, metres per file unit)`` from the rest-pose height (see :func:`rest_height`).

    Tried in the order of :data:`UNITS` (metres, centimetres, millimetres, inches, CMU
    BVH units), the first unit that makes the body 0.9-2.3 m tall wins (CMU units first
    when the joint names are the CMU database's); failing that, the first giving
    0.5-3 m. Anything else raises, naming the ``--scale`` flag.
    """
    height, basis = rest_height(data, positions)
    units = list(UNITS)
    if _CMU_BVH_HINT <= set(data.joint_names):
        units.insert(0, units.pop())
    for low, high in (_ADULT_HEIGHT, _PLAUSIBLE_HEIGHT):
        for name, scale in units:
            if low <= height * scale <= high:
                return name, scale
    raise MotionFileError(
        source,
        f"cannot infer length units: rest-pose height ({basis}) is {height:.4g} file units, which is "
        f"not {_PLAUSIBLE_HEIGHT[0]}-{_PLAUSIBLE_HEIGHT[1]} m in metres, centimetres, millimetres, inches "
        "or CMU BVH units; give --scale S, the factor from file units to metres, "
        "e.g. --scale 0.001 for millimetres",
    )


def infer_scale(data: BvhData, positions: np.ndarray, source: str | Path) -> float:
    """Multiplier from file units to metres (see :func:`infer_units`)."""
    return infer_units(data, positions, source)[1]
