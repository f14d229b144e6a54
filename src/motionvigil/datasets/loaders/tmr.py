"""TMR's unified text-motion format (Petrovich et al., ICCV 2023): ``annotations.json`` + splits.

Layout (TMR's ``datasets/annotations/<name>/``; ``tmr_annotations/kitml`` in the shared data)::

    annotations.json      {keyid: {"path": str, "duration": float (s),
                                   "annotations": [{"seg_id": str, "text": str,
                                                    "start": float (s), "end": float (s)}, ...]}}
    splits/<name>.txt     keyids one a line: train, val, test, all, and TMR's extras
                          (nsim_test, *_tiny)

``path`` names an AMASS sequence without extension, e.g. ``"KIT/4/WalkingStraightForward01_poses"``;
mirrored entries (keyid ``M00001``) have ``path`` ``"M/KIT/4/..."``. The motion is TMR's
``guoh3dfeats``: HumanML3D 263-dim features of the whole AMASS sequence at 20 fps, stored
as ``<motions>/<path>.npy``. A text covers frames ``[round(start*20), round(end*20))`` of
that array (TMR itself truncates with ``int()``: at most one frame of difference).

Clips: one per keyid covering the union of its text spans; texts spanning the whole clip
(within one frame) are its ``captions``; texts of shorter spans go to
``meta["segment_captions"]`` as ``(text, start_s, end_s)`` relative to the clip start.
With ``per_span=True`` every distinct span is its own clip (TMR's training pairs). In
KIT-ML every text spans the whole sequence, so both modes give one clip per keyid with
all its texts. Clips have no class labels.

Keyids whose motion file is absent (or no motions folder at all) are counted in the
description, never an error. TMR's feature statistics (``tmr_stats/<name>/{mean,std}.pt``)
are for normalisation elsewhere and not read here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from motionvigil.datasets.clip import Clip, Dataset
from motionvigil.datasets.loaders.annotations import collect_clips, non_negative, read_json_object
from motionvigil.datasets.loaders.humanml3d import (
    describe_problems,
    load_feature_file,
    read_split_file,
    seconds_to_frame,
)
from motionvigil.datasets.registry import register_dataset
from motionvigil.errors import MotionFileError
from motionvigil.features.humanml3d import features_to_joints

FPS = 20.0
MAIN_SPLITS: tuple[str, ...] = ("train", "val", "test")
ANNOTATIONS_FILE = "annotations.json"
SPAN_TOLERANCE = 1  # frames: a text whose span is this close to the clip's counts as whole-clip


@dataclass(frozen=True)
class TextAnnotation:
    """One text of a TMR entry: ``text`` describes ``[start, end)`` seconds of the motion."""

    seg_id: str
    text: str
    start: float
    end: float


@dataclass(frozen=True)
class MotionAnnotation:
    """One TMR entry: an AMASS motion ``path`` (no extension) and its texts."""

    keyid: str
    path: str
    duration: float
    annotations: tuple[TextAnnotation, ...]


# ----------------------------------------------------------------------------- annotations


def _number(value: Any, path: Path, where: str) -> float:
    return non_negative(value, path, where, "a finite number >= 0")


def _string(value: Any, path: Path, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise MotionFileError(path, f"{where}: expected a non-empty string, got {value!r}")
    return value


def parse_text_annotation(item: Any, path: Path, keyid: str, index: int) -> TextAnnotation:
    """One ``{"seg_id", "text", "start", "end"}`` record, checked (``end > start``)."""
    where = f"entry {keyid!r}, annotation {index}"
    if not isinstance(item, dict):
        raise MotionFileError(path, f"{where}: expected an object, got {type(item).__name__}")
    missing = {"text", "start", "end"} - set(item)
    if missing:
        raise MotionFileError(path, f"{where}: missing field(s) {sorted(missing)}")
    start = _number(item["start"], path, f"{where} start")
    end = _number(item["end"], path, f"{where} end")
    if end <= start:
        raise MotionFileError(path, f"{where}: end {end} s is not after start {start} s")
    seg_id = str(item.get("seg_id", f"{keyid}_{index}"))
    return TextAnnotation(seg_id, _string(item["text"], path, f"{where} text").strip(), start, end)


def parse_motion_annotation(keyid: str, entry: Any, path: Path) -> MotionAnnotation:
    """One ``{"path", "duration", "annotations"}`` entry, checked."""
    if not isinstance(entry, dict):
        raise MotionFileError(path, f"entry {keyid!r}: expected an object, got {type(entry).__name__}")
    missing = {"path", "duration", "annotations"} - set(entry)
    if missing:
        raise MotionFileError(path, f"entry {keyid!r}: missing field(s) {sorted(missing)}")
    items = entry["annotations"]
    if not isinstance(items, list) or not items:
        raise MotionFileError(path, f"entry {keyid!r}: 'annotations' must be a non-empty list")
    texts = tuple(parse_text_annotation(item, path, keyid, i) for i, item in enumerate(items))
    motion_path = _string(entry["path"], path, f"entry {keyid!r} path")
    return MotionAnnotation(
        keyid, motion_path, _number(entry["duration"], path, f"entry {keyid!r} duration"), texts
    )


def read_tmr_annotations(path: str | Path) -> dict[str, MotionAnnotation]:
    """Parse a TMR ``annotations.json`` into ``{keyid: MotionAnnotation}`` (file order).

    Raises:
        MotionFileError: unreadable or invalid JSON, or an entry not in the schema above
            (the message names the keyid and annotation index).
    """
    path = Path(path)
    data = read_json_object(path, "annotations", "id")
    return {str(k): parse_motion_annotation(str(k), v, path) for k, v in data.items()}


def read_tmr_splits(splits_dir: str | Path) -> dict[str, list[str]]:
    """``{split name: keyids}`` for every ``*.txt`` in a TMR ``splits/`` folder (empty if absent)."""
    splits_dir = Path(splits_dir)
    if not splits_dir.is_dir():
        return {}
    return {p.stem: read_split_file(p) for p in sorted(splits_dir.glob("*.txt"))}


# ----------------------------------------------------------------------------- clips


def frame_span(start: float, end: float, num_frames: int) -> tuple[int, int]:
    """Frames ``[round(start*20), round(end*20))`` clamped to ``[0, num_frames]``."""
    return min(seconds_to_frame(start), num_frames), min(seconds_to_frame(end), num_frames)


def group_by_span(
    entry: MotionAnnotation, num_frames: int, source: Path
) -> dict[tuple[int, int], list[TextAnnotation]]:
    """Texts grouped by their frame span in a motion of ``num_frames`` frames.

    Raises:
        MotionFileError: a text whose span is empty once clamped to the motion (it lies
            beyond the end of the motion file).
    """
    groups: dict[tuple[int, int], list[TextAnnotation]] = {}
    for text in entry.annotations:
        span = frame_span(text.start, text.end, num_frames)
        if span[1] <= span[0]:
            raise MotionFileError(
                source,
                f"text {text.seg_id!r} of {entry.keyid!r} covers {text.start}-{text.end} s, "
                f"outside the motion's {num_frames} frames at {FPS:g} fps",
            )
        groups.setdefault(span, []).append(text)
    return groups


def _near(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return abs(a[0] - b[0]) <= SPAN_TOLERANCE and abs(a[1] - b[1]) <= SPAN_TOLERANCE


def make_clip(
    clip_id: str,
    entry: MotionAnnotation,
    features: np.ndarray,
    span: tuple[int, int],
    texts: Sequence[TextAnnotation],
    source: Path,
    split: str | None,
) -> Clip:
    """A clip of frames ``span`` of ``features``: ``texts`` spanning it are captions, others segment captions."""
    begin, end = span
    feats = np.ascontiguousarray(features[begin:end])
    offset = begin / FPS
    captions = [t.text for t in texts if _near(frame_span(t.start, t.end, len(features)), span)]
    segments = [
        (t.text, t.start - offset, t.end - offset)
        for t in texts
        if not _near(frame_span(t.start, t.end, len(features)), span)
    ]
    meta = {
        "path": entry.path,
        "keyid": entry.keyid,
        "duration": entry.duration,
        "start_s": offset,
        "end_s": end / FPS,
        "seg_ids": tuple(t.seg_id for t in texts),
        "segment_captions": segments,
    }
    return Clip(
        clip_id=clip_id,
        joints=features_to_joints(feats).astype(np.float32),
        labels=(),
        violent=False,
        dataset="tmr",
        source=str(source),
        captions=tuple(captions),
        split=split,
        features=feats,
        meta=meta,
    )


def entry_clips(entry: MotionAnnotation, motions: Path, split: str | None, per_span: bool) -> list[Clip]:
    """The clips of one entry (see the module docstring for the two modes).

    Raises:
        MotionFileError: a bad motion file or a text outside it.
    """
    source = motions / f"{entry.path}.npy"
    features = load_feature_file(source)
    groups = group_by_span(entry, len(features), source)
    union = (min(s[0] for s in groups), max(s[1] for s in groups))
    if not per_span:
        return [make_clip(entry.keyid, entry, features, union, entry.annotations, source, split)]
    clips = []
    for span, texts in sorted(groups.items()):
        clip_id = entry.keyid if span == union else f"{entry.keyid}:{span[0]}-{span[1]}"
        clips.append(make_clip(clip_id, entry, features, span, texts, source, split))
    return clips


def _resolve_paths(
    root: Path | None, annotations: str | Path | None, motions: str | Path | None
) -> tuple[Path, Path, Path | None]:
    """``(annotations.json, splits folder, motions folder or None)`` from the loader options."""
    if annotations is None:
        if root is None:
            raise MotionFileError(
                None, "tmr: give root= (folder with annotations.json and splits/) or annotations="
            )
        annotations = root / ANNOTATIONS_FILE
    annotations = Path(annotations)
    if not annotations.is_file():
        raise MotionFileError(annotations, "TMR annotations file not found")
    base = root if root is not None else annotations.parent
    if motions is None and (base / "motions").is_dir():
        motions = base / "motions"
    return annotations, base / "splits", None if motions is None else Path(motions)


@register_dataset(
    "tmr",
    None,
    "TMR unified annotations (annotations.json + splits/) over AMASS-derived HumanML3D features (guoh3dfeats, 20 fps); "
    "options: annotations=, motions=",
)
def load_tmr(
    root: Path | None,
    *,
    annotations: str | Path | None = None,
    motions: str | Path | None = None,
    split: str | None = None,
    per_span: bool = False,
    max_clips: int | None = None,
    skip_bad: bool = False,
) -> Dataset:
    """Load a TMR-format dataset (HumanML3D or KIT-ML as TMR ships them).

    Args:
        root: folder with ``annotations.json`` and ``splits/`` (may be ``None`` if
            ``annotations`` is given; its folder then plays the role of ``root``).
        annotations: path of ``annotations.json`` (default ``root/annotations.json``).
        motions: folder of ``<path>.npy`` feature files (default ``root/motions`` if it
            exists; without one every entry counts as missing).
        split: any ``splits/<split>.txt`` name (``train``, ``val``, ``test``, ``nsim_test``,
            ...) or ``None`` for every entry. ``Clip.split`` is the main split
            (train/val/test) the keyid belongs to.
        per_span: one clip per distinct text span instead of one per keyid.
        max_clips: stop after this many clips.
        skip_bad: skip bad motion files (reported) instead of raising.

    Raises:
        MotionFileError: unreadable or invalid annotations, a missing split file, or a bad
            motion file (unless ``skip_bad``).
    """
    ann_path, splits_dir, motions_dir = _resolve_paths(
        None if root is None else Path(root), annotations, motions
    )
    entries = read_tmr_annotations(ann_path)
    splits = read_tmr_splits(splits_dir)
    assignment = {k: name for name in reversed(MAIN_SPLITS) for k in splits.get(name, ())}
    if split is None:
        keyids = list(entries)
    elif split in splits:
        keyids = splits[split]
    else:
        raise MotionFileError(splits_dir / f"{split}.txt", f"split file for split {split!r} not found")
    annotated = [k for k in keyids if k in entries]
    present = [
        k for k in annotated if motions_dir is not None and (motions_dir / f"{entries[k].path}.npy").is_file()
    ]
    clips, problems = collect_clips(
        present, lambda keyid: entry_clips(entries[keyid], motions_dir, assignment.get(keyid), per_span), str,
        max_clips=max_clips, skip_bad=skip_bad,
    )  # fmt: skip
    description = (
        f"TMR annotations {ann_path} (split={split or 'all'}, motions={motions_dir}): {len(clips)} clips from "
        f"{len(annotated)} entries; {len(annotated) - len(present)} entries without motion files; "
        f"{len(keyids) - len(annotated)} split ids without annotations{describe_problems(problems)}"
    )
    return Dataset(name="tmr", clips=clips, classes=(), violent_classes=(), description=description)
