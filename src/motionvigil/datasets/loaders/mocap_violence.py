"""The real benchmark pool: MSR Action3D + HDM05 + UTKinect + Bandai-2, one vocabulary.

Every clip of the four datasets (SMPL-22, 20 Hz) with its label renamed through
:data:`LABEL_MAP`. Labels are merged only where they name the same action; the merges
were checked on the motion itself (wrist paths, heading) and are:

* ``kick``  <- MSR ``forward kick``, MSR ``side kick``, HDM05 ``kickLFront1Reps``
* ``punch`` <- MSR ``forward punch``, MSR ``side boxing``
* ``wave both hands`` <- MSR ``two hand wave``, UTKinect ``wave hands``, Bandai
  ``wave-both-hands`` (all three wave both arms, symmetric, wrists above the head in
  39-58% of frames)
* ``clap``  <- MSR ``hand clap``, UTKinect ``clap hands`` (both wrists, below the head)
* ``walk``  <- UTKinect ``walk``, Bandai ``walk`` (walking forward)

Kept apart on purpose: the throws (MSR ``high throw``, ``pickup and throw``, UTKinect
``throw``, HDM05 ``throwBasketball``: different throws), MSR ``jogging`` (in place) vs
HDM05 ``jog in a left circle`` vs Bandai ``run``, MSR ``high arm wave`` (mostly the
right arm; the label names no hand) vs Bandai ``wave right hand``, MSR ``bend`` vs HDM05
``squat`` vs UTKinect ``pick up``.

* Violent (via :mod:`motionvigil.datasets.violence`): exactly ``kick`` and ``punch``.
* Subjects: prefixed by dataset (``msr_s01``, ``hdm05_bd``, ``utk_s01``,
  ``bandai_take1``); Bandai's "subjects" are takes (it has no performer ids, see
  ``loaders/bandai2.py``).
* Split: each dataset's own subject split (MSR/UTKinect odd subjects train; HDM05 by
  actor folder; Bandai takes 1-6 train). Train and test subjects are disjoint; the
  loader checks it.
* Clip ids: ``<dataset>/<clip id>``; ``Clip.dataset`` stays the source dataset;
  ``meta["source_label"]`` keeps the original label.

:func:`class_table` gives, per class, its violent category, the contributing datasets
and the train/test counts; ``docs/mocap_violence.md`` holds the table for the shipped
data.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from motionvigil.data_root import default_data_root
from motionvigil.datasets.cache import finish_dataset
from motionvigil.datasets.clip import Clip, Dataset
from motionvigil.datasets.registry import get_spec, register_dataset
from motionvigil.datasets.violence import violent_category
from motionvigil.errors import MotionFileError

NAME = "mocap_violence"
SOURCES: tuple[str, ...] = ("msr_action3d", "hdm05", "utkinect", "bandai2")
SUBJECT_PREFIX: dict[str, str] = {
    "msr_action3d": "msr", "hdm05": "hdm05", "utkinect": "utk", "bandai2": "bandai",
}  # fmt: skip

#: (dataset, source label) -> pooled label. Every source class is listed; merged ones
#: are marked. The pooled vocabulary is the distinct values in this order.
LABEL_MAP: dict[tuple[str, str], str] = {
    # MSR Action3D (a01..a20)
    ("msr_action3d", "high arm wave"): "high arm wave",
    ("msr_action3d", "horizontal arm wave"): "horizontal arm wave",
    ("msr_action3d", "hammer"): "hammer",
    ("msr_action3d", "hand catch"): "hand catch",
    ("msr_action3d", "forward punch"): "punch",  # merged
    ("msr_action3d", "high throw"): "high throw",
    ("msr_action3d", "draw X"): "draw x",
    ("msr_action3d", "draw tick"): "draw tick",
    ("msr_action3d", "draw circle"): "draw circle",
    ("msr_action3d", "hand clap"): "clap",  # merged
    ("msr_action3d", "two hand wave"): "wave both hands",  # merged
    ("msr_action3d", "side boxing"): "punch",  # merged
    ("msr_action3d", "bend"): "bend",
    ("msr_action3d", "forward kick"): "kick",  # merged
    ("msr_action3d", "side kick"): "kick",  # merged
    ("msr_action3d", "jogging"): "jog in place",
    ("msr_action3d", "tennis swing"): "tennis swing",
    ("msr_action3d", "tennis serve"): "tennis serve",
    ("msr_action3d", "golf swing"): "golf swing",
    ("msr_action3d", "pickup and throw"): "pick up and throw",
    # HDM05 (class folders 1..11)
    ("hdm05", "depositFloorR"): "deposit on floor",
    ("hdm05", "elbowToKnee1RepsLelbowStart"): "elbow to knee",
    ("hdm05", "grabHighR"): "grab high",
    ("hdm05", "hopBothLegs1hops"): "hop on both legs",
    ("hdm05", "jogLeftCircle4StepsRstart"): "jog in a left circle",
    ("hdm05", "kickLFront1Reps"): "kick",  # merged
    ("hdm05", "lieDownFloor"): "lie down on floor",
    ("hdm05", "rotateArmsBothBackward1Reps"): "rotate both arms backward",
    ("hdm05", "sneak2StepsLStart"): "sneak",
    ("hdm05", "squat1Reps"): "squat",
    ("hdm05", "throwBasketball"): "throw basketball",
    # UTKinect-Action3D
    ("utkinect", "walk"): "walk",  # merged
    ("utkinect", "sit down"): "sit down",
    ("utkinect", "stand up"): "stand up",
    ("utkinect", "pick up"): "pick up",
    ("utkinect", "carry"): "carry",
    ("utkinect", "throw"): "throw",
    ("utkinect", "push"): "push",
    ("utkinect", "pull"): "pull",
    ("utkinect", "wave hands"): "wave both hands",  # merged
    ("utkinect", "clap hands"): "clap",  # merged
    # Bandai-2 contents
    ("bandai2", "walk"): "walk",  # merged
    ("bandai2", "walk turn left"): "walk turning left",
    ("bandai2", "walk turn right"): "walk turning right",
    ("bandai2", "run"): "run",
    ("bandai2", "wave both hands"): "wave both hands",  # merged
    ("bandai2", "wave left hand"): "wave left hand",
    ("bandai2", "wave right hand"): "wave right hand",
    ("bandai2", "raise up both hands"): "raise both hands",
    ("bandai2", "raise up left hand"): "raise left hand",
    ("bandai2", "raise up right hand"): "raise right hand",
}

POOLED_CLASSES: tuple[str, ...] = tuple(dict.fromkeys(LABEL_MAP.values()))


@dataclass(frozen=True)
class ClassRow:
    """One row of :func:`class_table`."""

    label: str
    violent_category: str | None
    datasets: tuple[str, ...]
    train: int
    test: int

    @property
    def total(self) -> int:
        return self.train + self.test


def pooled_label(dataset: str, label: str) -> str:
    """The pooled label of a source label.

    Raises:
        KeyError: the label is not in :data:`LABEL_MAP` (a new class: add it there).
    """
    try:
        return LABEL_MAP[(dataset, label)]
    except KeyError:
        raise KeyError(f"{dataset} label {label!r} is not in mocap_violence.LABEL_MAP") from None


def _pooled_clip(clip: Clip, source: str) -> Clip:
    """A source clip renamed into the pool (label, subject, id)."""
    labels = tuple(pooled_label(source, lab) for lab in clip.labels)
    return replace(
        clip,
        clip_id=f"{source}/{clip.clip_id}",
        labels=labels,
        violent=any(violent_category(lab) is not None for lab in labels),
        dataset=source,
        subject=None if clip.subject is None else f"{SUBJECT_PREFIX[source]}_{clip.subject}",
        meta={**clip.meta, "source_label": clip.labels, "source_clip_id": clip.clip_id},
    )


def check_subject_disjoint(clips: list[Clip]) -> None:
    """Raise ValueError if a subject has clips in two different splits."""
    seen: dict[str, str] = {}
    for clip in clips:
        if clip.subject is None or clip.split is None:
            continue
        first = seen.setdefault(clip.subject, clip.split)
        if first != clip.split:
            raise ValueError(f"subject {clip.subject!r} is in both the {first} and {clip.split} splits")


@register_dataset(NAME, None, "Pool of MSR Action3D, HDM05, UTKinect, Bandai-2; violent: kick, punch")
def load_mocap_violence(
    root: Path | None,
    *,
    sources: tuple[str, ...] = SOURCES,
    skip_bad: bool = True,
    cache: bool = True,
    cache_dir: str | Path | None = None,
    progress: bool = False,
) -> Dataset:
    """Load the pooled benchmark (see the module notes).

    Args:
        root: the shared data root holding each source under its registered folder
            (``msr_action3d/``, ``hdm05/``, ...); ``None``: ``default_data_root()``.
        sources: which datasets to pool.
        skip_bad: passed to every source loader. The pool skips unusable files by default
            (MSR Action3D ships four whose skeleton tracking is lost beyond repair); skipped
            files are listed
            in ``dataset.bad_files``.
        cache, cache_dir, progress: passed to every source loader.

    Raises:
        MotionFileError: a source folder is missing, or a source loader failed.
    """
    root = default_data_root() if root is None else Path(root)
    clips: list[Clip] = []
    bad: list[tuple[Path, str]] = []
    for source in sources:
        if source not in SUBJECT_PREFIX:
            raise ValueError(f"unknown source {source!r}; choose from {', '.join(SOURCES)}")
        spec = get_spec(source)
        folder = root / (spec.default_subdir or source)
        if not folder.is_dir():
            raise MotionFileError(folder, f"folder of {source!r} (part of {NAME!r}) not found")
        part = spec.loader(folder, skip_bad=skip_bad, cache=cache, cache_dir=cache_dir, progress=progress)
        clips += [_pooled_clip(c, source) for c in part.clips]
        bad += part.bad_files
    check_subject_disjoint(clips)
    used = {lab for c in clips for lab in c.labels}
    classes = tuple(c for c in POOLED_CLASSES if c in used)
    return finish_dataset(
        NAME,
        clips,
        classes,
        (
            f"Pool of {', '.join(sources)}: {len(clips)} clips, {len(classes)} classes; "
            "each dataset's own subject split."
        ),
        bad,
    )


def class_table(dataset: Dataset) -> list[ClassRow]:
    """Per class of ``dataset``: violent category, contributing datasets (in
    :data:`SOURCES` order, then others), and train/test clip counts."""
    order = {name: i for i, name in enumerate(SOURCES)}
    rows = []
    for label in dataset.classes:
        having = [c for c in dataset.clips if label in c.labels]
        names = sorted({c.dataset for c in having}, key=lambda n: (order.get(n, len(order)), n))
        rows.append(
            ClassRow(
                label=label,
                violent_category=violent_category(label),
                datasets=tuple(names),
                train=sum(c.split == "train" for c in having),
                test=sum(c.split == "test" for c in having),
            )
        )
    return rows


def format_class_table(rows: list[ClassRow]) -> str:
    """The class table as GitHub markdown, with a total line."""
    lines = [
        "| class | violent category | datasets | train | test | total |",
        "|---|---|---|---:|---:|---:|",
    ]
    for r in rows:
        cells = [r.label, r.violent_category or "-", ", ".join(r.datasets), r.train, r.test, r.total]
        lines.append("| " + " | ".join(str(c) for c in cells) + " |")
    train, test = sum(r.train for r in rows), sum(r.test for r in rows)
    lines.append(f"| **all {len(rows)} classes** | | | {train} | {test} | {train + test} |")
    return "\n".join(lines)
