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
    L_WRIST,
    NECK,
    PELVIS,
    R_ANKLE,
    R_WRIST,
    _deriv,
    _facing,
    _norm,
    _one_or_batch,
    leg_length,
    windows_batch,
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


def reach_distances(actor: np.ndarray, receiver: np.ndarray) -> np.ndarray:
    """``[..., T, 4]`` each of the actor's hands and feet's distance to the receiver's
    nearest target joint (head, torso, hips, knees), in the windows' units."""
    return _norm(actor[..., EXTREMITIES, None, :] - receiver[..., None, TARGETS, :]).min(axis=-1)


def _horizontal_unit(v: np.ndarray) -> np.ndarray:
    v = v.copy()
    v[..., 1] = 0.0
    return v / np.maximum(_norm(v)[..., None], 1e-9)


def interaction_features(actor: np.ndarray, receiver: np.ndarray) -> np.ndarray:
    """The :data:`INTERACTION_NAMES` vector of ``actor`` acting on ``receiver``, or rows
    of batches of such windows (each row as its pair of windows alone gives it).

    Args:
        actor, receiver: ``[T, 22, 3]`` SMPL-22 joints of one window, in one shared frame
            (or ``[N, T, 22, 3]`` batches of equal-length windows).

    Raises:
        ValueError: shapes differ or are not ``[T>=2, 22, 3]``, or values are not finite.
    """
    if np.shape(actor) != np.shape(receiver):
        raise ValueError(f"interaction features need two [T>=2, 22, 3] windows, got {np.shape(actor)} and "
                         f"{np.shape(receiver)}")
    a, b = windows_batch(actor, "interaction"), windows_batch(receiver, "interaction")
    scale = leg_length(a)[:, None, None, None]
    a, b = a / scale, b / scale
    n, frames = a.shape[:2]
    rows, k = np.arange(n), np.arange(frames)
    ext = a[:, :, EXTREMITIES]  # [N, T, 4, 3]
    d_ext = reach_distances(a, b)  # [N, T, 4]
    d = d_ext.min(axis=2)  # [N, T]
    t_star = np.argmin(d, axis=1)
    approach = -_deriv(d_ext, 1)  # positive when closing in
    near = d_ext < 1.0
    ext_speed = _norm(_deriv(ext - a[:, :, PELVIS : PELVIS + 1], 1))  # [N, T, 4] body-relative
    chest_a, chest_b = a[:, :, SPINE3], b[:, :, SPINE3]
    away = _horizontal_unit(chest_b - chest_a)  # from the actor towards the receiver
    vel_b = _deriv(chest_b, 1)
    after = k[None] >= t_star[:, None]  # from the closest approach on
    recoil = np.where(after, (vel_b * away).sum(axis=2), -np.inf).max(axis=1)
    accel_b = np.where(after, _norm(_deriv(vel_b, 1)), -np.inf).max(axis=1)
    torso = _norm(chest_a - chest_b)
    hands = _norm(a[:, :, HANDS][:, :, :, None] - b[:, :, HANDS][:, :, None]).min(axis=(2, 3))
    cols = [
        d.min(axis=1),
        (d < CONTACT).mean(axis=1),
        np.where(near, approach, 0.0).max(axis=(1, 2)),
        ext_speed[rows, t_star, np.argmin(d_ext[rows, t_star], axis=1)],
        np.where(near, ext_speed, 0.0).max(axis=(1, 2)),
        recoil,
        accel_b,
        torso.min(axis=1),
        torso.mean(axis=1),
        (torso < NEAR_TORSO).mean(axis=1),
        hands.min(axis=1),
        np.maximum(0.0, (-_deriv(torso, 1)).max(axis=1)),
        (_facing(a, hips=False) * away).sum(axis=2).mean(axis=1),
    ]
    return _one_or_batch(actor, np.stack(cols, axis=1))


def torso_gap(a: np.ndarray, b: np.ndarray) -> float:
    """Smallest chest-to-chest distance (metres) between two windows: pairs farther apart
    than a reach for the whole window are not scored as interactions."""
    return float(_norm(np.asarray(a)[:, SPINE3] - np.asarray(b)[:, SPINE3]).min())
