"""Video input: MediaPipe-33 layout and its SMPL-22 mapping, the axis convention, root
translation, repair of frames without a person, and (with the ``video`` extra installed)
MediaPipe Pose on a video rendered here: a cartoon person drawn with OpenCV.

The tests that need MediaPipe skip when it is not importable (``pip install -e '.[video]'``).
"""

from __future__ import annotations

import json
import math
import sys

import numpy as np
import pytest

from motionvigil.errors import MotionFileError
from motionvigil.io import Motion, load_motion
from motionvigil.io.layouts import MEDIAPIPE33, MEDIAPIPE33_NAMES, SMPL22_NAMES
from motionvigil.io.video import (
    _repair,
    estimate_translation,
    mediapipe_to_motion_axes,
    video_support_available,
)
from motionvigil.skeleton.mappings import mapping_matrix
from motionvigil.skeleton.retarget import to_smpl22
from video_scenes import draw_person, person_2d, write_video

S = {name: i for i, name in enumerate(SMPL22_NAMES)}
M = {name: i for i, name in enumerate(MEDIAPIPE33_NAMES)}


def mediapipe_standing_pose(frames: int = 6) -> np.ndarray:
    """World landmarks ``[T, 33, 3]`` in MediaPipe's axes (X image right, Y down, Z away
    from the camera, origin between the hips) of a person facing the camera, their right
    arm swinging forward over time. The person's left side is at +X (image right)."""
    base = {
        "nose": (0.0, -0.62, -0.10), "left_eye_inner": (0.015, -0.65, -0.09),
        "left_eye": (0.03, -0.65, -0.085), "left_eye_outer": (0.045, -0.65, -0.08),
        "right_eye_inner": (-0.015, -0.65, -0.09), "right_eye": (-0.03, -0.65, -0.085),
        "right_eye_outer": (-0.045, -0.65, -0.08), "left_ear": (0.075, -0.63, 0.0),
        "right_ear": (-0.075, -0.63, 0.0), "mouth_left": (0.025, -0.58, -0.09),
        "mouth_right": (-0.025, -0.58, -0.09), "left_shoulder": (0.18, -0.48, 0.0),
        "right_shoulder": (-0.18, -0.48, 0.0), "left_elbow": (0.22, -0.20, 0.0),
        "right_elbow": (-0.22, -0.20, 0.0), "left_wrist": (0.24, 0.05, 0.0),
        "right_wrist": (-0.24, 0.05, 0.0), "left_pinky": (0.25, 0.12, 0.0),
        "right_pinky": (-0.25, 0.12, 0.0), "left_index": (0.24, 0.13, -0.01),
        "right_index": (-0.24, 0.13, -0.01), "left_thumb": (0.22, 0.10, -0.02),
        "right_thumb": (-0.22, 0.10, -0.02), "left_hip": (0.10, 0.0, 0.0), "right_hip": (-0.10, 0.0, 0.0),
        "left_knee": (0.11, 0.42, -0.01), "right_knee": (-0.11, 0.42, -0.01),
        "left_ankle": (0.11, 0.82, 0.02), "right_ankle": (-0.11, 0.82, 0.02),
        "left_heel": (0.11, 0.87, 0.06), "right_heel": (-0.11, 0.87, 0.06),
        "left_foot_index": (0.12, 0.89, -0.14), "right_foot_index": (-0.12, 0.89, -0.14),
    }  # fmt: skip
    pose = np.array([base[name] for name in MEDIAPIPE33_NAMES])
    out = np.repeat(pose[None], frames, axis=0)
    for t in range(frames):  # the right forearm swings forward (towards the camera: -Z)
        angle = math.pi / 2 * t / max(frames - 1, 1)
        elbow = out[t, M["right_elbow"]]
        out[t, M["right_wrist"]] = elbow + 0.25 * np.array([0.0, math.cos(angle), -math.sin(angle)])
    return out


# --------------------------------------------------------------------------- no MediaPipe needed


def test_layout_and_mapping_matrix():
    assert MEDIAPIPE33.num_joints == 33 and MEDIAPIPE33.name == "mediapipe33"
    assert MEDIAPIPE33.joint_names[11:17] == (
        "left_shoulder",
        "right_shoulder",
        "left_elbow",
        "right_elbow",
        "left_wrist",
        "right_wrist",
    )
    assert MEDIAPIPE33.index("left_hip") == 23 and MEDIAPIPE33.index("right_foot_index") == 32
    assert MEDIAPIPE33.parents[MEDIAPIPE33.index("left_knee")] == MEDIAPIPE33.index("left_hip")
    matrix = mapping_matrix(MEDIAPIPE33)
    assert matrix.shape == (22, 33)
    np.testing.assert_allclose(matrix.sum(axis=1), 1.0, atol=1e-12)
    for joint in ("left_hip", "right_knee", "left_ankle", "right_shoulder", "left_elbow", "right_wrist"):
        row = np.zeros(33)
        row[M[joint]] = 1.0
        np.testing.assert_array_equal(matrix[S[joint]], row, err_msg=joint)
    # face, hand and heel landmarks are not used, except the ears (head and neck)
    unused = {n for n in MEDIAPIPE33_NAMES if not matrix[:, M[n]].any()}
    hands = {f"{side}_{part}" for side in ("left", "right") for part in ("pinky", "index", "thumb", "heel")}
    face = {n for n in MEDIAPIPE33_NAMES[:11] if "ear" not in n}
    assert unused == hands | face


def test_axes_flip_is_a_rotation_to_y_up():
    world = mediapipe_standing_pose(1)[0]
    before = world.copy()
    ours = mediapipe_to_motion_axes(world)
    np.testing.assert_array_equal(world, before)  # input untouched
    rotation = mediapipe_to_motion_axes(np.eye(3))
    assert np.linalg.det(rotation) == pytest.approx(1.0)  # a rotation: handedness and left/right kept
    np.testing.assert_allclose(rotation @ rotation.T, np.eye(3), atol=1e-12)
    assert ours[M["nose"], 1] > ours[M["left_hip"], 1] > ours[M["left_ankle"], 1]  # Y up
    assert ours[M["nose"], 2] > ours[M["left_ear"], 2]  # the face towards the camera: +Z


def test_mediapipe_to_smpl22_head_up_and_facing_camera():
    world = mediapipe_standing_pose()
    motion = Motion(mediapipe_to_motion_axes(world), 30.0, MEDIAPIPE33, source="synthetic")
    smpl = to_smpl22(motion, fps=30.0, canonical=False).joints.astype(np.float64)
    up = smpl[..., 1]
    chain = ["pelvis", "spine1", "spine2", "spine3", "neck", "head"]
    for lower, upper in zip(chain, chain[1:]):
        assert (up[:, S[upper]] > up[:, S[lower]]).all(), (lower, upper)
    assert (up[:, S["head"]] - up[:, S["left_ankle"]] > 1.2).all()
    # the pelvis lies between the hips and above them; the feet in front of the ankles
    np.testing.assert_allclose(smpl[:, S["pelvis"], 0], 0.0, atol=1e-6)
    assert (up[:, S["pelvis"]] > up[:, S["left_hip"]]).all()
    # forward = up x (right_hip - left_hip) points towards the camera (+Z)
    across = smpl[:, S["right_hip"]] - smpl[:, S["left_hip"]]
    forward = np.cross(np.array([0.0, 1.0, 0.0]), across)
    forward /= np.linalg.norm(forward, axis=1, keepdims=True)
    assert (forward[:, 2] > 0.99).all()
    feet_ahead = (smpl[:, S["left_foot"]] - smpl[:, S["left_ankle"]]) @ np.array([0.0, 0.0, 1.0])
    assert (feet_ahead > 0.05).all()
    # the person's left side is at +X when facing the camera, collars between the shoulders
    assert (smpl[:, S["left_shoulder"], 0] > smpl[:, S["left_collar"], 0]).all()
    assert (smpl[:, S["left_collar"], 0] > smpl[:, S["right_collar"], 0]).all()
    # the right wrist swings towards the camera, the left one stays
    assert smpl[-1, S["right_wrist"], 2] - smpl[0, S["right_wrist"], 2] > 0.2
    np.testing.assert_allclose(
        smpl[:, S["left_wrist"]], np.broadcast_to(smpl[0, S["left_wrist"]], (6, 3)), atol=1e-6
    )
    # canonical form (as the feature pipeline uses it): on the floor, facing +Z, head up
    canon = to_smpl22(motion, fps=20.0).joints
    assert canon[..., 1].min() == pytest.approx(0.0, abs=1e-5)
    assert (canon[:, S["head"], 1] > canon[:, S["pelvis"], 1] + 0.4).all()


def test_estimate_translation_recovers_a_known_offset():
    world = mediapipe_standing_pose(1)[0]
    width, height, fov = 640, 480, 60.0
    f = (width / 2) / math.tan(math.radians(fov) / 2)
    for t in (np.array([0.3, -0.1, 3.0]), np.array([-1.0, 0.4, 6.5])):
        cam = world + t
        image = np.c_[
            (f * cam[:, 0] / cam[:, 2] + width / 2) / width, (f * cam[:, 1] / cam[:, 2] + height / 2) / height
        ]
        got = estimate_translation(world, image, np.ones(33), width, height, fov)
        np.testing.assert_allclose(got, t, atol=1e-6)
        # sideways position does not depend on the assumed field of view; depth scales with it
        wide = estimate_translation(world, image, np.ones(33), width, height, 90.0)
        assert wide[2] < got[2]
        np.testing.assert_allclose(wide[0], t[0], atol=0.03)
    vis = np.zeros(33)
    vis[:2] = 1.0
    assert estimate_translation(world, image, vis, width, height, fov) is None


def test_repair_interpolates_gaps_and_trims_ends():
    joints = np.zeros((8, 2, 3))
    detected = np.array([False, True, True, False, False, True, True, False])
    for i in np.flatnonzero(detected):
        joints[i] = i
    fixed, kept = _repair("clip.mp4", joints, detected)
    assert (kept.start, kept.stop) == (1, 7)
    np.testing.assert_allclose(fixed[:, 0, 0], [1, 2, 3, 4, 5, 6])
    with pytest.raises(MotionFileError, match=r"clip\.mp4: no person found in any of the 8 frames"):
        _repair("clip.mp4", joints, np.zeros(8, bool))
    sparse = np.array([True, False, False, False, True, False, False, False])
    with pytest.raises(MotionFileError, match=r"no person found in 3 of the 5 frames .* cannot be repaired"):
        _repair("clip.mp4", joints, sparse)
    with pytest.raises(MotionFileError, match="only 1 of the 8 frames"):
        _repair("clip.mp4", joints, np.eye(8, dtype=bool)[3])


def test_npz_of_mediapipe_landmarks_is_retargeted(tmp_path):
    """Landmarks from one's own MediaPipe run, saved as an npz naming the layout."""
    joints = mediapipe_to_motion_axes(mediapipe_standing_pose())
    np.savez(tmp_path / "mine.npz", joints=joints, fps=30.0, layout="mediapipe33")
    motion = load_motion(tmp_path / "mine.npz")
    assert motion.layout.name == "mediapipe33" and motion.layout.joint_names == MEDIAPIPE33_NAMES
    smpl = to_smpl22(motion, canonical=False).joints
    np.testing.assert_allclose(smpl[0, S["left_knee"]], joints[0, M["left_knee"]], atol=1e-6)
    np.savez(tmp_path / "short.npz", joints=joints[:, :20], fps=30.0, layout="mediapipe33")
    with pytest.raises(MotionFileError, match="layout 'mediapipe33' has 33 joints but joints has 20"):
        load_motion(tmp_path / "short.npz")


def test_video_without_the_extra_names_the_install_command(tmp_path, monkeypatch):
    video = tmp_path / "clip.mp4"
    video.write_bytes(b"\x00\x00\x00\x18ftypmp42")
    monkeypatch.setitem(sys.modules, "mediapipe", None)  # import mediapipe -> ImportError
    with pytest.raises(MotionFileError) as err:
        load_motion(video)
    assert str(video) in str(err.value) and "pip install 'motionvigil[video]'" in str(err.value)
    assert not video_support_available()


def test_video_with_a_broken_opencv_names_the_system_libraries(tmp_path, monkeypatch):
    import builtins

    real_import = builtins.__import__

    def fake_import(name, *args, **kwargs):
        if name == "cv2":
            raise ImportError("libGL.so.1: cannot open shared object file: No such file or directory")
        return real_import(name, *args, **kwargs)

    video = tmp_path / "clip.avi"
    video.write_bytes(b"RIFF")
    monkeypatch.setattr(builtins, "__import__", fake_import)
    with pytest.raises(
        MotionFileError, match=r"clip\.avi: .*cannot be loaded \(libGL\.so\.1.*apt-get install libgl1"
    ):
        load_motion(video)


def test_unknown_extension_lists_video_formats(tmp_path):
    path = tmp_path / "clip.flv"
    path.write_bytes(b"x")
    with pytest.raises(MotionFileError) as err:
        load_motion(path)
    assert str(path) in str(err.value)
    for ext in (".mp4", ".avi", ".mov", ".mkv", ".webm", ".bvh"):
        assert f"{ext}," in str(err.value) or str(err.value).endswith(ext), ext


# --------------------------------------------------------------------------- MediaPipe on a rendered video


FPS = 15
BLANK = {0, 1, 2, 20, 21, 38, 39}  # frames without the person: 3 at the start, 2 inside, 2 at the end
FRAMES = 40


@pytest.fixture(scope="module")
def rendered_video(cv2, tmp_path_factory):
    """40 frames at 15 fps: the person waves the right arm and moves 80 px to the image right."""
    frames = [
        draw_person(cv2, None if i in BLANK else person_2d(i / FPS, 80.0 * i / (FRAMES - 1)))
        for i in range(FRAMES)
    ]
    path = tmp_path_factory.mktemp("video") / "wave.mp4"
    write_video(cv2, path, frames, FPS)
    return path


def test_mediapipe_reads_the_rendered_person(rendered_video):
    motion = load_motion(rendered_video)
    assert motion.layout is MEDIAPIPE33 and motion.fps == pytest.approx(FPS)
    lost = set(motion.meta["lost_frames"].tolist())
    assert BLANK <= lost, lost
    assert len(lost - BLANK) <= 3, f"MediaPipe missed the person in frames {sorted(lost - BLANK)}"
    assert motion.meta["kept_rows"] == (
        3,
        38,
    )  # blank frames at both ends trimmed, the inner gap interpolated
    assert motion.num_frames == 35 and motion.meta["video_frames"] == FRAMES
    assert motion.meta["video_size"] == (480, 640)
    visible = motion.meta["confidence"][:, [M["left_hip"], M["right_hip"], M["left_shoulder"], M["nose"]]]
    assert np.median(visible) > 0.8

    smpl = to_smpl22(motion, fps=FPS, canonical=False).joints.astype(np.float64)
    height = smpl[:, S["head"], 1] - np.minimum(smpl[:, S["left_ankle"], 1], smpl[:, S["right_ankle"], 1])
    assert 1.0 < np.median(height) < 2.0, np.median(height)
    assert (smpl[:, S["head"], 1] > smpl[:, S["pelvis"], 1] + 0.3).all()
    across = smpl[:, S["right_hip"]] - smpl[:, S["left_hip"]]
    forward = np.cross(np.array([0.0, 1.0, 0.0]), across)
    forward /= np.linalg.norm(forward, axis=1, keepdims=True)
    assert np.mean(forward[:, 2] > 0.7) > 0.9, "the person faces the camera: forward should be +Z"
    # the person's right side is on the image left (-X)
    assert (smpl[:, S["right_shoulder"], 0] < smpl[:, S["left_shoulder"], 0]).all()

    # the waving right wrist moves much more than the resting left one
    def spread(joint: str) -> float:  # largest range over time of the joint's X or Y relative to the pelvis
        return float(np.ptp(smpl[:, S[joint], :2] - smpl[:, S["pelvis"], :2], axis=0).max())

    assert spread("right_wrist") > 0.25 and spread("right_wrist") > 3 * spread("left_wrist")
    # root translation: 80 px to the image right is +X in metres (about 0.2 m at this distance)
    shift = smpl[-1, S["pelvis"], 0] - smpl[0, S["pelvis"], 0]
    assert 0.08 < shift < 0.5, shift
    still = load_motion(rendered_video, translation=False)
    still_pelvis = to_smpl22(still, fps=FPS, canonical=False).joints[:, S["pelvis"], 0]
    assert np.ptp(still_pelvis) < 0.05


def test_cli_info_and_detect_on_a_video(rendered_video, tmp_path, capsys):
    import torch

    from motionvigil.cli import main
    from motionvigil.datasets.labelled import LabelledSet
    from motionvigil.datasets.synthetic import generate_corpus
    from motionvigil.detect import Detector
    from motionvigil.models import MotionTextModel, preset
    from motionvigil.models.bundle import MotionTextBundle
    from motionvigil.models.inputs import MotionInputs

    assert main(["info", str(rendered_video), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)["files"][0]
    assert info["layout"] == "mediapipe33" and info["joints"] == 33 and info["frames"] == 35
    assert main(["convert", str(rendered_video), "-o", str(tmp_path / "wave.npz")]) == 0
    with np.load(tmp_path / "wave.npz") as npz:
        assert npz["joints"].shape[1:] == (22, 3) and npz["features"].shape[1] == 263

    classes = ("kick", "punch", "walk", "wave")
    corpus = generate_corpus(2, seed=0, num_sequences=0, classes=classes)
    torch.manual_seed(0)  # an untrained tiny model: this checks the plumbing, not accuracy
    bundle = MotionTextBundle(MotionTextModel(preset("tiny")), MotionInputs.fit("tmr", corpus.clips, 64))
    Detector.build(bundle, LabelledSet.build(corpus.clips, classes)).save(tmp_path / "det")
    capsys.readouterr()
    annotated = tmp_path / "annotated.avi"
    assert main(["detect", str(tmp_path / "det"), str(rendered_video), "--json", "--annotate", str(annotated)]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["file"] == str(rendered_video) and doc["timeline"]
    assert all(len(a["box"]) == 4 for a in doc["alerts"])
    assert annotated.stat().st_size > 10_000 and sorted(p.name for p in tmp_path.glob(".annotated*")) == []
    assert main(["detect", str(tmp_path / "det"), str(rendered_video), str(rendered_video), "--annotate",
                 str(annotated)]) == 2
    assert "--annotate writes one video" in capsys.readouterr().err


def test_unreadable_and_empty_videos(cv2, tmp_path):
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"this is not a video" * 100)
    with pytest.raises(MotionFileError, match=r"junk\.mp4: cannot open as a video"):
        load_motion(junk)
    empty = tmp_path / "empty.avi"
    write_video(cv2, empty, [draw_person(cv2, None) for _ in range(6)], FPS)
    with pytest.raises(MotionFileError, match=r"empty\.avi: no person found in any of the 6 frames"):
        load_motion(empty)
