"""Acclaim AMC motions: frames of bone values read against an ASF skeleton, as a :class:`Motion`.

:func:`find_asf` finds the skeleton of an AMC file, :func:`read_amc` reads the frames
(checked against the skeleton's dofs), runs :func:`motionvigil.io.asf_kinematics.forward_kinematics`
and returns the joints in metres (conventions in :mod:`motionvigil.io.asf_amc`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from motionvigil.errors import MotionFileError
from motionvigil.io.acclaim_text import line_floats, read_text
from motionvigil.io.asf import ROTATION_DOFS, AsfSkeleton, read_asf
from motionvigil.io.asf_kinematics import forward_kinematics
from motionvigil.io.motion import MIN_FRAMES, Motion
from motionvigil.io.tokens import is_float

__all__ = ["find_asf", "read_amc"]

_MAX_COORD = 1e30  # joints are stored as float32 (max 3.4e38); larger means a broken file

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
        rows[-1][offset : offset + count] = line_floats(tokens[1:], path, lineno, f"bone {head!r}")
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
    text = read_text(path, "AMC motion")
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
        n: [d for d in dof if d not in ROTATION_DOFS] for n, dof in zip(skeleton.bone_names, skeleton.dofs)
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
