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

from motionvigil.io.video_pose import PersonPose, appearance_distance, box_iou

LOST_S = 1.0  # a track not seen for this long is ended; a person seen after that is a new track
ACTIVATION = 0.45  # ByteTrack: poses above this confidence are "high" (new tracks need 0.1 more)
MIN_IOU = 0.2  # ByteTrack matches a box to a track when their IoU is above this
SAME_LOOK = 0.35  # torso colour histograms closer than this (Hellinger) are the same person
OTHER_LOOK = 0.5  # a pose further than this from a person's colour model is not that person
MARGIN = 0.15  # a tracklet's pose is handed to another person who looks this much closer
MODEL_RATE = 0.1  # the colour model follows a person's matching poses at this rate


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
    """Gives each pose of a frame a person id and keeps the rows of every person.

    ByteTrack links boxes from frame to frame into *tracklets*. On top of it, each person
    keeps a colour model of the torso (an average hue-saturation histogram), which
    catches what boxes alone cannot:

    * when a tracklet's box jumps onto another person (two people crossing, the one in
      front hides the other), its pose no longer looks like that tracklet's person: it is
      handed to the person it does look like, or dropped for that frame;
    * a new tracklet that looks like a person not seen for at most ``REID_S`` seconds
      continues that person (re-identification); otherwise it is a new person.

    People dressed alike fall back to ByteTrack's boxes alone.

    Args:
        lost_frames: frames a tracklet may go unseen and still be continued by ByteTrack.
        reid_frames: frames a person may go unseen and still be re-identified.
    """

    def __init__(self, lost_frames: int, reid_frames: int | None = None):
        import supervision as sv

        self._sv = sv
        self.lost_frames = max(1, int(lost_frames))
        self.reid_frames = self.lost_frames * 3 if reid_frames is None else int(reid_frames)
        # frame_rate=30 makes ByteTrack's buffer exactly lost_track_buffer frames
        self._byte = sv.ByteTrack(track_activation_threshold=ACTIVATION, lost_track_buffer=self.lost_frames,
                                  minimum_matching_threshold=1.0 - MIN_IOU, frame_rate=30,
                                  minimum_consecutive_frames=1)
        self.tracks: dict[int, TrackRows] = {}
        self._person_of: dict[int, int] = {}  # ByteTrack id -> person id
        self._model: dict[int, np.ndarray | None] = {}  # person id -> torso colour model
        self._last_box: dict[int, tuple[int, np.ndarray]] = {}  # person id -> (frame, box in pose pixels)
        self._pending: tuple[int, list[PersonPose], float] = (-1, [], 1.0)  # last frame's poses no one took

    def update(self, frame: int, poses: list[PersonPose], scale: float = 1.0) -> list[int]:
        """Person ids of ``poses`` (-1 for a pose no person took)."""
        tracklet = self._bytetrack(poses)
        ids = [-1] * len(poses)
        taken: set[int] = set()
        later = []
        for i, bt in enumerate(tracklet):  # first, poses that look like their tracklet's person
            pid = self._person_of.get(bt) if bt >= 0 else None
            if pid is not None and appearance_distance(self._model[pid], poses[i].appearance) <= SAME_LOOK:
                ids[i] = pid
                taken.add(pid)
            elif bt >= 0:
                later.append(i)
        for i in later:  # then new tracklets and tracklets whose pose looks like someone else
            bt, look = tracklet[i], poses[i].appearance
            own = self._person_of.get(bt)
            other = self._lookalike(look, frame, taken | ({own} if own is not None else set()))
            if own is not None and own not in taken:
                if other is not None and appearance_distance(self._model[other], look) < \
                        appearance_distance(self._model[own], look) - MARGIN:
                    own = None  # the tracklet jumped onto someone else
                elif appearance_distance(self._model[own], look) > OTHER_LOOK:
                    continue  # looks like nobody known: not this person, not a new one either
            pid = own if own is not None and own not in taken else other
            if pid is None:
                pid = max(self._model, default=0) + 1
                self._model[pid] = look
            self._person_of = {b: p for b, p in self._person_of.items() if p != pid}
            self._person_of[bt] = pid
            ids[i] = pid
            taken.add(pid)
        self._record(frame, poses, ids, scale)
        return ids

    def _bytetrack(self, poses: list[PersonPose]) -> list[int]:
        """ByteTrack's tracklet id per pose (-1: not (yet) part of a tracklet)."""
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
        out = [-1] * len(poses)
        for index, track_id in zip(tracked.data.get("index", []), tracked.tracker_id):
            out[int(index)] = int(track_id)
        return out

    def _lookalike(self, look: np.ndarray | None, frame: int, exclude: set[int]) -> int | None:
        """The person not in ``exclude``, seen in the last ``reid_frames`` frames, who looks
        most like ``look`` (distance under ``OTHER_LOOK``), or None."""
        best, best_d = None, OTHER_LOOK
        for pid, (seen, _) in self._last_box.items():
            if pid in exclude or frame - seen > self.reid_frames:
                continue
            d = appearance_distance(self._model[pid], look)
            if look is not None and self._model[pid] is not None and d < best_d:
                best, best_d = pid, d
        return best

    def _record(self, frame: int, poses: list[PersonPose], ids: list[int], scale: float) -> None:
        pending_frame, pending, pending_scale = self._pending
        for pose, pid in zip(poses, ids):
            if pid < 0:
                continue
            rows = self.tracks.get(pid)
            if (rows is None or rows.frames[-1] < frame - 1) and pending_frame == frame - 1:
                # ByteTrack confirms a new tracklet on its second frame: its first pose is last frame's
                first = max(pending, key=lambda p: box_iou(p.box, pose.box), default=None)
                if first is not None and box_iou(first.box, pose.box) > MIN_IOU:
                    self.tracks.setdefault(pid, TrackRows()).add(pending_frame, first, pending_scale)
                    pending.remove(first)
            self.tracks.setdefault(pid, TrackRows()).add(frame, pose, scale)
            self._last_box[pid] = (frame, np.asarray(pose.box, np.float64))
            model = self._model.get(pid)
            if pose.appearance is not None:
                if model is None:
                    self._model[pid] = pose.appearance
                elif appearance_distance(model, pose.appearance) <= SAME_LOOK:
                    self._model[pid] = (1 - MODEL_RATE) * model + MODEL_RATE * pose.appearance
        self._pending = (frame, [p for p, i in zip(poses, ids) if i < 0], scale)
