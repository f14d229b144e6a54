"""Every person in a frame: MediaPipe Pose's shipped models, run once per person.

The legacy ``mediapipe.solutions.pose`` solution (models inside the wheel, nothing
downloaded) finds *one* person per image: its detector (``pose_detection.tflite``) picks
the strongest person and its landmark model (``pose_landmark_full.tflite``) fits 33
landmarks to that person's region; in tracking mode it then follows that person with
the landmark model alone. The Tasks ``PoseLandmarker`` has ``num_poses`` but refuses
those two files without the metadata it expects, so :class:`FramePoses` gets several
persons out of the one-person solution instead:

* **New persons**: the solution runs on the whole frame with every person found so far
  painted over in flat grey, again and again until it finds nobody new or
  ``max_persons`` are found; a frame larger than ``TILE_FROM`` pixels is then also
  searched tile by tile (the detector sees the whole frame at 224 x 224 pixels, where a person
  under about a tenth of the frame's height is too small for it).
* **Known persons**: each has its own solution in tracking mode (a *slot*), fed the frame
  with the other persons painted over (its own box left whole).
* Two results that are the same person are merged: a pose whose box overlaps an
  earlier one by more than ``SAME_IOU`` is dropped and its slot freed.

Each person is a :class:`PersonPose`: world landmarks (metres, hip-centred, MediaPipe
axes), image landmarks in the frame's normalised coordinates (the crop is mapped back),
visibility, a pixel box around the landmarks and a confidence (mean visibility).
"""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

SAME_IOU = 0.5  # two poses whose boxes overlap more than this are one person
MASK_GREY = (127, 127, 127)
BOX_PAD = 0.08  # the box around the landmarks grows by this share of its size on each side
TILE_FROM = 800  # frames larger than this (pixels, longer side) are also searched for new persons in tiles
TILE = 480  # of about this size
TILE_OVERLAP = 0.2  # neighbouring tiles overlap by this share of a tile on each side
MIN_CONFIDENCE = 0.3  # a pose with a lower mean landmark visibility is not a person


@dataclass(eq=False)
class PersonPose:
    """One person in one frame.

    Attributes:
        world: ``[33, 3]`` world landmarks (metres, MediaPipe axes, origin between the hips).
        image: ``[33, 2]`` image landmarks normalised by the frame's width and height.
        visibility: ``[33]`` MediaPipe visibility in [0, 1].
        box: ``[4]`` ``x0, y0, x1, y1`` in pixels of the frame.
        confidence: mean visibility of the landmarks.
        appearance: colour histogram of the torso (:func:`torso_histogram`), or ``None``.
    """

    world: np.ndarray
    image: np.ndarray
    visibility: np.ndarray
    box: np.ndarray
    confidence: float
    appearance: np.ndarray | None = None


def box_iou(a: np.ndarray, b: np.ndarray) -> float:
    """Intersection over union of two ``x0, y0, x1, y1`` boxes."""
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    if w <= 0 or h <= 0:
        return 0.0
    inter = w * h
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return float(inter / union) if union > 0 else 0.0


TORSO = (11, 12, 24, 23)  # MediaPipe: left shoulder, right shoulder, right hip, left hip
HIST_BINS = (12, 4)  # hue x saturation


def torso_histogram(cv2, rgb: np.ndarray, image_xy: np.ndarray) -> np.ndarray | None:
    """Hue-saturation histogram (sums to 1) of the torso quadrilateral (shoulders and hips,
    shrunk by a fifth towards its centre so the background stays out) in an RGB frame;
    ``None`` when it covers fewer than 20 pixels."""
    height, width = rgb.shape[:2]
    quad = image_xy[list(TORSO)] * np.array([width, height])
    quad = quad.mean(axis=0) + 0.8 * (quad - quad.mean(axis=0))
    mask = np.zeros((height, width), np.uint8)
    cv2.fillConvexPoly(mask, np.round(quad).astype(np.int32), 255)
    if int(np.count_nonzero(mask)) < 20:
        return None
    hsv = cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV)
    hist = cv2.calcHist([hsv], [0, 1], mask, list(HIST_BINS), [0, 180, 0, 256]).ravel().astype(np.float64)
    return hist / hist.sum()


def appearance_distance(a: np.ndarray | None, b: np.ndarray | None) -> float:
    """Hellinger distance in [0, 1] between two histograms; 0.5 when either is missing."""
    if a is None or b is None:
        return 0.5
    return float(np.sqrt(max(0.0, 1.0 - np.sum(np.sqrt(a * b)))))


def landmark_box(image_xy: np.ndarray, width: int, height: int, pad: float = BOX_PAD) -> np.ndarray:
    """Pixel box ``x0, y0, x1, y1`` around normalised landmarks, padded, clipped to the frame."""
    x = image_xy[:, 0] * width
    y = image_xy[:, 1] * height
    w, h = x.max() - x.min(), y.max() - y.min()
    box = np.array([x.min() - pad * w, y.min() - pad * h, x.max() + pad * w, y.max() + pad * h])
    return np.clip(box, 0, [width, height, width, height]).astype(np.float64)


class FramePoses:
    """Finds the persons in consecutive RGB frames with MediaPipe Pose (module notes).

    Each person found gets a *slot*: a MediaPipe Pose in tracking mode, which runs only
    the landmark model from frame to frame (the detector again only when it loses the
    person). A slot sees the frame with the other slots' persons painted over, so it
    follows its own person. A slot whose person is gone (or which has drifted onto a
    person another slot holds) is freed; its Pose waits for the next new person.

    Args:
        max_persons: stop looking for new persons once this many are found in a frame.
        min_detection_confidence: MediaPipe's detector threshold.
        discover_every: look for new persons on the whole frame every this many frames
            (always while nobody is followed).
        workers: threads that follow the known persons side by side (1: one after the other).
    """

    def __init__(self, max_persons: int = 10, min_detection_confidence: float = 0.5, discover_every: int = 1,
                 workers: int = 2):
        import cv2
        from mediapipe.python.solutions import pose as mp_pose

        self._cv2 = cv2
        self._mp_pose = mp_pose
        self.max_persons = int(max_persons)
        self.discover_every = max(1, int(discover_every))
        self.min_detection_confidence = min_detection_confidence
        self._calls = 0
        self._frames = 0
        self._slots: list[list] = []  # [Pose in tracking mode, box of its person in the last frame]
        self._idle: list = []
        # the solutions run their graphs outside the GIL: persons are followed on `workers` threads
        self._pool = ThreadPoolExecutor(workers) if workers > 1 else None
        self._finder = mp_pose.Pose(static_image_mode=True, model_complexity=1, enable_segmentation=False,
                                    min_detection_confidence=min_detection_confidence)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown()
        for pose in [self._finder, *self._idle, *(slot[0] for slot in self._slots)]:
            pose.close()
        self._slots, self._idle = [], []

    def __enter__(self) -> "FramePoses":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def model_calls(self) -> int:
        """How many times a one-person solution has run (for benchmarks)."""
        return self._calls

    def _one(self, solution, rgb: np.ndarray) -> PersonPose | None:
        """The person ``solution`` finds in the RGB frame ``rgb``."""
        self._calls += 1
        result = solution.process(rgb)
        if result.pose_world_landmarks is None or result.pose_landmarks is None:
            return None
        height, width = rgb.shape[:2]
        marks = result.pose_landmarks.landmark
        image = np.array([(p.x, p.y) for p in marks])
        visibility = np.array([p.visibility for p in marks])
        world = np.array([(p.x, p.y, p.z) for p in result.pose_world_landmarks.landmark])
        confidence = float(visibility.mean())
        if confidence < MIN_CONFIDENCE:
            return None
        return PersonPose(world, image, visibility, landmark_box(image, width, height), confidence)

    def _tracker(self):
        if self._idle:
            return self._idle.pop()
        return self._mp_pose.Pose(static_image_mode=False, model_complexity=1, smooth_landmarks=True,
                                  enable_segmentation=False, min_detection_confidence=self.min_detection_confidence,
                                  min_tracking_confidence=0.5)

    def __call__(self, rgb: np.ndarray) -> list[PersonPose]:
        """The persons in the next RGB frame ``[H, W, 3]`` uint8, most confident first."""
        found: list[PersonPose] = []
        kept: list[list] = []
        boxes = [slot[1] for slot in self._slots]

        def follow(k: int) -> PersonPose | None:
            view = rgb.copy()
            for j, box in enumerate(boxes):
                if j != k:
                    _paint(view, box)
            x0, y0, x1, y1 = _pixels(boxes[k])
            view[y0:y1, x0:x1] = rgb[y0:y1, x0:x1]  # its own person stays whole where others overlap it
            return self._one(self._slots[k][0], view)

        poses = list(self._pool.map(follow, range(len(self._slots)))) if self._pool else map(follow, range(len(boxes)))
        for slot, pose in zip(self._slots, poses):
            if pose is None or any(box_iou(pose.box, p.box) > SAME_IOU for p in found):
                self._idle.append(slot[0])  # gone, or drifted onto a person already found
                continue
            found.append(pose)
            slot[1] = pose.box
            kept.append(slot)
        self._slots = kept
        if not self._slots or self._frames % self.discover_every == 0:
            masked = rgb.copy()
            for pose in found:
                _paint(masked, pose.box)
            for x0, y0, x1, y1 in tiles(rgb.shape[1], rgb.shape[0]):
                while len(found) < self.max_persons:
                    pose = self._one(self._finder, np.ascontiguousarray(masked[y0:y1, x0:x1]))
                    if pose is None:
                        break
                    pose = _moved(pose, (x0, y0, x1, y1), rgb.shape[1], rgb.shape[0])
                    if any(box_iou(pose.box, p.box) > SAME_IOU for p in found):
                        break
                    found.append(pose)
                    self._slots.append([self._tracker(), pose.box])
                    _paint(masked, pose.box)
        self._frames += 1
        for pose in found:
            pose.appearance = torso_histogram(self._cv2, rgb, pose.image)
        found.sort(key=lambda p: -p.confidence)
        return found


def tiles(width: int, height: int, side: int = TILE) -> list[tuple[int, int, int, int]]:
    """Where to look for new persons: the whole frame, then (for a frame larger than
    ``TILE_FROM`` pixels) overlapping tiles of about ``side`` pixels, where people too
    small for the detector's view of the whole frame are larger."""
    out = [(0, 0, width, height)]
    if max(width, height) <= TILE_FROM:
        return out
    cols, rows = math.ceil(width / side), math.ceil(height / side)
    tw, th = width / cols, height / rows
    pad_x, pad_y = (TILE_OVERLAP * tw if cols > 1 else 0), (TILE_OVERLAP * th if rows > 1 else 0)
    for r in range(rows):
        for c in range(cols):
            out.append((max(0, int(c * tw - pad_x)), max(0, int(r * th - pad_y)),
                        min(width, int((c + 1) * tw + pad_x)), min(height, int((r + 1) * th + pad_y))))
    return out


def _moved(pose: PersonPose, tile: tuple[int, int, int, int], width: int, height: int) -> PersonPose:
    """A pose found in ``tile`` with its image landmarks and box in the whole frame."""
    x0, y0, x1, y1 = tile
    if (x0, y0, x1, y1) == (0, 0, width, height):
        return pose
    image = (pose.image * np.array([x1 - x0, y1 - y0]) + np.array([x0, y0])) / np.array([width, height])
    return PersonPose(pose.world, image, pose.visibility, landmark_box(image, width, height), pose.confidence)


def _pixels(box: np.ndarray) -> tuple[int, int, int, int]:
    return tuple(max(0, int(round(v))) for v in box)


def _paint(rgb: np.ndarray, box: np.ndarray) -> None:
    x0, y0, x1, y1 = _pixels(box)
    rgb[y0:y1, x0:x1] = MASK_GREY
