"""Tracks of poses -> Motion (io/video_tracks.py): one track gives the one-person motion of
before, several give the persons axis with presence, gaps repaired, short or unsure
tracks listed and not scored, boxes per person, the box of an alert. Pure numpy: these
run without the video extra."""

from __future__ import annotations

import math

import numpy as np
import pytest

from motionvigil.errors import MotionFileError
from motionvigil.io.tracking import TrackRows
from motionvigil.io.video_pose import PersonPose, appearance_distance, box_iou, landmark_box
from motionvigil.io.video_tracks import MAX_GAP_S, alert_box, assemble

FPS, SIZE = 20.0, (640, 480)


def standing_world() -> np.ndarray:
    """33 MediaPipe world landmarks of a standing person (metres, Y down, hip-centred)."""
    rng = np.random.default_rng(0)
    world = rng.uniform(-0.2, 0.2, (33, 3))
    world[:, 1] = np.linspace(-0.8, 0.9, 33)
    return world


def pose_at(cx_px: float, conf: float = 0.9) -> PersonPose:
    """A pose whose image landmarks sit around ``cx_px`` with the projection of a person 4 m away."""
    world = standing_world()
    f = (SIZE[0] / 2) / math.tan(math.radians(60) / 2)
    tx = (cx_px - SIZE[0] / 2) * 4.0 / f
    cam = world + np.array([tx, 0.0, 4.0])
    image = np.c_[(f * cam[:, 0] / cam[:, 2] + SIZE[0] / 2) / SIZE[0], (f * cam[:, 1] / cam[:, 2] + SIZE[1] / 2) / SIZE[1]]
    return PersonPose(world, image, np.full(33, conf), landmark_box(image, *SIZE), conf)


def rows(frames, cx=320.0, conf=0.9) -> TrackRows:
    out = TrackRows()
    for f in frames:
        out.add(f, pose_at(cx + 2 * f, conf), 1.0)
    return out


def test_one_track_is_the_one_person_motion_of_before(tmp_path):
    track = rows([f for f in range(3, 38) if f not in (20, 21)])
    motion = assemble(tmp_path / "v.mp4", {7: track}, 40, FPS, SIZE, 60.0, True, {})
    assert motion.num_persons == 1 and motion.person_ids == (0,) and motion.joints.shape == (35, 33, 3)
    assert motion.meta["kept_rows"] == (3, 38) and motion.meta["track_ids"] == (7,)
    assert {0, 1, 2, 20, 21, 38, 39} == set(motion.meta["lost_frames"].tolist())
    boxes = motion.meta["boxes"][0]
    assert boxes.shape == (35, 4) and np.isnan(boxes[20 - 3]).all() and np.isfinite(boxes[0]).all()
    # the person walks 2 px per frame to the image right: +X in metres, about 4 m * 2 px / f per frame
    pelvis_x = motion.joints[:, 0, 0]
    assert 0.005 < np.median(np.diff(pelvis_x)) < 0.03


def test_several_tracks_share_the_clock_with_presence_and_repaired_gaps(tmp_path):
    a = rows(list(range(0, 30)) + list(range(33, 60)), cx=150)  # a 3-frame gap: repaired
    b = rows(list(range(10, 25)) + list(range(45, 60)), cx=450)  # a 20-frame gap: absent
    short = rows(range(50, 55), cx=320)  # 5 frames: too short to score
    unsure = rows(range(0, 60), cx=550, conf=0.35)
    motion = assemble(tmp_path / "v.mp4", {1: a, 2: b, 3: short, 4: unsure}, 60, FPS, SIZE, 60.0, True, {})
    assert motion.person_ids == (1, 2) and motion.joints.shape == (2, 60, 33, 3)
    present = motion.presence
    assert present[0].all(), "a gap of 3 frames (under MAX_GAP_S) counts as present"
    assert 3 <= MAX_GAP_S * FPS
    assert not present[1, :10].any() and present[1, 10:25].all() and not present[1, 25:45].any()
    assert np.isfinite(motion.joints).all()
    tracks = {t["id"]: t for t in motion.meta["tracks"]}
    assert tracks[1]["scored"] and tracks[2]["scored"]
    assert not tracks[3]["scored"] and "fewer than 1 s" in tracks[3]["reason"]
    assert not tracks[4]["scored"] and "visibility 0.35" in tracks[4]["reason"]
    assert tracks[2]["start"] == pytest.approx(0.5) and tracks[2]["end"] == pytest.approx(3.0)
    # people stand in one camera frame: 300 px apart at 4 m is more than a metre
    gap = motion.joints[1, 50, 0, 0] - motion.joints[0, 50, 0, 0]
    assert 1.0 < gap < 3.0, gap
    assert set(motion.meta["boxes"]) == {1, 2} and motion.meta["boxes"][2].shape == (60, 4)


def test_nobody_or_nobody_scorable_is_one_line(tmp_path):
    with pytest.raises(MotionFileError, match=r"v\.mp4: no person found in any of the 12 frames"):
        assemble(tmp_path / "v.mp4", {}, 12, FPS, SIZE, 60.0, True, {})
    with pytest.raises(MotionFileError, match=r"no person could be tracked long enough to score \(track 5: seen in 4"):
        assemble(tmp_path / "v.mp4", {5: rows(range(4))}, 12, FPS, SIZE, 60.0, True, {})


def test_alert_box_is_the_union_of_the_persons_boxes_over_the_alert(tmp_path):
    a, b = rows(range(60), cx=150), rows(range(60), cx=450)
    motion = assemble(tmp_path / "v.mp4", {1: a, 2: b}, 60, FPS, SIZE, 60.0, True, {})
    both = alert_box(motion, 1.0, 2.0, [1, 2])
    one = alert_box(motion, 1.0, 2.0, [1])
    assert both[0] == one[0] and both[2] > 400 > one[2]
    box_a = motion.meta["boxes"][1]
    assert one == [int(np.floor(box_a[20:40, 0].min())), int(np.floor(box_a[20:40, 1].min())),
                   int(np.ceil(box_a[20:40, 2].max())), int(np.ceil(box_a[20:40, 3].max()))]
    assert alert_box(motion, 1.0, 2.0, [9]) is None
    motion.meta.pop("boxes")
    assert alert_box(motion, 1.0, 2.0, [1]) is None


def test_box_overlap_and_colour_distance():
    assert box_iou(np.array([0, 0, 10, 10]), np.array([5, 0, 15, 10])) == pytest.approx(1 / 3)
    assert box_iou(np.array([0, 0, 10, 10]), np.array([20, 0, 30, 10])) == 0.0
    red, blue = np.eye(4)[0], np.eye(4)[2]
    assert appearance_distance(red, red) == pytest.approx(0.0, abs=1e-7)
    assert appearance_distance(red, blue) == pytest.approx(1.0)
    assert appearance_distance(None, red) == 0.5
