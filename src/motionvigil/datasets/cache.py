"""On-disk cache of motions converted to SMPL-22 joints at 20 Hz.

Converting a real dataset (read, retarget, resample, canonicalise) costs seconds per
hundred files; loaders convert through this cache so that the second load only reads
small ``.npz`` files.

Cache entries
-------------
* Folder: the ``cache_dir`` argument, else ``$MOTIONVIGIL_CACHE``, else
  ``~/.cache/motionvigil``; entries live under ``<cache_dir>/smpl22/<aa>/<slot>.npz``.
* Validity key: the SHA-256 of the file's bytes, the SHA-256 of every other file the
  conversion reads (the ASF skeleton of an AMC motion), the reader keyword arguments
  (as sorted JSON) and :data:`CACHE_VERSION`. The key is recorded inside the entry
  and compared on every read.
* Slot (the file name): a hash of the same key WITHOUT the version, so that bumping
  :data:`CACHE_VERSION` rebuilds entries in place instead of leaving stale files behind.
* Content: ``joints`` (float32 ``[T, 22, 3]``), ``meta`` (a JSON string), ``key`` and
  ``version`` (strings); entries written with ``native=True`` (what the dataset loaders
  ask for) also hold ``native`` (float32 ``[T, J, 3]``: the file's own skeleton at 20 Hz
  in the same canonical frame, see :mod:`motionvigil.datasets.native`) and record its
  layout in ``meta["native_layout"]``. An entry without ``native`` read with
  ``native=True`` counts as ``"stale"``. No pickled objects: entries are read with
  ``allow_pickle=False``.
* Writes are atomic (:func:`motionvigil.atomic.atomic_path`): a crash never leaves a
  half-written entry under its final name. An entry that cannot be read (truncated,
  damaged, wrong arrays) counts as ``"corrupt"``, one whose recorded key or version
  differs counts as ``"stale"``; both are rebuilt and overwritten.
* Failing to WRITE an entry (read-only cache folder, full disk) is not an error: the
  converted motion is returned all the same and a warning is logged.

Bump :data:`CACHE_VERSION` whenever reading, retargeting, resampling or
canonicalisation changes what a file converts to.
"""

from __future__ import annotations

import hashlib
import json
import logging
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from motionvigil import __version__
from motionvigil.atomic import atomic_path
from motionvigil.cache_dir import ENV_VAR, cache_root
from motionvigil.datasets.clip import Dataset
from motionvigil.datasets.native import NATIVE_JOINTS, NATIVE_LAYOUT, layout_meta, to_smpl22_native
from motionvigil.datasets.violence import is_violent
from motionvigil.errors import MotionFileError
from motionvigil.io import load_motion
from motionvigil.skeleton.retarget import TARGET_FPS, to_smpl22

log = logging.getLogger(__name__)

#: Recorded in every entry; entries with another version are rebuilt.
CACHE_VERSION = f"smpl22-v3+motionvigil-{__version__}"  # v3: optional native joints
CACHE_ENV_VAR = ENV_VAR
NUM_SMPL22_JOINTS = 22
_MAX_LIST_META = 100_000  # 1-D integer arrays longer than this are not kept in meta


@dataclass
class CacheStats:
    """How :func:`cached_smpl22` calls ended, since the last :func:`reset_stats`.

    ``hits``: served from the cache; ``misses``: no entry, converted; ``stale``:
    an entry with another key/version, rebuilt; ``corrupt``: an unreadable entry,
    rebuilt; ``write_errors``: converted but the entry could not be written.
    """

    hits: int = 0
    misses: int = 0
    stale: int = 0
    corrupt: int = 0
    write_errors: int = 0

    @property
    def built(self) -> int:
        """Number of actual conversions (misses + stale + corrupt)."""
        return self.misses + self.stale + self.corrupt


STATS = CacheStats()
_STATUS_COUNTER = {"miss": "misses", "stale": "stale", "corrupt": "corrupt"}


def reset_stats() -> None:
    """Zero the module-wide :data:`STATS` counters (in place)."""
    for name in ("hits", "misses", "stale", "corrupt", "write_errors"):
        setattr(STATS, name, 0)


def default_cache_dir() -> Path:
    """``$MOTIONVIGIL_CACHE``, else ``~/.cache/motionvigil``."""
    return cache_root()


def file_sha256(path: str | Path) -> str:
    """Hex SHA-256 of a file's bytes; a missing/unreadable file raises MotionFileError."""
    if not Path(path).is_file():
        raise MotionFileError(path, "no such file")
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
    except OSError as exc:
        raise MotionFileError(path, f"cannot read file ({exc.strerror or exc})") from None
    return digest.hexdigest()


def _dependencies(path: Path, reader_kwargs: Mapping[str, Any]) -> list[Path]:
    """Other files the conversion of ``path`` reads: the ASF skeleton of an AMC motion."""
    if path.suffix.lower() != ".amc":
        return []
    from motionvigil.io.asf_amc import find_asf

    asf = reader_kwargs.get("asf")
    return [Path(asf) if asf is not None else find_asf(path)]


def _kwargs_json(reader_kwargs: Mapping[str, Any]) -> str:
    """Reader kwargs as canonical JSON; paths become strings, file contents are hashed apart."""
    plain = {k: str(v) if isinstance(v, Path) else v for k, v in reader_kwargs.items()}
    return json.dumps(plain, sort_keys=True, default=str)


def cache_key(path: str | Path, reader_kwargs: Mapping[str, Any] | None = None) -> tuple[str, str]:
    """``(slot, key)`` of a file: the entry's file-name hash and the full validity key.

    Raises:
        MotionFileError: the file (or a file it depends on) cannot be read.
    """
    path = Path(path)
    kwargs = dict(reader_kwargs or {})
    parts = [f"file={file_sha256(path)}"]
    parts += [f"dep={file_sha256(dep)}" for dep in _dependencies(path, kwargs)]
    parts.append(f"kwargs={_kwargs_json(kwargs)}")
    unversioned = "|".join(parts)
    slot = hashlib.sha256(unversioned.encode("utf-8")).hexdigest()
    return slot, f"{unversioned}|version={CACHE_VERSION}"


def entry_path(slot: str, cache_dir: str | Path | None = None) -> Path:
    """Where the entry of ``slot`` lives."""
    root = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    return root / "smpl22" / slot[:2] / f"{slot}.npz"


_DROP = object()  # marks a meta value that is not kept


def _json_value(value: Any) -> Any:
    """A JSON-safe version of one meta value, or ``_DROP`` when it should not be kept."""
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        if value.ndim == 1 and value.dtype.kind in "iub" and len(value) <= _MAX_LIST_META:
            return value.tolist()
        return _DROP
    if isinstance(value, (list, tuple)):
        items = [_json_value(v) for v in value]
        return _DROP if any(v is _DROP for v in items) else items
    if isinstance(value, Mapping):
        items = {str(k): _json_value(v) for k, v in value.items()}
        return {k: v for k, v in items.items() if v is not _DROP}
    return _DROP


def json_meta(meta: Mapping[str, Any]) -> dict[str, Any]:
    """The JSON-safe part of a motion's meta.

    Scalars, strings, paths and 1-D integer arrays (e.g. UTKinect ``frame_numbers``,
    Kinect ``lost_frames``) are kept; other arrays (e.g. per-joint ``confidence``) are
    dropped and their names listed under ``"dropped_meta"``.
    """
    out: dict[str, Any] = {}
    dropped: list[str] = []
    for key, value in meta.items():
        converted = _json_value(value)
        if converted is _DROP:
            dropped.append(str(key))
        else:
            out[str(key)] = converted
    if dropped:
        out["dropped_meta"] = sorted(dropped)
    return json.loads(json.dumps(out))  # tuples -> lists: the same as a cache hit returns


def convert_smpl22(
    path: str | Path, reader_kwargs: Mapping[str, Any] | None = None, *, native: bool = False
) -> tuple[np.ndarray, dict]:
    """Read and convert one file without the cache: ``(joints [T,22,3] float32, meta)``.

    ``meta`` is the JSON-safe reader meta plus ``fps`` (20), ``num_frames``,
    ``source_frames``, ``source_fps`` and ``source_layout``. With ``native=True`` it
    also holds ``native_layout`` and ``native_joints`` (a float32 array, the one value
    that is not JSON-safe; see :mod:`motionvigil.datasets.native`).

    Raises:
        MotionFileError: the file is unusable.
    """
    motion = load_motion(path, **dict(reader_kwargs or {}))
    if native:
        smpl, native_joints = to_smpl22_native(motion, fps=TARGET_FPS)
    else:
        smpl = to_smpl22(motion, fps=TARGET_FPS)
    meta = json_meta(smpl.meta)
    meta.pop("source", None)
    meta.update(fps=TARGET_FPS, num_frames=smpl.num_frames, source_frames=motion.num_frames)
    if native:
        meta[NATIVE_LAYOUT] = layout_meta(motion.layout)
        meta[NATIVE_JOINTS] = native_joints
    return np.ascontiguousarray(smpl.joints, dtype=np.float32), meta


def _native_ok(native: np.ndarray, joints: np.ndarray, meta: dict) -> bool:
    layout = meta.get(NATIVE_LAYOUT)
    if not isinstance(layout, dict) or not isinstance(layout.get("joint_names"), list):
        return False
    shape = (len(joints), len(layout["joint_names"]), 3)
    return native.shape == shape and native.dtype == np.float32 and bool(np.isfinite(native).all())


def _read_entry(entry: Path, key: str, native: bool = False) -> tuple[str, np.ndarray | None, dict | None]:
    """``(status, joints, meta)``: status ``"hit"`` (with joints and meta; with ``native``
    the meta holds ``native_joints``), or ``"miss"``, ``"stale"`` or ``"corrupt"``
    (with ``None, None``)."""
    if not entry.exists():
        return "miss", None, None
    try:
        with np.load(entry, allow_pickle=False) as data:
            version = str(data["version"][()])
            recorded_key = str(data["key"][()])
            if version != CACHE_VERSION or recorded_key != key or (native and "native" not in data.files):
                return "stale", None, None
            joints = np.array(data["joints"])
            meta = json.loads(str(data["meta"][()]))
            native_joints = np.array(data["native"]) if native else None
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
        return "corrupt", None, None
    ok_shape = joints.ndim == 3 and joints.shape[1:] == (NUM_SMPL22_JOINTS, 3) and len(joints) >= 2
    if not (ok_shape and joints.dtype == np.float32 and isinstance(meta, dict) and np.isfinite(joints).all()):
        return "corrupt", None, None
    if native_joints is not None:
        if not _native_ok(native_joints, joints, meta):
            return "corrupt", None, None
        meta[NATIVE_JOINTS] = native_joints
    return "hit", joints, meta


def _write_entry(entry: Path, key: str, joints: np.ndarray, meta: dict) -> bool:
    """Write one entry atomically; ``False`` (and a logged warning) when that fails."""
    arrays = {}
    if NATIVE_JOINTS in meta:  # the array goes in as its own member, not into the JSON
        arrays["native"] = np.asarray(meta[NATIVE_JOINTS], dtype=np.float32)
        meta = {k: v for k, v in meta.items() if k != NATIVE_JOINTS}
    try:
        with atomic_path(entry) as tmp:
            with open(tmp, "wb") as fh:
                np.savez(
                    fh,
                    joints=joints.astype(np.float32, copy=False),
                    meta=np.str_(json.dumps(meta, sort_keys=True)),
                    key=np.str_(key),
                    version=np.str_(CACHE_VERSION),
                    **arrays,
                )
    except OSError as exc:
        log.warning("motionvigil cache: cannot write %s (%s); continuing without caching", entry, exc)
        return False
    return True


def cached_smpl22(
    path: str | Path,
    reader_kwargs: Mapping[str, Any] | None = None,
    cache_dir: str | Path | None = None,
    *,
    native: bool = False,
) -> tuple[np.ndarray, dict]:
    """Load ``path`` with ``load_motion``, convert it with ``to_smpl22``, through the cache.

    Args:
        path: any file ``load_motion`` reads.
        reader_kwargs: passed to the reader (part of the cache key).
        cache_dir: cache folder (default :func:`default_cache_dir`).
        native: also return the file's own skeleton (``meta["native_joints"]`` and
            ``meta["native_layout"]``, see :func:`convert_smpl22`).

    Returns:
        ``(joints, meta)``: float32 ``[T, 22, 3]`` (SMPL-22, 20 Hz, metres, canonical
        frame) and the JSON-safe meta of :func:`convert_smpl22`, plus ``source`` (this
        path) and ``cache`` (``"hit"``, ``"miss"``, ``"stale"`` or ``"corrupt"``).

    Raises:
        MotionFileError: the file is unusable (nothing is cached for it).
    """
    path = Path(path)
    slot, key = cache_key(path, reader_kwargs)
    entry = entry_path(slot, cache_dir)
    status, joints, meta = _read_entry(entry, key, native)
    if status == "hit":
        STATS.hits += 1
    else:
        joints, meta = convert_smpl22(path, reader_kwargs, native=native)
        counter = _STATUS_COUNTER[status]
        setattr(STATS, counter, getattr(STATS, counter) + 1)
        if not _write_entry(entry, key, joints, meta):
            STATS.write_errors += 1
    assert joints is not None and meta is not None
    return joints, {**meta, "source": str(path), "cache": status}


@dataclass
class ConvertedFile:
    """One converted file: SMPL-22 joints at 20 Hz and its meta."""

    path: Path
    joints: np.ndarray
    meta: dict


@dataclass
class ConvertResult:
    """What :func:`convert_many` returns: the converted files (input order) and the bad ones."""

    converted: list[ConvertedFile] = field(default_factory=list)
    bad: list[tuple[Path, str]] = field(default_factory=list)


def convert_many(
    paths: Iterable[str | Path],
    reader_kwargs: Mapping[str, Any] | None = None,
    cache_dir: str | Path | None = None,
    *,
    progress: bool = True,
    skip_bad: bool = False,
    use_cache: bool = True,
    desc: str = "converting",
    native: bool = False,
) -> ConvertResult:
    """Convert many files to SMPL-22 at 20 Hz (through the cache), with a progress bar.

    Args:
        paths: the files, converted in this order.
        reader_kwargs: passed to the reader of every file.
        cache_dir: cache folder (default :func:`default_cache_dir`).
        progress: show a tqdm progress bar (on stderr).
        skip_bad: ``False``: the first unusable file stops with its MotionFileError.
            ``True``: unusable files are collected in ``result.bad`` as
            ``(path, message)``, logged as warnings, and the rest go on.
        use_cache: ``False`` converts every file afresh and writes nothing.
        desc: label of the progress bar.
        native: keep each file's own skeleton in its meta (see :func:`cached_smpl22`).

    Raises:
        MotionFileError: an unusable file, when ``skip_bad`` is False.
    """
    paths = [Path(p) for p in paths]
    result = ConvertResult()
    for path in tqdm(paths, desc=desc, unit="file", disable=not progress, leave=False):
        try:
            if use_cache:
                joints, meta = cached_smpl22(path, reader_kwargs, cache_dir, native=native)
            else:
                joints, meta = convert_smpl22(path, reader_kwargs, native=native)
                meta = {**meta, "source": str(path), "cache": "off"}
        except MotionFileError as exc:
            if not skip_bad:
                raise
            log.warning("skipping unusable file: %s", exc)
            result.bad.append((path, str(exc)))
            continue
        result.converted.append(ConvertedFile(path, joints, meta))
    return result


# --------------------------------------------------------------------------- for dataset loaders


def convert_dataset_files(
    dataset: str,
    paths: Iterable[str | Path],
    *,
    reader_kwargs: Mapping[str, Any] | None = None,
    cache_dir: str | Path | None = None,
    use_cache: bool = True,
    progress: bool = False,
    skip_bad: bool = False,
    native: bool = True,
) -> ConvertResult:
    """:func:`convert_many` for a dataset loader: an unusable file stops with a message
    naming the file, the dataset and the way out (``--skip-bad``; ``skip_bad=True`` in
    Python). Loaders keep the native skeleton (``native=True``) so that every clip's meta
    holds it."""
    try:
        return convert_many(
            paths, reader_kwargs, cache_dir,
            progress=progress, skip_bad=skip_bad, use_cache=use_cache, desc=dataset, native=native,
        )  # fmt: skip
    except MotionFileError as exc:
        raise loading_error(dataset, exc) from None


def loading_error(dataset: str, exc: MotionFileError) -> MotionFileError:
    """``exc`` restated for a dataset loader: the file and problem, the dataset, and the way
    out (``--skip-bad``; ``skip_bad=True`` in Python)."""
    return MotionFileError(
        exc.path,
        f"{exc.problem} (while loading dataset {dataset!r}; --skip-bad skips unusable files and "
        "lists them)",
    )


def finish_dataset(name: str, clips: list, classes: tuple[str, ...], description: str,
                   bad: list[tuple[Path, str]]) -> Dataset:
    """A :class:`Dataset` whose violent classes follow the violence vocabulary, with the
    skipped files listed in ``bad_files`` and named at the end of the description."""
    return Dataset(
        name=name,
        clips=clips,
        classes=classes,
        violent_classes=tuple(c for c in classes if is_violent(c)),
        description=description + describe_bad_files(bad),
        bad_files=list(bad),
    )


def describe_bad_files(bad: list[tuple[Path, str]]) -> str:
    """One sentence listing skipped files by name, for a dataset description ('' if none)."""
    if not bad:
        return ""
    names = ", ".join(Path(p).name for p, _ in bad)
    return f" Skipped {len(bad)} unusable file(s): {names}."
