"""Video files -> 3D skeletons with MediaPipe Pose (needs the ``video`` extra).

``pip install 'motionvigil[video]'`` installs ``mediapipe==0.10.21`` (which requires
``opencv-contrib-python`` and ``numpy<2``). Nothing is downloaded at run time: the reader
uses the legacy ``mediapipe.solutions.pose`` solution with ``model_complexity=1``, whose
models (``pose_detection.tflite``, ``pose_landmark_full.tflite``) are inside the mediapipe
wheel; complexities 0 and 2 would download theirs, so they are not offered. OpenCV needs
the system libraries libGL and GLib (Debian: ``libgl1``, ``libglib2.0-0``).

What MediaPipe gives and what the reader makes of it:

* **World landmarks**: 33 points in metres with the origin at the midpoint of the hips,
  in camera-aligned axes: +X to the image right, +Y down, +Z away from the camera. The
  reader turns them into motionvigil's convention (Y up, right-handed) by a 180-degree
  rotation about X: ``(x, y, z) -> (x, -y, -z)``. A rotation keeps the handedness, so
  MediaPipe's left/right labels (the person's own sides) stay valid: for a person facing
  the camera, ``forward = up x (right_hip - left_hip)`` points to +Z, towards the camera.
* **Root translation**: world landmarks are hip-centred in every frame, so on their own a
  walking person walks on the spot. The reader recovers the camera-space position of the
  hip midpoint per frame by least squares, from the world landmarks and the image
  landmarks under a pinhole camera with an assumed horizontal field of view (``fov_deg``,
  default 60 degrees) centred on the image. Sideways and vertical movement come out in
  metres whatever the field of view (they scale with depth / focal length, which the
  fit fixes together); the distance from the camera scales with the assumed focal length.
  ``translation=False`` keeps the hip-centred landmarks.
* **Frames without a person** (MediaPipe found no pose) are handled like Kinect frames
  that lost the skeleton: gaps are interpolated linearly in time, frames at the start
  and end are cut off; their indices stay in ``meta["lost_frames"]``. A video whose
  span between the first and the last detection is more than half without a person,
  or in which no person is found at all, is rejected with :class:`MotionFileError`.
  MediaPipe Pose follows one person; with several people in view it follows one of them.
"""

from __future__ import annotations

import contextlib
import math
import os
import sys
import tempfile
from pathlib import Path

import numpy as np

from motionvigil.errors import MotionFileError
from motionvigil.io.layouts import MEDIAPIPE33
from motionvigil.io.motion import Motion

VIDEO_EXTENSIONS = (".mp4", ".avi", ".mov", ".mkv", ".webm")
INSTALL_HINT = "pip install 'motionvigil[video]'"
DEFAULT_FOV_DEG = 60.0
MAX_LOST_FRACTION = 0.5  # as for Kinect files: more frames without a person than this cannot be repaired
MIN_VISIBILITY = 0.5  # landmarks below this visibility do not take part in the translation fit
_MAX_FPS = 480.0  # beyond this a stated rate is a container time base, not a frame rate


def video_support_available() -> bool:
    """Whether the ``video`` extra (MediaPipe with OpenCV) is importable."""
    try:
        _backend(None)
    except MotionFileError:
        return False
    return True


def _backend(path: str | Path | None):
    """``(cv2, mediapipe)``, or MotionFileError saying how to get them."""
    try:
        import cv2
        import mediapipe
        from mediapipe.python.solutions import pose as _pose  # noqa: F401  (the legacy solution)
    except ModuleNotFoundError as exc:
        raise MotionFileError(
            path,
            f"reading video needs MediaPipe and OpenCV, which are not installed ({exc}); "
            f"install them with: {INSTALL_HINT}",
        ) from None
    except ImportError as exc:  # installed, but a system library is missing
        raise MotionFileError(
            path,
            f"MediaPipe/OpenCV are installed but cannot be loaded ({exc}); OpenCV needs the "
            "system libraries libGL and GLib (Debian/Ubuntu: apt-get install libgl1 libglib2.0-0)",
        ) from None
    return cv2, mediapipe


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


def read_video(
    path: str | Path,
    *,
    fps: float | None = None,
    fov_deg: float = DEFAULT_FOV_DEG,
    translation: bool = True,
    min_detection_confidence: float = 0.5,
    min_tracking_confidence: float = 0.5,
    max_frames: int | None = None,
) -> Motion:
    """Read a video file and estimate the 3D pose of the person in it, frame by frame.

    Args:
        path: any video OpenCV's FFmpeg backend decodes (``.mp4``, ``.avi``, ``.mov``,
            ``.mkv``, ``.webm``, ...).
        fps: frame rate; by default the one the video states.
        fov_deg: assumed horizontal field of view for the root translation (module notes).
        translation: recover the hip midpoint's movement; ``False`` keeps it at the origin.
        min_detection_confidence, min_tracking_confidence: MediaPipe Pose thresholds.
        max_frames: read at most this many frames.

    Returns:
        A :class:`Motion` with layout ``MEDIAPIPE33`` (metres, Y up, the person's forward
        towards +Z when facing the camera) and meta ``confidence`` (``[T, 33]`` MediaPipe
        visibility), ``lost_frames``, ``kept_rows``, ``video_frames``, ``video_size``,
        ``fov_deg``, ``translation``, ``backend``, ``units``.

    Raises:
        MotionFileError: the extra is not installed, the file cannot be opened or decoded
            as a video, its frame rate is unknown (pass ``fps``), no person is found, or
            the person is missing in more than half of the frames between the first and
            the last detection.
    """
    path = Path(path)
    cv2, mediapipe = _backend(path)
    if not path.is_file():
        raise MotionFileError(path, "no such file")
    capture = cv2.VideoCapture(str(path))
    try:
        if not capture.isOpened():
            raise MotionFileError(
                path, "cannot open as a video (not a video file, or a codec OpenCV cannot decode)"
            )
        stated_fps = float(capture.get(cv2.CAP_PROP_FPS) or 0.0)
        if fps is None:
            if not (math.isfinite(stated_fps) and 0.0 < stated_fps <= _MAX_FPS):
                raise MotionFileError(
                    path, f"the video states no usable frame rate ({stated_fps!r}); give the frame rate explicitly"
                )
            fps = stated_fps
        world, image, visibility, detected, size = _track(
            cv2, mediapipe, capture, path, min_detection_confidence, min_tracking_confidence, max_frames
        )
    finally:
        capture.release()
    total = len(detected)
    if total == 0:
        raise MotionFileError(path, "no frame could be decoded (empty or unsupported video)")
    width, height = size
    roots = np.full((total, 3), np.nan)
    if translation:
        for i in np.flatnonzero(detected):
            t = estimate_translation(world[i], image[i], visibility[i], width, height, fov_deg)
            if t is not None:
                roots[i] = t
        roots[detected] = _fill_gaps(roots[detected])
    else:
        roots[detected] = 0.0
    joints = np.where(detected[:, None, None], world + np.nan_to_num(roots)[:, None, :], 0.0)
    joints, kept = _repair(path, mediapipe_to_motion_axes(joints), detected)
    vis, _ = _repair(path, visibility[..., None], detected)
    meta = {
        "dataset": "video",
        "units": "m",
        "confidence": np.ascontiguousarray(vis[..., 0], dtype=np.float32),
        "lost_frames": np.flatnonzero(~detected).astype(np.int64),
        "kept_rows": (kept.start, kept.stop),
        "video_frames": total,
        "video_size": (width, height),
        "fov_deg": float(fov_deg),
        "translation": bool(translation),
        "backend": f"mediapipe {getattr(mediapipe, '__version__', '?')} pose (model_complexity=1)",
    }
    return Motion(joints=joints, fps=fps, layout=MEDIAPIPE33, source=str(path), meta=meta)


# MediaPipe's C++ side prints these start-up notes to stderr on every run; they say nothing
# about the video. Anything else it prints is passed on.
_BENIGN_STDERR = (
    "Created TensorFlow Lite XNNPACK delegate",
    "All log messages before absl::InitializeLog()",
    "inference_feedback_manager.cc",
    "landmark_projection_calculator.cc",
)


@contextlib.contextmanager
def _filtered_stderr():
    """Capture file descriptor 2 (C++ logging) while MediaPipe runs; afterwards write back
    every captured line except MediaPipe's known start-up notes."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError, AttributeError):  # no real stderr (embedded, captured): leave it alone
        yield
        return
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            sink.seek(0)
            kept = [
                line
                for line in sink.read().decode("utf-8", "replace").splitlines(keepends=True)
                if not any(note in line for note in _BENIGN_STDERR)
            ]
            if kept:
                sys.stderr.write("".join(kept))
                sys.stderr.flush()


def _track(
    cv2, mediapipe, capture, path: Path, min_detection: float, min_tracking: float, max_frames: int | None
):
    with _filtered_stderr():
        return _track_frames(cv2, mediapipe, capture, path, min_detection, min_tracking, max_frames)


def _track_frames(
    cv2, mediapipe, capture, path: Path, min_detection: float, min_tracking: float, max_frames: int | None
):
    """Run MediaPipe Pose over the frames: world ``[T, 33, 3]``, image ``[T, 33, 2]``,
    visibility ``[T, 33]``, detected ``[T]`` bool and the frame size ``(width, height)``."""
    from mediapipe.python.solutions import pose as mp_pose

    world, image, visibility, detected = [], [], [], []
    size = (0, 0)
    with mp_pose.Pose(
        static_image_mode=False,
        model_complexity=1,
        smooth_landmarks=True,
        enable_segmentation=False,
        min_detection_confidence=min_detection,
        min_tracking_confidence=min_tracking,
    ) as pose:
        while max_frames is None or len(detected) < max_frames:
            ok, frame = capture.read()
            if not ok or frame is None:
                break
            if frame.ndim != 3 or frame.shape[2] != 3:
                raise MotionFileError(
                    path, f"frame {len(detected)} has shape {frame.shape}, expected colour images"
                )
            size = (int(frame.shape[1]), int(frame.shape[0]))
            result = pose.process(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
            if result.pose_world_landmarks is None or result.pose_landmarks is None:
                world.append(np.zeros((33, 3)))
                image.append(np.zeros((33, 2)))
                visibility.append(np.zeros(33))
                detected.append(False)
                continue
            world.append([(p.x, p.y, p.z) for p in result.pose_world_landmarks.landmark])
            image.append([(p.x, p.y) for p in result.pose_landmarks.landmark])
            visibility.append([p.visibility for p in result.pose_landmarks.landmark])
            detected.append(True)
    return (
        np.asarray(world, np.float64).reshape(-1, 33, 3),
        np.asarray(image, np.float64).reshape(-1, 33, 2),
        np.asarray(visibility, np.float64).reshape(-1, 33),
        np.asarray(detected, bool),
        size,
    )
