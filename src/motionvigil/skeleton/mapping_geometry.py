"""Geometric checks of an automatic mapping over the motion's frames (step 3 of ``auto_map``).

:func:`check_geometry` requires the head above the pelvis (in the rest pose or in enough
frames), the left limbs on the body's left (the body's forward being where the toes
point; limbs without named sides get their side here) and human bone proportions.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from motionvigil.io.layouts import SMPL22_NAMES
from motionvigil.skeleton.joint_names import ARM_SLOTS, LEG_SLOTS
from motionvigil.skeleton.mapping_result import AutoMapping, MappingError

__all__ = ["check_geometry"]

_MIN_UPRIGHT = 0.2  # share of frames with the head above the pelvis, unless the rest pose is upright


def _frames(mapping: AutoMapping, names: Sequence[str], joints: np.ndarray) -> dict[str, np.ndarray]:
    smpl = np.einsum("sj,tjc->tsc", mapping.matrix(names), joints)
    return {name: smpl[:, i] for i, name in enumerate(SMPL22_NAMES)}


def _left_score(p: dict[str, np.ndarray], joint: str) -> float | None:
    """Share of frames where ``left_<joint>`` is on the body's left, or None without a cue.

    In the body's own frame (so that it holds lying down too): up = pelvis -> head,
    forward = where the toes point (across up), left = up x forward.
    """
    up = p["head"] - p["pelvis"]
    up /= np.maximum(np.linalg.norm(up, axis=-1, keepdims=True), 1e-9)
    forward = (p["left_foot"] - p["left_ankle"]) + (p["right_foot"] - p["right_ankle"])
    forward -= np.einsum("tc,tc->t", forward, up)[:, None] * up
    foot = np.linalg.norm(p["left_foot"] - p["left_ankle"], axis=-1) + 1e-9
    usable = np.linalg.norm(forward, axis=-1) > 0.3 * foot
    if usable.mean() < 0.5:
        return None
    left = np.cross(up[usable], forward[usable])
    across = (p[f"left_{joint}"] - p[f"right_{joint}"])[usable]
    return float((np.einsum("tc,tc->t", left, across) > 0).mean())


def _swap_sides(mapping: AutoMapping, kind_slots: Sequence[str]) -> None:
    for slot in kind_slots:
        left, right = f"left_{slot}", f"right_{slot}"
        mapping.mapping[left], mapping.mapping[right] = mapping.mapping[right], mapping.mapping[left]


def _upright(p: dict[str, np.ndarray]) -> np.ndarray:
    """Per frame: the head is above the pelvis by at least half their distance (Y up)."""
    trunk = p["head"] - p["pelvis"]
    return trunk[:, 1] > 0.5 * np.linalg.norm(trunk, axis=-1)


def check_geometry(mapping: AutoMapping, names, joints, side_from_names, fixed, rest=None) -> None:
    """Check ``mapping`` on the motion ``joints`` (see the module docstring); sets the sides of
    limbs whose names carry none (``side_from_names[kind]`` False and none fixed by hand).

    Raises:
        MappingError: the head is not above the pelvis, a named left limb is on the body's
            right, the sides cannot be told apart, or the bone proportions are not human.
    """
    p = _frames(mapping, names, joints)
    upright = float(_upright(p).mean())
    rest_upright = rest is not None and bool(_upright(_frames(mapping, names, np.asarray(rest)[None]))[0])
    if upright < _MIN_UPRIGHT and not rest_upright:
        raise MappingError(
            f"the head ({_name(mapping, 'head')}) is well above the pelvis in only {upright:.0%} of frames and "
            "not in the rest pose (not a Y-up file, or a wrong mapping: pass --joint-map FILE)"
        )
    for kind, slots, joint in (("leg", LEG_SLOTS, "hip"), ("arm", ARM_SLOTS, "shoulder")):
        score = _left_score(p, joint)
        if side_from_names[kind] or any(f"{s}_{slot}" in fixed for s in ("left", "right") for slot in slots):
            if score is not None and score < 0.2:
                raise MappingError(
                    f"the {kind} named left ({_name(mapping, f'left_{joint}')}) is on the body's right "
                    "(forward = where the toes point); pass --joint-map FILE"
                )
            continue
        if score is None:
            raise MappingError(f"cannot tell the left {kind} from the right: no side in the joint names and no "
                               "toe joints to find the body's forward direction (pass --joint-map FILE)")
        if score < 0.5:  # swapping the legs leaves forward (the sum of both feet) unchanged
            _swap_sides(mapping, slots)
        mapping.notes.append(f"{kind} sides from geometry")
        p = _frames(mapping, names, joints)
    lengths = {
        bone: float(np.median(np.linalg.norm(p[f"left_{b}"] - p[f"left_{a}"], axis=-1)))
        for bone, (a, b) in (("femur", ("hip", "knee")), ("shin", ("knee", "ankle")),
                             ("upper arm", ("shoulder", "elbow")))
    }
    trunk = float(np.median(np.linalg.norm(p["neck"] - p["pelvis"], axis=-1)))
    femur = lengths["femur"]
    ratios = {"shin / femur": lengths["shin"] / max(femur, 1e-9), "upper arm / femur": lengths["upper arm"] / max(femur, 1e-9),
              "pelvis-neck / femur": trunk / max(femur, 1e-9)}
    bounds = {"shin / femur": (0.5, 2.0), "upper arm / femur": (0.3, 1.5), "pelvis-neck / femur": (0.5, 3.5)}
    for key, value in ratios.items():
        low, high = bounds[key]
        if not (low <= value <= high) or not math.isfinite(value):
            raise MappingError(f"bone proportions are not human ({key} = {value:.2f}, expected {low}-{high}); "
                               "pass --joint-map FILE")


def _name(mapping: AutoMapping, smpl: str) -> str:
    mix = mapping.mapping[smpl]
    return "+".join(mix)
