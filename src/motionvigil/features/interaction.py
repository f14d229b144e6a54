"""What one person does to another: body-size-free descriptors of a two-person window.

A strike between people is one person's hand or foot driven fast at the other's head
or torso, often followed by the receiver being pushed back. A hug brings the torsos
together slowly; a handshake brings hand to hand; passing an object brings hands close
at walking pace. These descriptors measure that from the two persons' joints in one
shared frame (SMPL-22, 20 Hz, Y up, metres), **directed**: ``actor`` acts on
``receiver``; a pair is described both ways and scored by its more violent direction.

Lengths are in the actor's leg lengths (:func:`~motionvigil.features.kinematics.leg_length`),
speeds in leg lengths per second, so body size and sensor units drop out.
"""

from __future__ import annotations

import numpy as np

from motionvigil.features.kinematics import (
    HEAD,
    L_ANKLE,
    L_SHOULDER,
    L_WRIST,
    NECK,
    PELVIS,
    R_ANKLE,
    R_SHOULDER,
    R_WRIST,
    _deriv,
    _norm,
    leg_length,
)

SPINE2, SPINE3 = 6, 9
EXTREMITIES = (L_WRIST, R_WRIST, L_ANKLE, R_ANKLE)
TARGETS = (HEAD, NECK, SPINE3, SPINE2, PELVIS, 1, 2, 4, 5)  # head, torso, hips and knees of the receiver
HANDS = (L_WRIST, R_WRIST)
CONTACT = 0.25  # leg lengths: an extremity this close to a target counts as touching
NEAR_TORSO = 0.75  # leg lengths between chests: an embrace

INTERACTION_NAMES: tuple[str, ...] = (
    "strike_dist_min",  # closest approach of an actor's hand/foot to the receiver's head/torso
    "strike_contact_frac",  # share of frames with such contact
    "strike_approach_max",  # fastest approach of a hand/foot to a target while within 1 leg length
    "strike_speed_at_contact",  # the actor's hand/foot speed (body-relative) at the closest approach
    "strike_speed_near_max",  # the fastest body-relative hand/foot speed while within 1 leg length
    "recoil_max",  # the receiver's chest speed away from the actor after the closest approach
    "recoil_accel_max",  # the receiver's chest acceleration after the closest approach
    "torso_dist_min",
    "torso_dist_mean",
    "torso_near_frac",  # share of frames with the chests within NEAR_TORSO (an embrace)
    "hand_hand_dist_min",  # actor's hand to receiver's hand (a handshake, passing an object)
    "torso_closing_max",  # fastest approach of the two chests (walking up to someone)
    "facing",  # mean cosine between the actor's facing and the direction to the receiver
)


def _facing(j: np.ndarray) -> np.ndarray:
    """``[T, 3]`` unit horizontal facing direction from the shoulders (Y up)."""
    across = j[:, R_SHOULDER] - j[:, L_SHOULDER]
    forward = np.stack([across[:, 2], np.zeros(len(j)), -across[:, 0]], axis=1)  # Y x across
    return forward / np.maximum(_norm(forward)[:, None], 1e-9)


def reach_distances(actor: np.ndarray, receiver: np.ndarray) -> np.ndarray:
    """``[T, 4]`` each of the actor's hands and feet's distance to the receiver's nearest
    target joint (head, torso, hips, knees), in the windows' units."""
    return _norm(actor[:, EXTREMITIES][:, :, None] - receiver[:, TARGETS][:, None]).min(axis=2)


def interaction_features(actor: np.ndarray, receiver: np.ndarray) -> np.ndarray:
    """The :data:`INTERACTION_NAMES` vector of ``actor`` acting on ``receiver``.

    Args:
        actor, receiver: ``[T, 22, 3]`` SMPL-22 joints of one window, in one shared frame.

    Raises:
        ValueError: shapes differ or are not ``[T>=2, 22, 3]``, or values are not finite.
    """
    a = np.asarray(actor, dtype=np.float64)
    b = np.asarray(receiver, dtype=np.float64)
    if a.shape != b.shape or a.ndim != 3 or a.shape[1:] != (22, 3) or len(a) < 2:
        raise ValueError(f"interaction features need two [T>=2, 22, 3] windows, got {a.shape} and {b.shape}")
    if not (np.isfinite(a).all() and np.isfinite(b).all()):
        raise ValueError("interaction features need finite joint positions")
    scale = leg_length(a)
    a, b = a / scale, b / scale
    ext = a[:, EXTREMITIES]  # [T, 4, 3]
    d_ext = reach_distances(a, b)
    d = d_ext.min(axis=1)  # [T]
    t_star = int(np.argmin(d))
    approach = -_deriv(d_ext)  # [T, 4] positive when closing in
    near = d_ext < 1.0
    ext_speed = _norm(_deriv(ext - a[:, PELVIS : PELVIS + 1]))  # [T, 4] body-relative
    chest_a, chest_b = a[:, SPINE3], b[:, SPINE3]
    away = chest_b - chest_a
    away[:, 1] = 0.0
    away /= np.maximum(_norm(away)[:, None], 1e-9)
    vel_b = _deriv(chest_b)
    after = slice(t_star, len(a))
    recoil = (vel_b * away).sum(axis=1)[after]
    accel_b = _norm(_deriv(vel_b))[after]
    torso = _norm(chest_a - chest_b)
    hands = _norm(a[:, HANDS][:, :, None] - b[:, HANDS][:, None]).min(axis=(1, 2))
    to_b = chest_b - chest_a
    to_b[:, 1] = 0.0
    to_b /= np.maximum(_norm(to_b)[:, None], 1e-9)
    return np.asarray([
        float(d.min()),
        float((d < CONTACT).mean()),
        float(np.where(near, approach, 0.0).max()),
        float(ext_speed[t_star, int(np.argmin(d_ext[t_star]))]),
        float(np.where(near, ext_speed, 0.0).max()),
        float(recoil.max()) if recoil.size else 0.0,
        float(accel_b.max()) if accel_b.size else 0.0,
        float(torso.min()),
        float(torso.mean()),
        float((torso < NEAR_TORSO).mean()),
        float(hands.min()),
        float(max(0.0, (-_deriv(torso)).max())),
        float((_facing(a) * to_b).sum(axis=1).mean()),
    ], dtype=np.float32)


def torso_gap(a: np.ndarray, b: np.ndarray) -> float:
    """Smallest chest-to-chest distance (metres) between two windows: pairs farther apart
    than a reach for the whole window are not scored as interactions."""
    return float(_norm(np.asarray(a)[:, SPINE3] - np.asarray(b)[:, SPINE3]).min())
