"""DeepMimic humanoid motion clips (the ``humanoid3d_*.txt`` files PyBullet ships).

A clip is JSON: ``{"Loop": ..., "Frames": [[...44 numbers...], ...]}``. Each frame is,
in this order (DeepMimic's 3D humanoid; quaternions are ``w, x, y, z``; revolute joints
are one angle in radians about their local Z axis):

====================  =====  ==========================================
field                 width  meaning
====================  =====  ==========================================
duration              1      seconds until the next frame
root position         3      metres, Y up
root rotation         4      quaternion
chest, neck           4 + 4  quaternions (local, relative to the parent)
right hip             4      quaternion
right knee            1      angle
right ankle           4      quaternion
right shoulder        4      quaternion
right elbow           1      angle
left hip, knee,       4 + 1  the left twins, same order
ankle, shoulder,      + 4 +
elbow                 4 + 1
====================  =====  ==========================================

Joint offsets are those of the package's ``humanoid/humanoid.urdf`` (a model four times
the human size that PyBullet loads at scale 0.25, so the offsets below are the URDF's
values x 0.25). At rest the humanoid stands upright facing +X with its left side at -Z.
Forward kinematics gives the 13 humanoid joints; they are placed on the 22-joint SMPL
skeleton directly (spine joints and collars interpolated along the torso, toes and the
top of the head from the foot and neck frames), so the motion comes out in the
``smpl22`` layout at the clip's own frame rate (30 Hz for the shipped clips).

These clips are for evaluation only (the detection study's ``deepmimic`` protocol); the
package never trains on them.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from scipy.spatial.transform import Rotation

from motionvigil.errors import MotionFileError
from motionvigil.io.layouts import SMPL22
from motionvigil.io.motion import Motion

FRAME_WIDTH = 44
URDF_SCALE = 0.25

# (name, parent, offset in URDF units, field width: 4 quaternion, 1 revolute angle, 0 fixed)
_JOINTS: tuple[tuple[str, str | None, tuple[float, float, float], int], ...] = (
    ("root", None, (0.0, 0.0, 0.0), 4),
    ("chest", "root", (0.0, 0.944604, 0.0), 4),
    ("neck", "chest", (0.0, 0.895576, 0.0), 4),
    ("right_hip", "root", (0.0, 0.0, 0.339548), 4),
    ("right_knee", "right_hip", (0.0, -1.686184, 0.0), 1),
    ("right_ankle", "right_knee", (0.0, -1.639480, 0.0), 4),
    ("right_shoulder", "chest", (-0.096200, 0.974000, 0.732440), 4),
    ("right_elbow", "right_shoulder", (0.0, -1.099152, 0.0), 1),
    ("left_hip", "root", (0.0, 0.0, -0.339548), 4),
    ("left_knee", "left_hip", (0.0, -1.686184, 0.0), 1),
    ("left_ankle", "left_knee", (0.0, -1.639480, 0.0), 4),
    ("left_shoulder", "chest", (-0.096200, 0.974000, -0.732440), 4),
    ("left_elbow", "left_shoulder", (0.0, -1.099152, 0.0), 1),
)
# End points in their joint's frame (URDF units): wrist (fixed joint below the elbow),
# toe (front of the foot box), top of the head (the neck link's sphere).
_WRIST = (0.0, -1.035788, 0.0)
_TOE = (0.45, -0.18, 0.0)
_HEAD = (0.0, 0.7, 0.0)


def _fail(path: Path, problem: str) -> MotionFileError:
    return MotionFileError(path, f"not a DeepMimic humanoid clip: {problem}")


def _frames(path: Path) -> np.ndarray:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise MotionFileError(path, f"cannot read file ({exc})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _fail(path, f"invalid JSON ({exc.msg} at line {exc.lineno})") from None
    frames = data.get("Frames") if isinstance(data, dict) else None
    if not isinstance(frames, list) or len(frames) < 2:
        raise _fail(path, "needs a 'Frames' list of at least 2 frames")
    widths = {len(f) if isinstance(f, list) else -1 for f in frames}
    if widths != {FRAME_WIDTH}:
        bad = sorted(w for w in widths if w != FRAME_WIDTH)
        raise _fail(path, f"every frame must hold {FRAME_WIDTH} numbers (found frames of width {bad})")
    try:
        arr = np.asarray(frames, dtype=np.float64)
    except (TypeError, ValueError):
        raise _fail(path, "frames must hold numbers only") from None
    if not np.isfinite(arr).all():
        row = int(np.argwhere(~np.isfinite(arr))[0, 0])
        raise _fail(path, f"frame {row} holds NaN or infinite values")
    return arr


def _rotation(q: np.ndarray, path: Path, name: str) -> Rotation:
    """Rotations from ``[T, 4]`` (w, x, y, z) quaternions, normalised; zero ones refused."""
    norm = np.linalg.norm(q, axis=1)
    if (norm < 1e-6).any():
        raise _fail(path, f"zero quaternion for joint {name} in frame {int(np.argmax(norm < 1e-6))}")
    return Rotation.from_quat(q[:, [1, 2, 3, 0]] / norm[:, None])


def read_deepmimic(path: str | Path) -> Motion:
    """Read a DeepMimic humanoid clip as SMPL-22 joints (metres, Y up; see the module doc).

    Raises:
        MotionFileError: unreadable, not JSON, frames of the wrong width, NaN/inf values,
            a zero quaternion or a non-positive frame duration.
    """
    path = Path(path)
    arr = _frames(path)
    durations = arr[:-1, 0]  # the last frame's duration is 0 in the shipped clips
    if (durations <= 0).any():
        raise _fail(path, f"frame {int(np.argmax(durations <= 0))} has a non-positive duration")
    fps = 1.0 / float(np.median(durations))
    n = len(arr)
    world_rot: dict[str, Rotation] = {}
    world_pos: dict[str, np.ndarray] = {}
    col = 1
    for name, parent, offset, width in _JOINTS:
        if parent is None:
            world_pos[name] = arr[:, col : col + 3]
            col += 3
        else:
            world_pos[name] = world_pos[parent] + world_rot[parent].apply(np.asarray(offset) * URDF_SCALE)
        if width == 4:
            local = _rotation(arr[:, col : col + 4], path, name)
        else:
            local = Rotation.from_rotvec(np.outer(arr[:, col], [0.0, 0.0, 1.0]))
        col += width
        world_rot[name] = local if parent is None else world_rot[parent] * local
    assert col == FRAME_WIDTH

    def end(joint: str, offset: tuple[float, float, float]) -> np.ndarray:
        return world_pos[joint] + world_rot[joint].apply(np.asarray(offset) * URDF_SCALE)

    p = world_pos
    root, chest, neck = p["root"], p["chest"], p["neck"]
    j = np.zeros((n, 22, 3))
    j[:, 0] = root
    j[:, 1], j[:, 2] = p["left_hip"], p["right_hip"]
    j[:, 3] = root + (chest - root) / 3.0  # spine1
    j[:, 4], j[:, 5] = p["left_knee"], p["right_knee"]
    j[:, 6] = root + 2.0 * (chest - root) / 3.0  # spine2
    j[:, 7], j[:, 8] = p["left_ankle"], p["right_ankle"]
    j[:, 9] = chest  # spine3
    j[:, 10], j[:, 11] = end("left_ankle", _TOE), end("right_ankle", _TOE)
    j[:, 12] = neck
    j[:, 13] = (chest + 2.0 * p["left_shoulder"]) / 3.0  # collars: between chest and shoulder
    j[:, 14] = (chest + 2.0 * p["right_shoulder"]) / 3.0
    j[:, 15] = end("neck", _HEAD)
    j[:, 16], j[:, 17] = p["left_shoulder"], p["right_shoulder"]
    j[:, 18], j[:, 19] = p["left_elbow"], p["right_elbow"]
    j[:, 20], j[:, 21] = end("left_elbow", _WRIST), end("right_elbow", _WRIST)
    return Motion(j.astype(np.float32), fps, SMPL22, source=path,
                  meta={"format": "deepmimic", "units": "m", "source_fps": fps})


def is_deepmimic(path: Path) -> bool:
    """True when the file's first non-blank character opens a JSON object."""
    try:
        with path.open("r", encoding="utf-8", errors="replace") as fh:
            head = fh.read(64).lstrip()
    except OSError:
        return False
    return head.startswith("{")
