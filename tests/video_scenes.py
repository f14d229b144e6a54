"""Rendered cartoon people for the video tests and benchmarks/video_bench.py.

A person is a dict of image points (head, neck, shoulders, elbows, wrists, hips, knees,
ankles) plus ``"_s"``, its drawing scale (1.0 = 640 px from head to shoes). MediaPipe
Pose finds these cartoons (filled limbs, a face with eyes, nose, mouth and hair); the
tests measure how many it finds. One person is the one-person case of :func:`draw_people`.
"""

from __future__ import annotations

import math

import numpy as np

SKIN, SHIRT, TROUSERS, SHOES, HAIR = (
    (140, 170, 220),
    (160, 80, 40),
    (70, 50, 40),
    (30, 30, 30),
    (30, 40, 60),
)  # BGR
SHIRTS = ((160, 80, 40), (40, 60, 160), (50, 130, 60), (120, 50, 120), (30, 120, 150), (90, 90, 90))
BACKGROUND = (215, 220, 225)


def pose_2d(cx: float, top: float, s: float, right_arm: float = 0.25, left_arm: float = 0.25,
            right_bend: float = 1.3, left_bend: float = 1.3, step: float = 0.0) -> dict:
    """Image points of a cartoon person facing the camera, centred at ``cx``, the top of
    its 640-unit frame at ``top``, drawn at scale ``s``. Arm angles are radians from
    hanging down (``pi/2`` = horizontal, outwards); ``bend`` multiplies the angle for the
    forearm (1 = straight arm); ``step`` in [-1, 1] swings the legs as in walking."""
    j = {
        "_s": s,
        "head": (cx, top + 95 * s),
        "neck": (cx, top + 150 * s),
        "r_sh": (cx - 52 * s, top + 170 * s),
        "l_sh": (cx + 52 * s, top + 170 * s),
        "r_hip": (cx - 32 * s, top + 345 * s),
        "l_hip": (cx + 32 * s, top + 345 * s),
    }
    for side, sign in (("r", -1.0), ("l", 1.0)):
        swing = sign * step * 18 * s
        j[f"{side}_kn"] = (cx + sign * 38 * s + swing, top + 470 * s)
        j[f"{side}_an"] = (cx + sign * 42 * s + 2 * swing, top + 590 * s)
    for side, sign, angle, bend in (("r", -1.0, right_arm, right_bend), ("l", 1.0, left_arm, left_bend)):
        sx, sy = j[f"{side}_sh"]
        ex, ey = sx + 95 * s * sign * math.sin(angle), sy + 95 * s * math.cos(angle)
        j[f"{side}_el"] = (ex, ey)
        j[f"{side}_wr"] = (ex + 85 * s * sign * math.sin(bend * angle), ey + 85 * s * math.cos(bend * angle))
    return j


def person_2d(t: float, shift_px: float, width: int = 480, height: int = 640) -> dict:
    """A person filling a ``width x height`` frame, its right arm (image left) waving with
    phase ``t``, shifted ``shift_px`` to the image right."""
    raise_angle = 0.75 + 0.6 * math.sin(2 * math.pi * t)
    return pose_2d(width / 2 + shift_px, 0.0, height / 640, right_arm=raise_angle)


def draw_people(cv2, people: list[dict], width: int = 480, height: int = 640) -> np.ndarray:
    """A BGR frame: plain background and the filled cartoon people, drawn in list order
    (later ones in front)."""
    img = np.full((height, width, 3), BACKGROUND, np.uint8)
    for k, j in enumerate(people):
        _draw_one(cv2, img, j, SHIRTS[k % len(SHIRTS)])
    return cv2.GaussianBlur(img, (3, 3), 0)


def draw_person(cv2, j: dict | None, width: int = 480, height: int = 640) -> np.ndarray:
    """One person (or none): :func:`draw_people` with a list of at most one."""
    return draw_people(cv2, [] if j is None else [j], width, height)


def _draw_one(cv2, img: np.ndarray, j: dict, shirt: tuple) -> None:
    s = j["_s"]

    def p(xy):
        return int(round(xy[0])), int(round(xy[1]))

    def limb(a, b, thickness, colour):
        cv2.line(img, p(a), p(b), colour, max(1, int(thickness * s)), cv2.LINE_AA)

    def disc(c, radius, colour):
        cv2.circle(img, p(c), max(1, int(radius * s)), colour, -1, cv2.LINE_AA)

    def oval(c, axes, colour, start=0, end=360):
        cv2.ellipse(img, p(c), (max(1, int(axes[0] * s)), max(1, int(axes[1] * s))), 0, start, end, colour, -1,
                    cv2.LINE_AA)

    for side, sign in (("r", -1), ("l", 1)):
        limb(j[f"{side}_hip"], j[f"{side}_kn"], 44, TROUSERS)
        limb(j[f"{side}_kn"], j[f"{side}_an"], 36, TROUSERS)
        disc(j[f"{side}_kn"], 20, TROUSERS)
        ax, ay = j[f"{side}_an"]
        oval((ax + sign * 8 * s, ay + 12 * s), (26, 12), SHOES)
    torso = np.array([p(j["r_sh"]), p(j["l_sh"]), p((j["l_hip"][0] + 12 * s, j["l_hip"][1])),
                      p((j["r_hip"][0] - 12 * s, j["r_hip"][1]))], np.int32)
    cv2.fillConvexPoly(img, torso, shirt, cv2.LINE_AA)
    oval(((j["r_hip"][0] + j["l_hip"][0]) / 2, j["r_hip"][1]), (46, 22), TROUSERS)
    hx, hy = j["head"]
    limb(j["neck"], (hx, hy + 30 * s), 30, SKIN)
    oval((hx, hy), (33, 42), SKIN)
    oval((hx, hy - 22 * s), (35, 24), HAIR, 180, 360)
    for dx in (-12, 12):
        oval((hx + dx * s, hy - 4 * s), (6, 3), (255, 255, 255))
        disc((hx + dx * s, hy - 4 * s), 2.5, (40, 30, 20))
    limb((hx, hy), (hx, hy + 10 * s), 3, (110, 140, 190))
    cv2.ellipse(img, p((hx, hy + 20 * s)), (max(1, int(10 * s)), max(1, int(4 * s))), 0, 0, 180, (80, 80, 170),
                max(1, int(3 * s)), cv2.LINE_AA)
    for side in ("r", "l"):
        limb(j[f"{side}_sh"], j[f"{side}_el"], 32, shirt)
        disc(j[f"{side}_sh"], 17, shirt)
        disc(j[f"{side}_el"], 15, SKIN)
        limb(j[f"{side}_el"], j[f"{side}_wr"], 26, SKIN)
        disc(j[f"{side}_wr"], 15, SKIN)


def write_video(cv2, path, frames, fps: float) -> None:
    """Frames (BGR, one size) to ``path``: mp4v for ``.mp4``, MJPG otherwise."""
    frames = iter(frames)
    first = next(frames)
    height, width = first.shape[:2]
    fourcc = cv2.VideoWriter_fourcc(*("mp4v" if str(path).endswith(".mp4") else "MJPG"))
    writer = cv2.VideoWriter(str(path), fourcc, fps, (width, height))
    assert writer.isOpened(), f"OpenCV cannot write {path} here"
    writer.write(first)
    for frame in frames:
        writer.write(frame)
    writer.release()


# --------------------------------------------------------------------------- multi-person scenes at 640x480

SCENE_FPS = 20.0
SCENE_SIZE = (640, 480)


def _walk(t: float) -> dict:
    return {"step": math.sin(2 * math.pi * 1.2 * t), "right_arm": 0.2 + 0.15 * math.sin(2 * math.pi * 1.2 * t),
            "left_arm": 0.2 - 0.15 * math.sin(2 * math.pi * 1.2 * t)}


def crossing(i: int, frames: int) -> list[dict]:
    """Two people walking towards each other and past: A from the left, B from the right,
    B drawn in front while they overlap. Returns ``[A, B]`` (A is leftmost at the start)."""
    u = i / (frames - 1)
    t = i / SCENE_FPS
    a = pose_2d(110 + 420 * u, 60, 0.62, **_walk(t))
    b = pose_2d(530 - 420 * u, 70, 0.6, **_walk(t + 0.3))
    return [a, b]


def strike(i: int, frames: int) -> list[dict]:
    """A (left) punches towards B (right) twice a second: the right... arm of A that faces
    B (image right, A's left arm) shoots out horizontally and back; B stands."""
    t = i / SCENE_FPS
    phase = (t * 2.0) % 1.0
    reach = max(0.0, math.sin(math.pi * phase / 0.35)) if phase < 0.35 else 0.0
    a = pose_2d(250, 70, 0.6, left_arm=0.3 + 1.3 * reach, left_bend=1.0 + 0.3 * (1 - reach), right_arm=0.3)
    b = pose_2d(420, 70, 0.6, left_arm=0.25, right_arm=0.25 + 0.3 * reach)
    return [a, b]


def side_by_side(i: int, frames: int) -> list[dict]:
    """Two people walking side by side to the image right, 150 px apart."""
    u = i / (frames - 1)
    t = i / SCENE_FPS
    return [pose_2d(140 + 200 * u, 70, 0.58, **_walk(t)), pose_2d(290 + 200 * u, 75, 0.56, **_walk(t + 0.4))]


def crowd(n: int):
    """``n`` people standing in a row across the frame, slightly bobbing, arms moving."""
    def scene(i: int, frames: int) -> list[dict]:
        t = i / SCENE_FPS
        width = SCENE_SIZE[0]
        gap = width / n
        s = min(0.6, 0.9 * gap / 190)
        return [pose_2d(gap * (k + 0.5), 60 + 10 * math.sin(t + k) + (0.6 - s) * 300, s,
                        right_arm=0.3 + 0.4 * (0.5 + 0.5 * math.sin(2 * math.pi * 0.5 * t + k)))
                for k in range(n)]
    return scene


def render(cv2, path, scene, frames: int, fps: float = SCENE_FPS, size: tuple[int, int] = SCENE_SIZE) -> list:
    """Write ``frames`` frames of ``scene`` to ``path``; returns the people drawn per frame."""
    people = [scene(i, frames) for i in range(frames)]
    write_video(cv2, path, (draw_people(cv2, p, *size) for p in people), fps)
    return people


# --------------------------------------------------------------------------- who is who


def hips(person: dict) -> float:
    return (person["r_hip"][0] + person["l_hip"][0]) / 2


def owners(motion, people, ambiguous_px: float = 80.0) -> dict[int, dict[int, int]]:
    """Per track id: {rendered person index: frames}, counting the frames where the
    track's hips (MediaPipe landmarks 23, 24 in the image) are nearest that person's
    hips and no two people's hips are within ``ambiguous_px`` of each other."""
    out = {}
    for pid, marks in motion.meta["image_points"].items():
        counts: dict[int, int] = {}
        for f, mark in enumerate(marks):
            xs = [hips(p) for p in people[f]]
            if not np.isfinite(mark).all() or (len(xs) > 1 and np.min(np.diff(sorted(xs))) < ambiguous_px):
                continue
            k = int(np.argmin([abs(x - mark[[23, 24], 0].mean()) for x in xs]))
            counts[k] = counts.get(k, 0) + 1
        out[pid] = counts
    return out
