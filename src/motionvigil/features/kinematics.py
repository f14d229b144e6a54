"""Body-size-free kinematic descriptors of a window of motion: how fast, how far and how
suddenly the hands and feet move relative to the body.

A strike is a distal limb (hand or foot) driven away from the trunk fast and stopped
short. These descriptors measure that, in units that do not depend on who moves or
which sensor recorded it:

* lengths are divided by the body's own leg length (hip -> knee -> ankle, median over
  the window), so a child and an adult, or centimetres and metres, give the same values;
* velocities are taken relative to the pelvis (walking or running carries the whole body;
  a punch moves the hand *against* it), in leg lengths per second at 20 Hz;
* left and right are pooled (the larger of the two sides), so mirroring the motion or
  rotating it about the vertical changes nothing.

The descriptor of a window ``[T, 22, 3]`` (SMPL-22, 20 Hz, Y up) is a fixed-length float
vector (:data:`KINEMATIC_NAMES`). :func:`limb_speed_score` is the non-learned baseline the
detection study compares against: the 99th percentile of wrist/ankle speed in the window
(absolute, m/s, as first measured in issue 16).
"""

from __future__ import annotations

import numpy as np

FPS = 20.0
PELVIS, L_HIP, R_HIP = 0, 1, 2
L_KNEE, R_KNEE, L_ANKLE, R_ANKLE = 4, 5, 7, 8
NECK, HEAD = 12, 15
L_SHOULDER, R_SHOULDER, L_ELBOW, R_ELBOW, L_WRIST, R_WRIST = 16, 17, 18, 19, 20, 21

_SIDES = {  # (shoulder|hip, elbow|knee, wrist|ankle) per side
    "arm": ((L_SHOULDER, L_ELBOW, L_WRIST), (R_SHOULDER, R_ELBOW, R_WRIST)),
    "leg": ((L_HIP, L_KNEE, L_ANKLE), (R_HIP, R_KNEE, R_ANKLE)),
}

KINEMATIC_NAMES: tuple[str, ...] = tuple(
    f"{limb}_{what}"
    for limb in ("arm", "leg")
    for what in ("speed_p50", "speed_p90", "speed_max", "accel_p90", "accel_max", "extend_rate_max",
                 "retract_rate_max", "reach_max", "reach_range", "speed_peakiness")
) + ("leg_lift_max", "root_speed_p90", "trunk_speed_p90", "arm_leg_speed_ratio")


def _norm(x: np.ndarray) -> np.ndarray:
    return np.linalg.norm(x, axis=-1)


def leg_length(joints: np.ndarray) -> float:
    """Median over frames of the mean of both legs' hip -> knee -> ankle length (same unit
    as ``joints``); at least 1e-3 so a collapsed skeleton does not divide by zero."""
    j = np.asarray(joints, dtype=np.float64)
    lengths = [(_norm(j[:, h] - j[:, k]) + _norm(j[:, k] - j[:, a])) for h, k, a in _SIDES["leg"]]
    return float(max(np.median(np.mean(lengths, axis=0)), 1e-3))


def _deriv(x: np.ndarray) -> np.ndarray:
    """Central-difference time derivative per second (``[T, ...]``; zeros when T < 2)."""
    if len(x) < 2:
        return np.zeros_like(x)
    return np.gradient(x, 1.0 / FPS, axis=0)


def _pct(x: np.ndarray, q: float) -> float:
    return float(np.percentile(x, q)) if x.size else 0.0


def kinematic_features(joints: np.ndarray) -> np.ndarray:
    """The :data:`KINEMATIC_NAMES` vector of one window ``[T, 22, 3]`` (SMPL-22, 20 Hz).

    Raises:
        ValueError: not a ``[T, 22, 3]`` array with ``T >= 2``, or non-finite values.
    """
    j = np.asarray(joints, dtype=np.float64)
    if j.ndim != 3 or j.shape[1:] != (22, 3) or len(j) < 2:
        raise ValueError(f"kinematic features need SMPL-22 joints [T>=2, 22, 3], got {j.shape}")
    if not np.isfinite(j).all():
        raise ValueError("kinematic features need finite joint positions")
    scale = leg_length(j)
    j = j / scale
    rel = j - j[:, PELVIS : PELVIS + 1]  # body-relative positions
    out: list[float] = []
    peak_speed = {}
    for limb, sides in _SIDES.items():
        speed = np.stack([_norm(_deriv(rel[:, end])) for _, _, end in sides])  # [2, T]
        accel = np.stack([_norm(_deriv(_deriv(rel[:, end]))) for _, _, end in sides])
        reach = np.stack([_norm(j[:, end] - j[:, base]) for base, _, end in sides])  # [2, T]
        rate = _deriv(reach.T).T
        best = speed.max(axis=0)
        peak_speed[limb] = best.max()
        out += [
            _pct(best, 50), _pct(best, 90), float(best.max()),
            _pct(accel.max(axis=0), 90), float(accel.max()),
            float(rate.max()), float(-rate.min()),
            float(reach.max()), float((reach.max(axis=1) - reach.min(axis=1)).max()),
            float(best.max() / (np.median(best) + 0.05)),
        ]
    lift = (rel[:, [L_ANKLE, R_ANKLE], 1] - rel[:, [R_ANKLE, L_ANKLE], 1]).max()  # one foot above the other
    root_speed = _norm(_deriv(j[:, PELVIS, [0, 2]]))
    trunk = _norm(_deriv(rel[:, NECK]))
    out += [float(lift), _pct(root_speed, 90), _pct(trunk, 90),
            float(peak_speed["arm"] / (peak_speed["arm"] + peak_speed["leg"] + 1e-6))]
    return np.asarray(out, dtype=np.float32)


def limb_speed_score(joints: np.ndarray) -> float:
    """The non-learned baseline: the 99th percentile over frames of the fastest wrist or
    ankle speed (m/s, world frame, 20 Hz) in the window."""
    j = np.asarray(joints, dtype=np.float64)
    ends = j[:, [L_WRIST, R_WRIST, L_ANKLE, R_ANKLE]]
    return _pct(_norm(_deriv(ends)).max(axis=1), 99)


STRIKE_NAMES: tuple[str, ...] = tuple(
    f"{limb}_{what}" for limb in ("arm", "leg")
    for what in ("path_straightness", "forward_at_peak", "height_at_peak", "extension_at_peak", "peaks")
)


def _facing(j: np.ndarray) -> np.ndarray:
    """``[T, 3]`` unit horizontal facing direction from the hips and shoulders (Y up)."""
    across = (j[:, R_SHOULDER] - j[:, L_SHOULDER]) + (j[:, R_HIP] - j[:, L_HIP])
    forward = np.stack([across[:, 2], np.zeros(len(j)), -across[:, 0]], axis=1)
    return forward / np.maximum(_norm(forward)[:, None], 1e-9)


def strike_features(joints: np.ndarray) -> np.ndarray:
    """The :data:`STRIKE_NAMES` vector of one window ``[T, 22, 3]`` (SMPL-22, 20 Hz): the
    shape of each limb's fastest movement, which tells a strike from a fast swing.

    For the faster side of each limb, around its peak body-relative speed (+-0.25 s):
    ``path_straightness`` (net displacement over path length: a punch travels straight,
    a swing or throw arcs), ``forward_at_peak`` (share of the velocity along the body's
    front-back axis: strikes go at someone in front, swings go sideways), ``height_at_peak`` (above the shoulder or
    hip, in leg lengths), ``extension_at_peak`` (cosine of the elbow or knee angle: a
    strike ends with the limb straight) and ``peaks`` (speed peaks over half the maximum:
    boxing repeats). Same units and invariances as :func:`kinematic_features`.
    """
    j = np.asarray(joints, dtype=np.float64)
    if j.ndim != 3 or j.shape[1:] != (22, 3) or len(j) < 2:
        raise ValueError(f"strike features need SMPL-22 joints [T>=2, 22, 3], got {j.shape}")
    if not np.isfinite(j).all():
        raise ValueError("strike features need finite joint positions")
    j = j / leg_length(j)
    rel = j - j[:, PELVIS : PELVIS + 1]
    facing = _facing(j)
    out: list[float] = []
    for limb, sides in _SIDES.items():
        speeds = np.stack([_norm(_deriv(rel[:, end])) for _, _, end in sides])
        side = int(np.argmax(speeds.max(axis=1)))
        base, mid, end = sides[side]
        speed = speeds[side]
        t = int(np.argmax(speed))
        lo, hi = max(0, t - 5), min(len(j), t + 6)
        path = rel[lo:hi, end]
        length = _norm(np.diff(path, axis=0)).sum()
        straight = float(_norm(path[-1] - path[0]) / length) if length > 1e-6 else 0.0
        vel = _deriv(rel[:, end])[t]
        forward = float(abs(np.dot(vel, facing[t])) / max(_norm(vel), 1e-9))  # front or back: mirror-free
        height = float(j[t, end, 1] - j[t, base, 1])
        upper, lower = j[t, base] - j[t, mid], j[t, end] - j[t, mid]
        extension = float(-np.dot(upper, lower) / max(_norm(upper) * _norm(lower), 1e-9))
        above = speed > 0.5 * speed.max()
        peaks = float(np.count_nonzero(above[1:] & ~above[:-1]) + int(above[0]))
        out += [straight, forward, height, extension, peaks]
    return np.asarray(out, dtype=np.float32)
