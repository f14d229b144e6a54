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

from collections.abc import Callable, Sequence

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


def leg_length(joints: np.ndarray) -> float | np.ndarray:
    """Median over frames of the mean of both legs' hip -> knee -> ankle length (same unit
    as ``joints``); at least 1e-3 so a collapsed skeleton does not divide by zero. A
    ``[T, 22, 3]`` window gives a float, a batch ``[N, T, 22, 3]`` one length per window."""
    j = np.asarray(joints, dtype=np.float64)
    lengths = [(_norm(j[..., h, :] - j[..., k, :]) + _norm(j[..., k, :] - j[..., a, :])) for h, k, a in _SIDES["leg"]]
    out = np.maximum(np.median(np.mean(lengths, axis=0), axis=-1), 1e-3)
    return float(out) if j.ndim == 3 else out


def _deriv(x: np.ndarray, axis: int = 0) -> np.ndarray:
    """Central-difference time derivative per second along ``axis`` (frames; zeros when
    there are fewer than 2)."""
    if x.shape[axis] < 2:
        return np.zeros_like(x)
    return np.gradient(x, 1.0 / FPS, axis=axis)


def _pct(x: np.ndarray, q: float) -> np.ndarray:
    """Percentile over the last axis (frames) of each window."""
    return np.percentile(x, q, axis=-1)


def windows_batch(joints: np.ndarray, what: str) -> np.ndarray:
    """``joints`` as a float64 batch ``[N, T, 22, 3]`` (one window ``[T, 22, 3]`` becomes
    ``N = 1``), checked: SMPL-22, ``T >= 2``, finite.

    Raises:
        ValueError: another shape, or non-finite values (``what`` names the descriptors).
    """
    j = np.asarray(joints, dtype=np.float64)
    j = j[None] if j.ndim == 3 else j
    if j.ndim != 4 or j.shape[2:] != (22, 3) or j.shape[1] < 2:
        raise ValueError(f"{what} features need SMPL-22 joints [T>=2, 22, 3], got {np.shape(joints)}")
    if not np.isfinite(j).all():
        raise ValueError(f"{what} features need finite joint positions")
    return j


def rows_by_length(features: Callable[..., np.ndarray], *windows: Sequence[np.ndarray], width: int,
                   chunk: int = 512) -> np.ndarray:
    """``[N, width]`` float32 rows of ``features(batch, ...)`` for windows ``windows[0][i]``
    (and ``windows[1][i]``, ...: same lengths), computed in batches of up to ``chunk``
    equal-length windows."""
    lengths = np.array([len(w) for w in windows[0]], dtype=int)
    out = np.zeros((len(lengths), width), np.float32)
    for length in np.unique(lengths):
        same = np.flatnonzero(lengths == length)
        for part in np.array_split(same, -(-len(same) // chunk)):
            out[part] = features(*(np.stack([ws[i] for i in part]) for ws in windows))
    return out


def _one_or_batch(joints: np.ndarray, rows: np.ndarray) -> np.ndarray:
    return (rows[0] if np.ndim(joints) == 3 else rows).astype(np.float32)


def kinematic_features(joints: np.ndarray) -> np.ndarray:
    """The :data:`KINEMATIC_NAMES` vector of one window ``[T, 22, 3]`` (SMPL-22, 20 Hz),
    or ``[N, len(KINEMATIC_NAMES)]`` rows of a batch ``[N, T, 22, 3]`` of equal-length
    windows (each row as its window alone gives it).

    Raises:
        ValueError: not ``[T>=2, 22, 3]`` (or a batch of them), or non-finite values.
    """
    j = windows_batch(joints, "kinematic")
    j = j / leg_length(j)[:, None, None, None]
    rel = j - j[:, :, PELVIS : PELVIS + 1]  # body-relative positions
    cols: list[np.ndarray] = []
    peak_speed = {}
    for limb, sides in _SIDES.items():
        vel = [_deriv(rel[:, :, end], 1) for _, _, end in sides]
        speed = np.stack([_norm(v) for v in vel], axis=1)  # [N, 2, T]
        accel = np.stack([_norm(_deriv(v, 1)) for v in vel], axis=1)
        reach = np.stack([_norm(j[:, :, end] - j[:, :, base]) for base, _, end in sides], axis=1)  # [N, 2, T]
        rate = _deriv(reach, 2)
        best = speed.max(axis=1)  # [N, T]
        peak_speed[limb] = best.max(axis=1)
        cols += [
            _pct(best, 50), _pct(best, 90), best.max(axis=1),
            _pct(accel.max(axis=1), 90), accel.max(axis=(1, 2)),
            rate.max(axis=(1, 2)), -rate.min(axis=(1, 2)),
            reach.max(axis=(1, 2)), (reach.max(axis=2) - reach.min(axis=2)).max(axis=1),
            best.max(axis=1) / (np.median(best, axis=1) + 0.05),
        ]
    lift = (rel[:, :, [L_ANKLE, R_ANKLE], 1] - rel[:, :, [R_ANKLE, L_ANKLE], 1]).max(axis=(1, 2))  # one foot above
    root_speed = _norm(_deriv(j[:, :, PELVIS, [0, 2]], 1))
    trunk = _norm(_deriv(rel[:, :, NECK], 1))
    cols += [lift, _pct(root_speed, 90), _pct(trunk, 90),
             peak_speed["arm"] / (peak_speed["arm"] + peak_speed["leg"] + 1e-6)]
    return _one_or_batch(joints, np.stack(cols, axis=1))


def limb_speed_score(joints: np.ndarray) -> float:
    """The non-learned baseline: the 99th percentile over frames of the fastest wrist or
    ankle speed (m/s, world frame, 20 Hz) in the window."""
    j = np.asarray(joints, dtype=np.float64)
    fastest = _norm(_deriv(j[:, [L_WRIST, R_WRIST, L_ANKLE, R_ANKLE]])).max(axis=1)
    return float(_pct(fastest, 99)) if fastest.size else 0.0


STRIKE_NAMES: tuple[str, ...] = tuple(
    f"{limb}_{what}" for limb in ("arm", "leg")
    for what in ("path_straightness", "forward_at_peak", "height_at_peak", "extension_at_peak", "peaks")
)


def _facing(j: np.ndarray, hips: bool = True) -> np.ndarray:
    """``[..., T, 3]`` unit horizontal facing direction from the shoulders and (``hips``)
    the hips (Y up)."""
    across = j[..., R_SHOULDER, :] - j[..., L_SHOULDER, :]
    if hips:
        across = across + (j[..., R_HIP, :] - j[..., L_HIP, :])
    forward = np.stack([across[..., 2], np.zeros(across.shape[:-1]), -across[..., 0]], axis=-1)
    return forward / np.maximum(_norm(forward)[..., None], 1e-9)


def _at(x: np.ndarray, t: np.ndarray) -> np.ndarray:
    """``x[n, t[n]]`` for every window ``n`` of a batch ``x [N, T, ...]``."""
    return x[np.arange(len(x)), t]


def strike_features(joints: np.ndarray) -> np.ndarray:
    """The :data:`STRIKE_NAMES` vector of one window ``[T, 22, 3]`` (SMPL-22, 20 Hz), or
    rows of a batch ``[N, T, 22, 3]``: the shape of each limb's fastest movement, which
    tells a strike from a fast swing.

    For the faster side of each limb, around its peak body-relative speed (+-0.25 s):
    ``path_straightness`` (net displacement over path length: a punch travels straight,
    a swing or throw arcs), ``forward_at_peak`` (share of the velocity along the body's
    front-back axis: strikes go at someone in front, swings go sideways), ``height_at_peak`` (above the shoulder or
    hip, in leg lengths), ``extension_at_peak`` (cosine of the elbow or knee angle: a
    strike ends with the limb straight) and ``peaks`` (speed peaks over half the maximum:
    boxing repeats). Same units and invariances as :func:`kinematic_features`.
    """
    j = windows_batch(joints, "strike")
    j = j / leg_length(j)[:, None, None, None]
    n, frames = j.shape[:2]
    rel = j - j[:, :, PELVIS : PELVIS + 1]
    facing = _facing(j)
    rows, k = np.arange(n), np.arange(frames)
    cols: list[np.ndarray] = []
    for limb, sides in _SIDES.items():
        speeds = np.stack([_norm(_deriv(rel[:, :, end], 1)) for _, _, end in sides], axis=1)  # [N, 2, T]
        side = np.argmax(speeds.max(axis=2), axis=1)  # [N]
        base, mid, end = (np.asarray(sides)[side, i] for i in range(3))  # joint ids per window
        speed = speeds[rows, side]  # [N, T]
        t = np.argmax(speed, axis=1)
        lo, hi = np.maximum(0, t - 5), np.minimum(frames, t + 6)
        path = rel[rows[:, None], k[None], end[:, None]]  # [N, T, 3]: the moving end
        steps = _norm(np.diff(path, axis=1))  # [N, T-1]
        length = np.where((k[None, :-1] >= lo[:, None]) & (k[None, :-1] < hi[:, None] - 1), steps, 0.0).sum(axis=1)
        net = _norm(_at(path, hi - 1) - _at(path, lo))
        straight = np.where(length > 1e-6, net / np.where(length > 1e-6, length, 1.0), 0.0)
        vel = _at(_deriv(path, 1), t)
        forward = np.abs((vel * _at(facing, t)).sum(axis=1)) / np.maximum(_norm(vel), 1e-9)  # front or back
        at_t = _at(j, t)  # [N, 22, 3]
        height = at_t[rows, end, 1] - at_t[rows, base, 1]
        upper, lower = at_t[rows, base] - at_t[rows, mid], at_t[rows, end] - at_t[rows, mid]
        extension = -(upper * lower).sum(axis=1) / np.maximum(_norm(upper) * _norm(lower), 1e-9)
        above = speed > 0.5 * speed.max(axis=1, keepdims=True)
        peaks = np.count_nonzero(above[:, 1:] & ~above[:, :-1], axis=1) + above[:, 0]
        cols += [straight, forward, height, extension, peaks.astype(np.float64)]
    return _one_or_batch(joints, np.stack(cols, axis=1))
