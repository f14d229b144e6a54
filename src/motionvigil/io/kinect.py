"""Readers for Kinect v1 skeleton text files: MSR Action3D and UTKinect-Action3D.

Both datasets store 20 joints per frame in Kinect camera space: metres, Y up, Z the
distance from the sensor. Findings verified on the real files (``shared/data``):

* **Units and up axis.** Both are metres with Y up: the head is above the hip centre in
  99.7% of tracked MSR frames and 99.9% of UTKinect frames; the median head-to-ankle
  height is 1.54 m (MSR) / 1.48 m (UTKinect); the median forearm length is the same
  whether the bone points along X, Y or Z (MSR 0.283-0.293 m, UTKinect 0.231-0.256 m),
  so the three axes share one scale.
* **Handedness.** Both are right-handed camera frames whose left/right labels are
  consistent (no mirroring, so no X flip is applied). For a person facing the sensor in
  a right-handed frame with Y up and +Z from the sensor to the person, the person's
  RIGHT joints are at larger X (``+X = up x Z``, the sensor's left). With
  ``forward = cross(up, right_hip - left_hip)``: it points towards the camera
  (negative Z) in 98.7% of MSR frames (566 files) and 99.7% of UTKinect frames (20
  files; fractions averaged over files), and the feet lie in front of the ankles along it in 97.8% (MSR) / 85.8%
  (UTKinect, whose Kinect feet are short and noisy) of frames; the right shoulder has
  the larger X in 98.8% / 99.6% of frames. A mirrored file would give the opposite.
  (Some MSR files of subject s03 have their feet tracked onto the ankles, and a few MSR
  files, e.g. a01_s02_e02, have many frames whose forward points away from the camera;
  neither changes the verdict.)
* **UTKinect joint order is the Kinect SDK order** (``KINECT_SDK``), not the MSR order,
  although its distribution ships MSR's ``body_model.mat``. Evidence over all 20 files:
  with the SDK order the head is the highest joint in 79-99% of frames (median 94%;
  lowest in s09_e02), the shoulder centre is above the hip centre in 100% of frames,
  and the median femur (hip-knee) is 0.42-0.57 m; read in MSR order the "head" is the
  highest joint in 0% of frames and the "femur" is 0.78-0.95 m. In SDK order the
  left/right twin bones differ by 0.3-1 cm (median over files; at most 5 cm).
* **Bone lengths** (median over all frames): MSR femur 0.54 m, shin 0.43 m, upper arm
  0.28 m, forearm 0.29 m, hip width 0.35 m (MSR's hip joints sit wide and high, so its
  femur is long: 0.47-0.64 m per file); UTKinect femur 0.49 m, shin 0.38 m, upper
  arm 0.27 m, forearm 0.24 m, hip width 0.15 m.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from motionvigil.errors import MotionFileError
from motionvigil.io.layouts import KINECT_MSR, KINECT_SDK
from motionvigil.io.motion import Motion
from motionvigil.io.text_table import check_finite as _check_finite
from motionvigil.io.text_table import frame_numbers as _frame_numbers
from motionvigil.io.text_table import read_table as _read_table
from motionvigil.io.text_table import read_text_lines as _read_text_lines

NUM_KINECT_JOINTS = 20
MAX_LOST_FRACTION = 0.5  # a file that lost the skeleton in more frames than this is rejected

_MSR_NAME = re.compile(r"^a(\d+)_s(\d+)_e(\d+)(?:_|\.)", re.IGNORECASE)
_UTK_NAME = re.compile(r"^joints_s(\d+)_e(\d+)\.txt$", re.IGNORECASE)
_UTK_SEQUENCE = re.compile(r"^s\d+_e\d+$")
_UTK_SEGMENT = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)\s*:\s*(\S+)\s+(\S+)$")


def lost_frames(joints: np.ndarray) -> np.ndarray:
    """Indices of frames whose joints are all exactly zero (Kinect lost the skeleton)."""
    return np.flatnonzero(~joints.reshape(len(joints), -1).any(axis=1)).astype(np.int64)


def require_tracked(path: Path, lost: np.ndarray, num_frames: int, trim: bool) -> None:
    """A file in which every frame is all zeros holds no motion at all; one whose kept
    span (after trimming lost frames at the ends, when ``trim``) is mostly lost holds
    too little to repair."""
    if num_frames > 0 and len(lost) == num_frames:
        raise MotionFileError(path, f"all {num_frames} frames are all zeros (skeleton never tracked)")
    if len(lost) == 0:
        return
    span = np.arange(num_frames)
    if trim:
        tracked = np.setdiff1d(span, lost)
        span = span[tracked[0] : tracked[-1] + 1]
    missing = np.isin(span, lost).sum()
    if missing > MAX_LOST_FRACTION * len(span):
        raise MotionFileError(
            path,
            f"skeleton lost (all-zero joints) in {missing} of {len(span)} frames"
            f"{' between the first and last tracked frame' if trim else ''}; "
            f"more than {MAX_LOST_FRACTION:.0%} cannot be repaired",
        )


def repair_lost_frames(joints: np.ndarray, lost: np.ndarray, trim: bool) -> tuple[np.ndarray, slice]:
    """Fill frames where Kinect lost the skeleton (all-zero joints).

    Gaps between tracked frames are interpolated linearly in time. Lost frames at the
    start and end are cut off when ``trim`` (the returned slice says which rows remain),
    else they repeat the nearest tracked frame (for files whose rows are referenced by
    frame number, like UTKinect's segment labels).
    """
    if len(lost) == 0:
        return joints, slice(0, len(joints))
    tracked = np.setdiff1d(np.arange(len(joints)), lost)
    flat = joints.reshape(len(joints), -1).astype(np.float64)
    filled = np.stack([np.interp(np.arange(len(joints)), tracked, flat[tracked, k]) for k in range(flat.shape[1])], 1)
    keep = slice(int(tracked[0]), int(tracked[-1]) + 1) if trim else slice(0, len(joints))
    return filled.reshape(joints.shape)[keep], keep


def parse_msr_name(name: str) -> dict[str, int]:
    """``a05_s08_e01_skeleton3D.txt`` -> ``{"action": 5, "subject": 8, "repetition": 1}``; else ``{}``."""
    m = _MSR_NAME.match(name)
    if not m:
        return {}
    return {"action": int(m.group(1)), "subject": int(m.group(2)), "repetition": int(m.group(3))}


def parse_utkinect_name(name: str) -> dict[str, int]:
    """``joints_s01_e02.txt`` -> ``{"subject": 1, "episode": 2}``; else ``{}``."""
    m = _UTK_NAME.match(name)
    if not m:
        return {}
    return {"subject": int(m.group(1)), "episode": int(m.group(2))}


def read_msr_action3d(path: str | Path, *, fps: float = 15.0) -> Motion:
    """Read an MSR Action3D ``*_skeleton3D.txt`` file (20 lines of ``x y z confidence`` per frame).

    Coordinates are used as stored (metres, Y up, right-handed; see the module notes).
    Frames that are all zeros (Kinect lost the skeleton) are repaired: gaps are
    interpolated linearly, lost frames at the start and end are cut off; their original
    indices stay in ``meta["lost_frames"]`` and the rows kept in ``meta["kept_rows"]``.
    A file whose tracked span is more than half lost is rejected.

    Returns:
        A :class:`Motion` with layout ``KINECT_MSR`` and meta ``confidence`` (float32
        ``[T, 20]``; values in [0, 1], not only 0/1), ``lost_frames`` (int64 indices),
        ``units`` and, when the name matches ``aXX_sYY_eZZ``, ``action``, ``subject``,
        ``repetition``.

    Raises:
        MotionFileError: unreadable file, line count not a multiple of 20, a line without
            exactly 4 values, non-numeric or non-finite values, fewer than 2 frames, or
            more than half of the tracked span all zeros.
    """
    path = Path(path)
    table = _read_table(path, 4)
    if len(table) % NUM_KINECT_JOINTS:
        raise MotionFileError(
            path,
            f"{len(table)} joint lines is not a multiple of {NUM_KINECT_JOINTS} (truncated file?)",
        )
    _check_finite(path, table, "value", rows_per_frame=NUM_KINECT_JOINTS)
    num_frames = len(table) // NUM_KINECT_JOINTS
    frames = table.reshape(num_frames, NUM_KINECT_JOINTS, 4)
    joints = frames[..., :3]
    lost = lost_frames(joints)
    require_tracked(path, lost, num_frames, trim=True)
    joints, kept = repair_lost_frames(joints, lost, trim=True)
    meta: dict = {
        "dataset": "msr_action3d",
        "units": "m",
        "confidence": np.ascontiguousarray(frames[kept, :, 3], dtype=np.float32),
        "lost_frames": lost,
        "kept_rows": (kept.start, kept.stop),
        **parse_msr_name(path.name),
    }
    return Motion(joints=joints, fps=fps, layout=KINECT_MSR, source=str(path), meta=meta)


def read_utkinect(path: str | Path, *, fps: float = 30.0) -> Motion:
    """Read a UTKinect-Action3D ``joints_sXX_eYY.txt`` file (``frame x1 y1 z1 ... x20 y20 z20``).

    The joint order is the Kinect SDK order (``KINECT_SDK``; evidence in the module
    notes). Coordinates are used as stored (metres, Y up, right-handed).

    Frame numbers: they never decrease, but rows are irregularly spaced (mostly 2-8 frame
    numbers apart, with rare gaps of 50-150), and some frame numbers appear twice in a row
    (6 to 145 times per file). The duplicated rows are NOT identical: their poses lie
    between the neighbouring frames, so they look like mis-numbered in-between frames.
    Because segment labels refer to frame numbers, each frame number must map to one
    row: the first row of a duplicated frame number is kept and the later ones dropped
    (counted in ``meta["dropped_duplicates"]``). ``fps`` is the nominal rate given to
    the rows, which are treated as evenly spaced; ``meta["frame_numbers"]`` keeps the
    original numbers for code that needs the exact timing. (Evidence for the default:
    rows are 4.4 frame numbers apart on average; taking rows as 30 fps gives walking at
    about 1 m/s and clapping at about 3.4 Hz, whereas taking frame numbers as 30 fps
    would give 0.33 m/s and 0.7 Hz.)

    Returns:
        A :class:`Motion` with layout ``KINECT_SDK`` and meta ``frame_numbers`` (int64,
        strictly increasing), ``dropped_duplicates``, ``lost_frames``, ``units`` and, when
        the name matches ``joints_sXX_eYY.txt``, ``subject`` and ``episode``.

    Raises:
        MotionFileError: unreadable file, a line without exactly 61 values, non-numeric or
            non-finite values, bad or decreasing frame numbers, fewer than 2 frames, or
            every frame all zeros.
    """
    path = Path(path)
    table = _read_table(path, 1 + 3 * NUM_KINECT_JOINTS)
    _check_finite(path, table, "value")
    numbers = _frame_numbers(path, table[:, 0])
    keep = np.ones(len(numbers), dtype=bool)
    keep[1:] = numbers[1:] != numbers[:-1]
    joints = table[keep, 1:].reshape(-1, NUM_KINECT_JOINTS, 3)
    lost = lost_frames(joints)
    require_tracked(path, lost, len(joints), trim=False)
    joints, _ = repair_lost_frames(joints, lost, trim=False)
    meta: dict = {
        "dataset": "utkinect",
        "units": "m",
        "frame_numbers": numbers[keep],
        "dropped_duplicates": int(len(keep) - keep.sum()),
        "lost_frames": lost,
        **parse_utkinect_name(path.name),
    }
    return Motion(joints=joints, fps=fps, layout=KINECT_SDK, source=str(path), meta=meta)


def _parse_frame_number(path: Path, line_number: int, token: str) -> int:
    """A non-negative integer frame number from an ``actionLabel.txt`` segment line."""
    if not (token.isascii() and token.isdigit()):
        raise MotionFileError(
            path, f"line {line_number}: frame number {token[:40]!r} is not a non-negative integer"
        )
    return int(token)


def read_utkinect_labels(path: str | Path) -> dict[str, list[tuple[str, int, int]]]:
    """Parse UTKinect's ``actionLabel.txt`` into ``{"s01_e01": [(action, start, end), ...]}``.

    The file is a sequence of blocks: a ``sXX_eYY`` line, then ``action: start end``
    lines whose start/end are frame NUMBERS as in the joints files (inclusive). A
    segment written ``NaN NaN`` (in the shipped file: ``carry`` of ``s10_e02``, which
    was not recorded) is skipped, so that sequence has 9 segments instead of 10. Blank
    lines are ignored.

    Raises:
        MotionFileError: naming the file and line: a segment before any sequence line, a
            repeated sequence or action within a sequence, a malformed line, a bad frame
            number, start after end, or a file with no sequences.
    """
    path = Path(path)
    labels: dict[str, list[tuple[str, int, int]]] = {}
    current: str | None = None
    for number, raw in enumerate(_read_text_lines(path), start=1):
        line = raw.strip()
        if not line:
            continue
        if _UTK_SEQUENCE.match(line):
            if line in labels:
                raise MotionFileError(path, f"line {number}: sequence {line!r} appears twice")
            current = line
            labels[current] = []
            continue
        m = _UTK_SEGMENT.match(line)
        if m is None:
            raise MotionFileError(
                path, f"line {number}: expected 'sXX_eYY' or 'action: start end', got {line[:60]!r}"
            )
        if current is None:
            raise MotionFileError(path, f"line {number}: action segment before any 'sXX_eYY' line")
        action, start_token, end_token = m.groups()
        if any(action == seen for seen, _, _ in labels[current]):
            raise MotionFileError(path, f"line {number}: action {action!r} appears twice in {current}")
        if start_token.lower() == "nan" or end_token.lower() == "nan":
            continue  # segment not recorded: skip it
        start = _parse_frame_number(path, number, start_token)
        end = _parse_frame_number(path, number, end_token)
        if start > end:
            raise MotionFileError(path, f"line {number}: segment start {start} is after its end {end}")
        labels[current].append((action, start, end))
    if not labels:
        raise MotionFileError(path, "no 'sXX_eYY' sequence lines found")
    return labels
