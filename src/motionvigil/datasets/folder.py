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
"""

from __future__ import annotations

import json
from pathlib import Path

from motionvigil.atomic import write_text_atomic
from motionvigil.datasets.clip import Clip, Dataset, Segment
from motionvigil.datasets.registry import register_dataset
from motionvigil.datasets.violence import is_violent
from motionvigil.errors import MotionFileError
from motionvigil.io import load_motion
from motionvigil.io.arrays import save_npz
from motionvigil.io.layouts import SMPL22
from motionvigil.io.motion import Motion
from motionvigil.skeleton.retarget import to_smpl22

ANNOTATIONS = "annotations.json"


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


@register_dataset("folder", None, "your own clips: PATH/annotations.json + PATH/clips/*.npz")
def load_folder(root: str | Path | None, *, skip_bad: bool = False) -> Dataset:
    if root is None:
        raise MotionFileError(None, "the folder dataset needs a path: --data folder:PATH")
    root = Path(root)
    path = root / ANNOTATIONS
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        entries = doc["clips"]
        classes = tuple(doc.get("classes") or sorted({lab for e in entries.values() for lab in e.get("labels", [])}))
    except FileNotFoundError:
        raise MotionFileError(path, "no annotations.json in the dataset folder") from None
    except (UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError, AttributeError) as exc:
        raise MotionFileError(path, f"not a dataset annotations file ({exc})") from None
    clips, bad = [], []
    for clip_id, entry in entries.items():
        try:
            motion = to_smpl22(load_motion(root / "clips" / f"{clip_id}.npz"))
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
