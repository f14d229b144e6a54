"""Vectorised unit-quaternion helpers, ``(w, x, y, z)`` order, float64 numpy arrays.

scipy's ``Rotation`` covers Euler angles and matrices (used by the BVH and ASF readers);
the HumanML3D feature pipeline needs a few elementwise operations over ``[..., 4]``
arrays (shortest-arc quaternions, sign continuity, 6D rotations) whose exact
conventions matter for matching the published features, so they live here.
"""

from __future__ import annotations

import numpy as np

_EPS = 1e-12


def qnormalize(q: np.ndarray) -> np.ndarray:
    """Scale quaternions ``[..., 4]`` to unit length."""
    return q / np.maximum(np.linalg.norm(q, axis=-1, keepdims=True), _EPS)


def qinv(q: np.ndarray) -> np.ndarray:
    """Inverse (conjugate) of unit quaternions."""
    return q * np.array([1.0, -1.0, -1.0, -1.0])


def qmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Hamilton product ``a * b`` (apply ``b`` first, then ``a``), broadcasting."""
    aw, ax, ay, az = np.moveaxis(a, -1, 0)
    bw, bx, by, bz = np.moveaxis(b, -1, 0)
    return np.stack(
        [
            aw * bw - ax * bx - ay * by - az * bz,
            aw * bx + ax * bw + ay * bz - az * by,
            aw * by - ax * bz + ay * bw + az * bx,
            aw * bz + ax * by - ay * bx + az * bw,
        ],
        axis=-1,
    )


def qrot(q: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Rotate vectors ``v [..., 3]`` by unit quaternions ``q [..., 4]`` (broadcasting)."""
    w = q[..., :1]
    u = q[..., 1:]
    uv = np.cross(u, v)
    return v + 2.0 * (w * uv + np.cross(u, uv))


def qbetween(v0: np.ndarray, v1: np.ndarray) -> np.ndarray:
    """Shortest-arc rotation taking direction ``v0`` to direction ``v1`` (``[..., 3]`` each).

    Uses the half-way construction ``q = normalize(|v0||v1| + v0.v1, v0 x v1)``; for
    opposite vectors (undefined arc) it turns by 180 degrees about an axis orthogonal
    to ``v0`` instead of returning NaN.
    """
    v0, v1 = np.broadcast_arrays(np.asarray(v0, dtype=np.float64), np.asarray(v1, dtype=np.float64))
    axis = np.cross(v0, v1)
    w = np.sqrt((v0**2).sum(-1, keepdims=True) * (v1**2).sum(-1, keepdims=True)) + (v0 * v1).sum(
        -1, keepdims=True
    )
    q = np.concatenate([w, axis], axis=-1)
    degenerate = np.linalg.norm(q, axis=-1) < 1e-9
    if degenerate.any():
        d = v0[degenerate]
        helper = np.where(np.abs(d[:, :1]) < 0.9, [[1.0, 0.0, 0.0]], [[0.0, 1.0, 0.0]])
        ortho = np.cross(d, helper)
        q[degenerate] = np.concatenate([np.zeros((len(d), 1)), ortho], axis=-1)
    return qnormalize(q)


def qfix(q: np.ndarray) -> np.ndarray:
    """Flip signs along axis 0 (time) so consecutive quaternions have a positive dot product."""
    out = q.copy()
    dots = (out[1:] * out[:-1]).sum(-1)
    flip = (np.cumsum(dots < 0, axis=0) % 2).astype(bool)
    out[1:][flip] *= -1
    return out


def quat_to_matrix(q: np.ndarray) -> np.ndarray:
    """Rotation matrices ``[..., 3, 3]`` of unit quaternions ``[..., 4]``."""
    w, x, y, z = np.moveaxis(q, -1, 0)
    return np.stack(
        [
            np.stack([1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)], -1),
            np.stack([2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)], -1),
            np.stack([2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)], -1),
        ],
        axis=-2,
    )


def quat_to_cont6d(q: np.ndarray) -> np.ndarray:
    """Continuous 6D rotation representation: the first two matrix columns, ``[..., 6]``."""
    m = quat_to_matrix(q)
    return np.concatenate([m[..., 0], m[..., 1]], axis=-1)


def cont6d_to_matrix(d6: np.ndarray) -> np.ndarray:
    """Rotation matrices from 6D vectors by Gram-Schmidt (columns x, y, z)."""
    a, b = d6[..., :3], d6[..., 3:6]
    x = a / np.maximum(np.linalg.norm(a, axis=-1, keepdims=True), _EPS)
    z = np.cross(x, b)
    z = z / np.maximum(np.linalg.norm(z, axis=-1, keepdims=True), _EPS)
    y = np.cross(z, x)
    return np.stack([x, y, z], axis=-1)


def yaw_quat(angle: np.ndarray) -> np.ndarray:
    """Quaternions of rotations by ``angle`` (radians) about +Y."""
    angle = np.asarray(angle, dtype=np.float64)
    zeros = np.zeros_like(angle)
    return np.stack([np.cos(angle / 2), zeros, np.sin(angle / 2), zeros], axis=-1)
