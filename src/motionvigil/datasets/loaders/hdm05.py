"""HDM05 subset (Mueller et al., 2007): 287 ASF/AMC motions, 11 classes, 5 actors.

Layout: ``<root>/train|test/<class_no>/HDM_<actor>_<class>_<nnn>_<fps>.amc`` with one
``HDM_<actor>.asf`` skeleton per actor in each folder.

* Classes: one per class folder, in folder-number order (1..11); the name is the HDM05
  class name in the file names (e.g. ``kickLFront1Reps``), and every file of a folder
  must carry the same one (the ``mocap_violence`` pool gives them plain-English names).
* Violent: ``kickLFront1Reps`` (class 6), through :mod:`motionvigil.datasets.violence`.
* Split: the ``train/`` and ``test/`` folders (actors bd, bk, dg train; mm, tr test);
  subject = the actor code. The loader checks that no actor appears in both.
* Frame rate: the ``_<fps>`` suffix of the name (120 throughout).
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from motionvigil.datasets.cache import finish_dataset
from motionvigil.datasets.clip import Dataset
from motionvigil.datasets.loaders.records import ClipInfo, convert_records
from motionvigil.datasets.registry import register_dataset
from motionvigil.datasets.violence import is_violent
from motionvigil.errors import MotionFileError

NAME = "hdm05"
SPLITS = ("train", "test")
_AMC_NAME = re.compile(r"^HDM_(?P<actor>[A-Za-z]+)_(?P<cls>[A-Za-z0-9]+)_(?P<num>\d+)_(?P<fps>\d+)\.amc$")

@dataclass(frozen=True)
class Hdm05Record:
    """One HDM05 AMC file, described from its path alone."""

    path: Path
    clip_id: str  # "HDM_bd_kickLFront1Reps_001"
    class_no: int
    label: str
    actor: str
    take: int
    fps: float
    split: str


def index_hdm05(root: str | Path) -> list[Hdm05Record]:
    """Every AMC file under ``<root>/train|test/<class_no>/``, from names only.

    Raises:
        MotionFileError: no files, a file name that does not parse, a folder whose files
            name different classes (or a class number used for two names), or an actor
            found in both splits.
    """
    root = Path(root)
    records: list[Hdm05Record] = []
    for split in SPLITS:
        for folder in sorted((root / split).glob("*")):
            if not (folder.is_dir() and folder.name.isdigit()):
                continue
            for path in sorted(folder.glob("*.amc")):
                m = _AMC_NAME.match(path.name)
                if m is None:
                    raise MotionFileError(path, "name does not match HDM_<actor>_<class>_<nnn>_<fps>.amc")
                records.append(
                    Hdm05Record(
                        path=path,
                        clip_id=f"HDM_{m['actor']}_{m['cls']}_{m['num']}",
                        class_no=int(folder.name),
                        label=m["cls"],
                        actor=m["actor"],
                        take=int(m["num"]),
                        fps=float(m["fps"]),
                        split=split,
                    )
                )
    if not records:
        raise MotionFileError(root, "no HDM05 train|test/<class_no>/*.amc files found")
    _check_consistent(root, records)
    return records


def _check_consistent(root: Path, records: list[Hdm05Record]) -> None:
    """One class name per class number (and vice versa); each actor in one split only."""
    names: dict[int, set[str]] = defaultdict(set)
    numbers: dict[str, set[int]] = defaultdict(set)
    splits: dict[str, set[str]] = defaultdict(set)
    for r in records:
        names[r.class_no].add(r.label)
        numbers[r.label].add(r.class_no)
        splits[r.actor].add(r.split)
    for no, found in sorted(names.items()):
        if len(found) > 1:
            raise MotionFileError(root, f"class folder {no} holds several classes: {sorted(found)}")
    for label, found in sorted(numbers.items()):
        if len(found) > 1:
            raise MotionFileError(root, f"class {label!r} appears in several class folders: {sorted(found)}")
    for actor, found in sorted(splits.items()):
        if len(found) > 1:
            raise MotionFileError(root, f"actor {actor!r} appears in both the train and test folders")


def hdm05_classes(records: list[Hdm05Record]) -> tuple[str, ...]:
    """Class names in class-folder-number order."""
    by_number = {r.class_no: r.label for r in records}
    return tuple(by_number[n] for n in sorted(by_number))


def _clip_info(rec: Hdm05Record) -> ClipInfo:
    """Label, violence, subject (the actor) and meta of an HDM05 clip."""
    return ClipInfo(
        labels=(rec.label,),
        violent=is_violent(rec.label),
        subject=rec.actor,
        meta={"class_no": rec.class_no, "take": rec.take},
    )


@register_dataset(NAME, "hdm05", "HDM05 subset: 287 ASF/AMC motions, 11 classes (kick violent), 5 actors")
def load_hdm05(
    root: Path,
    *,
    skip_bad: bool = False,
    cache: bool = True,
    cache_dir: str | Path | None = None,
    progress: bool = False,
) -> Dataset:
    """Load the HDM05 subset as SMPL-22 clips at 20 Hz (see the module notes).

    Options as for ``msr_action3d``: ``skip_bad`` (unusable files listed in
    ``dataset.bad_files``), ``cache``, ``cache_dir``, ``progress``.

    Raises:
        MotionFileError: an unusable file (with ``skip_bad=False``) or an inconsistent
            folder layout.
    """
    records = index_hdm05(root)
    classes = hdm05_classes(records)
    loaded = convert_records(
        NAME, records, _clip_info, reader_kwargs_of=lambda r: {"fps": r.fps},
        cache_dir=cache_dir, use_cache=cache, progress=progress, skip_bad=skip_bad,
    )  # fmt: skip
    clips = loaded.clips
    clips.sort(key=lambda c: (c.meta["class_no"], c.clip_id))
    actors = {s: sorted({r.actor for r in records if r.split == s}) for s in SPLITS}
    return finish_dataset(
        NAME,
        clips,
        classes,
        (
            f"HDM05 subset: {len(clips)} of {len(records)} motions, {len(classes)} classes; "
            f"train actors {', '.join(actors['train'])}, test actors {', '.join(actors['test'])}."
        ),
        loaded.bad,
    )
