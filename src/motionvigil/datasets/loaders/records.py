"""The loop the file-per-clip loaders share: records -> converted files -> clips.

A loader first lists its files as records (one per clip, described from the file names
and label files), then :func:`convert_records` converts each record's file to SMPL-22 at
20 Hz through the cache (:func:`motionvigil.datasets.cache.convert_dataset_files`) and
makes one :class:`Clip` per converted file, in conversion order. The loader says what it
knows about each record's clip with a :class:`ClipInfo`; what every loader does the same
way (clip id, joints, dataset, source file, split, the converted file's meta) is done here.
Records need ``clip_id`` and ``split`` attributes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from motionvigil.datasets.cache import ConvertResult, convert_dataset_files
from motionvigil.datasets.clip import Clip

__all__ = ["ClipInfo", "RecordClips", "convert_records"]

R = TypeVar("R")


@dataclass(frozen=True)
class ClipInfo:
    """What a loader knows about one record's clip besides its joints.

    Attributes:
        labels: the clip's class labels.
        violent: whether a label is violent.
        subject: the performer (or grouping key) for subject-disjoint splits.
        meta: entries added to the converted file's meta (they win over its keys).
        captions: natural-language descriptions, if the dataset has any.
    """

    labels: tuple[str, ...]
    violent: bool
    subject: str | None
    meta: dict[str, Any] = field(default_factory=dict)
    captions: tuple[str, ...] = ()


@dataclass
class RecordClips:
    """What :func:`convert_records` returns: the clips (conversion order) and the skipped files."""

    clips: list[Clip]
    bad: list[tuple[Path, str]]


def _record_path(record: Any) -> Path:
    return record.path


def _convert(
    dataset: str,
    records: Sequence[R],
    path_of: Callable[[R], Path],
    reader_kwargs_of: Callable[[R], dict[str, Any]] | None,
    options: dict[str, Any],
) -> ConvertResult:
    """Convert the records' files; with ``reader_kwargs_of``, one batch per distinct set of
    reader keyword arguments, batches in sorted order of their ``(key, value)`` items."""
    if reader_kwargs_of is None:
        return convert_dataset_files(dataset, [path_of(r) for r in records], **options)
    batches: dict[tuple, list[R]] = {}
    for record in records:
        batches.setdefault(tuple(sorted(reader_kwargs_of(record).items())), []).append(record)
    merged = ConvertResult()
    for key in sorted(batches):
        part = convert_dataset_files(
            dataset, [path_of(r) for r in batches[key]], reader_kwargs=dict(key), **options
        )
        merged.converted += part.converted
        merged.bad += part.bad
    return merged


def convert_records(
    dataset: str,
    records: Sequence[R],
    describe: Callable[[R], ClipInfo],
    *,
    path_of: Callable[[R], Path] = _record_path,
    reader_kwargs_of: Callable[[R], dict[str, Any]] | None = None,
    cache_dir: str | Path | None = None,
    use_cache: bool = True,
    progress: bool = False,
    skip_bad: bool = False,
) -> RecordClips:
    """Convert every record's file and make its clip (see the module docstring).

    Args:
        dataset: the dataset name (``Clip.dataset``, progress label, error messages).
        records: one per clip; each has ``clip_id`` and ``split``.
        describe: the :class:`ClipInfo` of a record.
        path_of: the record's motion file (default: its ``path`` attribute).
        reader_kwargs_of: keyword arguments of the file reader per record (e.g. the frame
            rate), if they differ between records; ``None``: the reader's defaults.
        cache_dir, use_cache, progress, skip_bad: as for
            :func:`motionvigil.datasets.cache.convert_dataset_files`.

    Raises:
        MotionFileError: an unusable file, when ``skip_bad`` is False.
    """
    options = {"cache_dir": cache_dir, "use_cache": use_cache, "progress": progress, "skip_bad": skip_bad}
    result = _convert(dataset, records, path_of, reader_kwargs_of, options)
    by_path = {path_of(r): r for r in records}
    clips = []
    for item in result.converted:
        record = by_path[item.path]
        info = describe(record)
        clips.append(
            Clip(
                clip_id=record.clip_id,
                joints=item.joints,
                labels=info.labels,
                violent=info.violent,
                dataset=dataset,
                subject=info.subject,
                source=str(path_of(record)),
                captions=info.captions,
                split=record.split,
                meta={**item.meta, **info.meta},
            )
        )
    return RecordClips(clips, result.bad)
