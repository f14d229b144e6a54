"""What the Kinect v1 loaders that name their files ``aA_sS_xX<suffix>`` share.

MSR Action3D (``aXX_sYY_eZZ_skeleton3D.txt``) and UTD-MHAD (``aA_sS_tT_skeleton.mat``)
name every file by action, subject and a take/repetition number, keep the files in one
skeleton folder and split by subject (odd subjects train, even test). :class:`ActionFiles`
says how a dataset spells its names; :func:`index_action_files` lists the files as
records from their names alone and :func:`index_summary` counts them for ``data info``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from motionvigil.datasets.violence import is_violent
from motionvigil.errors import MotionFileError

__all__ = ["SPLIT_SCHEMES", "ActionFiles", "cross_subject_split", "index_action_files", "index_summary"]

SPLIT_SCHEMES = ("cross_subject", "none")

R = TypeVar("R")


@dataclass(frozen=True)
class ActionFiles:
    """How one dataset names and stores its ``aA_sS_xX<suffix>`` files.

    Attributes:
        title: the dataset's name in messages (``"MSR Action3D"``).
        folder: the skeleton folder under the root (the root itself when it is missing).
        suffix: what every file name ends with (``"_skeleton3D.txt"``).
        pattern: the name before the suffix, for messages (``"aXX_sYY_eZZ"``).
        parse: file name -> ``{"action", "subject", <extra>: int}``, or ``{}`` if it does not match.
        names: the class names in action-id order.
        digits: how action and subject numbers are written (2: ``a05``, ``s08``).
        extra: the parsed number after the subject, also the record's field name
            (``"repetition"``, ``"take"``).
    """

    title: str
    folder: str
    suffix: str
    pattern: str
    parse: Callable[[str], dict[str, int]]
    names: tuple[str, ...]
    digits: int
    extra: str


def cross_subject_split(subject: int, scheme: str = "cross_subject") -> str | None:
    """``"train"`` for odd subjects, ``"test"`` for even ones (``None`` for scheme ``"none"``)."""
    if scheme not in SPLIT_SCHEMES:
        raise ValueError(f"unknown split_scheme {scheme!r}; choose from {', '.join(SPLIT_SCHEMES)}")
    if scheme == "none":
        return None
    return "train" if subject % 2 == 1 else "test"


def _skeleton_folder(root: Path, name: str) -> Path:
    """``<root>/<name>`` when it exists, else ``root`` itself."""
    sub = root / name
    return sub if sub.is_dir() else root


def index_action_files(
    files: ActionFiles, record: Callable[..., R], root: str | Path, split_scheme: str = "cross_subject"
) -> list[R]:
    """One ``record(...)`` per file of ``files`` under ``root`` (name order), from the names only.

    ``record`` is called with ``path``, ``clip_id``, ``action``, ``label``, ``subject``
    (``"s08"``), ``files.extra``, ``violent`` and ``split`` as keywords.

    Raises:
        MotionFileError: no such files, or a name that does not parse / names an action
            outside the class names.
    """
    folder = _skeleton_folder(Path(root), files.folder)
    width, count = files.digits, len(files.names)
    records = []
    for path in sorted(folder.glob(f"*{files.suffix}")):
        parsed = files.parse(path.name)
        if not parsed:
            raise MotionFileError(path, f"name does not match {files.pattern}{files.suffix}")
        action = parsed["action"]
        if not 1 <= action <= count:
            outside = f"outside a{1:0{width}d}..a{count:0{width}d}"
            raise MotionFileError(path, f"action a{action:0{width}d} is {outside}")
        label = files.names[action - 1]
        records.append(
            record(
                path=path,
                clip_id=path.name[: -len(files.suffix)],
                action=action,
                label=label,
                subject=f"s{parsed['subject']:0{width}d}",
                **{files.extra: parsed[files.extra]},
                violent=is_violent(label),
                split=cross_subject_split(parsed["subject"], split_scheme),
            )
        )
    if not records:
        raise MotionFileError(folder, f"no {files.title} *{files.suffix} files found")
    return records


def index_summary(name: str, records: Sequence[Any], names: tuple[str, ...]) -> dict[str, Any]:
    """What ``data info`` prints for an index: the keys of ``Dataset.info()`` but ``frames``.

    ``records`` need ``subject`` and ``split`` attributes; ``names`` are the class names.
    """
    splits = Counter(r.split for r in records if r.split is not None)
    return {
        "name": name,
        "clips": len(records),
        "classes": len(names),
        "violent_classes": sum(is_violent(n) for n in names),
        "subjects": len({r.subject for r in records}),
        "splits": dict(sorted(splits.items())),
    }
