"""HumanML3D (Guo et al., CVPR 2022) in its official folder layout: motions with captions.

Layout under ``root`` (what the HumanML3D scripts produce)::

    new_joint_vecs/<id>.npy   [T, 263] float32 motion features (20 fps)
    new_joints/<id>.npy       [T, 22, 3] float32 joints recovered from those features
    texts/<id>.txt            one caption a line: ``caption#tokens#start#end``
    train.txt val.txt test.txt   one id a line (``all.txt``/``train_val.txt`` are unions)

``new_joints`` is recovered from the features row for row, so both arrays have the same
number of frames ``T`` (HumanML3D drops the last processed frame; see
``tests/features/test_features_humanml3d.py``). A clip therefore keeps the stored features as
``Clip.features`` with ``T`` rows, not the ``T - 1`` rows that ``Clip.get_features``
computes from joints.

Ids starting with ``M`` (``M012314``) are HumanML3D's left-right mirrored copies; they are
ordinary ids with their own files and split entries.

Text lines: ``tokens`` are ``word/POS`` pairs separated by spaces; ``start``/``end`` are
seconds inside the clip. ``0.0#0.0`` (or NaN, which HumanML3D treats as 0) means the
caption describes the whole clip; other values describe the sub-range ``[start, end)``.
Whole-clip captions become ``Clip.captions``; sub-range captions go to
``Clip.meta["segment_captions"]`` as ``(caption, start_s, end_s)``.

The helpers ``read_split_file``, ``load_feature_file`` and ``seconds_to_frame`` are shared
with the TMR and BABEL loaders.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from motionvigil.datasets.clip import Clip, Dataset
from motionvigil.datasets.registry import register_dataset
from motionvigil.errors import MotionFileError
from motionvigil.features.humanml3d import FEATURE_DIM, features_to_joints
from motionvigil.io.arrays import read_humanml3d_joints

FPS = 20.0
SPLITS: tuple[str, ...] = ("train", "val", "test")
FEATURES_DIR = "new_joint_vecs"
JOINTS_DIR = "new_joints"
TEXTS_DIR = "texts"
MAX_LENGTH_MISMATCH = 1  # frames allowed between new_joint_vecs and new_joints
_REPORTED_PROBLEMS = 5  # bad files named in a dataset description


# ----------------------------------------------------------------------------- shared helpers


def seconds_to_frame(seconds: float, fps: float = FPS) -> int:
    """The frame index nearest to ``seconds`` (halves round up, so 0.025 s -> frame 1 at 20 fps)."""
    return math.floor(seconds * fps + 0.5)


def read_split_file(path: str | Path) -> list[str]:
    """Ids listed one a line in a split file (blank lines ignored, order kept, duplicates dropped).

    Raises:
        MotionFileError: the file cannot be read or is not UTF-8 text.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise MotionFileError(path, f"cannot read split file ({type(exc).__name__}: {exc})") from None
    return list(dict.fromkeys(line.strip() for line in text.splitlines() if line.strip()))


def load_feature_file(path: str | Path) -> np.ndarray:
    """A ``[T, 263]`` HumanML3D feature array (float32) from a ``.npy`` file, checked.

    Raises:
        MotionFileError: unreadable or pickled file, wrong dtype or shape, no frames, NaN/inf.
    """
    path = Path(path)
    try:
        with path.open("rb") as fh:
            array = np.load(fh, allow_pickle=False)
    except Exception as exc:  # noqa: BLE001 (np.load raises many types on damaged files)
        raise MotionFileError(
            path, f"cannot be loaded as a .npy array ({type(exc).__name__}: {exc})"
        ) from None
    if not isinstance(array, np.ndarray):
        raise MotionFileError(path, "is an .npz archive, expected a .npy feature array")
    if array.dtype.kind not in "iuf":
        raise MotionFileError(path, f"features must hold real numbers, got dtype {array.dtype}")
    if array.ndim != 2 or array.shape[1] != FEATURE_DIM:
        raise MotionFileError(
            path, f"expected HumanML3D features of shape [frames, {FEATURE_DIM}], got {array.shape}"
        )
    if array.shape[0] < 1:
        raise MotionFileError(path, "feature array has no frames")
    bad = np.argwhere(~np.isfinite(array.astype(np.float64)))
    if len(bad):
        raise MotionFileError(path, f"non-finite feature value at frame {bad[0][0]}, dim {bad[0][1]}")
    return array.astype(np.float32, copy=False)


def describe_problems(problems: Sequence[tuple[str, str]]) -> str:
    """``"; 2 bad skipped (a: why; b: why)"`` for a dataset description, or ``""``."""
    if not problems:
        return ""
    shown = "; ".join(f"{key}: {why}" for key, why in problems[:_REPORTED_PROBLEMS])
    more = f"; ... {len(problems) - _REPORTED_PROBLEMS} more" if len(problems) > _REPORTED_PROBLEMS else ""
    return f"; {len(problems)} bad skipped ({shown}{more})"


# ----------------------------------------------------------------------------- texts


@dataclass(frozen=True)
class TextLine:
    """One caption line of a HumanML3D ``texts/<id>.txt`` file."""

    caption: str
    tokens: tuple[str, ...]
    start: float  # seconds; 0.0 for whole-clip captions
    end: float

    @property
    def whole_clip(self) -> bool:
        return self.start == 0.0 and self.end == 0.0


def _parse_time(value: str, path: Path, lineno: int, what: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        raise MotionFileError(path, f"line {lineno}: {what} time {value!r} is not a number") from None
    if math.isnan(seconds):
        return 0.0  # HumanML3D reads NaN as 0
    if math.isinf(seconds) or seconds < 0:
        raise MotionFileError(path, f"line {lineno}: {what} time {value!r} must be finite and >= 0")
    return seconds


def parse_text_line(line: str, path: Path, lineno: int) -> TextLine:
    """Parse ``caption#tokens#start#end`` (a ``#`` inside the caption is kept).

    Raises:
        MotionFileError: naming ``path`` and ``lineno`` for a line without four fields, an
            empty caption, non-numeric or negative times, or ``end <= start`` for a sub-range.
    """
    fields = line.rsplit("#", 3)
    if len(fields) != 4:
        raise MotionFileError(path, f"line {lineno}: expected 'caption#tokens#start#end', got {line[:80]!r}")
    caption, tokens, start_text, end_text = (f.strip() for f in fields)
    if not caption:
        raise MotionFileError(path, f"line {lineno}: empty caption")
    start = _parse_time(start_text, path, lineno, "start")
    end = _parse_time(end_text, path, lineno, "end")
    if not (start == 0.0 and end == 0.0) and end <= start:
        raise MotionFileError(path, f"line {lineno}: sub-range end {end} s is not after start {start} s")
    return TextLine(caption, tuple(tokens.split()), start, end)


def read_humanml3d_texts(path: str | Path) -> list[TextLine]:
    """All caption lines of a ``texts/<id>.txt`` file (blank lines ignored).

    Raises:
        MotionFileError: unreadable file or a malformed line (named by number, 1-based).
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise MotionFileError(path, f"cannot read caption file ({type(exc).__name__}: {exc})") from None
    return [parse_text_line(line, path, n) for n, line in enumerate(text.splitlines(), 1) if line.strip()]


# ----------------------------------------------------------------------------- motions


def read_split_assignment(root: Path) -> dict[str, str]:
    """``{id: split}`` from ``root/{train,val,test}.txt`` (absent files are skipped; first split wins)."""
    assignment: dict[str, str] = {}
    for name in SPLITS:
        path = root / f"{name}.txt"
        if path.is_file():
            for motion_id in read_split_file(path):
                assignment.setdefault(motion_id, name)
    return assignment


def ids_on_disk(root: Path) -> set[str]:
    """Ids with a ``new_joint_vecs`` or ``new_joints`` file."""
    found: set[str] = set()
    for sub in (FEATURES_DIR, JOINTS_DIR):
        folder = root / sub
        if folder.is_dir():
            found.update(p.stem for p in folder.glob("*.npy"))
    return found


def _load_joints(path: Path) -> np.ndarray:
    """``new_joints`` array ``[T, 22, 3]`` float32 (checked by the shared HumanML3D joint reader)."""
    return np.asarray(read_humanml3d_joints(path).joints, dtype=np.float32)


def load_motion_arrays(root: Path, motion_id: str) -> tuple[np.ndarray, np.ndarray | None, Path]:
    """``(joints, features or None, source path)`` of one id.

    Joints come from ``new_joints`` when present, else from the features (ric block).

    Raises:
        MotionFileError: a bad file, or features and joints differing by more than one frame.
    """
    feat_path = root / FEATURES_DIR / f"{motion_id}.npy"
    joint_path = root / JOINTS_DIR / f"{motion_id}.npy"
    features = load_feature_file(feat_path) if feat_path.is_file() else None
    if joint_path.is_file():
        joints = _load_joints(joint_path)
        if features is not None and abs(len(features) - len(joints)) > MAX_LENGTH_MISMATCH:
            raise MotionFileError(
                feat_path,
                f"{len(features)} feature frames but {len(joints)} joint frames in {joint_path} "
                f"(more than {MAX_LENGTH_MISMATCH} frame apart)",
            )
    elif features is not None:
        joints = features_to_joints(features).astype(np.float32)
    else:
        raise MotionFileError(feat_path, f"no {FEATURES_DIR} or {JOINTS_DIR} file for id {motion_id!r}")
    source = feat_path if features is not None else joint_path
    return joints, features, source


@dataclass
class _Captions:
    captions: tuple[str, ...] = ()
    tokens: tuple[tuple[str, ...], ...] = ()
    segments: list[tuple[str, float, float]] = field(default_factory=list)


def split_captions(lines: Sequence[TextLine]) -> _Captions:
    """Whole-clip captions (with tokens) and ``(caption, start_s, end_s)`` sub-range captions."""
    whole = [line for line in lines if line.whole_clip]
    result = _Captions(tuple(line.caption for line in whole), tuple(line.tokens for line in whole))
    result.segments = [(line.caption, line.start, line.end) for line in lines if not line.whole_clip]
    return result


def load_humanml3d_clip(root: Path, motion_id: str, split: str | None) -> tuple[Clip, bool]:
    """One clip and whether its caption file exists.

    Raises:
        MotionFileError: bad motion arrays or a malformed caption file.
    """
    joints, features, source = load_motion_arrays(root, motion_id)
    text_path = root / TEXTS_DIR / f"{motion_id}.txt"
    has_text = text_path.is_file()
    lines = read_humanml3d_texts(text_path) if has_text else []
    caps = split_captions(lines)
    meta = {
        "segment_captions": caps.segments,
        "caption_tokens": caps.tokens,
        "mirrored": motion_id.startswith("M"),
    }
    clip = Clip(
        clip_id=motion_id,
        joints=joints,
        labels=(),
        violent=False,
        dataset="humanml3d",
        source=str(source),
        captions=caps.captions,
        split=split,
        features=features,
        meta=meta,
    )
    return clip, has_text


def select_ids(root: Path, split: str | None) -> tuple[list[str], dict[str, str], int]:
    """``(ids to load, id -> split, listed ids without files)`` for ``split`` (``None``: all)."""
    assignment = read_split_assignment(root)
    present = ids_on_disk(root)
    if split is None:
        listed = set(assignment)
        return sorted(present), assignment, len(listed - present)
    if split not in SPLITS:
        raise ValueError(f"humanml3d: split must be one of {SPLITS} or None, got {split!r}")
    split_path = root / f"{split}.txt"
    if not split_path.is_file():
        raise MotionFileError(split_path, f"split file for split {split!r} not found")
    listed_ids = read_split_file(split_path)
    ids = [i for i in listed_ids if i in present]
    return ids, {i: split for i in listed_ids}, len(listed_ids) - len(ids)


@register_dataset(
    "humanml3d",
    "humanml3d",
    "HumanML3D motions (new_joint_vecs/new_joints, 20 fps) with captions from texts/; caption-only, no class labels",
)
def load_humanml3d(
    root: Path,
    *,
    split: str | None = None,
    max_clips: int | None = None,
    skip_bad: bool = False,
) -> Dataset:
    """Load HumanML3D from its official layout under ``root``.

    Args:
        root: folder holding ``new_joint_vecs/``, ``new_joints/``, ``texts/`` and split files.
        split: ``"train"``, ``"val"``, ``"test"`` or ``None`` (every id on disk).
        max_clips: stop after this many clips (in sorted id order for ``split=None``,
            split-file order otherwise).
        skip_bad: skip unusable files (reported in the description) instead of raising.

    Ids listed in split files whose motion files are absent are counted in the
    description (``"N listed ids without motion files"``), never an error.

    Raises:
        MotionFileError: a bad motion or caption file (unless ``skip_bad``), or a missing
            split file for the requested split.
    """
    root = Path(root)
    ids, assignment, missing = select_ids(root, split)
    clips: list[Clip] = []
    problems: list[tuple[str, str]] = []
    without_text = 0
    for motion_id in ids:
        if max_clips is not None and len(clips) >= max_clips:
            break
        try:
            clip, has_text = load_humanml3d_clip(root, motion_id, assignment.get(motion_id))
        except MotionFileError as exc:
            if not skip_bad:
                raise
            problems.append((motion_id, str(exc)))
            continue
        clips.append(clip)
        without_text += not has_text
    description = (
        f"HumanML3D from {root} (split={split or 'all'}): {len(clips)} clips; "
        f"{missing} listed ids without motion files; {without_text} clips without captions"
        f"{describe_problems(problems)}"
    )
    return Dataset(name="humanml3d", clips=clips, classes=(), violent_classes=(), description=description)
