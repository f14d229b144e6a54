"""Readers and a writer for numpy joint arrays: HumanML3D ``new_joints/*.npy`` and generic ``.npz``.

Pickled (object) arrays are never loaded: every ``np.load`` uses ``allow_pickle=False``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from motionvigil.atomic import atomic_path
from motionvigil.errors import MotionFileError
from motionvigil.io.layouts import KINECT_MSR, KINECT_SBU15, KINECT_SDK, KINECT_UTD, MEDIAPIPE33, SMPL22
from motionvigil.io.motion import Layout, Motion, is_real

HUMANML3D_FEATURE_DIM = 263
#: Arrays ``save_npz`` writes itself; extra arrays may not use these names.
NPZ_RESERVED_KEYS = ("joints", "fps", "joint_names", "parents", "layout", "source", "person_ids", "present")
#: Fixed layouts that an npz can name in its ``layout`` entry instead of listing joints.
KNOWN_LAYOUTS = {
    layout.name: layout for layout in (SMPL22, KINECT_MSR, KINECT_SDK, KINECT_UTD, KINECT_SBU15, MEDIAPIPE33)
}

# np.load on a damaged file raises a zoo of exceptions (OSError, ValueError, EOFError,
# zipfile.BadZipFile, zlib.error, SyntaxError and tokenize.TokenError from the header
# parser, MemoryError for absurd header shapes, ...): while loading, any Exception means
# the file is unusable.
_LOAD_ERRORS = (Exception,)


def _load_error_problem(exc: BaseException) -> str:
    """A readable problem description for an exception raised by ``np.load``."""
    text = str(exc)
    if "Object arrays" in text:
        return "holds an object array (pickled Python objects), which is never loaded"
    if "pickle" in text.lower():
        return "is neither a .npy nor an .npz file (pickled data, if that is what it is, is never loaded)"
    return f"cannot be loaded as a numpy file ({type(exc).__name__}: {text[:200]})"


def _load_numpy_file(path: Path) -> np.ndarray | dict[str, np.ndarray]:
    """Load a ``.npy`` (-> array) or ``.npz`` (-> ``{name: array}``) without pickle.

    The file is opened here (and always closed: ``np.load(path)`` leaks its handle when
    a damaged archive fails to open); every npz member is read before closing it.

    Raises:
        MotionFileError: unreadable, not a numpy file, damaged, or holding object arrays.
    """
    try:
        with path.open("rb") as fh:
            loaded = np.load(fh, allow_pickle=False)
            if isinstance(loaded, np.ndarray):
                return loaded
            with loaded:
                arrays = {}
                for key in loaded.files:
                    try:
                        arrays[key] = np.asarray(loaded[key])
                    except _LOAD_ERRORS as exc:
                        raise MotionFileError(path, f"array {key!r} {_load_error_problem(exc)}") from None
                return arrays
    except MotionFileError:
        raise
    except _LOAD_ERRORS as exc:
        raise MotionFileError(path, _load_error_problem(exc)) from None


def _check_numeric(path: Path, array: np.ndarray, what: str) -> None:
    """Real numbers only (``is_real``)."""
    if not is_real(array.dtype):
        raise MotionFileError(path, f"{what} must hold real numbers, got dtype {array.dtype}")


def _check_float32_range(path: Path, joints: np.ndarray) -> None:
    """Finite values beyond float32 range would silently become inf when stored as float32."""
    if joints.dtype.itemsize > 4 and joints.size:
        with np.errstate(invalid="ignore"):
            too_big = np.abs(joints) > np.finfo(np.float32).max
        if too_big.any():
            where = [int(i) for i in np.argwhere(too_big)[0][:-1]]
            person = f"person {where.pop(0)}, " if joints.ndim == 4 else ""
            raise MotionFileError(
                path, f"joint coordinate beyond float32 range at {person}frame {where[0]}, joint {where[1]}"
            )


def read_humanml3d_joints(path: str | Path, *, fps: float = 20.0) -> Motion:
    """Read a HumanML3D ``new_joints/*.npy`` array ``[T, 22, 3]`` (metres, Y up, 20 fps).

    Returns:
        A :class:`Motion` with layout ``SMPL22``.

    Raises:
        MotionFileError: not loadable (or pickled), not a plain numeric array, the wrong
            shape (a ``[T, 263]`` array is recognised as ``new_joint_vecs`` features),
            NaN/inf values, or fewer than 2 frames.
    """
    path = Path(path)
    loaded = _load_numpy_file(path)
    if not isinstance(loaded, np.ndarray):
        raise MotionFileError(path, "is an .npz archive, not a HumanML3D .npy joints array (use read_npz)")
    _check_numeric(path, loaded, "joints")
    if loaded.ndim == 2 and loaded.shape[1] == HUMANML3D_FEATURE_DIM:
        raise MotionFileError(
            path,
            f"shape {loaded.shape} holds {HUMANML3D_FEATURE_DIM}-dim HumanML3D motion features "
            "(this looks like new_joint_vecs), not joint positions: pass the new_joints/*.npy file "
            "of shape [frames, 22, 3]",
        )
    if loaded.ndim != 3 or loaded.shape[1:] != (SMPL22.num_joints, 3):
        raise MotionFileError(
            path, f"expected HumanML3D joints of shape [frames, {SMPL22.num_joints}, 3], got {loaded.shape}"
        )
    _check_float32_range(path, loaded)
    meta = {"dataset": "humanml3d", "units": "m"}
    return Motion(joints=loaded, fps=fps, layout=SMPL22, source=str(path), meta=meta)


def _npz_string(path: Path, array: np.ndarray, key: str) -> str:
    """A scalar string entry (``layout``, ``source``)."""
    if array.dtype.kind not in "US" or array.size != 1:
        raise MotionFileError(
            path, f"{key!r} must be a single string, got dtype {array.dtype} shape {array.shape}"
        )
    value = array.reshape(()).item()
    return value.decode("utf-8", errors="replace") if isinstance(value, bytes) else str(value)


def _npz_fps(path: Path, array: np.ndarray) -> float:
    """The scalar frame rate (its validity is checked by :class:`Motion`)."""
    if array.size != 1:
        raise MotionFileError(path, f"'fps' must be a single number, got shape {array.shape}")
    _check_numeric(path, array, "'fps'")
    return float(array.reshape(()))


def _npz_names(path: Path, array: np.ndarray, num_joints: int) -> tuple[str, ...]:
    """Joint names: a 1-D string array with one entry per joint."""
    if array.dtype.kind not in "US" or array.ndim != 1:
        raise MotionFileError(
            path, f"'joint_names' must be a 1-D string array, got dtype {array.dtype} shape {array.shape}"
        )
    if len(array) != num_joints:
        raise MotionFileError(
            path, f"'joint_names' has {len(array)} names but joints has {num_joints} joints"
        )
    names = tuple(
        n.decode("utf-8", errors="replace") if isinstance(n, bytes) else str(n) for n in array.tolist()
    )
    if len(set(names)) != len(names):
        raise MotionFileError(path, "'joint_names' has repeated names")
    return names


def _npz_parents(path: Path, array: np.ndarray, num_joints: int) -> tuple[int, ...]:
    """Parent indices: a 1-D integer array, one entry per joint, -1 for roots, no cycles."""
    if array.dtype.kind not in "iu" or array.ndim != 1:
        raise MotionFileError(
            path, f"'parents' must be a 1-D integer array, got dtype {array.dtype} shape {array.shape}"
        )
    if len(array) != num_joints:
        raise MotionFileError(path, f"'parents' has {len(array)} entries but joints has {num_joints} joints")
    parents = tuple(int(p) for p in array.tolist())
    for joint, parent in enumerate(parents):
        if not -1 <= parent < num_joints or parent == joint:
            raise MotionFileError(path, f"'parents': joint {joint} has invalid parent {parent}")
    _check_acyclic(path, parents)
    return parents


def _check_acyclic(path: Path, parents: tuple[int, ...]) -> None:
    """Every chain of parents must reach a root (-1) without revisiting a joint."""
    for start in range(len(parents)):
        seen = set()
        joint = start
        while joint != -1:
            if joint in seen:
                raise MotionFileError(path, f"'parents' has a cycle through joint {joint}")
            seen.add(joint)
            joint = parents[joint]


def _npz_layout(
    path: Path,
    num_joints: int,
    layout_name: str | None,
    names: tuple[str, ...] | None,
    parents: tuple[int, ...] | None,
) -> Layout:
    """Build the layout from whatever the npz provides.

    * A known ``layout`` name (``smpl22``, ``kinect_msr``, ``kinect_sdk``, ``kinect_utd``, ``kinect_sbu15``,
      ``mediapipe33``) must match the
      joint count; it supplies the names (and parents) the npz leaves out.
    * 22 joints with no layout name, no names and no parents: ``SMPL22``.
    * Names missing otherwise: generic ``joint_0..``.
    * Parents missing: those of the known layout with exactly these names, else all
      roots (-1).
    """
    known = KNOWN_LAYOUTS.get(layout_name) if layout_name is not None else None
    if known is not None and known.num_joints != num_joints:
        raise MotionFileError(
            path, f"layout {layout_name!r} has {known.num_joints} joints but joints has {num_joints}"
        )
    if layout_name is None and names is None and parents is None and num_joints == SMPL22.num_joints:
        return SMPL22
    if names is None:
        names = known.joint_names if known is not None else tuple(f"joint_{i}" for i in range(num_joints))
    if parents is None:
        same = [lay for lay in KNOWN_LAYOUTS.values() if lay.joint_names == names]
        parents = same[0].parents if same else (-1,) * num_joints
        if layout_name is None and same:
            layout_name = same[0].name
    try:
        return Layout(layout_name or "generic", names, parents)
    except ValueError as exc:
        raise MotionFileError(path, str(exc)) from None


def read_npz(path: str | Path) -> Motion:
    """Read a generic motion ``.npz``.

    Keys: ``joints`` ``[T, J, 3]`` (one person) or ``[P, T, J, 3]`` (several persons,
    ``P >= 1``) in metres (Y up), ``fps`` (scalar); optional ``person_ids`` (``P``
    integers), ``present`` (``[P, T]`` booleans: where each body was seen); optional
    ``joint_names`` (string array), ``parents`` (int array, -1 for roots), ``layout``
    (layout name), ``source`` (where the motion first came from, kept in
    ``meta["original_source"]``). Any other arrays go to ``meta`` under their own names.
    See :func:`_npz_layout` for the layout rules when names or parents are missing.

    Several persons (docs/persons.md): ``joints`` ``[P, T, J, 3]`` with optional
    ``person_ids`` ``[P]`` and ``present`` ``[P, T]``; a body that is all zeros or all NaN
    in a frame is absent there, and absent frames are filled
    (:meth:`~motionvigil.io.motion.Motion.from_bodies`). A one-person npz may carry them too.

    Raises:
        MotionFileError: not an npz archive, pickled/object arrays, missing ``joints`` or
            ``fps``, wrong shapes or dtypes, length mismatches, invalid parents, NaN/inf,
            or fewer than 2 frames.
    """
    path = Path(path)
    arrays = _load_numpy_file(path)
    if isinstance(arrays, np.ndarray):
        raise MotionFileError(path, "is a single .npy array, not an .npz archive with a 'joints' entry")
    for required in ("joints", "fps"):
        if required not in arrays:
            found = ", ".join(arrays) or "none"
            raise MotionFileError(path, f"npz has no {required!r} array (found: {found})")
    joints = arrays.pop("joints")
    _check_numeric(path, joints, "'joints'")
    persons = joints.ndim == 4 or "person_ids" in arrays or "present" in arrays
    if joints.ndim not in (3, 4) or joints.shape[-1] != 3:
        raise MotionFileError(path, f"'joints' must have shape [frames, joints, 3] or [persons, frames, joints, 3], "
                                    f"got {joints.shape}")
    _check_float32_range(path, joints)
    num_joints = joints.shape[-2]
    fps = _npz_fps(path, arrays.pop("fps"))
    names = _npz_names(path, arrays.pop("joint_names"), num_joints) if "joint_names" in arrays else None
    parents = _npz_parents(path, arrays.pop("parents"), num_joints) if "parents" in arrays else None
    layout_name = _npz_string(path, arrays.pop("layout"), "layout") if "layout" in arrays else None
    layout = _npz_layout(path, num_joints, layout_name, names, parents)
    meta: dict[str, Any] = {"units": "m"}
    if "source" in arrays:
        original = _npz_string(path, arrays.pop("source"), "source")
        if original:
            meta["original_source"] = original
    if persons:
        ids, present = _npz_persons(path, arrays, joints.shape[:-2] if joints.ndim == 4 else (1,) + joints.shape[:1])
        meta.update(arrays)
        return Motion.from_bodies(joints, fps, layout, person_ids=ids, present=present, source=str(path), meta=meta)
    meta.update(arrays)
    return Motion(joints=joints, fps=fps, layout=layout, source=str(path), meta=meta)


def _npz_persons(path: Path, arrays: dict[str, np.ndarray], shape: tuple[int, int]) -> tuple[tuple[int, ...], Any]:
    """``person_ids`` (``[P]`` non-negative ints) and ``present`` (``[P, T]`` booleans or 0/1)
    of a multi-person npz; both optional (see :meth:`Motion.from_bodies` for lost bodies)."""
    ids: tuple[int, ...] = ()
    if "person_ids" in arrays:
        raw = arrays.pop("person_ids")
        if raw.dtype.kind not in "iu" or raw.shape != shape[:1]:
            raise MotionFileError(path, f"'person_ids' must be {shape[0]} integers (one per person), got dtype "
                                        f"{raw.dtype} shape {raw.shape}")
        ids = tuple(int(i) for i in raw.tolist())
    present = None
    if "present" in arrays:
        present = arrays.pop("present")
        if present.shape != shape or present.dtype.kind not in "biu" or not np.isin(present, (0, 1)).all():
            raise MotionFileError(path, f"'present' must be booleans of shape [persons, frames] = {list(shape)}, got "
                                        f"dtype {present.dtype} shape {present.shape}")
    return ids, present


def save_npz(path: str | Path, motion: Motion, **extra_arrays: Any) -> None:
    """Write ``motion`` to ``path`` (``.npz``) atomically, in the form :func:`read_npz` reads.

    Stores ``joints`` (float32; ``[P, T, J, 3]`` for several persons), ``fps``,
    ``joint_names``, ``parents``, ``layout``, ``source`` (empty string if none),
    ``person_ids`` (when several persons, or ids other than ``(0,)``), ``present`` (when
    some body is absent in some frame) and each of ``extra_arrays`` (e.g.
    ``confidence=motion.meta["confidence"]``), which must be plain (non-object) arrays
    and must not reuse a reserved name.

    Raises:
        ValueError: an extra array uses a reserved name or holds Python objects.
    """
    path = Path(path)
    if path.suffix.lower() != ".npz":
        raise ValueError(f"{path}: motion archives must have the .npz suffix")
    arrays: dict[str, np.ndarray] = {
        "joints": np.ascontiguousarray(motion.joints, dtype=np.float32),
        "fps": np.asarray(motion.fps, dtype=np.float64),
        "joint_names": np.asarray(motion.layout.joint_names, dtype=str),
        "parents": np.asarray(motion.layout.parents, dtype=np.int64),
        "layout": np.asarray(motion.layout.name, dtype=str),
        "source": np.asarray(motion.source or "", dtype=str),
    }
    if motion.num_persons > 1 or motion.present is not None or motion.person_ids != (0,):
        arrays["person_ids"] = np.asarray(motion.person_ids, dtype=np.int64)
        arrays["present"] = motion.presence
    for key, value in extra_arrays.items():
        if key in NPZ_RESERVED_KEYS:
            raise ValueError(f"extra array name {key!r} is reserved ({', '.join(NPZ_RESERVED_KEYS)})")
        array = np.asarray(value)
        if array.dtype.hasobject:
            raise ValueError(f"extra array {key!r} holds Python objects; only plain arrays can be saved")
        arrays[key] = array
    with atomic_path(path) as tmp:
        np.savez_compressed(tmp, **arrays)
