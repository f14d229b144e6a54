"""Per-person tracks from per-frame poses: ByteTrack (``supervision``) on the pose boxes.

Why ByteTrack from ``supervision`` 0.27: it is a maintained, tested implementation of a
tracker built for exactly this input (boxes with a confidence, no appearance model), it
keeps an id through short misses with a Kalman filter on the box (so two people who cross
keep theirs when the one behind is hidden for a few frames) and it uses low-confidence
boxes to continue existing tracks rather than to start new ones. The newer ``trackers``
package (where ByteTrack moved after ``supervision`` 0.28 deprecated its copy) requires
numpy 2, which the MediaPipe wheel's ``numpy<2`` pin rules out, so the video extra pins
``supervision==0.27.0.post2``, the last release whose ByteTrack is not deprecated.

A track lost for longer than ``lost_s`` seconds that comes back gets a new id: nothing
re-identifies a person by appearance.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from motionvigil.io.video_pose import PersonPose, box_iou

LOST_S = 1.0  # a track not seen for this long is ended; a person seen after that is a new track
ACTIVATION = 0.45  # ByteTrack: poses above this confidence are "high" (new tracks need 0.1 more)
MIN_IOU = 0.2  # ByteTrack matches a box to a track when their IoU is above this


@dataclass
class TrackRows:
    """Everything seen of one track, one row per frame where it was found (float32)."""

    frames: list[int] = field(default_factory=list)
    world: list[np.ndarray] = field(default_factory=list)
    image: list[np.ndarray] = field(default_factory=list)
    visibility: list[np.ndarray] = field(default_factory=list)
    boxes: list[np.ndarray] = field(default_factory=list)
    confidence: list[float] = field(default_factory=list)

    def add(self, frame: int, pose: PersonPose, scale: float) -> None:
        """One frame's pose; ``scale`` maps the pose's pixel box back to the video's pixels."""
        self.frames.append(frame)
        self.world.append(np.asarray(pose.world, np.float32))
        self.image.append(np.asarray(pose.image, np.float32))
        self.visibility.append(np.asarray(pose.visibility, np.float32))
        self.boxes.append(np.asarray(pose.box, np.float32) / scale)
        self.confidence.append(float(pose.confidence))


class PersonTracker:
    """Gives each pose of a frame a track id and keeps the rows of every track.

    Args:
        lost_frames: frames a track may go unseen and still be continued.
    """

    def __init__(self, lost_frames: int):
        import supervision as sv

        self._sv = sv
        # frame_rate=30 makes ByteTrack's buffer exactly lost_track_buffer frames
        self._byte = sv.ByteTrack(track_activation_threshold=ACTIVATION, lost_track_buffer=max(1, int(lost_frames)),
                                  minimum_matching_threshold=1.0 - MIN_IOU, frame_rate=30,
                                  minimum_consecutive_frames=1)
        self.lost_frames = max(1, int(lost_frames))
        self.tracks: dict[int, TrackRows] = {}
        self._last_box: dict[int, tuple[int, np.ndarray]] = {}  # id -> (frame, box in pose pixels)
        self._pending: tuple[int, list[PersonPose], float] = (-1, [], 1.0)  # last frame's poses no track took

    def update(self, frame: int, poses: list[PersonPose], scale: float = 1.0) -> list[int]:
        """Track ids of ``poses`` (-1 for a pose no track took: too unsure to start one)."""
        ids = [-1] * len(poses)
        if poses:
            detections = self._sv.Detections(
                xyxy=np.array([p.box for p in poses], np.float32).reshape(-1, 4),
                confidence=np.array([p.confidence for p in poses], np.float32),
                class_id=np.zeros(len(poses), int),
                data={"index": np.arange(len(poses))},
            )
        else:
            detections = self._sv.Detections.empty()
        tracked = self._byte.update_with_detections(detections)
        for index, track_id in zip(tracked.data.get("index", []), tracked.tracker_id):
            ids[int(index)] = int(track_id)
        pending_frame, pending, pending_scale = self._pending
        for pose, track_id in zip(poses, ids):
            if track_id < 0:
                continue
            if track_id not in self.tracks and pending_frame == frame - 1:
                # ByteTrack confirms a new track on its second frame: its first pose is last frame's
                first = max(pending, key=lambda p: box_iou(p.box, pose.box), default=None)
                if first is not None and box_iou(first.box, pose.box) > MIN_IOU:
                    self.tracks[track_id] = TrackRows()
                    self.tracks[track_id].add(pending_frame, first, pending_scale)
                    pending.remove(first)
            self.tracks.setdefault(track_id, TrackRows()).add(frame, pose, scale)
            self._last_box[track_id] = (frame, np.asarray(pose.box, np.float64))
        self._pending = (frame, [p for p, i in zip(poses, ids) if i < 0], scale)
        return ids

    def recent_boxes(self, frame: int) -> list[np.ndarray]:
        """Boxes (pose pixels) of the tracks seen in the last ``lost_frames // 2`` frames
        before ``frame``, most recently seen first: where to look for known persons."""
        recent = [(seen, box) for seen, box in self._last_box.values() if frame - seen <= max(1, self.lost_frames // 2)]
        return [box for _, box in sorted(recent, key=lambda sb: -sb[0])]
