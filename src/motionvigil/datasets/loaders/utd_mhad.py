"""UTD-MHAD (Chen, Jafari and Kehtarnavaz, ICIP 2015), skeleton part: 861 Kinect v1 clips.

27 actions x 8 subjects x 4 takes (three takes missing: ``a8_s1``, ``a23_s6`` and
``a27_s8`` have three), files ``skeleton/aA_sS_tT_skeleton.mat`` (read by
:mod:`motionvigil.io.utd_mhad`, 30 fps).

* Classes: the 27 action names of the dataset's README, in action-id order a1..a27
  (:data:`UTD_ACTION_NAMES`).
* Violent: ``front boxing`` (a13), and ``two hand push`` (a18), a two-handed forward
  shove, counted as violent (category ``hit``) for consistency with SBU Kinect's
  ``pushing`` (see :mod:`motionvigil.datasets.violence`). ``right hand knock on door``
  (a19) is non-violent. Hard calm motion a limb-speed detector confuses with strikes:
  throw, tennis swing and serve, baseball swing, bowling, basketball shot, jogging,
  lunge, squat.
* Subjects ``s1``..``s8``. Split ``split_scheme="cross_subject"`` (default; the
  protocol of Chen et al., as for MSR Action3D): odd subjects 1, 3, 5, 7 train, even
  subjects 2, 4, 6, 8 test. ``"none"``: no split.
* :func:`index_utd_mhad` lists the files from their names alone (no reading): what
  ``motionvigil data info utd_mhad`` counts (861 files, 27 classes, 2 violent, 8
  subjects).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from motionvigil.datasets.cache import finish_dataset
from motionvigil.datasets.clip import Dataset
from motionvigil.datasets.loaders.action_files import ActionFiles, index_action_files
from motionvigil.datasets.loaders.action_files import index_summary as summarize
from motionvigil.datasets.loaders.records import ClipInfo, convert_records
from motionvigil.datasets.registry import register_dataset
from motionvigil.io.utd_mhad import parse_utd_name

NAME = "utd_mhad"

#: Class names in action-id order (a1..a27), as the dataset's README names them.
UTD_ACTION_NAMES: tuple[str, ...] = (
    "right arm swipe to the left", "right arm swipe to the right", "right hand wave",
    "two hand front clap", "right arm throw", "cross arms in the chest", "basketball shoot",
    "right hand draw x", "right hand draw circle (clockwise)",
    "right hand draw circle (counter clockwise)", "draw triangle", "bowling", "front boxing",
    "baseball swing from right", "tennis forehand swing", "arm curl (two arms)", "tennis serve",
    "two hand push", "right hand knock on door", "right hand catch an object",
    "right hand pick up and throw", "jogging in place", "walking in place", "sit to stand",
    "stand to sit", "forward lunge", "squat",
)  # fmt: skip

_SUFFIX = "_skeleton.mat"


@dataclass(frozen=True)
class UtdRecord:
    """One UTD-MHAD file, described from its name alone."""

    path: Path
    clip_id: str  # "a13_s1_t2"
    action: int  # 1..27
    label: str
    subject: str  # "s1"
    take: int
    violent: bool
    split: str | None


_FILES = ActionFiles(
    "UTD-MHAD", "skeleton", _SUFFIX, "aA_sS_tT", parse_utd_name, UTD_ACTION_NAMES, digits=1, extra="take"
)


def index_utd_mhad(root: str | Path, split_scheme: str = "cross_subject") -> list[UtdRecord]:
    """Every ``aA_sS_tT_skeleton.mat`` under ``root``, from the file names only.

    Raises:
        MotionFileError: no skeleton files, or a name that does not parse / names an
            action outside a1..a27.
    """
    records = index_action_files(_FILES, UtdRecord, root, split_scheme)
    records.sort(key=lambda r: (r.action, int(r.subject[1:]), r.take))
    return records


def index_summary(records: list[UtdRecord]) -> dict[str, Any]:
    """What ``data info`` prints for the index: the keys of ``Dataset.info()`` but ``frames``."""
    return summarize(NAME, records, UTD_ACTION_NAMES)


def _clip_info(rec: UtdRecord) -> ClipInfo:
    return ClipInfo(labels=(rec.label,), violent=rec.violent, subject=rec.subject,
                    meta={"action": rec.action, "take": rec.take})


@register_dataset(
    NAME, "utd_mhad",
    "UTD-MHAD: 861 Kinect skeletons, 27 actions (violent: front boxing; two hand push counted as "
    "violent like SBU's pushing), 8 subjects; research use only",
)
def load_utd_mhad(
    root: Path,
    *,
    split_scheme: str = "cross_subject",
    skip_bad: bool = False,
    cache: bool = True,
    cache_dir: str | Path | None = None,
    progress: bool = False,
) -> Dataset:
    """Load UTD-MHAD as SMPL-22 clips at 20 Hz (see the module notes).

    Args:
        root: the dataset folder (holding ``skeleton/``).
        split_scheme: ``"cross_subject"`` (odd subjects train, even test) or ``"none"``.
        skip_bad: skip unusable files (listed in ``dataset.bad_files``) instead of stopping.
        cache, cache_dir, progress: as for :func:`motionvigil.datasets.loaders.msr_action3d.load_msr_action3d`.

    Raises:
        MotionFileError: an unusable file (with ``skip_bad=False``) or bad file names.
    """
    records = index_utd_mhad(Path(root), split_scheme)
    loaded = convert_records(
        NAME, records, _clip_info, cache_dir=cache_dir, use_cache=cache, progress=progress, skip_bad=skip_bad
    )
    return finish_dataset(
        NAME,
        loaded.clips,
        UTD_ACTION_NAMES,
        (
            f"UTD-MHAD: {len(loaded.clips)} of {len(records)} skeleton clips, 27 actions "
            "(violent: front boxing, and two hand push counted as violent like SBU's pushing), "
            f"{len({r.subject for r in records})} subjects; split {split_scheme}. Research use only; "
            "cite Chen, Jafari, Kehtarnavaz, ICIP 2015."
        ),
        loaded.bad,
    )
