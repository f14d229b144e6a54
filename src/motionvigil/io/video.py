"""Video files -> the 3D skeleton of every person in them (needs the ``video`` extra).

``pip install 'motionvigil[video]'`` installs ``mediapipe==0.10.21`` (which requires
``opencv-contrib-python`` and ``numpy<2``) and ``supervision`` (ByteTrack). Nothing is
downloaded at run time: poses come from the legacy ``mediapipe.solutions.pose`` solution
with ``model_complexity=1``, whose models (``pose_detection.tflite``,
``pose_landmark_full.tflite``) are inside the mediapipe wheel; complexities 0 and 2 would
download theirs, so they are not offered. OpenCV needs the system libraries libGL and
GLib (Debian: ``libgl1``, ``libglib2.0-0``).

The pipeline, one frame at a time (frames are streamed, never held; what grows with the
video's length is the landmarks, 33 x 6 float32 values per person per frame):

1. **Decode** with OpenCV; a frame larger than ``MAX_SIDE`` pixels on its longer side
   (4K) is scaled down for the pose model, boxes stay in the video's pixels.
2. **Pose** of every person (:mod:`motionvigil.io.video_pose`): the one-person solution
   in tracking mode for each person followed so far, then on the whole frame with those
   persons painted over to find new ones, up to ``max_persons`` per frame.
3. **Tracking** (:mod:`motionvigil.io.tracking`): ByteTrack on the pose boxes gives each
   person a track id that survives crossings and misses of up to ``LOST_S`` seconds.
4. **Assembly** (:mod:`motionvigil.io.video_tracks`): per track, root translation and
   gap repair; one scorable track gives the one-person motion of before, several give a
   multi-person motion (docs/persons.md) with the track ids as ``person_ids``.

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
* **Frames without a person** are handled like Kinect frames that lost the skeleton: for
  one person, gaps are interpolated linearly in time and frames at the start and end are
  cut off (their indices stay in ``meta["lost_frames"]``); a video whose span between the
  first and the last detection is more than half without a person, or in which no person
  is found at all, is rejected with :class:`MotionFileError`. For several persons, see
  :mod:`motionvigil.io.video_tracks`.
"""

from __future__ import annotations

import contextlib
import math
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from motionvigil.errors import MotionFileError
from motionvigil.io.motion import Motion
from motionvigil.io.video_tracks import (  # noqa: F401  (the geometry lives there; these names are this module's API)
    DEFAULT_FOV_DEG,
    MAX_LOST_FRACTION,
    MIN_VISIBILITY,
    _fill_gaps,
    _repair,
    alert_box,
    assemble,
    estimate_translation,
    mediapipe_to_motion_axes,
)

VIDEO_EXTENSIONS = (".mp4", ".avi", ".mov", ".mkv", ".webm")
INSTALL_HINT = "pip install 'motionvigil[video]'"
MAX_SIDE = 1920  # frames with a longer side are scaled down for the pose model (4K -> 1920 x 1080)
MAX_PERSONS = 10  # persons looked for per frame
_MAX_FPS = 480.0  # beyond this a stated rate is a container time base, not a frame rate


def video_support_available() -> bool:
    """Whether the ``video`` extra (MediaPipe with OpenCV, supervision) is importable."""
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
        import supervision  # noqa: F401  (ByteTrack)
        from mediapipe.python.solutions import pose as _pose  # noqa: F401  (the legacy solution)
    except ModuleNotFoundError as exc:
        raise MotionFileError(
            path,
            f"reading video needs MediaPipe, OpenCV and supervision, which are not installed ({exc}); "
            f"install them with: {INSTALL_HINT}",
        ) from None
    except ImportError as exc:  # installed, but a system library is missing
        raise MotionFileError(
            path,
            f"MediaPipe/OpenCV are installed but cannot be loaded ({exc}); OpenCV needs the "
            "system libraries libGL and GLib (Debian/Ubuntu: apt-get install libgl1 libglib2.0-0)",
        ) from None
    return cv2, mediapipe


@contextlib.contextmanager
def open_video(path: str | Path, fps: float | None = None):
    """``(cv2, capture, fps, stated_frames)`` for a readable video; released on exit.

    Raises:
        MotionFileError: the extra is missing, no such file, not a video, or no usable
            frame rate (and ``fps`` not given)."""
    path = Path(path)
    cv2, _ = _backend(path)
    if not path.is_file():
        raise MotionFileError(path, "no such file")
    capture = cv2.VideoCapture(str(path))
    try:
        if not capture.isOpened():
            raise MotionFileError(path, "cannot open as a video (not a video file, or a codec OpenCV cannot decode)")
        stated_fps = float(capture.get(cv2.CAP_PROP_FPS) or 0.0)
        if fps is None:
            if not (math.isfinite(stated_fps) and 0.0 < stated_fps <= _MAX_FPS):
                raise MotionFileError(
                    path, f"the video states no usable frame rate ({stated_fps!r}); give the frame rate explicitly"
                )
            fps = stated_fps
        yield cv2, capture, float(fps), int(capture.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
    finally:
        capture.release()


def iter_frames(capture, path: str | Path, max_frames: int | None = None) -> Iterator[np.ndarray]:
    """The BGR frames of an open capture, one at a time, until the video (or ``max_frames``) ends.

    Raises:
        MotionFileError: a frame that is not a colour image (naming its index)."""
    index = 0
    while max_frames is None or index < max_frames:
        ok, frame = capture.read()
        if not ok or frame is None:
            return
        if frame.ndim != 3 or frame.shape[2] != 3:
            raise MotionFileError(path, f"frame {index} has shape {frame.shape}, expected colour images")
        yield frame
        index += 1


def read_video(
    path: str | Path,
    *,
    fps: float | None = None,
    fov_deg: float = DEFAULT_FOV_DEG,
    translation: bool = True,
    min_detection_confidence: float = 0.5,
    max_frames: int | None = None,
    max_persons: int = MAX_PERSONS,
    discover_every: int = 5,
) -> Motion:
    """Read a video file and estimate the 3D pose of every person in it, frame by frame.

    Args:
        path: any video OpenCV's FFmpeg backend decodes (``.mp4``, ``.avi``, ``.mov``,
            ``.mkv``, ``.webm``, ...).
        fps: frame rate; by default the one the video states.
        fov_deg: assumed horizontal field of view for the root translation (module notes).
        translation: recover the hip midpoint's movement; ``False`` keeps it at the origin.
        min_detection_confidence: MediaPipe's person detector threshold.
        max_frames: read at most this many frames.
        max_persons: look for at most this many persons per frame (``meta["person_cap_frames"]``
            counts the frames where that many were found: there may have been more).
        discover_every: look for new persons on the whole frame every this many frames
            (and on every frame while nobody is followed); fewer looks are faster, newcomers wait longer.

    Returns:
        A :class:`Motion` with layout ``MEDIAPIPE33`` (metres, Y up, the person's forward
        towards +Z when facing the camera): one person when one track can be scored (as
        before), else ``[P, T, 33, 3]`` with ``person_ids`` the track ids and ``present``.
        Meta: ``tracks`` (every track: id, start, end, frames, confidence, scored, reason),
        ``boxes`` and ``image_points`` (person id -> ``[T, 4]`` / ``[T, 33, 2]`` video
        pixels, NaN where not seen), ``confidence``, ``kept_rows``, ``video_frames``,
        ``video_size``, ``stated_frames``, ``person_cap_frames``, ``stage_seconds``
        (decode, pose, tracking, assembly), ``fov_deg``, ``translation``, ``backend``, ``units``.

    Raises:
        MotionFileError: the extra is not installed, the file cannot be opened or decoded
            as a video, its frame rate is unknown (pass ``fps``), no person is found, no
            track is long and sure enough to score, or (one person) the person is missing
            in more than half of the frames between the first and the last detection.
    """
    state: dict = {}
    for _ in track_video(path, state, fps=fps, min_detection_confidence=min_detection_confidence,
                         max_frames=max_frames, max_persons=max_persons, discover_every=discover_every):
        pass
    t0 = time.perf_counter()
    meta = {
        "dataset": "video",
        "units": "m",
        "video_frames": state["frames"],
        "stated_frames": state["stated_frames"],
        "video_size": state["size"],
        "person_cap_frames": state["person_cap_frames"],
        "fov_deg": float(fov_deg),
        "translation": bool(translation),
        "backend": state["backend"],
        "stage_seconds": state["stage_seconds"],
    }
    motion = assemble(Path(path), state["tracker"].tracks, state["frames"], state["fps"], state["size"], fov_deg,
                      translation, meta)
    state["stage_seconds"]["assembly"] = time.perf_counter() - t0
    return motion


def track_video(path: str | Path, state: dict, *, fps: float | None = None, min_detection_confidence: float = 0.5,
                max_frames: int | None = None, max_persons: int = MAX_PERSONS, discover_every: int = 5):
    """The frames of a video with their persons, one frame at a time: yields
    ``(index, poses, ids, scale)`` (:class:`~motionvigil.io.video_pose.PersonPose` list, the
    person id of each pose or -1, and the factor from video pixels to the poses' pixels).

    ``state`` is filled as it goes: ``fps``, ``stated_frames``, ``tracker`` (the
    :class:`~motionvigil.io.tracking.PersonTracker` with every track's rows), ``backend``;
    ``size`` (the frame's, in video pixels) with each frame; at the end ``frames`` and
    ``person_cap_frames``; ``stage_seconds`` (decode, pose, tracking) grows as it goes.
    Arguments as for :func:`read_video`; raises what it raises for an unreadable video."""
    path = Path(path)
    from motionvigil.io.tracking import LOST_S, PersonTracker
    from motionvigil.io.video_pose import FramePoses

    _, mediapipe = _backend(path)
    import supervision

    timer = {"decode": 0.0, "pose": 0.0, "tracking": 0.0, "assembly": 0.0}
    total, capped = 0, 0
    with open_video(path, fps) as (cv2, capture, fps, stated), _filtered_stderr(), \
            FramePoses(max_persons, min_detection_confidence, discover_every) as finder:
        tracker = PersonTracker(lost_frames=round(LOST_S * fps))
        state.update(fps=fps, stated_frames=stated, tracker=tracker, stage_seconds=timer,
                     backend=f"mediapipe {getattr(mediapipe, '__version__', '?')} pose (model_complexity=1) per "
                             f"person; ByteTrack (supervision {supervision.__version__})")
        frames = iter_frames(capture, path, max_frames)
        while True:
            t0 = time.perf_counter()
            frame = next(frames, None)
            if frame is None:
                break
            size = state["size"] = (int(frame.shape[1]), int(frame.shape[0]))
            scale = min(1.0, MAX_SIDE / max(size))
            if scale < 1.0:
                frame = cv2.resize(frame, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
            rgb = cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
            t1 = time.perf_counter()
            poses = finder(rgb)
            t2 = time.perf_counter()
            ids = tracker.update(total, poses, scale)
            t3 = time.perf_counter()
            capped += len(poses) >= max_persons
            timer["decode"] += t1 - t0
            timer["pose"] += t2 - t1
            timer["tracking"] += t3 - t2
            yield total, poses, ids, scale
            total += 1
    if total == 0:
        raise MotionFileError(path, "no frame could be decoded (empty or unsupported video)")
    state.update(frames=total, person_cap_frames=capped)


def stream_persons(path: str | Path, *, fov_deg: float = DEFAULT_FOV_DEG, **options) -> Iterator[dict]:
    """A video as the frames of a multi-person skeleton stream, one dict per video frame:
    ``{"frame", "time", "persons": [{"id", "joints", "box"}]}`` with ``joints`` the 33
    MediaPipe landmarks in metres (motionvigil axes, each person placed in the camera
    frame as :func:`read_video` does, frame by frame) and ``box`` in video pixels: what
    ``serve`` takes per frame (``"persons"``, layout ``mediapipe33``). Persons with no
    track yet are left out. ``options`` as for :func:`track_video`."""
    state: dict = {}
    last: dict[int, np.ndarray] = {}
    for index, poses, ids, scale in track_video(path, state, **options):
        persons = []
        for pose, pid in zip(poses, ids):
            if pid < 0:
                continue
            t = estimate_translation(pose.world, pose.image, pose.visibility, *state["size"], fov_deg)
            t = last.get(pid, np.zeros(3)) if t is None else t  # no fit this frame: where it last was
            last[pid] = t
            persons.append({"id": pid, "joints": np.round(mediapipe_to_motion_axes(pose.world + t), 4).tolist(),
                            "box": [round(float(v) / scale, 1) for v in pose.box]})
        yield {"frame": index, "time": round(index / state["fps"], 4), "persons": persons}


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

