"""Every person in a frame: MediaPipe Pose's shipped models, run once per person.

The legacy ``mediapipe.solutions.pose`` solution (models inside the wheel, nothing
downloaded) finds *one* person per image: its detector (``pose_detection.tflite``) picks
the strongest person and its landmark model (``pose_landmark_full.tflite``) fits 33
landmarks to that person's region. The Tasks ``PoseLandmarker`` has ``num_poses`` but
refuses those two files without the metadata it expects, so :class:`FramePoses` gets
several persons out of the one-person solution instead:

* **Known persons** (the boxes the tracker had in the previous frame): the frame is cut to
  a square crop around each box, grown by ``CROP_MARGIN``, and the solution runs on the
  crop, where that person is the largest one in view.
* **New persons**: the solution runs on the whole frame with every person found so far
  painted over in flat grey, again and again until it finds nobody new or
  ``max_persons`` are found.
* Two results that are the same person (two crops of people standing close) are merged:
  the one whose box overlaps an earlier, more confident one by more than ``SAME_IOU``
  is dropped.

Each person is a :class:`PersonPose`: world landmarks (metres, hip-centred, MediaPipe
axes), image landmarks in the frame's normalised coordinates (the crop is mapped back),
visibility, a pixel box around the landmarks and a confidence (mean visibility).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

CROP_MARGIN = 0.6  # a crop is the box's larger side times (1 + CROP_MARGIN), square, around its centre
SAME_IOU = 0.5  # two poses whose boxes overlap more than this are one person
MASK_GREY = (127, 127, 127)
BOX_PAD = 0.08  # the box around the landmarks grows by this share of its size on each side
MIN_CONFIDENCE = 0.3  # a pose with a lower mean landmark visibility is not a person


@dataclass
class PersonPose:
    """One person in one frame.

    Attributes:
        world: ``[33, 3]`` world landmarks (metres, MediaPipe axes, origin between the hips).
        image: ``[33, 2]`` image landmarks normalised by the frame's width and height.
        visibility: ``[33]`` MediaPipe visibility in [0, 1].
        box: ``[4]`` ``x0, y0, x1, y1`` in pixels of the frame.
        confidence: mean visibility of the landmarks.
    """

    world: np.ndarray
    image: np.ndarray
    visibility: np.ndarray
    box: np.ndarray
    confidence: float


def box_iou(a: np.ndarray, b: np.ndarray) -> float:
    """Intersection over union of two ``x0, y0, x1, y1`` boxes."""
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    if w <= 0 or h <= 0:
        return 0.0
    inter = w * h
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return float(inter / union) if union > 0 else 0.0


def square_crop(box: Sequence[float], width: int, height: int, margin: float = CROP_MARGIN) -> tuple[int, ...] | None:
    """Integer ``x0, y0, x1, y1`` of a square around ``box`` grown by ``margin``, clipped
    to the frame; ``None`` when less than 8 pixels of it are inside the frame."""
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    half = max(box[2] - box[0], box[3] - box[1]) * (1 + margin) / 2
    x0, y0 = max(0, int(cx - half)), max(0, int(cy - half))
    x1, y1 = min(width, int(np.ceil(cx + half))), min(height, int(np.ceil(cy + half)))
    if x1 - x0 < 8 or y1 - y0 < 8:
        return None
    return x0, y0, x1, y1


def landmark_box(image_xy: np.ndarray, width: int, height: int, pad: float = BOX_PAD) -> np.ndarray:
    """Pixel box ``x0, y0, x1, y1`` around normalised landmarks, padded, clipped to the frame."""
    x = image_xy[:, 0] * width
    y = image_xy[:, 1] * height
    w, h = x.max() - x.min(), y.max() - y.min()
    box = np.array([x.min() - pad * w, y.min() - pad * h, x.max() + pad * w, y.max() + pad * h])
    return np.clip(box, 0, [width, height, width, height]).astype(np.float64)


class FramePoses:
    """Finds the persons in RGB frames with MediaPipe Pose (see the module notes).

    Args:
        max_persons: stop looking for new persons once this many are found in a frame.
        min_detection_confidence: MediaPipe's detector threshold.
        discover_every: look for new persons on the whole frame every this many frames
            (always when no known box is given).
    """

    def __init__(self, max_persons: int = 10, min_detection_confidence: float = 0.5, discover_every: int = 1):
        from mediapipe.python.solutions import pose as mp_pose

        self.max_persons = int(max_persons)
        self.discover_every = max(1, int(discover_every))
        self._calls = 0
        self._frames = 0
        self._pose = mp_pose.Pose(
            static_image_mode=True,
            model_complexity=1,
            smooth_landmarks=False,
            enable_segmentation=False,
            min_detection_confidence=min_detection_confidence,
        )

    def close(self) -> None:
        self._pose.close()

    def __enter__(self) -> "FramePoses":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def model_calls(self) -> int:
        """How many times the one-person solution has run (for benchmarks)."""
        return self._calls

    def _one(self, rgb: np.ndarray, origin: tuple[int, int], frame_size: tuple[int, int]) -> PersonPose | None:
        """The strongest person in ``rgb`` (a crop at ``origin`` of a frame of ``frame_size``)."""
        self._calls += 1
        result = self._pose.process(rgb)
        if result.pose_world_landmarks is None or result.pose_landmarks is None:
            return None
        width, height = frame_size
        ch, cw = rgb.shape[:2]
        marks = result.pose_landmarks.landmark
        image = np.array([((origin[0] + p.x * cw) / width, (origin[1] + p.y * ch) / height) for p in marks])
        visibility = np.array([p.visibility for p in marks])
        world = np.array([(p.x, p.y, p.z) for p in result.pose_world_landmarks.landmark])
        confidence = float(visibility.mean())
        if confidence < MIN_CONFIDENCE:
            return None
        return PersonPose(world, image, visibility, landmark_box(image, width, height), confidence)

    def __call__(self, rgb: np.ndarray, known_boxes: Sequence[np.ndarray] = ()) -> list[PersonPose]:
        """The persons in one RGB frame ``[H, W, 3]`` uint8, most confident first.

        ``known_boxes`` are where persons were (the tracker's boxes in the previous frame)."""
        height, width = rgb.shape[:2]
        found: list[PersonPose] = []

        def add(pose: PersonPose | None) -> bool:
            if pose is None or any(box_iou(pose.box, p.box) > SAME_IOU for p in found):
                return False
            found.append(pose)
            return True

        for box in known_boxes:
            if len(found) >= self.max_persons:
                break
            crop = square_crop(box, width, height)
            if crop is not None:
                x0, y0, x1, y1 = crop
                add(self._one(np.ascontiguousarray(rgb[y0:y1, x0:x1]), (x0, y0), (width, height)))
        if not known_boxes or self._frames % self.discover_every == 0:
            masked = rgb.copy()
            for pose in found:
                _paint(masked, pose.box)
            while len(found) < self.max_persons:
                pose = self._one(masked, (0, 0), (width, height))
                if pose is None:
                    break
                if not add(pose):  # the detector keeps returning a person already found
                    break
                _paint(masked, pose.box)
        self._frames += 1
        found.sort(key=lambda p: -p.confidence)
        return found


def _paint(rgb: np.ndarray, box: np.ndarray) -> None:
    x0, y0, x1, y1 = (int(round(v)) for v in box)
    rgb[max(0, y0) : max(0, y1), max(0, x0) : max(0, x1)] = MASK_GREY
