"""Random bodies on the SMPL-22 skeleton, and forward kinematics from joint angles.

A body is a set of 21 bone lengths; the rest pose points every bone along a fixed unit
direction (``REST_DIRECTIONS``: person facing +Z, left at +X, up +Y, arms hanging).
Motions are joint rotations, so every frame has exactly the body's bone lengths.

The forward kinematics here is the usual hierarchical one (the rotation at joint ``j``
turns the bones to ``j``'s children, and a child inherits its parent's orientation).
``smpl22.forward_kinematics`` follows HumanML3D, whose arm chains start from the root
rotation rather than from spine3, so arms there would not follow a bending spine.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from motionvigil.io.layouts import SMPL22_PARENTS
from motionvigil.skeleton.quaternion import qmul, qrot
from motionvigil.skeleton.smpl22 import RAW_OFFSETS, REFERENCE_BONE_LENGTHS

HEIGHT_RANGE = (0.85, 1.15)  # whole-body scale factor
BONE_JITTER = 0.05  # per-bone relative jitter (shared by a bone and its mirror image)
LENGTH_RATIO_LIMITS = (0.8, 1.2)  # final bone length / reference length is clipped to this

# joint index -> joint index of its mirror image (left <-> right)
MIRROR = (0, 2, 1, 3, 5, 4, 6, 8, 7, 9, 11, 10, 12, 14, 13, 15, 17, 16, 19, 18, 21, 20)


def _rest_directions() -> np.ndarray:
    """Unit rest directions ``[22, 3]`` of the bone ending at each joint (row 0 unused).

    HumanML3D's ``RAW_OFFSETS`` (meant for its IK) put the head forward of the neck and
    the shoulders below the collars; a plausible standing body needs these few changed.
    """
    d = RAW_OFFSETS.copy()
    d[1], d[2] = (0.62, -0.78, 0.0), (-0.62, -0.78, 0.0)  # pelvis -> hips: out and down
    d[10] = d[11] = (0.0, -0.45, 0.89)  # ankle -> toes: forward and down
    d[13], d[14] = (0.6, 0.8, 0.0), (-0.6, 0.8, 0.0)  # spine3 -> collars: out and up
    d[15] = (0.0, 0.95, 0.3)  # neck -> head: up, slightly forward
    d[16], d[17] = (1.0, -0.12, 0.0), (-1.0, -0.12, 0.0)  # collars -> shoulders: sideways
    d[1:] /= np.linalg.norm(d[1:], axis=1, keepdims=True)
    return d


REST_DIRECTIONS = _rest_directions()
PARENTS = np.array(SMPL22_PARENTS)


@dataclass(frozen=True)
class Body:
    """One synthetic performer: an id and the lengths (m) of the bones ending at joints 1..21."""

    subject: str
    height_factor: float
    bone_lengths: np.ndarray

    @property
    def offsets(self) -> np.ndarray:
        """Rest offsets ``[22, 3]`` of each joint from its parent."""
        out = np.zeros((22, 3))
        out[1:] = REST_DIRECTIONS[1:] * self.bone_lengths[:, None]
        return out


def random_body(rng: np.random.Generator, subject: str = "") -> Body:
    """A body: reference lengths x height factor in ``HEIGHT_RANGE`` x per-bone jitter.

    The jitter is drawn per bone and shared with the mirror-image bone so that bodies are
    left/right symmetric; the product is clipped to ``LENGTH_RATIO_LIMITS``.
    """
    height = float(rng.uniform(*HEIGHT_RANGE))
    jitter = rng.uniform(1.0 - BONE_JITTER, 1.0 + BONE_JITTER, size=22)
    jitter = jitter[np.minimum(np.arange(22), MIRROR)]  # a pair shares its lower index's value
    ratio = np.clip(height * jitter[1:], *LENGTH_RATIO_LIMITS)
    return Body(subject, height, REFERENCE_BONE_LENGTHS * ratio)


def euler_to_quat(angles: np.ndarray) -> np.ndarray:
    """Quaternions ``[..., 4]`` of angles ``[..., 3]`` (radians, about x, y, z) as ``R = Ry Rz Rx``."""
    half = 0.5 * angles
    c, s = np.cos(half), np.sin(half)
    zero = np.zeros_like(half[..., 0])
    qx = np.stack([c[..., 0], s[..., 0], zero, zero], axis=-1)
    qy = np.stack([c[..., 1], zero, s[..., 1], zero], axis=-1)
    qz = np.stack([c[..., 2], zero, zero, s[..., 2]], axis=-1)
    return qmul(qmul(qy, qz), qx)


def forward_kinematics(quats: np.ndarray, root: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Joint positions ``[T, 22, 3]`` from local rotations ``[T, 22, 4]``, root positions
    ``[T, 3]`` and rest offsets ``[22, 3]``."""
    positions = np.zeros(quats.shape[:-1] + (3,))
    orient = np.zeros_like(quats)
    positions[:, 0] = root
    orient[:, 0] = quats[:, 0]
    for j in range(1, len(PARENTS)):
        p = PARENTS[j]
        positions[:, j] = positions[:, p] + qrot(orient[:, p], offsets[j])
        orient[:, j] = qmul(orient[:, p], quats[:, j])
    return positions


def rest_pose(body: Body) -> np.ndarray:
    """The body's rest pose ``[22, 3]`` with the pelvis at the origin."""
    identity = np.zeros((1, 22, 4))
    identity[..., 0] = 1.0
    return forward_kinematics(identity, np.zeros((1, 3)), body.offsets)[0]
