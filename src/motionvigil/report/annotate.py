"""``detect VIDEO --annotate OUT.mp4``: the video with every tracked person drawn on it.

Each person seen in a frame gets a box, a 2D skeleton (MediaPipe's image landmarks) and
its track id; the box turns red while an alert naming that person is open, and a red
banner at the top names the open alerts (class, score, persons). Frames are read,
drawn and written one at a time; the file is written to a temporary name beside the
output and renamed when complete, so a failed run leaves no half-written video.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from motionvigil.errors import MotionFileError
from motionvigil.io.motion import Motion
from motionvigil.io.video import iter_frames, open_video

# MediaPipe's 33 landmarks: the bones drawn (face reduced to the nose)
BONES = ((11, 12), (11, 13), (13, 15), (12, 14), (14, 16), (11, 23), (12, 24), (23, 24), (23, 25), (25, 27),
         (24, 26), (26, 28), (27, 31), (28, 32), (0, 11), (0, 12))
CALM = (80, 200, 60)  # BGR
ALERT = (0, 0, 255)


def _field(alert: Any, *names: str, default=None):
    for name in names:
        if isinstance(alert, Mapping) and name in alert:
            return alert[name]
        if hasattr(alert, name):
            return getattr(alert, name)
    return default


def open_alerts(alerts: Iterable[Any], t: float) -> list[tuple[tuple[int, ...], str, float]]:
    """``(persons, class, score)`` of the alerts open at ``t`` seconds. An alert is a
    ``detect --json`` alert (``start``, ``end``, ``persons``, ``class``, ``score``) or an
    :class:`~motionvigil.detect.timeline.AlertSegment`; no persons means everybody."""
    out = []
    for a in alerts:
        start, end = _field(a, "start", "start_s"), _field(a, "end", "end_s")
        if start is not None and end is not None and start <= t < end:
            out.append((tuple(_field(a, "persons", default=()) or ()), str(_field(a, "class", "top_class", default="")),
                        float(_field(a, "score", "max_score", default=float("nan")))))
    return out


def annotate_video(video: str | Path, motion: Motion, alerts: Iterable[Any], output: str | Path) -> int:
    """Write ``video`` with ``motion``'s tracks and the ``alerts`` drawn on it to ``output``
    (``.mp4``: MPEG-4 part 2; other suffixes: Motion JPEG). ``motion`` is what
    :func:`~motionvigil.io.load_motion` read from ``video``. Returns the frames written.

    Raises:
        MotionFileError: the video cannot be read, ``motion`` carries no boxes (not read
            from a video), or the output cannot be written.
    """
    output = Path(output)
    boxes = motion.meta.get("boxes")
    points = motion.meta.get("image_points", {})
    if not boxes:
        raise MotionFileError(motion.source, "has no per-person boxes (not read from a video): nothing to annotate")
    alerts = list(alerts)
    offset = int(motion.meta.get("kept_rows", (0, 0))[0])
    with open_video(video, motion.fps) as (cv2, capture, fps, _):
        output.parent.mkdir(parents=True, exist_ok=True)
        handle, tmp = tempfile.mkstemp(suffix=output.suffix or ".mp4", dir=output.parent, prefix=f".{output.name}.")
        os.close(handle)
        writer = None
        written = 0
        try:
            for frame in iter_frames(capture, video):
                if writer is None:
                    fourcc = cv2.VideoWriter_fourcc(*("mp4v" if output.suffix.lower() == ".mp4" else "MJPG"))
                    writer = cv2.VideoWriter(tmp, fourcc, fps, (frame.shape[1], frame.shape[0]))
                    if not writer.isOpened():
                        raise MotionFileError(output, "OpenCV cannot write a video here (codec or folder)")
                m = written - offset
                if 0 <= m < motion.num_frames:
                    _draw(cv2, frame, m, boxes, points, open_alerts(alerts, m / motion.fps))
                writer.write(frame)
                written += 1
            if writer is None:
                raise MotionFileError(video, "no frame could be decoded")
            writer.release()
            writer = None
            os.replace(tmp, output)
        finally:
            if writer is not None:
                writer.release()
            if os.path.exists(tmp):
                os.unlink(tmp)
    return written


def _draw(cv2, frame: np.ndarray, m: int, boxes: dict, points: dict, alerting: list) -> None:
    """Boxes, skeletons and ids of the persons seen in motion frame ``m``; the banner."""
    flagged = {p for persons, _, _ in alerting for p in (persons or boxes)}
    scale = max(1.0, frame.shape[0] / 480)
    for pid, track in boxes.items():
        box = track[m]
        if not np.isfinite(box).all():
            continue
        colour = ALERT if pid in flagged else CALM
        x0, y0, x1, y1 = (int(round(v)) for v in box)
        cv2.rectangle(frame, (x0, y0), (x1, y1), colour, max(1, int(2 * scale)))
        cv2.putText(frame, f"#{pid}", (x0 + 3, max(12, y0 - 5)), cv2.FONT_HERSHEY_SIMPLEX, 0.6 * scale, colour,
                    max(1, int(2 * scale)), cv2.LINE_AA)
        marks = points.get(pid)
        if marks is not None and np.isfinite(marks[m]).all():
            xy = np.round(marks[m]).astype(int)
            for a, b in BONES:
                cv2.line(frame, tuple(xy[a]), tuple(xy[b]), colour, max(1, int(scale)), cv2.LINE_AA)
    if alerting:
        text = "  ".join(f"ALERT {cls} {score:.2f} " + "+".join(f"#{p}" for p in persons) for persons, cls, score in alerting)
        cv2.rectangle(frame, (0, 0), (frame.shape[1], int(28 * scale)), ALERT, -1)
        cv2.putText(frame, text, (6, int(20 * scale)), cv2.FONT_HERSHEY_SIMPLEX, 0.6 * scale, (255, 255, 255),
                    max(1, int(scale)), cv2.LINE_AA)
