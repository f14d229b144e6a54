"""Map any named joint hierarchy (BVH files, npz files with joint names) to SMPL-22.

The fixed maps of :mod:`motionvigil.skeleton.mappings` cover layouts known by name
(Bandai Namco, CMU ASF, Kinect, ...). Every other hierarchy is mapped here from its
joint names and its tree:

1. **Names.** Namespace prefixes are stripped (``mixamorig:``, ``Character1_``,
   ``Bip01``, anything up to a ``:`` or ``|``); the side is read from ``Left``/``Right``,
   ``L_``/``_R``, ``.L``, ``LHipJoint``-style prefixes; what is left is looked up in
   :data:`LEG_PARTS`, :data:`ARM_PARTS` and :data:`CENTRE_PARTS`, synonyms across the
   naming families of the CMU BVH conversions, Mixamo, LAFAN1, Unreal's mannequin,
   SMPL, Bandai Namco, Rokoko, Truebones, 3ds Max Biped, Unity/Blender and Kinect v2
   (``ShoulderLeft``). Names that are ambiguous between families are settled by their
   neighbours: ``Shoulder`` is the clavicle when the same arm has an ``Arm``/``UpperArm``
   (Mixamo, Bandai), else the shoulder joint (SMPL, Kinect); ``Foot`` is SMPL's foot when
   the leg has an ``Ankle``, else the ankle.
2. **Tree.** Each limb's joints must follow each other down the hierarchy; the pelvis is
   the hips joint above both legs (else the legs' lowest common ancestor). SMPL's
   three spine joints (and the neck, when the file has none) lie on the chain from the
   pelvis to the neck (or head) at the arc-length fractions of SMPL's reference
   skeleton; a missing collar is halfway between spine3 and the shoulder; a missing
   toe is extrapolated below the ankle.
3. **Geometry** (over the motion's frames, so that rest poses whose OFFSETs are not a
   standing pose still work): the head must be above the pelvis (in the rest pose, or in
   at least a fifth of the frames: clips of people lying down pass), bone-length
   proportions human, and the left limbs on the body's left, the body's forward being
   where the toes point. Limbs whose names carry no side get it from this geometry;
   named sides that contradict it are an error.

Any failure is a :class:`MappingError` whose one-line message lists the SMPL-22 joints
that could not be matched and the file's joint names; ``--joint-map FILE`` (see
:func:`read_joint_map`) then settles any joint by hand.

Step 1 lives in :mod:`motionvigil.skeleton.joint_names`, step 3 in
:mod:`motionvigil.skeleton.mapping_geometry`, joint-map files in
:mod:`motionvigil.skeleton.joint_map` and the result type and its error in
:mod:`motionvigil.skeleton.mapping_result`; this module does step 2 (the tree), puts the
steps together in :func:`auto_map` and re-exports the public names of the others.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from motionvigil.io.layouts import SMPL22_NAMES
from motionvigil.io.joint_map import check_joint_map, read_joint_map
from motionvigil.skeleton.joint_names import (
    ARM_PARTS,
    ARM_SLOTS,
    CENTRE_PARTS,
    LEG_PARTS,
    LEG_SLOTS,
    JointName,
    split_name,
    tag_stripped,
)
from motionvigil.skeleton.mapping_geometry import check_geometry
from motionvigil.skeleton.mapping_result import AutoMapping, MappingError, Mix

__all__ = [
    "ARM_PARTS", "ARM_SLOTS", "CENTRE_PARTS", "LEG_PARTS", "LEG_SLOTS", "AutoMapping", "JointName",
    "MappingError", "Mix", "auto_map", "check_joint_map", "read_joint_map", "split_name",
]  # fmt: skip

# SMPL's reference trunk (HumanML3D bone lengths, metres): pelvis -> spine1 -> spine2
# -> spine3 -> neck -> head.
_TRUNK_BONES = (0.131568, 0.143190, 0.057365, 0.219360, 0.143382)
_MAX_NAMES_IN_ERROR = 80


@dataclass
class _Tree:
    names: tuple[str, ...]
    parents: tuple[int, ...]
    depth: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        n = len(self.names)
        if len(self.parents) != n:
            raise MappingError(f"{n} joint names but {len(self.parents)} parents")
        dupes = sorted({x for x in self.names if self.names.count(x) > 1})
        if dupes:
            raise MappingError(f"duplicate joint names {', '.join(map(repr, dupes[:10]))}")
        self.depth = [-1] * n
        for start in range(n):
            path, j = [], start
            while j >= 0 and self.depth[j] < 0:
                if not -1 <= self.parents[j] < n or j in path:
                    raise MappingError(f"the joint hierarchy has a cycle or a bad parent at {self.names[j]!r}")
                path.append(j)
                j = self.parents[j]
            base = self.depth[j] if j >= 0 else -1
            for k in reversed(path):
                base += 1
                self.depth[k] = base

    def ancestors(self, j: int) -> list[int]:
        """``j`` and its ancestors, ``j`` first."""
        out = []
        while j >= 0:
            out.append(j)
            j = self.parents[j]
        return out

    def is_ancestor(self, a: int, b: int) -> bool:
        """``a`` is ``b`` or above it."""
        return a in self.ancestors(b)

    def lca(self, a: int, b: int) -> int:
        above = set(self.ancestors(a))
        return next((j for j in self.ancestors(b) if j in above), -1)



def _limb_candidates(tree: _Tree, table: Mapping[str, tuple[int, ...]]) -> list[tuple[int, str | None, tuple[int, ...]]]:
    out = []
    for j, name in enumerate(tree.names):
        parsed = split_name(name)
        slots = table.get(parsed.key)
        if slots is None and parsed.side is None:
            stripped = tag_stripped(name)
            slots = table.get(stripped) if stripped else None
        if slots is None:
            continue
        if parsed.side is None and table is LEG_PARTS and parsed.key == "hip":
            continue  # an unsided "Hip" is the pelvis
        out.append((j, parsed.side, slots))
    return out


def _group_limbs(tree: _Tree, cands: list[tuple[int, str | None, tuple[int, ...]]]) -> dict[str, list]:
    """Candidates per limb: ``"left"``/``"right"`` by name, else ``"A"``/``"B"`` by subtree."""
    sided = [c for c in cands if c[1] is not None]
    if {c[1] for c in sided} == {"left", "right"}:
        return {side: [c for c in sided if c[1] == side] for side in ("left", "right")}
    unsided = [c for c in cands if c[1] is None] or sided
    members = {c[0] for c in unsided}
    groups: dict[int, list] = {}
    for c in unsided:
        top = [a for a in tree.ancestors(c[0]) if a in members][-1]
        groups.setdefault(top, []).append(c)
    if len(groups) != 2:
        return {}
    first, second = sorted(groups, key=lambda g: tree.names[g])
    return {"A": groups[first], "B": groups[second]}


def _assign_slots(tree: _Tree, cands: list) -> list[int | None]:
    """Joint index per slot (None = not found) for one limb, checked down the tree."""
    exclusive = {c[2][0] for c in cands if len(c[2]) == 1}
    slots: list[list[int]] = [[] for _ in range(4)]
    for j, _, options in cands:
        usual = options[0]
        slots[options[1] if len(options) > 1 and usual in exclusive else usual].append(j)
    chosen = [min(s, key=lambda j: tree.depth[j]) if s else None for s in slots]
    found = [j for j in chosen if j is not None]
    for upper, lower in zip(found, found[1:]):
        if not tree.is_ancestor(upper, lower) or upper == lower:
            raise MappingError(
                f"limb joints {tree.names[upper]!r} and {tree.names[lower]!r} are not one below the other"
            )
    return chosen


def _point_on_chain(chain: list[int], lengths: np.ndarray, fraction: float, names: tuple[str, ...]) -> Mix:
    """The point ``fraction`` of the arc length along ``chain`` (joint indices) as a mix."""
    total = float(lengths.sum())
    if total <= 0 or len(chain) == 1:
        return {names[chain[0]]: 1.0}
    target = fraction * total
    run = 0.0
    for k, seg in enumerate(lengths):
        if run + seg >= target or k == len(lengths) - 1:
            t = 0.0 if seg <= 0 else float(min(max((target - run) / seg, 0.0), 1.0))
            mix: Mix = {}
            for name, w in ((names[chain[k]], 1.0 - t), (names[chain[k + 1]], t)):
                if w > 1e-9:
                    mix[name] = mix.get(name, 0.0) + w
            return mix
        run += seg
    return {names[chain[-1]]: 1.0}


def _combine(*parts: tuple[float, Mix]) -> Mix:
    out: Mix = {}
    for weight, mix in parts:
        for name, w in mix.items():
            out[name] = out.get(name, 0.0) + weight * w
    return {k: v for k, v in out.items() if abs(v) > 1e-12}


def _bone_length(joints: np.ndarray | None, a: int, b: int) -> float:
    if joints is None:
        return 1.0
    return float(np.median(np.linalg.norm(joints[:, a] - joints[:, b], axis=-1)))


def _missing_error(missing: Sequence[str], names: Sequence[str], layout_name: str) -> MappingError:
    printable = [n if n.isprintable() else repr(n) for n in names[:_MAX_NAMES_IN_ERROR]]  # one line, always
    shown = ", ".join(printable) + (" ..." if len(names) > _MAX_NAMES_IN_ERROR else "")
    return MappingError(
        f"no SMPL-22 mapping for skeleton layout {layout_name!r}: could not match {', '.join(missing)}; "
        f"the file's joints are {shown} (pass --joint-map FILE)"
    )


def auto_map(
    names: Sequence[str],
    parents: Sequence[int],
    joints: np.ndarray | None = None,
    *,
    fixed: Mapping[str, str | Mix] | None = None,
    layout_name: str = "bvh",
    rest: np.ndarray | None = None,
) -> AutoMapping:
    """Map a hierarchy to SMPL-22 (see the module docstring).

    Args:
        names, parents: the hierarchy (any joint order; parent -1 = a root).
        joints: ``[T, J, 3]`` positions (metres, Y up) used for the chain fractions and the
            geometric checks; ``None`` skips both (limbs without named sides then fail).
        fixed: SMPL-22 joint -> file joint (or mix) settled by hand; they take precedence.
        layout_name: for the error message.
        rest: ``[J, 3]`` rest-pose positions (e.g. from BVH OFFSETs), if known: an upright
            rest pose passes the head-above-pelvis check even when the motion lies down.

    Raises:
        MappingError: duplicate names, a cycle, joints that cannot be matched (listed),
            or a mapping that fails the geometric checks.
    """
    names = tuple(str(n) for n in names)
    tree = _Tree(names, tuple(int(p) for p in parents))
    fixed = dict(fixed or {})
    for smpl, value in fixed.items():
        for name in ([value] if isinstance(value, str) else list(value)):
            if name not in names:
                raise MappingError(f"joint map: {smpl} -> {name!r}, but the file has no joint {name!r}")
    if joints is not None:
        joints = np.asarray(joints, dtype=np.float64)
    index = {n: i for i, n in enumerate(names)}
    notes: list[str] = []

    def fixed_joint(smpl: str) -> int | None:
        value = fixed.get(smpl)
        return index[value] if isinstance(value, str) else None

    # limbs
    limbs: dict[str, dict[str, list[int | None]]] = {}
    for kind, table in (("leg", LEG_PARTS), ("arm", ARM_PARTS)):
        groups = _group_limbs(tree, _limb_candidates(tree, table))
        limbs[kind] = {g: _assign_slots(tree, c) for g, c in groups.items()}
    side_from_names = {kind: set(groups) == {"left", "right"} for kind, groups in limbs.items()}

    # centre: pelvis, neck, head
    centre: dict[str, list[int]] = {}
    for j, name in enumerate(names):
        parsed = split_name(name)
        part = CENTRE_PARTS.get(parsed.key) if parsed.side is None else None
        if part is None and parsed.side is None:
            stripped = tag_stripped(name)
            part = CENTRE_PARTS.get(stripped) if stripped == "neck" else None
        if part is not None:
            centre.setdefault(part, []).append(j)
    hips = [g[0] for g in limbs["leg"].values() if g[0] is not None]
    pelvis = fixed_joint("pelvis")
    if pelvis is None:
        above_legs = [j for j in centre.get("pelvis", []) if all(tree.is_ancestor(j, h) for h in hips)]
        if above_legs:
            pelvis = min(above_legs, key=lambda j: tree.depth[j])
        elif len(hips) == 2 and tree.lca(*hips) >= 0:
            pelvis = tree.lca(*hips)
            notes.append(f"pelvis = {names[pelvis]} (where the legs meet)")
    head = fixed_joint("head")
    if head is None and centre.get("head"):
        below = [j for j in centre["head"] if pelvis is None or tree.is_ancestor(pelvis, j)]
        head = min(below, key=lambda j: tree.depth[j]) if below else None
    neck = fixed_joint("neck")
    if neck is None and head is not None and pelvis is not None:
        on_path = [j for j in centre.get("neck", []) if tree.is_ancestor(j, head) and tree.is_ancestor(pelvis, j)]
        neck = min(on_path, key=lambda j: tree.depth[j]) if on_path else None

    # which found, which missing
    mapping: dict[str, Mix] = {}
    missing: list[str] = []
    for smpl, j in (("pelvis", pelvis), ("head", head)):
        if j is None:
            missing.append(smpl)
        else:
            mapping[smpl] = {names[j]: 1.0}
    groups_for: dict[str, dict[str, str]] = {}
    for kind, slots_names in (("leg", LEG_SLOTS), ("arm", ARM_SLOTS)):
        groups = limbs[kind]
        keys = sorted(groups)
        groups_for[kind] = {"left": keys[0], "right": keys[1]} if len(keys) == 2 else {}
        if side_from_names[kind]:
            groups_for[kind] = {"left": "left", "right": "right"}
        for side in ("left", "right"):
            got = groups[groups_for[kind][side]] if groups_for[kind] else [None] * 4
            for slot, j in zip(slots_names, got):
                smpl = f"{side}_{slot}"
                override = fixed_joint(smpl)
                j = override if override is not None else j
                if j is not None:
                    mapping[smpl] = {names[j]: 1.0}
                elif smpl in fixed:
                    mapping[smpl] = dict(fixed[smpl])  # a mix given by hand
                elif slot not in ("collar", "foot"):
                    missing.append(smpl)
    missing = [m for m in missing if m not in fixed]
    if missing:
        order = {n: i for i, n in enumerate(SMPL22_NAMES)}
        raise _missing_error(sorted(set(missing), key=order.get), names, layout_name)

    # trunk: spine1-3 (and neck) along the pelvis -> neck (or head) chain
    top = neck if neck is not None else head
    chain = list(reversed(tree.ancestors(top)))
    if pelvis not in chain:
        raise MappingError(f"the pelvis {names[pelvis]!r} is not below the head {names[head]!r} in the hierarchy")
    chain = chain[chain.index(pelvis):]
    lengths = np.array([_bone_length(joints, a, b) for a, b in zip(chain, chain[1:])])
    cumulative = np.cumsum(_TRUNK_BONES)
    total = cumulative[3] if neck is not None else cumulative[4]
    for k, smpl in enumerate(("spine1", "spine2", "spine3", "neck")):
        if smpl == "neck" and neck is not None:
            mapping["neck"] = {names[neck]: 1.0}
            continue
        mapping[smpl] = _point_on_chain(chain, lengths, float(cumulative[k] / total), names)
    if neck is None:
        notes.append("neck interpolated between the pelvis and the head")
    for side in ("left", "right"):
        if f"{side}_collar" not in mapping:
            mapping[f"{side}_collar"] = _combine((0.5, mapping["spine3"]), (0.5, mapping[f"{side}_shoulder"]))
            notes.append(f"{side}_collar interpolated between spine3 and the shoulder")
        if f"{side}_foot" not in mapping:
            ankle, knee = (index[next(iter(mapping[f"{side}_{s}"]))] for s in ("ankle", "knee"))
            mapping[f"{side}_foot"] = {names[ankle]: 1.25, names[knee]: -0.25}
            notes.append(f"{side}_foot extrapolated below the ankle (no toe joint)")
    for smpl, value in fixed.items():
        mapping[smpl] = {value: 1.0} if isinstance(value, str) else dict(value)

    result = AutoMapping(mapping, notes)
    if joints is not None and len(fixed) < len(SMPL22_NAMES):
        check_geometry(result, names, joints, side_from_names, fixed, rest)
    return result
