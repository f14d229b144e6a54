"""BVH reader: any hierarchy and channel order, vectorised forward kinematics, metres out.

Why a parser of our own: the PyPI ``bvh`` package only tokenises the file. It gives no
forward kinematics (world joint positions), let alone one vectorised over frames, and it
validates nothing: a truncated file, a frame line with a missing value, an unknown
channel or a NaN either passes silently or escapes as an ``IndexError``/``ValueError``
traceback deep inside it. Here every problem becomes a :class:`MotionFileError` naming
the file and the problem, and the motion data is parsed with one numpy call.

Conventions (those of the BVH format as written by MotionBuilder, Blender, etc.):

* Joints are listed depth-first; the MOTION values of one frame follow that order, each
  joint contributing the channels its ``CHANNELS`` line lists, in that order.
* ``End Site`` blocks only carry an offset; they are not joints (their offsets are kept
  in ``Motion.meta["end_sites"]``).
* A joint's local translation is its ``OFFSET``; each position channel it has
  (``Xposition``/``Yposition``/``Zposition``, root or not) replaces that component.
* Rotation channels are Euler angles in degrees, intrinsic, in the order listed:
  ``Zrotation Xrotation Yrotation`` means ``R = Rz @ Rx @ Ry`` applied to column
  vectors. ``R_global = R_parent_global @ R_local`` and
  ``p = p_parent + R_parent_global @ local_translation``.

The work is split by what it does: :mod:`motionvigil.io.bvh_parse` (hierarchy and
motion section), :mod:`motionvigil.io.bvh_kinematics` (world positions) and
:mod:`motionvigil.io.bvh_units` (length units from the rest-pose height); this module
puts them together in :func:`read_bvh` and re-exports their public names.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from motionvigil.errors import MotionFileError
from motionvigil.io.bvh_kinematics import forward_kinematics
from motionvigil.io.bvh_parse import BvhData, BvhJoint, parse_bvh, parse_bvh_text
from motionvigil.io.bvh_units import UNITS, infer_scale, infer_units
from motionvigil.io.motion import Layout, Motion

__all__ = [
    "BANDAI_JOINT_NAMES",
    "BvhData",
    "BvhJoint",
    "forward_kinematics",
    "UNITS",
    "infer_scale",
    "infer_units",
    "parse_bvh",
    "parse_bvh_text",
    "read_bvh",
]

BANDAI_JOINT_NAMES = frozenset(
    (
        "joint_Root", "Hips", "Spine", "Chest", "Neck", "Head",
        "Shoulder_L", "Shoulder_R", "UpperArm_L", "UpperArm_R", "LowerArm_L", "LowerArm_R",
        "Hand_L", "Hand_R", "UpperLeg_L", "UpperLeg_R", "LowerLeg_L", "LowerLeg_R",
        "Foot_L", "Foot_R", "Toes_L", "Toes_R",
    )
)  # fmt: skip

_FPS_SNAP_RTOL = 1e-4  # 0.0333333 s -> exactly 30 fps; 29.97 fps stays 29.97
_MAX_ABS_COORD = 1e12  # raw units; beyond this the coordinates are garbage (and overflow float32)


def _check_translation_range(data: BvhData, source: str | Path) -> None:
    """Reject absurd OFFSETs or position values (> 1e12 units) before they overflow in FK."""
    offsets = np.abs(np.asarray([j.offset for j in data.joints] + [o for _, o in data.end_sites]))
    columns = [c for j in data.joints for c in j.columns("position")]
    too_big = bool((offsets >= _MAX_ABS_COORD).any())
    if columns:
        too_big = too_big or bool((np.abs(data.values[:, columns]) >= _MAX_ABS_COORD).any())
    if too_big:
        raise MotionFileError(source, f"OFFSET or position values of {_MAX_ABS_COORD:g} units or more")


def _fps_from_frame_time(frame_time: float) -> float:
    """``1 / frame_time``, snapped to the nearest integer when within 1e-4 relative (0.0333333 s -> 30)."""
    fps = 1.0 / frame_time
    nearest = round(fps)
    if nearest > 0 and abs(fps - nearest) <= _FPS_SNAP_RTOL * nearest:
        return float(nearest)
    return fps


def _layout_for(data: BvhData) -> Layout:
    names = data.joint_names
    is_bandai = len(names) == len(BANDAI_JOINT_NAMES) and set(names) == BANDAI_JOINT_NAMES
    return Layout("bandai_bvh" if is_bandai else "bvh", names, data.parents)


def read_bvh(path: str | Path, *, scale: float | None = None) -> Motion:
    """Read a BVH file into a :class:`Motion` (joint world positions in metres, Y up).

    Args:
        path: the ``.bvh`` file.
        scale: factor from the file's length unit to metres (0.01 for centimetres). If
            ``None`` it is inferred from the rest-pose height (metres, centimetres,
            millimetres, inches or CMU BVH units; see :func:`infer_units`).

    Returns:
        A Motion with one joint per ROOT/JOINT (End Sites excluded), ``fps = 1 / Frame
        Time``, layout ``"bandai_bvh"`` for the Bandai Namco skeleton else ``"bvh"``;
        ``meta`` holds ``scale_to_metres``, ``units`` (its name), ``frame_time``, ``channels`` (per joint),
        ``offsets`` ([J, 3] metres) and ``end_sites`` (parent index -> offsets in metres).

    Raises:
        MotionFileError: any unreadable, malformed, truncated or non-finite input, or
            units that cannot be inferred (pass ``scale=``; ``--scale`` on the command line).
    """
    if scale is not None:
        try:
            scale = float(scale)
        except (TypeError, ValueError):
            raise MotionFileError(path, f"scale must be a number, got {scale!r}") from None
        if not (math.isfinite(scale) and scale > 0):
            raise MotionFileError(path, f"scale must be a positive finite number, got {scale!r}")
    data = parse_bvh(path)
    _check_translation_range(data, path)
    positions = forward_kinematics(data)
    if not np.all(np.abs(positions) < _MAX_ABS_COORD):
        raise MotionFileError(path, "joint coordinates out of range (corrupt OFFSET or position values?)")
    if scale is None:
        units, scale = infer_units(data, positions, path)
    else:
        units = next((name for name, value in UNITS if math.isclose(value, scale)), "given by scale")
    end_sites: dict[int, list[list[float]]] = {}
    for parent, offset in data.end_sites:
        end_sites.setdefault(parent, []).append([v * scale for v in offset])
    meta = {
        "scale_to_metres": scale,
        "units": units,
        "frame_time": data.frame_time,
        "channels": {j.name: list(j.channels) for j in data.joints},
        "offsets": np.asarray([j.offset for j in data.joints], dtype=np.float64) * scale,
        "end_sites": end_sites,
    }
    return Motion(
        joints=positions * scale,
        fps=_fps_from_frame_time(data.frame_time),
        layout=_layout_for(data),
        source=str(path),
        meta=meta,
    )
