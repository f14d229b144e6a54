"""BVH parsing: the HIERARCHY and MOTION sections of a file, validated, in raw file units.

:func:`parse_bvh` / :func:`parse_bvh_text` give a :class:`BvhData` (joints, End Sites,
frame time and the channel values as one float64 array); no kinematics and no unit
conversion happen here (see :mod:`motionvigil.io.bvh_kinematics` and
:mod:`motionvigil.io.bvh_units`; :func:`motionvigil.io.bvh.read_bvh` puts them together).
Every problem is a :class:`MotionFileError` naming the file and the problem. The format's
conventions are listed in :mod:`motionvigil.io.bvh`.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from motionvigil.errors import MotionFileError
from motionvigil.io.motion import MIN_FRAMES
from motionvigil.io.tokens import first_non_float

__all__ = ["BvhData", "BvhJoint", "parse_bvh", "parse_bvh_text"]

# Canonical channel names, looked up case-insensitively.
_CHANNELS = {
    name.lower(): name
    for name in ("Xposition", "Yposition", "Zposition", "Xrotation", "Yrotation", "Zrotation")
}
_HIERARCHY_KEYWORDS = {"ROOT", "JOINT", "End", "OFFSET", "CHANNELS", "{", "}", "MOTION"}
_MAX_CHANNELS_PER_JOINT = 6
_MAX_NAME_TOKENS = 8  # a joint name may contain spaces; anything longer is a broken file
_MAX_DECLARED_FRAMES = 100_000_000  # about 40 days at 30 fps: anything above is corrupt

_FRAMES_RE = re.compile(r"^Frames\s*:\s*(\S*)\s*$", re.IGNORECASE)
_FRAME_TIME_RE = re.compile(r"^Frame\s+Time\s*:\s*(\S*)\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class BvhJoint:
    """One joint of a BVH hierarchy.

    Attributes:
        name: the joint name as written in the file.
        parent: index of the parent joint, -1 for a root.
        offset: the ``OFFSET`` translation from the parent, raw file units.
        channels: canonical channel names in file order (e.g. ``("Zrotation", ...)``).
        first_column: column of this joint's first channel in a MOTION frame line.
    """

    name: str
    parent: int
    offset: tuple[float, float, float]
    channels: tuple[str, ...]
    first_column: int

    @property
    def rotation_order(self) -> str:
        """Upper-case (intrinsic) axes of the rotation channels in file order, e.g. ``"ZXY"``."""
        return "".join(c[0] for c in self.channels if c.endswith("rotation"))

    def columns(self, kind: str) -> list[int]:
        """Absolute frame columns of the channels whose name ends with ``kind``."""
        return [self.first_column + k for k, c in enumerate(self.channels) if c.endswith(kind)]

    def position_axes(self) -> list[int]:
        """Axis index (0=X, 1=Y, 2=Z) of each position channel, in file order."""
        return ["XYZ".index(c[0]) for c in self.channels if c.endswith("position")]


@dataclass
class BvhData:
    """A parsed BVH file: hierarchy, frame time and raw channel values.

    Attributes:
        joints: the joints in file (depth-first) order; parents precede children.
        end_sites: ``(parent joint index, offset)`` of each ``End Site``, raw units.
        frame_time: seconds per frame as written in the file.
        declared_frames: the ``Frames:`` count of the header (equal to ``values.shape[0]``).
        values: float64 ``[frames, channels]``: the MOTION section.
    """

    joints: tuple[BvhJoint, ...]
    end_sites: tuple[tuple[int, tuple[float, float, float]], ...]
    frame_time: float
    declared_frames: int
    values: np.ndarray = field(repr=False)

    @property
    def joint_names(self) -> tuple[str, ...]:
        return tuple(j.name for j in self.joints)

    @property
    def parents(self) -> tuple[int, ...]:
        return tuple(j.parent for j in self.joints)

    @property
    def num_channels(self) -> int:
        return sum(len(j.channels) for j in self.joints)

    @property
    def num_frames(self) -> int:
        return int(self.values.shape[0])


# --------------------------------------------------------------------------- hierarchy


@dataclass
class _Block:
    """A ``{ ... }`` block being parsed: a joint (``joint`` >= 0) or an End Site."""

    joint: int  # joint index, or the parent's index for an End Site
    is_end_site: bool
    name: str
    offset: tuple[float, float, float] | None = None
    channels: tuple[str, ...] | None = None


class _HierarchyParser:
    """Iterative (no recursion-depth limit) parser of the HIERARCHY token stream."""

    def __init__(self, tokens: list[str], source: str | Path):
        self.tokens = tokens
        self.source = source
        self.pos = 0
        self.names: list[str] = []
        self.parents: list[int] = []
        self.offsets: list[tuple[float, float, float]] = []
        self.channels: list[tuple[str, ...]] = []
        self.end_sites: list[tuple[int, tuple[float, float, float]]] = []
        self.stack: list[_Block] = []

    def fail(self, problem: str) -> MotionFileError:
        return MotionFileError(self.source, f"bad BVH hierarchy: {problem}")

    def next_token(self, what: str) -> str:
        if self.pos >= len(self.tokens):
            raise self.fail(f"file ends where {what} was expected (truncated?)")
        tok = self.tokens[self.pos]
        self.pos += 1
        return tok

    def where(self) -> str:
        return f"in {self.stack[-1].name!r}" if self.stack else "at top level"

    def parse(self) -> "_HierarchyParser":
        """Consume all tokens; the results are left in ``names``, ``parents``, ``offsets``,
        ``channels`` and ``end_sites``."""
        first = self.next_token("HIERARCHY")
        if first.upper() != "HIERARCHY":
            raise MotionFileError(self.source, f"not a BVH file: expected 'HIERARCHY' first, found {first[:40]!r}")
        while self.pos < len(self.tokens):
            tok = self.next_token("a keyword")
            if tok == "ROOT":
                if self.stack:
                    raise self.fail(f"ROOT inside {self.stack[-1].name!r} (unbalanced braces)")
                self.open_joint(parent=-1)
            elif tok == "JOINT":
                self.open_joint(parent=self.enclosing_joint("JOINT"))
            elif tok == "End":
                self.open_end_site()
            elif tok == "OFFSET":
                self.read_offset()
            elif tok == "CHANNELS":
                self.read_channels()
            elif tok == "}":
                self.close_block()
            elif tok == "{":
                raise self.fail(f"unexpected '{{' {self.where()} (unbalanced braces)")
            else:
                raise self.fail(f"unexpected token {tok[:40]!r} {self.where()}")
        if self.stack:
            raise self.fail(
                f"unbalanced braces: {len(self.stack)} block(s) not closed, innermost {self.stack[-1].name!r}"
            )
        if not self.names:
            raise self.fail("no ROOT joint")
        return self

    def enclosing_joint(self, keyword: str) -> int:
        if not self.stack or self.stack[-1].is_end_site:
            raise self.fail(f"{keyword} outside a joint block {self.where()}")
        return self.stack[-1].joint

    def read_name(self, keyword: str) -> str:
        parts: list[str] = []
        while True:
            tok = self.next_token(f"the name and '{{' of a {keyword}")
            if tok == "{":
                break
            if tok in _HIERARCHY_KEYWORDS or len(parts) >= _MAX_NAME_TOKENS:
                raise self.fail(f"missing '{{' after {keyword} {' '.join(parts)[:60]!r}")
            parts.append(tok)
        if not parts:
            raise self.fail(f"{keyword} without a name")
        return " ".join(parts)

    def open_joint(self, parent: int) -> None:
        keyword = "ROOT" if parent < 0 else "JOINT"
        name = self.read_name(keyword)
        if name in self.names:
            raise self.fail(f"duplicate joint name {name!r}")
        index = len(self.names)
        self.names.append(name)
        self.parents.append(parent)
        self.offsets.append((0.0, 0.0, 0.0))
        self.channels.append(())
        self.stack.append(_Block(joint=index, is_end_site=False, name=name))

    def open_end_site(self) -> None:
        parent = self.enclosing_joint("End Site")
        site = self.next_token("'Site'")
        if site != "Site":
            raise self.fail(f"expected 'End Site', found 'End {site[:40]}'")
        brace = self.next_token("'{' after End Site")
        if brace != "{":
            raise self.fail(f"missing '{{' after End Site, found {brace[:40]!r}")
        self.stack.append(_Block(joint=parent, is_end_site=True, name=f"End Site of {self.names[parent]}"))

    def read_offset(self) -> None:
        if not self.stack:
            raise self.fail("OFFSET outside any block")
        block = self.stack[-1]
        if block.offset is not None:
            raise self.fail(f"two OFFSET lines in {block.name!r}")
        values = []
        for axis in "XYZ":
            tok = self.next_token(f"the {axis} value of OFFSET")
            values.append(_parse_finite(tok, self.source, f"OFFSET {axis} value of {block.name!r}"))
        block.offset = (values[0], values[1], values[2])

    def read_channels(self) -> None:
        joint = self.enclosing_joint("CHANNELS")
        block = self.stack[-1]
        if block.channels is not None:
            raise self.fail(f"two CHANNELS lines in {block.name!r}")
        count_tok = self.next_token("the channel count")
        if not _is_ascii_int(count_tok) or int(count_tok) > _MAX_CHANNELS_PER_JOINT:
            raise self.fail(
                f"bad CHANNELS count {count_tok[:40]!r} for {block.name!r} "
                f"(expected an integer 0-{_MAX_CHANNELS_PER_JOINT})"
            )
        count = int(count_tok)
        names: list[str] = []
        for _ in range(count):
            tok = self.next_token(f"{count} channel names of {block.name!r}")
            canonical = _CHANNELS.get(tok.lower())
            if canonical is None:
                if tok in _HIERARCHY_KEYWORDS:
                    raise self.fail(
                        f"bad CHANNELS count: {block.name!r} declares {count} channels but lists {len(names)}"
                    )
                raise self.fail(f"unknown channel name {tok[:40]!r} for {block.name!r}")
            if canonical in names:
                raise self.fail(f"channel {canonical} listed twice for {block.name!r}")
            names.append(canonical)
        if self.pos < len(self.tokens) and self.tokens[self.pos].lower() in _CHANNELS:
            raise self.fail(f"bad CHANNELS count: {block.name!r} declares {count} channels but lists more")
        block.channels = tuple(names)
        self.channels[joint] = block.channels

    def close_block(self) -> None:
        if not self.stack:
            raise self.fail("unbalanced braces: '}' without a matching '{'")
        block = self.stack.pop()
        if block.offset is None:
            raise self.fail(f"{block.name!r} has no OFFSET")
        if block.is_end_site:
            self.end_sites.append((block.joint, block.offset))
        else:
            self.offsets[block.joint] = block.offset


def _is_ascii_int(token: str) -> bool:
    """True for a non-empty run of ASCII digits (``str.isdigit`` also accepts e.g. '³')."""
    return token.isascii() and token.isdigit()


def _parse_finite(token: str, source: str | Path, what: str) -> float:
    """``float(token)``, raising ``MotionFileError`` if it is not a finite number."""
    try:
        value = float(token)
    except ValueError:
        raise MotionFileError(source, f"{what} is not a number: {token[:40]!r}") from None
    if not math.isfinite(value):
        raise MotionFileError(source, f"{what} is not finite: {token[:40]!r}")
    return value


# --------------------------------------------------------------------------- motion section


def _parse_motion_header(lines: list[str], source: str | Path) -> tuple[int, float, int]:
    """Read ``Frames:`` and ``Frame Time:`` from the non-blank MOTION lines.

    Returns:
        ``(declared frame count, frame time, index of the first data line)``.
    """
    if len(lines) < 2:
        raise MotionFileError(source, "MOTION section lacks the 'Frames:' and 'Frame Time:' lines (truncated?)")
    frames_match = _FRAMES_RE.match(lines[0].strip())
    if frames_match is None:
        raise MotionFileError(source, f"expected 'Frames: N' after MOTION, found {lines[0].strip()[:60]!r}")
    frames_tok = frames_match.group(1)
    if not _is_ascii_int(frames_tok):
        raise MotionFileError(source, f"frame count {frames_tok[:40]!r} is not a non-negative integer")
    declared = int(frames_tok)
    if declared > _MAX_DECLARED_FRAMES:
        raise MotionFileError(source, f"declared frame count {declared} is absurdly large (corrupt header?)")
    time_match = _FRAME_TIME_RE.match(lines[1].strip())
    if time_match is None:
        raise MotionFileError(source, f"expected 'Frame Time: seconds', found {lines[1].strip()[:60]!r}")
    frame_time = _parse_finite(time_match.group(1), source, "Frame Time")
    if frame_time <= 0:
        raise MotionFileError(source, f"Frame Time must be positive, got {frame_time!r}")
    return declared, frame_time, 2


def _parse_frame_values(
    lines: list[str], line_numbers: list[int], num_channels: int, source: str | Path
) -> np.ndarray:
    """Parse frame lines into float64 ``[frames, channels]``; precise errors on bad lines.

    The fast path is one ``np.loadtxt`` call; if it fails for any reason the lines are
    re-read one by one to name the offending frame (or to accept what loadtxt would not).
    ``line_numbers`` (1-based, in the file) only serve the error messages.
    """
    try:
        values = np.loadtxt(lines, dtype=np.float64, comments=None, ndmin=2)
        if values.shape == (len(lines), num_channels):
            return values
    except (ValueError, TypeError, OverflowError):
        pass
    return _parse_frame_values_slowly(lines, line_numbers, num_channels, source)


def _parse_frame_values_slowly(
    lines: list[str], line_numbers: list[int], num_channels: int, source: str | Path
) -> np.ndarray:
    """Line-by-line parse that reports the first bad frame line."""
    values = np.empty((len(lines), num_channels), dtype=np.float64)
    last = len(lines) - 1
    for row, line in enumerate(lines):
        tokens = line.split()
        if len(tokens) != num_channels:
            hint = " (file truncated?)" if row == last and len(tokens) < num_channels else ""
            raise MotionFileError(
                source,
                f"frame {row} (line {line_numbers[row]}) has {len(tokens)} values, "
                f"expected {num_channels}{hint}",
            )
        try:
            values[row] = [float(t) for t in tokens]
        except ValueError:
            bad = first_non_float(tokens)
            raise MotionFileError(
                source, f"frame {row} (line {line_numbers[row]}) holds a non-numeric value {bad[:40]!r}"
            ) from None
    return values


def _check_values(values: np.ndarray, joints: tuple[BvhJoint, ...], source: str | Path) -> None:
    """Raise on NaN/inf channel values, naming the first frame, joint and channel."""
    finite = np.isfinite(values)
    if finite.all():
        return
    frame, column = (int(v) for v in np.argwhere(~finite)[0])
    joint = next(j for j in reversed(joints) if j.first_column <= column)
    channel = joint.channels[column - joint.first_column]
    raise MotionFileError(
        source, f"non-finite value (NaN or inf) at frame {frame}, joint {joint.name!r}, channel {channel}"
    )


# --------------------------------------------------------------------------- parse entry points


def parse_bvh_text(text: str, source: str | Path) -> BvhData:
    """Parse the text of a BVH file (``source`` names it in error messages).

    Raises:
        MotionFileError: empty file, missing HIERARCHY/MOTION, unbalanced braces, unknown
            channel, bad channel count, non-numeric or non-finite values, wrong number of
            values in a frame, fewer or more frame lines than declared, Frame Time <= 0,
            fewer than 2 frames.
    """
    if not text.strip():
        raise MotionFileError(source, "file is empty")
    lines = text.splitlines()
    motion_at = next((k for k, line in enumerate(lines) if line.strip().upper() == "MOTION"), None)
    if motion_at is None:
        raise MotionFileError(source, "no MOTION section (truncated or not a BVH file?)")
    header_tokens = "\n".join(lines[:motion_at]).split()
    if not header_tokens:
        raise MotionFileError(source, "no HIERARCHY section before MOTION")
    hierarchy = _HierarchyParser(header_tokens, source).parse()

    joints: list[BvhJoint] = []
    column = 0
    for name, parent, offset, chans in zip(
        hierarchy.names, hierarchy.parents, hierarchy.offsets, hierarchy.channels
    ):
        joints.append(BvhJoint(name, parent, offset, chans, column))
        column += len(chans)
    if column == 0:
        raise MotionFileError(source, "the hierarchy declares no channels, so there is no motion")

    numbered = [(k + 1, line) for k, line in enumerate(lines[motion_at + 1 :], start=motion_at + 1)]
    numbered = [(number, line) for number, line in numbered if line.strip()]
    declared, frame_time, first_data = _parse_motion_header([line for _, line in numbered], source)
    data_lines = [line for _, line in numbered[first_data:]]
    if len(data_lines) < declared:
        raise MotionFileError(
            source, f"truncated: header declares {declared} frames but only {len(data_lines)} frame lines follow"
        )
    if len(data_lines) > declared:
        raise MotionFileError(
            source, f"header declares {declared} frames but {len(data_lines)} frame lines follow"
        )
    if declared < MIN_FRAMES:
        raise MotionFileError(source, f"motion has {declared} frame(s); at least {MIN_FRAMES} are needed")
    values = _parse_frame_values(data_lines, [number for number, _ in numbered[first_data:]], column, source)
    joint_tuple = tuple(joints)
    _check_values(values, joint_tuple, source)
    return BvhData(joint_tuple, tuple(hierarchy.end_sites), frame_time, declared, values)


def parse_bvh(path: str | Path) -> BvhData:
    """Read and parse a BVH file (no kinematics, raw units). See :func:`parse_bvh_text`."""
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise MotionFileError(path, f"cannot read file ({exc.strerror or exc})") from None
    return parse_bvh_text(raw.decode("utf-8", errors="replace"), path)
