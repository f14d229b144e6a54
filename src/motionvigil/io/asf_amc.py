"""Acclaim ASF skeletons and AMC motions (CMU mocap, HDM05) as :class:`Motion`.

Why a parser of our own: no maintained PyPI package reads ASF/AMC with input
validation (every bad file must become one :class:`MotionFileError` naming the file
and the problem) and forward kinematics vectorised over frames; what exists are
unmaintained scripts that loop over frames in Python and fail with bare
``IndexError``/``KeyError`` on damaged files. The format is small, so it is parsed here.

Conventions (the Acclaim format as the CMU and HDM05 databases use it):

* Lengths: ``:units length L`` means ``inches = value / L``; we convert to metres
  (``x 0.0254``). Without a ``:units`` block, values are taken as inches (``L = 1``).
* Angles: ``:units angle deg|rad`` for the ASF; the AMC header's ``:DEGREES`` or
  ``:RADIANS`` for the motion values (the ASF unit when the AMC says neither).
* Euler angles: an order such as ``XYZ`` means rotate about X first, then Y, then Z,
  about fixed axes (``R = Rz @ Ry @ Rx``; scipy's lowercase ``"xyz"``). A bone's
  ``axis ax ay az XYZ`` gives the angles about X, Y and Z, applied in the declared
  order (the same for the root's ``orientation`` with the root ``axis``).
* Forward kinematics, per bone: ``C`` = rotation of its ``axis``; ``M`` = rotation of
  its AMC values, applied in the order its ``dof`` lists them (a rotation dof it lacks
  is 0); local ``L = C @ M @ C^-1``; global ``G = G_parent @ L``; bone end =
  parent end + ``G @ (direction * length)``. The root: ``G_root = C_o @ M_root @ C_o^-1``
  with ``C_o`` from ``orientation`` and ``M_root`` from its RX RY RZ values in the
  order of the root ``axis``; root position = ``position`` + (TX, TY, TZ).
* Translation dofs of bones (``tx ty tz l``) are read and counted but do not move the
  skeleton (no CMU or HDM05 file uses them); ``meta["ignored_dofs"]`` lists them.
* Joints: ``root`` (at the root position) then one joint per bone at the bone's END
  point, in ``:bonedata`` order; metres, Y up (ASF is Y up).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.spatial.transform import Rotation

from motionvigil.errors import MotionFileError
from motionvigil.io.tokens import first_non_float, is_float
from motionvigil.io.motion import MIN_FRAMES, Layout, Motion

__all__ = [
    "CMU_BONES",
    "AsfSkeleton",
    "find_asf",
    "forward_kinematics",
    "read_amc",
    "read_asf",
]

INCH_IN_METRES = 0.0254

#: The 30 bones of the CMU / HDM05 skeleton (the joints are ``root`` plus these).
CMU_BONES: tuple[str, ...] = (
    "lhipjoint", "lfemur", "ltibia", "lfoot", "ltoes",
    "rhipjoint", "rfemur", "rtibia", "rfoot", "rtoes",
    "lowerback", "upperback", "thorax", "lowerneck", "upperneck", "head",
    "lclavicle", "lhumerus", "lradius", "lwrist", "lhand", "lfingers", "lthumb",
    "rclavicle", "rhumerus", "rradius", "rwrist", "rhand", "rfingers", "rthumb",
)  # fmt: skip

_ROT_DOFS = ("rx", "ry", "rz")
_BONE_DOFS = frozenset(("rx", "ry", "rz", "tx", "ty", "tz", "l"))
_ROOT_CHANNELS = frozenset(("TX", "TY", "TZ", "RX", "RY", "RZ"))
_AXIS_INDEX = {"x": 0, "y": 1, "z": 2}
_MAX_COORD = 1e30  # joints are stored as float32 (max 3.4e38); larger means a broken file


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


def _read_text(path: Path, what: str) -> str:
    """The file's text (latin-1, so any byte decodes); MotionFileError if unreadable."""
    if not path.is_file():
        raise MotionFileError(path, f"no such {what} file")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise MotionFileError(path, f"cannot read {what} file ({exc.strerror})") from None
    if not data.strip():
        raise MotionFileError(path, f"empty {what} file")
    return data.decode("latin-1")


def _floats(tokens: list[str], path: Path, lineno: int, what: str) -> list[float]:
    """Parse finite floats; MotionFileError naming the line and ``what`` otherwise."""
    try:
        values = list(map(float, tokens))
    except ValueError:
        bad = first_non_float(tokens)
        raise MotionFileError(path, f"line {lineno}: {what}: non-numeric value {bad!r}") from None
    if not all(map(math.isfinite, values)):
        bad_value = next(v for v in values if not math.isfinite(v))
        raise MotionFileError(path, f"line {lineno}: {what}: non-finite value {bad_value!r} (NaN or inf)")
    return values



def _check_order(order: str, path: Path, lineno: int, what: str) -> str:
    """Validate a rotation order such as ``XYZ`` (a permutation of X, Y, Z)."""
    up = order.upper()
    if len(up) != 3 or sorted(up) != ["X", "Y", "Z"]:
        raise MotionFileError(
            path, f"line {lineno}: {what}: rotation order {order!r} is not a permutation of XYZ"
        )
    return up


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
            (length,) = _floats(tokens[1:], path, lineno, "units length")
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
            order = tuple(t.upper() for t in tokens[1:])
            unknown = [t for t in order if t not in _ROOT_CHANNELS]
            if unknown or len(set(order)) != len(order):
                raise MotionFileError(
                    path,
                    f"line {lineno}: root order {' '.join(tokens[1:])!r} "
                    "must list distinct TX TY TZ RX RY RZ",
                )
        elif key == "axis":
            if len(tokens) != 2:
                raise MotionFileError(path, f"line {lineno}: root axis needs one rotation order such as XYZ")
            axis = _check_order(tokens[1], path, lineno, "root axis")
        elif key in ("position", "orientation"):
            if len(tokens) != 4:
                raise MotionFileError(
                    path, f"line {lineno}: root {key} needs 3 values, got {len(tokens) - 1}"
                )
            values = _floats(tokens[1:], path, lineno, f"root {key}")
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
        if len(tokens) != 4:
            raise MotionFileError(
                path, f"line {lineno}: {where}: direction needs 3 values, got {len(tokens) - 1}"
            )
        spec.direction = _floats(tokens[1:], path, lineno, f"{where} direction")
    elif key == "length":
        if len(tokens) != 2:
            raise MotionFileError(
                path, f"line {lineno}: {where}: length needs 1 value, got {len(tokens) - 1}"
            )
        (spec.length,) = _floats(tokens[1:], path, lineno, f"{where} length")
        if spec.length < 0:
            raise MotionFileError(path, f"line {lineno}: {where}: negative length {spec.length}")
    elif key == "axis":
        if len(tokens) != 5:
            raise MotionFileError(
                path, f"line {lineno}: {where}: axis needs 3 angles and an order such as XYZ"
            )
        ax, ay, az = _floats(tokens[1:4], path, lineno, f"{where} axis")
        spec.axis = (ax, ay, az)
        spec.axis_order = _check_order(tokens[4], path, lineno, f"{where} axis")
    elif key == "dof":
        dof = tuple(t.lower() for t in tokens[1:])
        unknown = [d for d in dof if d not in _BONE_DOFS]
        if unknown or len(set(dof)) != len(dof):
            raise MotionFileError(
                path,
                f"line {lineno}: {where}: dof {' '.join(tokens[1:])!r} "
                "must list distinct rx ry rz tx ty tz l",
            )
        spec.dof = dof
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
    text = _read_text(path, "ASF skeleton")
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


# --------------------------------------------------------------------------- kinematics


def _euler_matrix(order: str, angles_xyz: np.ndarray, degrees: bool) -> np.ndarray:
    """Rotation matrix (or ``[T, 3, 3]`` stack) for angles about X, Y, Z applied in ``order``."""
    seq = order.lower()
    angles = np.asarray(angles_xyz, dtype=np.float64)[..., [_AXIS_INDEX[c] for c in seq]]
    return Rotation.from_euler(seq, angles, degrees=degrees).as_matrix()


def forward_kinematics(
    skeleton: AsfSkeleton, channels: dict[str, np.ndarray], *, degrees: bool = True
) -> np.ndarray:
    """Joint positions ``[T, 1 + B, 3]`` in metres: the root, then each bone's end point.

    Args:
        skeleton: the ASF skeleton.
        channels: ``"root"`` -> ``[T, len(root_order)]`` values in root-order; each bone
            name -> ``[T, len(dof)]`` values in dof order. Absent bones keep their rest pose.
        degrees: whether the rotation values are in degrees (else radians).

    Vectorised over frames; the Python loop runs over bones only.
    """
    root = np.asarray(channels["root"], dtype=np.float64)
    n_frames = root.shape[0]
    translation = np.zeros((n_frames, 3))
    rotation = np.zeros((n_frames, 3))
    for col, ch in enumerate(skeleton.root_order):
        target = translation if ch[0] == "T" else rotation
        target[:, _AXIS_INDEX[ch[1].lower()]] = root[:, col]
    c_root = _euler_matrix(skeleton.root_axis, skeleton.root_orientation, degrees=True)
    m_root = _euler_matrix(skeleton.root_axis, rotation, degrees=degrees)
    g_root = c_root @ m_root @ c_root.T
    p_root = skeleton.root_position + translation * skeleton.metres_per_unit

    n_bones = skeleton.num_bones
    out = np.empty((n_frames, 1 + n_bones, 3))
    out[:, 0] = p_root
    rotations: list[np.ndarray | None] = [None] * n_bones
    offsets = skeleton.directions * skeleton.lengths[:, None]
    for b in skeleton.fk_order:
        parent = skeleton.parents[b]
        g_parent = g_root if parent < 0 else rotations[parent]
        assert g_parent is not None
        g_bone = g_parent
        rot_cols = [i for i, d in enumerate(skeleton.dofs[b]) if d in _ROT_DOFS]
        values = channels.get(skeleton.bone_names[b])
        if rot_cols and values is not None:
            seq = "".join(skeleton.dofs[b][i][1] for i in rot_cols)
            m = Rotation.from_euler(seq, np.asarray(values, dtype=np.float64)[:, rot_cols], degrees=degrees)
            c = _euler_matrix(skeleton.axis_orders[b], skeleton.axis_angles[b], degrees=True)
            g_bone = g_parent @ (c @ m.as_matrix() @ c.T)
        rotations[b] = g_bone
        out[:, b + 1] = out[:, parent + 1] + g_bone @ offsets[b]
    return out


# --------------------------------------------------------------------------- AMC


_HDM_NAME = re.compile(r"^(HDM_[^_]+)_.*\.amc$", re.IGNORECASE)


def find_asf(amc_path: str | Path) -> Path:
    """The ASF skeleton belonging to an AMC file.

    HDM05 ``HDM_<actor>_..._120.amc`` -> ``HDM_<actor>.asf`` in the same folder or its
    parent. Otherwise ``<stem>.asf``, CMU ``<subject>_<trial>.amc`` -> ``<subject>.asf``,
    and finally the only ``.asf`` in the folder.

    Raises:
        MotionFileError: no unambiguous skeleton found (pass ``asf=``).
    """
    amc = Path(amc_path)
    folder = amc.parent
    hdm = _HDM_NAME.match(amc.name)
    if hdm:
        for cand in (folder / f"{hdm[1]}.asf", folder.parent / f"{hdm[1]}.asf"):
            if cand.is_file():
                return cand
        raise MotionFileError(
            amc, f"HDM05 skeleton {hdm[1]}.asf not found beside the file or in its parent folder; give it with --asf FILE"
        )
    cands = [folder / f"{amc.stem}.asf"]
    if "_" in amc.stem:
        cands.append(folder / f"{amc.stem.rsplit('_', 1)[0]}.asf")
    for cand in cands:
        if cand.is_file():
            return cand
    try:
        found = sorted(p for p in folder.iterdir() if p.suffix.lower() == ".asf" and p.is_file())
    except OSError:
        found = []
    if len(found) == 1:
        return found[0]
    what = "no .asf file" if not found else f"{len(found)} .asf files"
    raise MotionFileError(amc, f"cannot tell which ASF skeleton to use ({what} in {folder}); give it with --asf FILE")


@dataclass
class _AmcData:
    """Parsed AMC values: ``values[T, D]`` with per-bone column slots."""

    values: np.ndarray
    first_frame: int
    degrees: bool | None
    dropped_last: int | None
    header: tuple[str, ...]


def _slots(skeleton: AsfSkeleton) -> tuple[dict[str, tuple[int, int]], int]:
    """Column ``(offset, count)`` per AMC line name (root + bones with dofs), total width."""
    slots: dict[str, tuple[int, int]] = {"root": (0, len(skeleton.root_order))}
    width = len(skeleton.root_order)
    for name, dof in zip(skeleton.bone_names, skeleton.dofs):
        slots[name] = (width, len(dof))
        width += len(dof)
    return slots, width


def _parse_amc(text: str, path: Path, skeleton: AsfSkeleton) -> _AmcData:
    """Read the frames of an AMC file against ``skeleton`` (see :func:`read_amc`)."""
    slots, width = _slots(skeleton)
    required = {"root"} | {n for n, d in zip(skeleton.bone_names, skeleton.dofs) if d}
    asf_name = Path(skeleton.path).name
    lines = text.splitlines()
    last_content = len(lines) - 1
    while last_content >= 0 and not lines[last_content].strip():
        last_content -= 1

    rows: list[list[float]] = []
    numbers: list[int] = []
    seen: set[str] = set()
    header: list[str] = []
    degrees: bool | None = None
    cut_last_line = False
    for i, raw in enumerate(lines):
        tokens = raw.split()
        if not tokens or tokens[0].startswith("#"):
            continue
        lineno = i + 1
        head = tokens[0]
        if head.startswith(":"):
            if rows:
                raise MotionFileError(path, f"line {lineno}: header keyword {head!r} after the frame data")
            header.append(head.upper())
            if head.upper() in (":DEGREES", ":RADIANS"):
                degrees = head.upper() == ":DEGREES"
            continue
        if len(tokens) == 1 and head.isascii() and head.isdigit():
            number = int(head)
            if rows:
                _check_frame_complete(seen, required, numbers[-1], path, lineno)
                if number != numbers[-1] + 1:
                    raise MotionFileError(
                        path, f"line {lineno}: frame number {number} does not follow frame {numbers[-1]}"
                    )
            rows.append([0.0] * width)
            numbers.append(number)
            seen = set()
            continue
        if len(tokens) == 1 and is_float(head) and head not in slots:
            raise MotionFileError(path, f"line {lineno}: invalid frame number {head!r}")
        slot = slots.get(head)
        if slot is None:
            if i == last_content and len(tokens) == 1 and any(n.startswith(head) for n in slots):
                cut_last_line = True  # the file ends in the middle of a bone name
                break
            raise MotionFileError(path, f"line {lineno}: unknown bone {head!r} (not in skeleton {asf_name})")
        if not rows:
            raise MotionFileError(path, f"line {lineno}: bone line {head!r} before the first frame number")
        if head in seen:
            raise MotionFileError(path, f"line {lineno}: bone {head!r} appears twice in frame {numbers[-1]}")
        offset, count = slot
        if len(tokens) - 1 != count:
            if i == last_content and len(tokens) - 1 < count:
                cut_last_line = True  # the file ends in the middle of this line
                break
            names = skeleton.root_order if head == "root" else skeleton.dofs[skeleton.bone_index(head)]
            dof = " ".join(names)
            raise MotionFileError(
                path,
                f"line {lineno}: bone {head!r} has {len(tokens) - 1} value(s) but {asf_name} declares "
                f"{count} ({dof or 'no dof'})",
            )
        rows[-1][offset : offset + count] = _floats(tokens[1:], path, lineno, f"bone {head!r}")
        seen.add(head)

    if not rows:
        raise MotionFileError(path, "no frames (no frame-number line found)")
    dropped: int | None = None
    if cut_last_line or not required.issubset(seen):
        dropped = numbers[-1]
        rows.pop()
    if len(rows) < MIN_FRAMES:
        note = f" (after dropping the incomplete last frame {dropped})" if dropped is not None else ""
        raise MotionFileError(
            path, f"only {len(rows)} complete frame(s){note}; at least {MIN_FRAMES} are needed"
        )
    return _AmcData(
        values=np.array(rows, dtype=np.float64),
        first_frame=numbers[0],
        degrees=degrees,
        dropped_last=dropped,
        header=tuple(header),
    )


def _check_frame_complete(seen: set[str], required: set[str], number: int, path: Path, lineno: int) -> None:
    """Raise if a frame that is not the last one lacks some bone lines."""
    missing = required - seen
    if missing:
        listed = ", ".join(sorted(missing)[:6]) + (" ..." if len(missing) > 6 else "")
        raise MotionFileError(
            path, f"frame {number} (ending before line {lineno}) lacks {len(missing)} bone(s): {listed}"
        )


def read_amc(path: str | Path, *, asf: str | Path | None = None, fps: float = 120.0) -> Motion:
    """Read an AMC motion with its ASF skeleton into a :class:`Motion` (metres, Y up).

    Args:
        path: the ``.amc`` file (numbered frames of ``bone v1 v2 ...`` lines).
        asf: its ``.asf`` skeleton; found with :func:`find_asf` when ``None``.
        fps: frame rate (AMC files do not store it; HDM05 and CMU use 120).

    Joints are ``root`` plus each bone's end point (layout ``"cmu_asf"`` for CMU-named
    skeletons, else ``"asf"``). An incomplete final frame (a file cut short) is dropped
    and ``meta["dropped_incomplete_last_frame"]`` gives its number (else ``None``).

    Raises:
        MotionFileError: naming the AMC or ASF file: missing/unusable skeleton, unknown
            bone, wrong value count, non-numeric or non-finite value, a frame lacking
            bones before the last one, non-consecutive frame numbers, fewer than 2 frames.
    """
    path = Path(path)
    if not path.is_file():
        raise MotionFileError(path, "no such AMC file")
    asf_path = find_asf(path) if asf is None else Path(asf)
    skeleton = read_asf(asf_path)
    text = _read_text(path, "AMC motion")
    data = _parse_amc(text, path, skeleton)

    slots, _ = _slots(skeleton)
    channels = {name: data.values[:, off : off + n] for name, (off, n) in slots.items() if n}
    degrees = data.degrees if data.degrees is not None else skeleton.units_angle == "deg"
    with np.errstate(all="ignore"):
        joints = forward_kinematics(skeleton, channels, degrees=degrees)
    if not np.isfinite(joints).all() or np.abs(joints).max() > _MAX_COORD:
        raise MotionFileError(
            path,
            f"joint positions are non-finite or beyond {_MAX_COORD:g} m "
            f"(check the root translations and the bone lengths in {asf_path.name})",
        )
    ignored = {
        n: [d for d in dof if d not in _ROT_DOFS] for n, dof in zip(skeleton.bone_names, skeleton.dofs)
    }
    meta = {
        "asf": str(asf_path),
        "units_length": skeleton.units_length,
        "first_frame": data.first_frame,
        "dropped_incomplete_last_frame": data.dropped_last,
        "ignored_dofs": {n: d for n, d in ignored.items() if d},
        "amc_header": list(data.header),
    }
    return Motion(joints=joints, fps=fps, layout=skeleton.layout(), source=str(path), meta=meta)
