"""BABEL (Punnakkal et al., CVPR 2021): dense action labels over AMASS, as BABEL-60/120/150.

Annotation files (``babel_v1.0_release/{train,val,test}.json``), one object keyed by the
sequence id as a string::

    {"<babel_sid>": {
        "babel_sid": int,
        "url": str,                      # rendered video, ".../<babel_sid:06d>.mp4"
        "feat_p": str,                   # AMASS file, e.g. "CMU/CMU/86/86_05_poses.npz"
        "dur": float,                    # seconds
        "seq_ann": {                     # sequence-level labels (or null)
            "babel_lid": str, "anntr_id": str, "mul_act": bool,
            "labels": [{"raw_label": str, "proc_label": str, "seg_id": str,
                        "act_cat": [str, ...] | null}]},
        "frame_ann": {                   # frame-level labels, or null
            "babel_lid": str, "anntr_id": str, "mul_act": bool,
            "labels": [{"raw_label", "proc_label", "seg_id", "act_cat",
                        "start_t": float, "end_t": float}]}}}   # seconds, may overlap

(``extra_{train,val}.json`` hold lists ``seq_anns``/``frame_anns`` from several annotators
and are not read here; the public ``test.json`` has its labels withheld, so its
sequences load without labels.) ``act_cat`` holds the action categories; the class
vocabulary ``action_label_2_idx.json`` maps 150 categories to indices sorted by
frequency, and BABEL-60/120 are the categories with index < 60/120, as in BABEL's
``create_dataset.py``.

Motion convention (this project's, BABEL ships none): AMASS-derived HumanML3D features
``[T, 263]`` at 20 fps stored at ``<features_root>/<feat_p with .npz replaced by .npy>``
(e.g. ``CMU/CMU/86/86_05_poses.npy``); joints are recovered from them. Segment frames are
``[round(start_t*20), round(end_t*20))``, clamped to ``[0, T]``.

Clips: one per sequence. ``segments`` come from ``frame_ann`` (else ``seq_ann``, spanning
the whole clip), one ``Segment`` per in-vocabulary ``act_cat`` of each label; ``labels``
are the in-vocabulary categories of those segments (class order); ``violent`` is true if
any of them is one of the six violent categories. With BABEL-60, ``hit``, ``evade`` and
``grab person`` are outside the vocabulary, so they neither label nor make a clip violent
(``meta["act_cats"]`` keeps every category, in or out of vocabulary).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from motionvigil.datasets.clip import Clip, Dataset, Segment
from motionvigil.datasets.loaders.annotations import collect_clips, non_negative, read_json_object
from motionvigil.datasets.loaders.humanml3d import describe_problems, load_feature_file, seconds_to_frame
from motionvigil.datasets.registry import register_dataset
from motionvigil.datasets.violence import is_violent
from motionvigil.errors import MotionFileError
from motionvigil.features.humanml3d import features_to_joints

FPS = 20.0
LABELS_FILE = "action_label_2_idx.json"
SPLITS: tuple[str, ...] = ("train", "val", "test")
CLASS_SET_SIZES: tuple[int, ...] = (60, 120, 150)


# ----------------------------------------------------------------------------- vocabulary


def _labels_path(root: str | Path) -> Path:
    root = Path(root)
    return root if root.suffix == ".json" else root / LABELS_FILE


def read_label_vocabulary(path: str | Path) -> tuple[str, ...]:
    """All categories of ``action_label_2_idx.json`` in index order.

    Raises:
        MotionFileError: unreadable file, or indices that are not exactly ``0..n-1``.
    """
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MotionFileError(
            path, f"cannot read the BABEL label vocabulary ({type(exc).__name__}: {exc})"
        ) from None
    if not isinstance(data, dict) or not all(
        isinstance(v, int) and not isinstance(v, bool) for v in data.values()
    ):
        raise MotionFileError(path, "expected an object mapping category names to integer indices")
    if sorted(data.values()) != list(range(len(data))):
        raise MotionFileError(path, f"category indices must be exactly 0..{len(data) - 1}")
    return tuple(sorted(data, key=data.__getitem__))


def babel_classes(root: str | Path, n: int = 120) -> tuple[str, ...]:
    """BABEL-``n`` classes: the ``n`` first categories of ``root/action_label_2_idx.json``.

    ``root`` may also be the JSON file itself. ``n`` is 60, 120 or 150.
    """
    if n not in CLASS_SET_SIZES:
        raise ValueError(f"BABEL class set size must be one of {CLASS_SET_SIZES}, got {n}")
    path = _labels_path(root)
    vocabulary = read_label_vocabulary(path)
    if len(vocabulary) < n:
        raise MotionFileError(path, f"holds {len(vocabulary)} categories, fewer than {n}")
    return vocabulary[:n]


def violent_class_indices(classes: Sequence[str]) -> tuple[int, ...]:
    """Indices in ``classes`` of the violent categories (see ``datasets.violence``), ascending."""
    return tuple(i for i, name in enumerate(classes) if is_violent(name))


# ----------------------------------------------------------------------------- annotations


@dataclass(frozen=True)
class BabelLabel:
    """One label of a ``seq_ann`` or ``frame_ann``; ``start``/``end`` are ``None`` for sequence labels."""

    seg_id: str
    raw_label: str
    proc_label: str
    act_cat: tuple[str, ...]
    start: float | None = None
    end: float | None = None


@dataclass(frozen=True)
class BabelSequence:
    """One BABEL sequence with its sequence and frame labels (``None`` when absent)."""

    sid: str
    feat_p: str
    dur: float
    url: str
    seq_labels: tuple[BabelLabel, ...] | None
    frame_labels: tuple[BabelLabel, ...] | None
    split: str | None


def _time(value: Any, path: Path, where: str) -> float:
    return non_negative(value, path, where, "a finite time >= 0 s")


def parse_label(item: Any, path: Path, where: str, timed: bool) -> BabelLabel:
    """One label record; ``timed`` labels (frame_ann) need ``start_t``/``end_t``."""
    if not isinstance(item, dict):
        raise MotionFileError(path, f"{where}: expected an object, got {type(item).__name__}")
    cats = item.get("act_cat")
    if cats is None:
        cats = []
    if not isinstance(cats, list) or not all(isinstance(c, str) for c in cats):
        raise MotionFileError(path, f"{where}: act_cat must be a list of strings or null, got {cats!r}")
    start = end = None
    if timed:
        if "start_t" not in item or "end_t" not in item:
            raise MotionFileError(path, f"{where}: frame label without start_t/end_t")
        start, end = (
            _time(item["start_t"], path, f"{where} start_t"),
            _time(item["end_t"], path, f"{where} end_t"),
        )
    return BabelLabel(
        seg_id=str(item.get("seg_id", "")),
        raw_label=str(item.get("raw_label") or ""),
        proc_label=str(item.get("proc_label") or ""),
        act_cat=tuple(c.strip() for c in cats),
        start=start,
        end=end,
    )


def parse_annotation(ann: Any, path: Path, where: str, timed: bool) -> tuple[BabelLabel, ...] | None:
    """The labels of a ``seq_ann``/``frame_ann`` object (``None`` for null)."""
    if ann is None:
        return None
    if not isinstance(ann, dict) or not isinstance(ann.get("labels"), list):
        raise MotionFileError(path, f"{where}: expected an object with a 'labels' list")
    return tuple(parse_label(item, path, f"{where} label {i}", timed) for i, item in enumerate(ann["labels"]))


def parse_sequence(sid: str, entry: Any, path: Path, split: str | None) -> BabelSequence:
    """One sequence entry of a BABEL JSON file, checked."""
    where = f"sequence {sid!r}"
    if not isinstance(entry, dict):
        raise MotionFileError(path, f"{where}: expected an object, got {type(entry).__name__}")
    feat_p = entry.get("feat_p")
    if not isinstance(feat_p, str) or not feat_p.strip():
        raise MotionFileError(path, f"{where}: missing or empty 'feat_p'")
    return BabelSequence(
        sid=sid,
        feat_p=feat_p,
        dur=_time(entry.get("dur"), path, f"{where} dur"),
        url=str(entry.get("url") or ""),
        seq_labels=parse_annotation(entry.get("seq_ann"), path, f"{where} seq_ann", timed=False),
        frame_labels=parse_annotation(entry.get("frame_ann"), path, f"{where} frame_ann", timed=True),
        split=split,
    )


def read_babel_json(path: str | Path, split: str | None = None) -> list[BabelSequence]:
    """All sequences of a BABEL ``train.json``/``val.json``/``test.json`` (file order).

    Raises:
        MotionFileError: unreadable JSON or an entry outside the schema (named by sequence id).
    """
    path = Path(path)
    data = read_json_object(path, "BABEL annotations", "babel_sid")
    return [parse_sequence(str(sid), entry, path, split) for sid, entry in data.items()]


# ----------------------------------------------------------------------------- clips


def feature_path(features_root: Path, feat_p: str) -> Path:
    """``<features_root>/<feat_p>`` with ``.npz`` replaced by ``.npy``."""
    rel = feat_p[: -len(".npz")] + ".npy" if feat_p.endswith(".npz") else feat_p + ".npy"
    return features_root / rel


def sequence_segments(seq: BabelSequence, classes: Sequence[str], num_frames: int) -> tuple[Segment, ...]:
    """In-vocabulary segments of ``seq`` (frame labels, else sequence labels over the whole clip).

    Spans are ``[round(start*20), round(end*20))`` clamped to ``[0, num_frames]``; labels
    that become empty are dropped; duplicates are merged; sorted by start, end, class index.
    """
    vocab = {name: i for i, name in enumerate(classes)}
    labels = seq.frame_labels if seq.frame_labels is not None else seq.seq_labels or ()
    found: set[Segment] = set()
    for label in labels:
        if label.start is None or label.end is None:
            start, end = 0, num_frames
        else:
            start = min(seconds_to_frame(label.start, FPS), num_frames)
            end = min(seconds_to_frame(label.end, FPS), num_frames)
        if end <= start:
            continue
        found.update(Segment(cat, start, end) for cat in label.act_cat if cat in vocab)
    return tuple(sorted(found, key=lambda s: (s.start, s.end, vocab[s.label])))


def all_act_cats(seq: BabelSequence) -> tuple[str, ...]:
    """Every category named in the sequence's labels (frame and sequence), in or out of vocabulary."""
    labels = (seq.frame_labels or ()) + (seq.seq_labels or ())
    return tuple(sorted({c for label in labels for c in label.act_cat}))


def _subject(feat_p: str) -> str | None:
    """``"CMU/86"`` from ``"CMU/CMU/86/86_05_poses.npz"`` (AMASS dataset and subject folder)."""
    parts = Path(feat_p).parts
    return f"{parts[0]}/{parts[-2]}" if len(parts) >= 3 else None


def make_babel_clip(seq: BabelSequence, features: np.ndarray, classes: Sequence[str], source: Path) -> Clip:
    """The clip of one sequence with its features ``[T, 263]``."""
    segments = sequence_segments(seq, classes, len(features))
    order = {name: i for i, name in enumerate(classes)}
    labels = tuple(sorted({s.label for s in segments}, key=order.__getitem__))
    annotation = (
        "frame_ann" if seq.frame_labels is not None else "seq_ann" if seq.seq_labels is not None else None
    )
    meta = {
        "babel_sid": seq.sid,
        "feat_p": seq.feat_p,
        "dur": seq.dur,
        "url": seq.url,
        "annotation": annotation,
        "act_cats": all_act_cats(seq),
        "seq_labels": tuple(c for label in seq.seq_labels or () for c in label.act_cat if c in order),
    }
    return Clip(
        clip_id=seq.sid,
        joints=features_to_joints(features).astype(np.float32),
        labels=labels,
        violent=any(is_violent(label) for label in labels),
        dataset="babel",
        subject=_subject(seq.feat_p),
        source=str(source),
        segments=segments,
        split=seq.split,
        features=features,
        meta=meta,
    )


def read_babel_splits(root: Path, split: str | None) -> list[BabelSequence]:
    """Sequences of ``root/<split>.json`` (or of every present split file for ``None``).

    Raises:
        MotionFileError: the requested split file (or, for ``None``, every one) is absent.
    """
    if split is not None:
        if split not in SPLITS:
            raise ValueError(f"babel: split must be one of {SPLITS} or None, got {split!r}")
        path = root / f"{split}.json"
        if not path.is_file():
            raise MotionFileError(path, f"BABEL annotation file for split {split!r} not found")
        return read_babel_json(path, split)
    present = [name for name in SPLITS if (root / f"{name}.json").is_file()]
    if not present:
        raise MotionFileError(root, "no BABEL annotation files (train.json, val.json, test.json) found")
    return [seq for name in present for seq in read_babel_json(root / f"{name}.json", name)]


@register_dataset(
    "babel",
    "babel",
    "BABEL dense action labels (BABEL-60/120/150) over AMASS-derived HumanML3D features (20 fps); "
    "options: features_root=, num_classes=",
)
def load_babel(
    root: Path,
    *,
    features_root: str | Path | None = None,
    num_classes: int = 120,
    split: str | None = None,
    labels_file: str | Path | None = None,
    max_clips: int | None = None,
    skip_bad: bool = False,
    val_as_test: bool = True,
) -> Dataset:
    """Load BABEL sequences with frame-level segments over the BABEL-``num_classes`` vocabulary.

    Args:
        root: folder with ``train.json``/``val.json``/``test.json`` (BABEL v1.0 release).
        features_root: folder of ``<feat_p>.npy`` features (default ``root/features``).
        num_classes: 60, 120 or 150.
        split: ``"train"``, ``"val"``, ``"test"`` or ``None`` (every present file).
        labels_file: ``action_label_2_idx.json`` (default ``root/action_label_2_idx.json``).
        max_clips: stop after this many clips.
        skip_bad: skip bad feature files (reported) instead of raising.
        val_as_test: BABEL withholds its test labels, so the official ``val.json``
            sequences are the evaluation set (the paper's 1,911 "test" sequences); their
            clips get split ``"test"`` and validation is carved out of ``train.json``
            downstream. ``False`` keeps them as ``"val"``.

    Sequences whose feature file is absent are counted in the description, never an error.
    Sequences without any in-vocabulary label are kept (``labels == ()``).

    Raises:
        MotionFileError: missing or invalid annotation/vocabulary files, or a bad feature
            file (unless ``skip_bad``).
    """
    root = Path(root)
    classes = babel_classes(labels_file if labels_file is not None else root, num_classes)
    features_root = Path(features_root) if features_root is not None else root / "features"
    sequences = read_babel_splits(root, split)
    present = [s for s in sequences if feature_path(features_root, s.feat_p).is_file()]

    def make(seq: BabelSequence) -> list[Clip]:
        source = feature_path(features_root, seq.feat_p)
        return [make_babel_clip(seq, load_feature_file(source), classes, source)]

    clips, problems = collect_clips(present, make, lambda seq: seq.sid, max_clips=max_clips, skip_bad=skip_bad)
    if val_as_test and not any(c.split == "test" for c in clips):
        for clip in clips:
            if clip.split == "val":
                clip.split = "test"
    description = (
        f"BABEL-{num_classes} from {root} (split={split or 'all'}, features={features_root}): {len(clips)} clips "
        f"from {len(sequences)} sequences; {len(sequences) - len(present)} sequences without feature files"
        f"{describe_problems(problems)}"
    )
    violent = tuple(classes[i] for i in violent_class_indices(classes))
    return Dataset(
        name="babel", clips=clips, classes=classes, violent_classes=violent, description=description,
        bad_files=problems,
    )
