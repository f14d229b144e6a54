"""SBU Kinect Interaction (Yun et al., CVPR Workshops 2012), clean version, a subset.

11 of its 21 two-person sets (``sXXsYY`` names the two participants), 147 takes of 8
interactions, ``<set>/<class>/<take>/skeleton_pos.txt`` read by :mod:`motionvigil.io.sbu`
(two persons, 15 joints, 15 fps, one shared camera frame).

* Classes ``01``..``08`` (:data:`SBU_CLASSES`): approaching, departing, kicking,
  pushing, shaking hands, hugging, exchanging an object, punching. Checked on the
  motion: approaching closes the chest-to-chest distance (1.45 -> 0.54 m, medians),
  departing opens it, kicking raises a foot 0.74 m (0.14-0.40 m in the others),
  hugging brings the chests to 0.23 m.
* Violent: kicking, punching, pushing (one person strikes or shoves the other; pushing
  counts as ``hit``, see :mod:`motionvigil.datasets.violence`). Shaking hands and
  hugging are non-violent contact; approaching, departing and exchanging an object
  are calm.
* **Who is who.** The file does not say which skeleton is which participant, and the
  skeleton order does NOT follow the set name: in all six sets with participant s03,
  s03 is the markedly smallest skeleton (sum of 12 median bone lengths 2.9-3.1 m
  against 3.2-3.7 m) and it is the file's first skeleton in five of them, whichever
  place the name gives it. :data:`SBU_PERSON_PARTICIPANTS` gives each set's
  participants in file order, chosen among all 2^11 orders as the one whose
  per-participant bone-length signatures (median lengths of the 14 bones) agree best:
  total within-participant variance 0.0195 m^2, against 0.144 m^2 for the order of the
  names. The next-best orders (0.025 m^2 and up) differ in s05s02, s01s03 or s04s02:
  those three assignments are the least certain, and all three sets are put aside by
  the split below. ``python -m motionvigil.datasets.reader_evidence`` re-measures this
  (``results/data/readers.json``).
* **Split** (``split_scheme="participants"``, default): participant-disjoint. Test
  participants s01, s02 (sets s01s02, s02s01: 30 takes), train participants s03, s04,
  s05 (sets s03s04, s04s03, s03s05, s05s03: 53 takes). This keeps the most sets of any
  participant split with both sides non-empty (6 of 11). The 5 sets that pair a train
  with a test participant (s01s03, s02s03, s03s02, s04s02, s05s02: 64 takes) straddle
  it: their split is ``None`` (put aside; use them for leave-one-source-out, where SBU
  is one source, or with ``split_scheme="none"``).
* Clips (:func:`load_sbu_kinect`): one single-person clip per person per take
  (``clip_id`` ``<set>/<class>/<take>/p0`` and ``/p1``), SMPL-22 at 20 Hz in that
  person's canonical frame, ``subject`` = that person's participant, ``labels`` = the
  interaction (both persons carry it, the receiver of a kick too), meta ``pair`` (the
  take id) and ``person`` (0 or 1). Conversion is not cached: the 147 files read and
  convert in about a second.
* Pairs (:func:`sbu_pairs`): one record per take with the two-person SMPL-22 motion
  in the shared camera frame (for interaction scoring).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from motionvigil.datasets.cache import finish_dataset, json_meta, loading_error
from motionvigil.datasets.clip import FPS, Clip, Dataset
from motionvigil.datasets.native import NATIVE_JOINTS, NATIVE_LAYOUT, layout_meta, to_smpl22_native
from motionvigil.datasets.registry import register_dataset
from motionvigil.datasets.violence import is_violent
from motionvigil.errors import MotionFileError
from motionvigil.io.motion import Motion
from motionvigil.io.sbu import FILE_NAME, read_sbu
from motionvigil.skeleton.retarget import to_smpl22

NAME = "sbu_kinect"
SPLIT_SCHEMES = ("participants", "none")

#: Interaction names by class folder 01..08.
SBU_CLASSES: tuple[str, ...] = (
    "approaching", "departing", "kicking", "pushing", "shaking hands", "hugging",
    "exchanging an object", "punching",
)  # fmt: skip

#: The participants of each set in the file's skeleton order (person 0, person 1),
#: matched by body size (see the module notes).
SBU_PERSON_PARTICIPANTS: dict[str, tuple[str, str]] = {
    "s01s02": ("s02", "s01"),
    "s01s03": ("s01", "s03"),
    "s02s01": ("s02", "s01"),
    "s02s03": ("s03", "s02"),
    "s03s02": ("s03", "s02"),
    "s03s04": ("s03", "s04"),
    "s03s05": ("s03", "s05"),
    "s04s02": ("s02", "s04"),
    "s04s03": ("s03", "s04"),
    "s05s02": ("s02", "s05"),
    "s05s03": ("s03", "s05"),
}

TRAIN_PARTICIPANTS = frozenset({"s03", "s04", "s05"})
TEST_PARTICIPANTS = frozenset({"s01", "s02"})

_SET = re.compile(r"^(s\d\d)(s\d\d)$")
_CLASS = re.compile(r"^0[1-8]$")
_TAKE = re.compile(r"^\d+$")


@dataclass(frozen=True)
class SbuRecord:
    """One take (file), described from its path alone."""

    path: Path
    take_id: str  # "s01s02/03/002"
    set_name: str  # "s01s02"
    label: str
    take: str  # "002"
    participants: tuple[str, str]  # in the file's skeleton order
    violent: bool
    split: str | None


@dataclass
class SbuPair:
    """One take as a pair: the two-person motion with its labels (see :func:`sbu_pairs`)."""

    take_id: str
    label: str
    violent: bool
    participants: tuple[str, str]  # participant of person id 0, of person id 1
    split: str | None
    motion: Motion  # SMPL-22, 20 Hz, joints [2, T, 22, 3], shared camera frame
    source: str


def set_participants(set_name: str) -> tuple[str, str]:
    """Participants of a set in file order (:data:`SBU_PERSON_PARTICIPANTS`); for a set
    not in the table, the order of its name (``s06s04`` -> ``("s06", "s04")``).

    Raises:
        ValueError: the name is not ``sXXsYY``.
    """
    if set_name in SBU_PERSON_PARTICIPANTS:
        return SBU_PERSON_PARTICIPANTS[set_name]
    m = _SET.match(set_name)
    if m is None:
        raise ValueError(f"SBU set name {set_name!r} is not sXXsYY")
    return m.group(1), m.group(2)


def participant_split(participants: tuple[str, str], scheme: str = "participants") -> str | None:
    """``"train"``/``"test"`` when both participants are on that side, else ``None`` (aside)."""
    if scheme not in SPLIT_SCHEMES:
        raise ValueError(f"unknown split_scheme {scheme!r}; choose from {', '.join(SPLIT_SCHEMES)}")
    if scheme == "none":
        return None
    if all(p in TRAIN_PARTICIPANTS for p in participants):
        return "train"
    if all(p in TEST_PARTICIPANTS for p in participants):
        return "test"
    return None


def index_sbu(root: str | Path, split_scheme: str = "participants") -> list[SbuRecord]:
    """Every ``<set>/<class>/<take>/skeleton_pos.txt`` under ``root``, from the paths only.

    Raises:
        MotionFileError: no files, or a path whose set, class or take folder is malformed.
    """
    root = Path(root)
    records = []
    for path in sorted(root.glob(f"*/*/*/{FILE_NAME}")):
        set_name, class_dir, take = path.parent.parts[-3:]
        if not (_SET.match(set_name) and _CLASS.match(class_dir) and _TAKE.match(take)):
            raise MotionFileError(path, "path is not <sXXsYY>/<class 01-08>/<take number>/" + FILE_NAME)
        label = SBU_CLASSES[int(class_dir) - 1]
        participants = set_participants(set_name)
        records.append(
            SbuRecord(
                path=path,
                take_id=f"{set_name}/{class_dir}/{take}",
                set_name=set_name,
                label=label,
                take=take,
                participants=participants,
                violent=is_violent(label),
                split=participant_split(participants, split_scheme),
            )
        )
    if not records:
        raise MotionFileError(root, f"no SBU Kinect <set>/<class>/<take>/{FILE_NAME} files found")
    return records


def index_summary(records: list[SbuRecord]) -> dict[str, Any]:
    """What ``data info`` prints for the index (clips = 2 per take, one per person)."""
    splits = Counter(r.split for r in records if r.split is not None)
    return {
        "name": NAME,
        "clips": 2 * len(records),
        "takes": len(records),
        "classes": len(SBU_CLASSES),
        "violent_classes": sum(is_violent(n) for n in SBU_CLASSES),
        "subjects": len({p for r in records for p in r.participants}),
        "splits": {k: 2 * v for k, v in sorted(splits.items())},
        "aside_takes": sum(r.split is None for r in records),
    }


def _read_records(records: list[SbuRecord], skip_bad: bool):
    """``(record, motion)`` for each readable record, and the ``(path, message)`` of the others."""
    good, bad = [], []
    for rec in records:
        try:
            good.append((rec, read_sbu(rec.path)))
        except MotionFileError as exc:
            if not skip_bad:
                raise loading_error(NAME, exc) from None
            bad.append((rec.path, str(exc)))
    return good, bad


def sbu_pairs(root: str | Path, *, split_scheme: str = "participants", skip_bad: bool = False) -> list[SbuPair]:
    """Every take as a two-person SMPL-22 motion at 20 Hz in the shared camera frame.

    ``motion`` is ``to_smpl22(read_sbu(file), canonical=False)``: ``joints [2, T, 22, 3]``,
    ``person_ids`` ``(0, 1)`` (file order; ``participants[i]`` is person ``i``), metres,
    Y up, the distances between the two persons as recorded.

    Raises:
        MotionFileError: an unusable file (with ``skip_bad=False``; else it is left out).
    """
    good, _ = _read_records(index_sbu(root, split_scheme), skip_bad)
    return [
        SbuPair(take_id=rec.take_id, label=rec.label, violent=rec.violent, participants=rec.participants,
                split=rec.split, motion=to_smpl22(motion, fps=FPS, canonical=False), source=str(rec.path))
        for rec, motion in good
    ]


def _person_clip(rec: SbuRecord, motion: Motion, index: int) -> Clip:
    """Person ``index`` of a take as a single-person SMPL-22 clip (its own canonical frame)."""
    person = motion.person(index)
    smpl, native = to_smpl22_native(person, fps=FPS)
    return Clip(
        clip_id=f"{rec.take_id}/p{index}",
        joints=smpl.joints,
        labels=(rec.label,),
        violent=rec.violent,
        dataset=NAME,
        subject=rec.participants[index],
        source=str(rec.path),
        split=rec.split,
        meta={**json_meta(smpl.meta), "pair": rec.take_id, "person": index, "fps": FPS,
              "source_frames": motion.num_frames, NATIVE_JOINTS: native, NATIVE_LAYOUT: layout_meta(motion.layout)},
    )


@register_dataset(
    NAME, "sbu_kinect",
    "SBU Kinect Interaction: 147 two-person takes (one clip per person), 8 interactions (violent: kicking, "
    "punching, pushing), 5 participants, participant-disjoint split; research use only",
)
def load_sbu_kinect(
    root: Path,
    *,
    split_scheme: str = "participants",
    skip_bad: bool = False,
    cache: bool = True,
    cache_dir: str | Path | None = None,
    progress: bool = False,
) -> Dataset:
    """Load SBU Kinect as single-person SMPL-22 clips at 20 Hz (see the module notes).

    Args:
        root: the dataset folder (holding the ``sXXsYY`` set folders).
        split_scheme: ``"participants"`` (participant-disjoint, straddling sets aside)
            or ``"none"``.
        skip_bad: skip unusable files (listed in ``dataset.bad_files``) instead of stopping.
        cache, cache_dir, progress: accepted so that every loader takes the same
            options; unused (the files convert in about a second, uncached).

    Raises:
        MotionFileError: an unusable file (with ``skip_bad=False``) or a malformed path.
    """
    del cache, cache_dir, progress  # uniform loader options; see the docstring
    records = index_sbu(root, split_scheme)
    good, bad = _read_records(records, skip_bad)
    clips = []
    for rec, motion in good:
        for index in range(motion.num_persons):
            try:
                clips.append(_person_clip(rec, motion, index))
            except MotionFileError as exc:
                if not skip_bad:
                    raise loading_error(NAME, exc) from None
                bad.append((rec.path, str(exc)))
    aside = sum(r.split is None for r in records) if split_scheme != "none" else 0
    return finish_dataset(
        NAME,
        clips,
        SBU_CLASSES,
        (
            f"SBU Kinect Interaction: {len(clips)} person clips of {len(good)} of {len(records)} two-person takes, "
            f"8 interactions (violent: kicking, punching, pushing); split {split_scheme}"
            + (f" (train s03-s05, test s01-s02; {aside} takes of straddling sets aside)" if aside else "")
            + ". Research use only; cite Yun et al., CVPR Workshops 2012."
        ),
        bad,
    )
