"""MSR Action3D (Li, Zhang and Liu, 2010): 567 Kinect v1 skeleton sequences.

20 actions x 10 subjects x 2-3 repetitions, files ``skeletons/aXX_sYY_eZZ_skeleton3D.txt``.

* Classes: the 20 names of ``action_names.mat`` (key ``action_names``) in action-id
  order a01..a20, kept verbatim in :data:`MSR_ACTION_NAMES` (``"draw X"`` and
  ``"pickup and throw"`` are spelled as the file spells them). When the ``.mat`` is
  present the loader checks that it agrees.
* Violent: ``forward punch`` (a05), ``side boxing`` (a12), ``forward kick`` (a14),
  ``side kick`` (a15), through :mod:`motionvigil.datasets.violence`; ``hammer`` (a03)
  is non-violent.
* Subjects ``s01``..``s10``. Split ``split_scheme="cross_subject"`` (default; the
  protocol of Li et al.): odd subjects train, even subjects test. ``"none"``: no split.
* Bad files: the reader repairs frames where Kinect lost the skeleton (interpolates
  gaps, trims the ends) but rejects four files: ``a13_s09_e02`` (never tracked) and
  ``a20_s02_e02``, ``a20_s02_e03``, ``a20_s06_e01`` (more than half of the tracked span
  lost). With ``skip_bad=False`` (default) loading stops naming the first; with
  ``skip_bad=True`` they are skipped, listed in ``dataset.bad_files`` (``(path,
  message)`` pairs) and named in ``dataset.description``: 563 clips load.
* :func:`index_msr_action3d` lists the files from their names alone (no reading): what
  ``motionvigil data info msr_action3d`` counts (567 files, 20 classes, 4 violent,
  10 subjects).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from motionvigil.datasets.cache import finish_dataset
from motionvigil.datasets.clip import Dataset
# SPLIT_SCHEMES and cross_subject_split stay importable from here.
from motionvigil.datasets.loaders.action_files import (  # noqa: F401
    SPLIT_SCHEMES,
    ActionFiles,
    cross_subject_split,
    index_action_files,
)
from motionvigil.datasets.loaders.action_files import index_summary as summarize
from motionvigil.datasets.loaders.records import ClipInfo, convert_records
from motionvigil.datasets.registry import register_dataset
from motionvigil.errors import MotionFileError
from motionvigil.io.kinect import parse_msr_name

NAME = "msr_action3d"

#: Class names in action-id order (a01..a20), as ``action_names.mat`` spells them.
MSR_ACTION_NAMES: tuple[str, ...] = (
    "high arm wave", "horizontal arm wave", "hammer", "hand catch", "forward punch",
    "high throw", "draw X", "draw tick", "draw circle", "hand clap",
    "two hand wave", "side boxing", "bend", "forward kick", "side kick",
    "jogging", "tennis swing", "tennis serve", "golf swing", "pickup and throw",
)  # fmt: skip

_SUFFIX = "_skeleton3D.txt"


@dataclass(frozen=True)
class MsrRecord:
    """One MSR Action3D file, described from its name alone."""

    path: Path
    clip_id: str  # "a05_s08_e01"
    action: int  # 1..20
    label: str
    subject: str  # "s08"
    repetition: int
    violent: bool
    split: str | None


def read_action_names(root: str | Path) -> tuple[str, ...]:
    """The 20 class names stored in ``<root>/action_names.mat`` (key ``action_names``).

    Raises:
        MotionFileError: the file is missing or holds no 20 names.
    """
    from scipy.io import loadmat

    path = Path(root) / "action_names.mat"
    try:
        cells = loadmat(path, variable_names=["action_names"])["action_names"]
    except (OSError, ValueError, KeyError, NotImplementedError) as exc:
        raise MotionFileError(path, f"cannot read action_names ({exc})") from None
    names = tuple(str(cell.item()) if cell.size == 1 else str(cell) for cell in cells.ravel())
    if len(names) != len(MSR_ACTION_NAMES):
        raise MotionFileError(path, f"expected {len(MSR_ACTION_NAMES)} action names, found {len(names)}")
    return names


_FILES = ActionFiles(
    "MSR Action3D", "skeletons", _SUFFIX, "aXX_sYY_eZZ", parse_msr_name, MSR_ACTION_NAMES,
    digits=2, extra="repetition",
)  # fmt: skip


def index_msr_action3d(root: str | Path, split_scheme: str = "cross_subject") -> list[MsrRecord]:
    """Every ``aXX_sYY_eZZ_skeleton3D.txt`` under ``root``, from the file names only.

    Raises:
        MotionFileError: no skeleton files, or a name that does not parse / names an
            action outside a01..a20.
    """
    return index_action_files(_FILES, MsrRecord, root, split_scheme)


def index_summary(records: list[MsrRecord]) -> dict[str, Any]:
    """What ``data info`` prints for the index: the keys of ``Dataset.info()`` but ``frames``."""
    return summarize(NAME, records, MSR_ACTION_NAMES)


def _check_action_names(root: Path) -> None:
    """When ``action_names.mat`` is present, it must agree with :data:`MSR_ACTION_NAMES`."""
    if (root / "action_names.mat").is_file():
        names = read_action_names(root)
        if names != MSR_ACTION_NAMES:
            raise MotionFileError(
                root / "action_names.mat", f"class names {names} differ from the expected {MSR_ACTION_NAMES}"
            )


def _clip_info(rec: MsrRecord) -> ClipInfo:
    """Label, violence, subject and meta of an MSR Action3D clip."""
    return ClipInfo(
        labels=(rec.label,),
        violent=rec.violent,
        subject=rec.subject,
        meta={"action": rec.action, "repetition": rec.repetition},
    )


@register_dataset(NAME, "msr_action3d", "MSR Action3D: 567 skeletons, 20 actions (4 violent), 10 subjects")
def load_msr_action3d(
    root: Path,
    *,
    split_scheme: str = "cross_subject",
    skip_bad: bool = False,
    cache: bool = True,
    cache_dir: str | Path | None = None,
    progress: bool = False,
) -> Dataset:
    """Load MSR Action3D as SMPL-22 clips at 20 Hz (see the module notes).

    Args:
        root: the dataset folder (holding ``skeletons/`` and ``action_names.mat``).
        split_scheme: ``"cross_subject"`` (odd subjects train, even test) or ``"none"``.
        skip_bad: skip unusable files (listed in ``dataset.bad_files``) instead of stopping.
        cache: convert through the on-disk cache (:mod:`motionvigil.datasets.cache`).
        cache_dir: the cache folder (default ``$MOTIONVIGIL_CACHE`` or ``~/.cache/motionvigil``).
        progress: show a progress bar.

    Raises:
        MotionFileError: an unusable file (with ``skip_bad=False``), bad names, or
            ``action_names.mat`` disagreeing with :data:`MSR_ACTION_NAMES`.
    """
    root = Path(root)
    _check_action_names(root)
    records = index_msr_action3d(root, split_scheme)
    loaded = convert_records(
        NAME, records, _clip_info, cache_dir=cache_dir, use_cache=cache, progress=progress, skip_bad=skip_bad
    )
    clips = loaded.clips
    return finish_dataset(
        NAME,
        clips,
        MSR_ACTION_NAMES,
        (
            f"MSR Action3D: {len(clips)} of {len(records)} sequences, 20 actions, "
            f"{len({r.subject for r in records})} subjects; split {split_scheme}."
        ),
        loaded.bad,
    )
