"""Acclaim ASF skeletons (CMU mocap, HDM05): :func:`read_asf` gives an :class:`AsfSkeleton`.

The ASF file is split into its ``:`` sections (``:units``, ``:root``, ``:bonedata``,
``:hierarchy``), each parsed and checked; lengths are converted to metres and angles to
degrees (conventions in :mod:`motionvigil.io.asf_amc`). Every problem is a
:class:`MotionFileError` naming the file, the line and the problem.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from motionvigil.errors import MotionFileError
from motionvigil.io.acclaim_text import line_floats, read_text
from motionvigil.io.motion import Layout

__all__ = ["CMU_BONES", "INCH_IN_METRES", "ROTATION_DOFS", "AsfSkeleton", "read_asf"]

INCH_IN_METRES = 0.0254

#: The 30 bones of the CMU / HDM05 skeleton (the joints are ``root`` plus these).
CMU_BONES: tuple[str, ...] = (
    "lhipjoint", "lfemur", "ltibia", "lfoot", "ltoes",
    "rhipjoint", "rfemur", "rtibia", "rfoot", "rtoes",
    "lowerback", "upperback", "thorax", "lowerneck", "upperneck", "head",
    "lclavicle", "lhumerus", "lradius", "lwrist", "lhand", "lfingers", "lthumb",
    "rclavicle", "rhumerus", "rradius", "rwrist", "rhand", "rfingers", "rthumb",
)  # fmt: skip

#: The rotation dofs of a bone (the others, ``tx ty tz l``, are read but not applied).
ROTATION_DOFS = ("rx", "ry", "rz")
_BONE_DOFS = ("rx", "ry", "rz", "tx", "ty", "tz", "l")
_ROOT_CHANNELS = ("TX", "TY", "TZ", "RX", "RY", "RZ")


# --------------------------------------------------------------------------- skeleton


@dataclass(frozen=True, eq=False)
class AsfSkeleton:
    """An ASF skeleton, in metres and degrees.

    Attributes:
        path: the ASF file it was read from.
        name: the ``:name`` of the skeleton (``""`` when absent).
        bone_names: bone names in ``:bonedata`` order (the root is not a bone).
        parents: parent bone index per bone, ``-1`` for bones attached to the root.
        directions: ``[B, 3]`` unit direction of each bone in the rest pose (global frame).
        lengths: ``[B]`` bone lengths in metres.
        axis_angles: ``[B, 3]`` the ``axis`` angles about X, Y, Z in degrees.
        axis_orders: the ``axis`` rotation order per bone (e.g. ``"XYZ"``).
        dofs: the ``dof`` list of each bone (lowercase, e.g. ``("rx", "ry", "rz")``).
        root_order: the root's AMC channels in file order (e.g. ``("TX", ..., "RZ")``).
        root_axis: the root's rotation order (e.g. ``"XYZ"``).
        root_position: ``[3]`` root position offset in metres.
        root_orientation: ``[3]`` root orientation angles about X, Y, Z in degrees.
        units_length: the ``:units length`` value ``L`` (inches = value / L).
        units_angle: the ``:units angle`` of the ASF (``"deg"`` or ``"rad"``).
        fk_order: bone indices in an order where every parent precedes its children.
    """

    path: str
    name: str
    bone_names: tuple[str, ...]
    parents: tuple[int, ...]
    directions: np.ndarray
    lengths: np.ndarray
    axis_angles: np.ndarray
    axis_orders: tuple[str, ...]
    dofs: tuple[tuple[str, ...], ...]
    root_order: tuple[str, ...]
    root_axis: str
    root_position: np.ndarray
    root_orientation: np.ndarray
    units_length: float
    units_angle: str
    fk_order: tuple[int, ...]

    @property
    def num_bones(self) -> int:
        return len(self.bone_names)

    @property
    def metres_per_unit(self) -> float:
        """Metres per ASF length unit (``0.0254 / L``)."""
        return INCH_IN_METRES / self.units_length

    @property
    def joint_names(self) -> tuple[str, ...]:
        """``("root",) + bone_names``: the joints of the motions read with this skeleton."""
        return ("root",) + self.bone_names

    @property
    def joint_parents(self) -> tuple[int, ...]:
        """Parent joint index per joint (root ``-1``; bone ``b`` is joint ``b + 1``)."""
        return (-1,) + tuple(p + 1 for p in self.parents)

    @property
    def is_cmu(self) -> bool:
        """True when every CMU bone name is present."""
        return set(CMU_BONES).issubset(self.bone_names)

    def layout(self) -> Layout:
        """The joint layout: ``"cmu_asf"`` for CMU-named skeletons, else ``"asf"``."""
        return Layout("cmu_asf" if self.is_cmu else "asf", self.joint_names, self.joint_parents)

    def bone_index(self, name: str) -> int:
        """Index of bone ``name``; raises ``KeyError`` naming the file if absent."""
        try:
            return self.bone_names.index(name)
        except ValueError:
            raise KeyError(f"{self.path}: no bone {name!r}") from None



def _check_order(order: str, path: Path, lineno: int, what: str) -> str:
    """Validate a rotation order such as ``XYZ`` (a permutation of X, Y, Z)."""
    up = order.upper()
    if len(up) != 3 or sorted(up) != ["X", "Y", "Z"]:
        raise MotionFileError(
            path, f"line {lineno}: {what}: rotation order {order!r} is not a permutation of XYZ"
        )
    return up


def _counted_floats(tokens: list[str], count: int, path: Path, lineno: int, what: str, label: str) -> list[float]:
    """The ``count`` numbers after the keyword of a line; ``what`` names the line when the
    count is wrong (``"... needs 3 values, got 2"``), ``label`` when a value is bad."""
    if len(tokens) - 1 != count:
        values = "value" if count == 1 else "values"
        raise MotionFileError(path, f"line {lineno}: {what} needs {count} {values}, got {len(tokens) - 1}")
    return line_floats(tokens[1:], path, lineno, label)


def _distinct_names(
    tokens: list[str], allowed: tuple[str, ...], case: Callable[[str], str], path: Path, lineno: int, what: str
) -> tuple[str, ...]:
    """The names after the keyword of a line (``case`` applied), each one of ``allowed`` and
    none twice (a root ``order`` line, a bone ``dof`` line); ``what`` names the line."""
    names = tuple(case(t) for t in tokens[1:])
    if any(n not in allowed for n in names) or len(set(names)) != len(names):
        raise MotionFileError(
            path, f"line {lineno}: {what} {' '.join(tokens[1:])!r} must list distinct {' '.join(allowed)}"
        )
    return names


Lines = list[tuple[int, list[str]]]


def _asf_sections(text: str, path: Path) -> dict[str, tuple[int, list[str], Lines]]:
    """Split ASF text into ``{":keyword": (line number, keyword-line tokens, body lines)}``.

    Comments (``#`` to end of line) and blank lines are dropped.
    """
    sections: dict[str, tuple[int, list[str], Lines]] = {}
    current: Lines | None = None
    for lineno, raw in enumerate(text.splitlines(), 1):
        tokens = raw.split("#", 1)[0].split()
        if not tokens:
            continue
        if tokens[0].startswith(":"):
            key = tokens[0].lower()
            if key in sections:
                raise MotionFileError(path, f"line {lineno}: section {tokens[0]} appears twice")
            current = []
            sections[key] = (lineno, tokens[1:], current)
        elif current is None:
            raise MotionFileError(
                path, f"line {lineno}: text before the first ':' section: {raw.strip()[:40]!r}"
            )
        else:
            current.append((lineno, tokens))
    return sections


def _parse_units(body: Lines, path: Path) -> tuple[float, str]:
    """``(length L, angle unit)`` from the ``:units`` block."""
    length, angle = 1.0, "deg"
    for lineno, tokens in body:
        key = tokens[0].lower()
        if key == "length":
            if len(tokens) != 2:
                raise MotionFileError(path, f"line {lineno}: ':units length' needs one value")
            (length,) = line_floats(tokens[1:], path, lineno, "units length")
            if length <= 0:
                raise MotionFileError(path, f"line {lineno}: ':units length' must be positive, got {length}")
        elif key == "angle":
            unit = tokens[1].lower() if len(tokens) == 2 else ""
            if unit not in ("deg", "rad"):
                raise MotionFileError(path, f"line {lineno}: ':units angle' must be deg or rad")
            angle = unit
    return length, angle


def _parse_root(
    body: Lines, path: Path, header_line: int
) -> tuple[tuple[str, ...], str, list[float], list[float]]:
    """``(order, axis, position, orientation)`` from the ``:root`` block."""
    order: tuple[str, ...] | None = None
    axis: str | None = None
    position, orientation = [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]
    for lineno, tokens in body:
        key = tokens[0].lower()
        if key == "order":
            order = _distinct_names(tokens, _ROOT_CHANNELS, str.upper, path, lineno, "root order")
        elif key == "axis":
            if len(tokens) != 2:
                raise MotionFileError(path, f"line {lineno}: root axis needs one rotation order such as XYZ")
            axis = _check_order(tokens[1], path, lineno, "root axis")
        elif key in ("position", "orientation"):
            values = _counted_floats(tokens, 3, path, lineno, f"root {key}", f"root {key}")
            if key == "position":
                position = values
            else:
                orientation = values
    if order is None or axis is None:
        raise MotionFileError(path, f"line {header_line}: :root lacks its 'order' or 'axis' line")
    return order, axis, position, orientation


@dataclass
class _BoneSpec:
    """One ``begin ... end`` block of ``:bonedata`` (in file units)."""

    line: int
    name: str | None = None
    direction: list[float] | None = None
    length: float | None = None
    axis: tuple[float, float, float] = (0.0, 0.0, 0.0)
    axis_order: str = "XYZ"
    dof: tuple[str, ...] = ()


def _parse_bone_line(spec: _BoneSpec, lineno: int, tokens: list[str], path: Path) -> None:
    """Apply one ``key values`` line of a bone block to ``spec``."""
    key = tokens[0].lower()
    where = f"bone {spec.name!r}" if spec.name else f"bone block at line {spec.line}"
    if key == "name":
        if len(tokens) != 2:
            raise MotionFileError(path, f"line {lineno}: {where}: 'name' needs exactly one word")
        spec.name = tokens[1]
    elif key == "direction":
        spec.direction = _counted_floats(tokens, 3, path, lineno, f"{where}: direction", f"{where} direction")
    elif key == "length":
        (spec.length,) = _counted_floats(tokens, 1, path, lineno, f"{where}: length", f"{where} length")
        if spec.length < 0:
            raise MotionFileError(path, f"line {lineno}: {where}: negative length {spec.length}")
    elif key == "axis":
        if len(tokens) != 5:
            raise MotionFileError(
                path, f"line {lineno}: {where}: axis needs 3 angles and an order such as XYZ"
            )
        ax, ay, az = line_floats(tokens[1:4], path, lineno, f"{where} axis")
        spec.axis = (ax, ay, az)
        spec.axis_order = _check_order(tokens[4], path, lineno, f"{where} axis")
    elif key == "dof":
        spec.dof = _distinct_names(tokens, _BONE_DOFS, str.lower, path, lineno, f"{where}: dof")
    # id, limits (and their '(' continuation lines), bodymass, cofmass: not needed.


def _parse_bonedata(body: Lines, path: Path) -> list[_BoneSpec]:
    """The bone blocks of ``:bonedata``, each checked for name, direction and length."""
    bones: list[_BoneSpec] = []
    spec: _BoneSpec | None = None
    for lineno, tokens in body:
        key = tokens[0].lower()
        if key == "begin":
            if spec is not None:
                raise MotionFileError(
                    path, f"line {lineno}: 'begin' inside the bone block opened at line {spec.line}"
                )
            spec = _BoneSpec(line=lineno)
        elif key == "end":
            if spec is None:
                raise MotionFileError(path, f"line {lineno}: 'end' without 'begin' in :bonedata")
            bones.append(_finish_bone(spec, path))
            spec = None
        elif spec is None:
            raise MotionFileError(path, f"line {lineno}: {tokens[0]!r} outside a begin/end bone block")
        else:
            _parse_bone_line(spec, lineno, tokens, path)
    if spec is not None:
        raise MotionFileError(path, f"bone block opened at line {spec.line} has no 'end' (truncated file?)")
    if not bones:
        raise MotionFileError(path, ":bonedata holds no bones")
    return bones


def _finish_bone(spec: _BoneSpec, path: Path) -> _BoneSpec:
    """Check that a closed bone block has what forward kinematics needs."""
    if spec.name is None:
        raise MotionFileError(path, f"bone block at line {spec.line} has no 'name'")
    for field_name in ("direction", "length"):
        if getattr(spec, field_name) is None:
            raise MotionFileError(path, f"bone {spec.name!r} (line {spec.line}) has no '{field_name}'")
    assert spec.direction is not None and spec.length is not None
    direction = np.asarray(spec.direction, dtype=np.float64)
    biggest = float(np.abs(direction).max())
    if biggest < 1e-9:
        if spec.length > 0:
            raise MotionFileError(path, f"bone {spec.name!r} (line {spec.line}) has a zero direction vector")
        spec.direction = [0.0, 0.0, 0.0]
    else:
        scaled = direction / biggest  # scale first so that huge components cannot overflow
        spec.direction = (scaled / np.linalg.norm(scaled)).tolist()
    return spec


def _parse_hierarchy(body: Lines, names: tuple[str, ...], path: Path) -> tuple[int, ...]:
    """Parent bone index per bone (``-1`` = root) from ``:hierarchy`` lines ``parent child ...``."""
    index = {n: i for i, n in enumerate(names)}
    parent_of: dict[str, str] = {}
    for lineno, tokens in body:
        if tokens[0].lower() in ("begin", "end") and len(tokens) == 1:
            continue
        parent, children = tokens[0], tokens[1:]
        if parent != "root" and parent not in index:
            raise MotionFileError(path, f"line {lineno}: :hierarchy names unknown bone {parent!r}")
        for child in children:
            if child == "root":
                raise MotionFileError(path, f"line {lineno}: :hierarchy gives the root a parent ({parent!r})")
            if child not in index:
                raise MotionFileError(path, f"line {lineno}: :hierarchy names unknown bone {child!r}")
            if child in parent_of:
                raise MotionFileError(
                    path,
                    f"line {lineno}: bone {child!r} has two parents ({parent_of[child]!r} and {parent!r})",
                )
            parent_of[child] = parent
    orphans = [n for n in names if n not in parent_of]
    if orphans:
        raise MotionFileError(path, f":hierarchy does not attach bone(s) {', '.join(orphans)}")
    _check_acyclic(parent_of, path)
    return tuple(-1 if parent_of[n] == "root" else index[parent_of[n]] for n in names)


def _check_acyclic(parent_of: dict[str, str], path: Path) -> None:
    """Raise if following parents from some bone never reaches the root."""
    reaches_root: set[str] = set()
    for start in parent_of:
        chain: list[str] = []
        node = start
        while node != "root" and node not in reaches_root:
            if node in chain:
                loop = chain[chain.index(node) :] + [node]
                raise MotionFileError(path, f":hierarchy has a cycle: {' -> '.join(loop)}")
            chain.append(node)
            node = parent_of[node]
        reaches_root.update(chain)


def _fk_order(parents: tuple[int, ...]) -> tuple[int, ...]:
    """Bone indices, parents before children (breadth first from the root)."""
    children: dict[int, list[int]] = {}
    for b, p in enumerate(parents):
        children.setdefault(p, []).append(b)
    order: list[int] = []
    frontier = list(children.get(-1, []))
    while frontier:
        order.extend(frontier)
        frontier = [c for b in frontier for c in children.get(b, [])]
    return tuple(order)


def read_asf(path: str | Path) -> AsfSkeleton:
    """Read an Acclaim ASF skeleton (lengths converted to metres, angles to degrees).

    Raises:
        MotionFileError: missing or unreadable file, no ``:root``/``:bonedata``/``:hierarchy``,
            malformed values, duplicate or reserved bone names, a hierarchy that names an
            unknown bone, leaves a bone unattached or has a cycle.
    """
    path = Path(path)
    text = read_text(path, "ASF skeleton")
    sections = _asf_sections(text, path)
    for required in (":root", ":bonedata", ":hierarchy"):
        if required not in sections:
            raise MotionFileError(path, f"not an ASF skeleton: no {required} section")
    length_unit, angle_unit = (1.0, "deg")
    if ":units" in sections:
        length_unit, angle_unit = _parse_units(sections[":units"][2], path)
    root_line, _, root_body = sections[":root"]
    root_order, root_axis, root_position, root_orientation = _parse_root(root_body, path, root_line)
    specs = _parse_bonedata(sections[":bonedata"][2], path)
    names = tuple(s.name for s in specs if s.name is not None)
    seen: set[str] = set()
    for s in specs:
        if s.name == "root":
            raise MotionFileError(path, f"line {s.line}: a bone may not be named 'root'")
        if s.name in seen:
            raise MotionFileError(path, f"line {s.line}: bone name {s.name!r} is used twice")
        seen.add(s.name)  # type: ignore[arg-type]
    parents = _parse_hierarchy(sections[":hierarchy"][2], names, path)

    to_deg = 1.0 if angle_unit == "deg" else 180.0 / np.pi
    metres = INCH_IN_METRES / length_unit
    directions = np.array([s.direction for s in specs], dtype=np.float64)  # unit vectors already
    with np.errstate(all="ignore"):
        lengths = np.array([s.length for s in specs], dtype=np.float64) * metres
        root_offset = np.array(root_position, dtype=np.float64) * metres
    if not (math.isfinite(metres) and np.isfinite(lengths).all() and np.isfinite(root_offset).all()):
        raise MotionFileError(path, "bone lengths or root position overflow when converted to metres")
    name_line = sections.get(":name", (0, [], []))[1]
    return AsfSkeleton(
        path=str(path),
        name=" ".join(name_line),
        bone_names=names,
        parents=parents,
        directions=_frozen(directions),
        lengths=_frozen(lengths),
        axis_angles=_frozen(np.array([s.axis for s in specs], dtype=np.float64) * to_deg),
        axis_orders=tuple(s.axis_order for s in specs),
        dofs=tuple(s.dof for s in specs),
        root_order=root_order,
        root_axis=root_axis,
        root_position=_frozen(root_offset),
        root_orientation=_frozen(np.array(root_orientation, dtype=np.float64) * to_deg),
        units_length=float(length_unit),
        units_angle=angle_unit,
        fk_order=_fk_order(parents),
    )


def _frozen(arr: np.ndarray) -> np.ndarray:
    arr.setflags(write=False)
    return arr
