"""A plain dataset folder: one ``.npz`` motion per clip plus ``annotations.json``.

This is the format ``motionvigil data synth`` writes and the easiest way to bring your
own labelled clips (``--data folder:PATH``)::

    PATH/annotations.json
    PATH/clips/<clip_id>.npz      # read_npz format: joints [T, J, 3] metres, fps, ...

``annotations.json``::

    {"name": "my_data", "classes": ["punch", "walk", ...],
     "clips": {"<clip_id>": {"labels": ["punch"], "split": "train", "subject": "p01",
                             "captions": ["a person punches"],
                             "segments": [["punch", 0, 40]]}}}

Segments are ``[label, start, end)`` frame ranges at 20 Hz. Any supported skeleton
(SMPL-22, Kinect, Bandai, CMU, ...) is retargeted to SMPL-22 at 20 Hz on load.

**Class folders.** A folder without ``annotations.json`` holds one subfolder per class,
each with motion files in any supported format (``PATH/punch/*.bvh``,
``PATH/walk/*.txt``, ``PATH/kick/x.amc`` beside its ``.asf``, ``*.npz``, ...; files in
deeper folders count for the class folder above them). Every file is one clip labelled
with its class; the violent classes are those the violence vocabulary knows
(``datasets.violence``; ``build-detector --alert`` chooses others). Optional files:

* ``subjects.csv``: lines ``file,subject`` (``file`` relative to ``PATH``, e.g.
  ``punch/a.bvh``, or the bare file name when unique); a header line is allowed.
  Without it each file is its own subject, so subject-disjoint splits are file-disjoint
  only (two takes of one performer may land on both sides).
* ``joint_map.json``: a ``--joint-map`` for every file of the folder.

Unreadable files are skipped and listed (a warning each, and ``dataset.bad_files``)
unless ``skip_bad=False`` (``--strict``).
"""

from __future__ import annotations

import csv
import json
import logging
from pathlib import Path

from motionvigil.atomic import write_text_atomic
from motionvigil.datasets.clip import Clip, Dataset, Segment
from motionvigil.datasets.registry import register_dataset
from motionvigil.datasets.violence import is_violent
from motionvigil.errors import MotionFileError
from motionvigil.io import load_motion
from motionvigil.io.load import supported_formats
from motionvigil.io.arrays import save_npz
from motionvigil.io.layouts import SMPL22
from motionvigil.io.motion import Motion
from motionvigil.skeleton.retarget import to_smpl22

ANNOTATIONS = "annotations.json"
SUBJECTS = "subjects.csv"
JOINT_MAP = "joint_map.json"
log = logging.getLogger(__name__)


def export_dataset(dataset: Dataset, out_dir: str | Path) -> Path:
    """Write ``dataset`` as a folder dataset; returns the annotations path."""
    out = Path(out_dir)
    clips_dir = out / "clips"
    entries = {}
    for clip in dataset.clips:
        save_npz(clips_dir / f"{clip.clip_id}.npz", Motion(clip.joints, 20.0, SMPL22, source=clip.source))
        entries[clip.clip_id] = {
            "labels": list(clip.labels),
            "split": clip.split,
            "subject": clip.subject,
            "captions": list(clip.captions),
            "segments": [[s.label, s.start, s.end] for s in clip.segments],
        }
    doc = {"name": dataset.name, "classes": list(dataset.classes), "description": dataset.description,
           "clips": entries}
    path = out / ANNOTATIONS
    write_text_atomic(path, json.dumps(doc, indent=1))
    return path


def _entry_error(path: Path, clip_id: str, problem: str) -> MotionFileError:
    return MotionFileError(path, f"clip {clip_id!r}: {problem}")


@register_dataset("folder", None, "your own clips: PATH/annotations.json + PATH/clips/*.npz, or one subfolder "
                                  "per class holding motion files (PATH/punch/*.bvh, ...)")
def load_folder(root: str | Path | None, *, skip_bad: bool | None = None, joint_map=None,
                scale: float | None = None) -> Dataset:
    """Load a folder dataset: ``annotations.json`` + ``clips/``, or class folders.

    ``skip_bad``: skip unusable clips (listed in ``dataset.bad_files``) instead of
    stopping. ``None`` (default) means stop for ``annotations.json`` folders and skip
    for class folders. ``joint_map``/``scale`` go to ``load_motion``.
    """
    if root is None:
        raise MotionFileError(None, "the folder dataset needs a path: --data folder:PATH or --data PATH/")
    root = Path(root)
    path = root / ANNOTATIONS
    reader = {k: v for k, v in (("joint_map", joint_map), ("scale", scale)) if v is not None}
    if not path.is_file() and root.is_dir() and _class_dirs(root):
        return load_class_folders(root, skip_bad=skip_bad is not False, **reader)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        entries = doc["clips"]
        classes = tuple(doc.get("classes") or sorted({lab for e in entries.values() for lab in e.get("labels", [])}))
    except FileNotFoundError:
        raise MotionFileError(path, "no annotations.json in the dataset folder, and no class subfolders "
                                    "holding motion files") from None
    except (UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError, AttributeError) as exc:
        raise MotionFileError(path, f"not a dataset annotations file ({exc})") from None
    clips, bad = [], []
    for clip_id, entry in entries.items():
        try:
            motion = to_smpl22(load_motion(root / "clips" / f"{clip_id}.npz", **reader))
            labels = tuple(entry.get("labels", []))
            unknown = [lab for lab in labels if lab not in classes]
            if unknown:
                raise _entry_error(path, clip_id, f"labels {unknown} are not in 'classes'")
            segments = tuple(Segment(str(a), int(b), int(c)) for a, b, c in entry.get("segments", []))
            clips.append(Clip(clip_id, motion.joints, labels, any(map(is_violent, labels)), str(doc.get("name", "folder")),
                              subject=entry.get("subject"), source=motion.source, segments=segments,
                              captions=tuple(entry.get("captions", [])), split=entry.get("split")))
        except MotionFileError as exc:
            if not skip_bad:
                raise
            bad.append((clip_id, str(exc)))
        except (TypeError, ValueError) as exc:
            error = _entry_error(path, clip_id, f"bad annotation entry ({exc})")
            if not skip_bad:
                raise error from None
            bad.append((clip_id, str(error)))
    violent = tuple(c for c in classes if is_violent(c))
    note = f" Skipped {len(bad)} unusable clip(s)." if bad else ""
    dataset = Dataset(str(doc.get("name", "folder")), clips, classes, violent, str(doc.get("description", "")) + note)
    dataset.bad_files = bad
    return dataset


def motion_files(folder: Path) -> list[Path]:
    """Motion files under ``folder`` (any depth; ASF skeletons and hidden files excluded)."""
    formats = supported_formats()
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in formats
                  and not any(part.startswith(".") for part in p.relative_to(folder).parts))


def _class_dirs(root: Path) -> list[Path]:
    return sorted(d for d in root.iterdir() if d.is_dir() and not d.name.startswith(".") and motion_files(d))


def _read_subjects(root: Path) -> dict[str, str]:
    """``subjects.csv`` -> {relative path or file name: subject} ({} if absent)."""
    path = root / SUBJECTS
    if not path.is_file():
        return {}
    out: dict[str, str] = {}
    try:
        rows = list(csv.reader(path.read_text(encoding="utf-8").splitlines()))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise MotionFileError(path, f"cannot read subjects ({exc})") from None
    for number, row in enumerate(rows, start=1):
        cells = [c.strip() for c in row]
        if not any(cells) or (number == 1 and [c.lower() for c in cells[:2]] == ["file", "subject"]):
            continue
        if len(cells) != 2 or not all(cells):
            raise MotionFileError(path, f"line {number}: expected 'file,subject', got {row!r}")
        out[cells[0].replace("\\", "/")] = cells[1]
    return out


def load_class_folders(root: str | Path, *, skip_bad: bool = True, joint_map=None,
                       scale: float | None = None) -> Dataset:
    """One subfolder per class of motion files (see the module docstring).

    Raises:
        MotionFileError: no class folder, a bad ``subjects.csv`` or ``joint_map.json``,
            an unusable file when ``skip_bad`` is False, or no usable file at all.
    """
    root = Path(root)
    class_dirs = _class_dirs(root)
    if not class_dirs:
        raise MotionFileError(root, "no class subfolders holding motion files "
                                    f"({', '.join(sorted(supported_formats()))})")
    if joint_map is None and (root / JOINT_MAP).is_file():
        joint_map = root / JOINT_MAP
    if joint_map is not None and not isinstance(joint_map, dict):
        from motionvigil.skeleton.auto_map import read_joint_map

        joint_map = read_joint_map(joint_map)
    subjects = _read_subjects(root)
    by_name: dict[str, list[str]] = {}
    for rel in subjects:
        by_name.setdefault(Path(rel).name, []).append(rel)
    reader = {k: v for k, v in (("joint_map", joint_map), ("scale", scale)) if v is not None}
    clips, bad = [], []
    for class_dir in class_dirs:
        label = class_dir.name
        for file in motion_files(class_dir):
            rel = file.relative_to(root).as_posix()
            try:
                motion = to_smpl22(load_motion(file, **reader))
            except MotionFileError as exc:
                if not skip_bad:
                    raise
                log.warning("skipped unusable file %s", exc)
                bad.append((str(file), str(exc)))
                continue
            subject = subjects.get(rel)
            if subject is None and len(by_name.get(file.name, [])) == 1:
                subject = subjects[by_name[file.name][0]]
            clip_id = rel.rsplit(".", 1)[0]
            clips.append(Clip(clip_id, motion.joints, (label,), is_violent(label), root.name or "folder",
                              subject=subject or clip_id, source=str(file)))
    if not clips:
        raise MotionFileError(root, f"none of the {len(bad)} motion file(s) in the class folders is usable")
    classes = tuple(sorted({c.labels[0] for c in clips}))
    note = f" Skipped {len(bad)} unusable file(s)." if bad else ""
    dataset = Dataset(root.name or "folder", clips, classes, tuple(c for c in classes if is_violent(c)),
                      f"class folders of {root}.{note}")
    dataset.bad_files = bad
    return dataset
