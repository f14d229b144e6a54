"""Tracks of poses -> a :class:`Motion`: root translation, gap repair, boxes.

Geometry (see :mod:`motionvigil.io.video` for the conventions): MediaPipe's world
landmarks are hip-centred, so each person's camera-space hip position is fitted per frame
(:func:`estimate_translation`) from the world and image landmarks under one pinhole
camera; every person is placed in that one camera frame, so distances between people
mean something (sideways and vertical ones in metres; depth scales with the assumed
field of view).

Assembly (:func:`assemble`):

* One track that can be scored: the one-person motion of before (gaps interpolated,
  frames without the person at both ends cut off, :func:`_repair`).
* Several: ``joints [P, T, J, 3]`` over every frame of the video, ``person_ids`` the
  track ids, ``present [P, T]`` the frames each track was seen plus gaps of at most
  ``MAX_GAP_S`` inside it (interpolated, as for one person); other frames hold the
  interpolated or nearest pose as filler (docs/persons.md).
* A track seen in fewer than ``MIN_TRACK_S`` seconds of frames, or whose mean landmark
  visibility is under ``MIN_TRACK_CONFIDENCE``, is not scored: it stays out of the motion
  and is listed in ``meta["tracks"]`` with ``"scored": False`` and the reason.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from motionvigil.errors import MotionFileError
from motionvigil.io.layouts import MEDIAPIPE33
from motionvigil.io.motion import Motion
from motionvigil.io.tracking import TrackRows

DEFAULT_FOV_DEG = 60.0
MAX_LOST_FRACTION = 0.5  # as for Kinect files: more frames without a person than this cannot be repaired
MIN_VISIBILITY = 0.5  # landmarks below this visibility do not take part in the translation fit
MAX_GAP_S = 0.5  # inside a track, gaps up to this long are interpolated and count as present
MIN_TRACK_S = 1.0  # a track seen for fewer seconds of frames is not scored
MIN_TRACK_CONFIDENCE = 0.5  # nor one whose mean landmark visibility is lower


def mediapipe_to_motion_axes(points: np.ndarray) -> np.ndarray:
    """MediaPipe camera-aligned axes (X right, Y down, Z away from the camera) -> motionvigil
    axes (Y up, right-handed; Z towards the camera): ``(x, y, z) -> (x, -y, -z)``."""
    out = np.array(points, dtype=np.float64, copy=True)
    out[..., 1:] *= -1.0
    return out


def estimate_translation(
    world: np.ndarray,
    image_xy: np.ndarray,
    visibility: np.ndarray,
    width: int,
    height: int,
    fov_deg: float = DEFAULT_FOV_DEG,
) -> np.ndarray | None:
    """Camera-space position of the landmarks' origin (the hip midpoint) in one frame.

    Solves ``u = f (X + tx) / (Z + tz) + cx``, ``v = f (Y + ty) / (Z + tz) + cy`` for
    ``t`` by linear least squares over the landmarks with ``visibility >= MIN_VISIBILITY``.

    Args:
        world: ``[33, 3]`` world landmarks in MediaPipe axes (metres).
        image_xy: ``[33, 2]`` image landmarks, normalised by the image width and height.
        visibility: ``[33]`` MediaPipe visibility in [0, 1].
        width, height: image size in pixels.
        fov_deg: assumed horizontal field of view of the camera.

    Returns:
        ``[3]`` translation in MediaPipe axes, or ``None`` when fewer than 3 landmarks
        are visible or the fit puts the person behind or at the camera.
    """
    keep = np.asarray(visibility) >= MIN_VISIBILITY
    if keep.sum() < 3:
        return None
    f = (width / 2.0) / math.tan(math.radians(fov_deg) / 2.0)
    X, Y, Z = np.asarray(world, np.float64)[keep].T
    du = np.asarray(image_xy, np.float64)[keep, 0] * width - width / 2.0
    dv = np.asarray(image_xy, np.float64)[keep, 1] * height - height / 2.0
    n = len(X)
    a = np.zeros((2 * n, 3))
    a[:n, 0], a[:n, 2] = f, -du
    a[n:, 1], a[n:, 2] = f, -dv
    b = np.r_[du * Z - f * X, dv * Z - f * Y]
    t, *_ = np.linalg.lstsq(a, b, rcond=None)
    if not (np.all(np.isfinite(t)) and t[2] > 0.1):
        return None
    return t


def _fill_gaps(values: np.ndarray) -> np.ndarray:
    """Interpolate rows of ``values [T, D]`` that are NaN; all-NaN -> zeros."""
    good = np.isfinite(values).all(axis=1)
    if not good.any():
        return np.zeros_like(values)
    idx = np.arange(len(values))
    return np.stack([np.interp(idx, idx[good], values[good, k]) for k in range(values.shape[1])], axis=1)


def _repair(path: Path, joints: np.ndarray, detected: np.ndarray) -> tuple[np.ndarray, slice]:
    """Interpolate frames without a person, trim them at both ends; reject hopeless videos."""
    total = len(detected)
    found = np.flatnonzero(detected)
    if len(found) == 0:
        raise MotionFileError(path, f"no person found in any of the {total} frames")
    keep = slice(int(found[0]), int(found[-1]) + 1)
    span = keep.stop - keep.start
    missing = span - len(found)
    if missing > MAX_LOST_FRACTION * span:
        raise MotionFileError(
            path,
            f"no person found in {missing} of the {span} frames between the first and last detection; "
            f"more than {MAX_LOST_FRACTION:.0%} cannot be repaired",
        )
    if len(found) < 2:
        raise MotionFileError(
            path, f"a person was found in only {len(found)} of the {total} frames (at least 2 are needed)"
        )
    flat = joints.reshape(total, -1)
    idx = np.arange(total)
    filled = np.stack([np.interp(idx, found, flat[found, k]) for k in range(flat.shape[1])], axis=1)
    return filled.reshape(joints.shape)[keep], keep



def _track_arrays(rows: TrackRows, total: int, size: tuple[int, int], fov_deg: float, translation: bool) -> dict:
    """One track over all ``total`` frames: ``joints [T, 33, 3]`` (motionvigil axes, zero where
    not seen), ``visibility [T, 33]``, ``image [T, 33, 2]`` and ``boxes [T, 4]`` in video
    pixels (NaN where not seen) and ``detected [T]``."""
    width, height = size
    frames = np.asarray(rows.frames, np.int64)
    world = np.stack(rows.world).astype(np.float64)
    image = np.stack(rows.image).astype(np.float64)
    vis = np.stack(rows.visibility).astype(np.float64)
    roots = np.zeros((len(frames), 3))
    if translation:
        roots[:] = np.nan
        for k in range(len(frames)):
            t = estimate_translation(world[k], image[k], vis[k], width, height, fov_deg)
            if t is not None:
                roots[k] = t
        roots = _fill_gaps(roots)
    out = {
        "joints": np.zeros((total, 33, 3)),
        "visibility": np.zeros((total, 33)),
        "image": np.full((total, 33, 2), np.nan, np.float32),
        "boxes": np.full((total, 4), np.nan, np.float32),
        "detected": np.zeros(total, bool),
    }
    out["joints"][frames] = mediapipe_to_motion_axes(world + roots[:, None, :])
    out["visibility"][frames] = vis
    out["image"][frames] = image * np.array([width, height])
    out["boxes"][frames] = np.stack(rows.boxes)
    out["detected"][frames] = True
    return out


def track_summary(track_id: int, rows: TrackRows, fps: float) -> dict:
    """``{"id", "start", "end", "frames", "confidence", "scored"}`` (+ ``"reason"`` when not scored);
    times in seconds of the video."""
    seen, confidence = len(rows.frames), float(np.mean(rows.confidence))
    summary = {"id": int(track_id), "start": round(rows.frames[0] / fps, 3), "end": round((rows.frames[-1] + 1) / fps, 3),
               "frames": seen, "confidence": round(confidence, 3), "scored": True}
    if seen < max(2, MIN_TRACK_S * fps):
        summary.update(scored=False, reason=f"seen in {seen} frames ({seen / fps:.2f} s), fewer than {MIN_TRACK_S:g} s")
    elif confidence < MIN_TRACK_CONFIDENCE:
        summary.update(scored=False, reason=f"mean landmark visibility {confidence:.2f} < {MIN_TRACK_CONFIDENCE}")
    return summary


def _present(detected: np.ndarray, max_gap: int) -> np.ndarray:
    """Detected frames plus the gaps of at most ``max_gap`` frames between two of them."""
    present = detected.copy()
    found = np.flatnonzero(detected)
    for a, b in zip(found[:-1], found[1:]):
        if 1 < b - a <= max_gap + 1:
            present[a:b] = True
    return present


def _interpolate(values: np.ndarray, detected: np.ndarray) -> np.ndarray:
    """``values [T, ...]`` with every frame not detected interpolated in time between the
    detected ones (the nearest detected frame before the first and after the last)."""
    flat = values.reshape(len(values), -1)
    idx, found = np.arange(len(values)), np.flatnonzero(detected)
    return np.stack([np.interp(idx, found, flat[found, k]) for k in range(flat.shape[1])], axis=1).reshape(values.shape)


def assemble(path: Path, tracks: dict[int, TrackRows], total: int, fps: float, size: tuple[int, int],
             fov_deg: float, translation: bool, meta: dict) -> Motion:
    """The motion of the scorable tracks (module notes); ``meta`` is extended with
    ``tracks``, ``boxes`` and ``image_points`` (per person id, in the motion's frames),
    ``confidence``, ``lost_frames`` / ``detected`` and ``kept_rows``."""
    if not tracks:
        raise MotionFileError(path, f"no person found in any of the {total} frames")
    summaries = [track_summary(tid, rows, fps) for tid, rows in sorted(tracks.items())]
    scored = [s["id"] for s in summaries if s["scored"]]
    if not scored:
        reasons = "; ".join(f"track {s['id']}: {s['reason']}" for s in summaries[:3])
        raise MotionFileError(path, f"no person could be tracked long enough to score ({reasons})")
    arrays = {tid: _track_arrays(tracks[tid], total, size, fov_deg, translation) for tid in scored}
    meta = {**meta, "tracks": summaries}
    if len(scored) == 1:
        a = arrays[scored[0]]
        joints, kept = _repair(path, a["joints"], a["detected"])
        vis, _ = _repair(path, a["visibility"][..., None], a["detected"])
        rows = slice(kept.start, kept.stop)
        meta.update(confidence=np.ascontiguousarray(vis[..., 0], dtype=np.float32),
                    lost_frames=np.flatnonzero(~a["detected"]).astype(np.int64), kept_rows=(kept.start, kept.stop),
                    boxes={0: a["boxes"][rows]}, image_points={0: a["image"][rows]}, track_ids=(scored[0],))
        return Motion(joints=joints, fps=fps, layout=MEDIAPIPE33, source=str(path), meta=meta)
    max_gap = int(round(MAX_GAP_S * fps))
    detected = np.stack([arrays[tid]["detected"] for tid in scored])
    present = np.stack([_present(d, max_gap) for d in detected])
    joints = np.stack([_interpolate(arrays[tid]["joints"], d) for tid, d in zip(scored, detected)])
    meta.update(confidence=np.stack([arrays[tid]["visibility"] for tid in scored]).astype(np.float32),
                detected=detected, kept_rows=(0, total), track_ids=tuple(scored),
                boxes={tid: arrays[tid]["boxes"] for tid in scored},
                image_points={tid: arrays[tid]["image"] for tid in scored})
    return Motion(joints=joints, fps=fps, layout=MEDIAPIPE33, source=str(path), meta=meta,
                  person_ids=tuple(scored), present=present)


def alert_box(motion: Motion, start_s: float, end_s: float, persons=()) -> list[int] | None:
    """Pixel box ``[x0, y0, x1, y1]`` around ``persons`` (ids; all of the motion's when
    empty) over ``[start_s, end_s)`` seconds of a video motion; ``None`` without boxes
    (not a video) or when none of them was seen then."""
    boxes = motion.meta.get("boxes")
    if not boxes:
        return None
    ids = list(persons) if persons else list(boxes)
    a = max(0, int(math.floor(start_s * motion.fps)))
    b = max(a + 1, int(math.ceil(end_s * motion.fps)))
    seen = [boxes[i][a:b] for i in ids if i in boxes]
    if not seen:
        return None
    stacked = np.concatenate(seen)
    stacked = stacked[np.isfinite(stacked).all(axis=1)]
    if not len(stacked):
        return None
    return [int(np.floor(stacked[:, 0].min())), int(np.floor(stacked[:, 1].min())),
            int(np.ceil(stacked[:, 2].max())), int(np.ceil(stacked[:, 3].max()))]
