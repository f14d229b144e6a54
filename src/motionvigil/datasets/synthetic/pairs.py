"""Two-person scenes built from one-person clips, for training pair scoring.

Real two-person recordings are few (SBU Kinect, when it is not held out), so pair
scoring also learns from scenes staged out of one-person clips of any source: an
*actor* clip and a *receiver* clip are put into one frame, facing each other, at a
distance drawn so that the actor's closest hand or foot ends either within touching
range of the receiver's head or torso or well out of reach.

Labels follow what a camera operator means by violence between people:

- violent actor (kick, punch, ...) within reach -> violent; with probability
  ``recoil_p`` the receiver is shoved back from the moment of closest approach
  (0.1-0.35 m over 0.1-0.3 s);
- violent actor out of reach (0.6-2 m gap) -> calm for the pair (the actor's own
  window still scores alone);
- calm actor (hug, reach, wave, walk, ...) within reach or out of it -> calm.

Every scene is rotated about the vertical and moved on the floor at random.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from motionvigil.datasets.clip import FPS, Clip
from motionvigil.features.interaction import reach_distances


@dataclass
class PairScene:
    """Two persons' joints ``[2, T, 22, 3]`` in one frame; person 0 is the actor."""

    scene_id: str
    joints: np.ndarray
    violent: bool
    source: str  # the actor clip's dataset
    group: str  # the actor clip's subject (for out-of-fold splits)
    label: str = ""  # what the two do (a real scene's class, e.g. "hugging"; staged scenes: "")


def _rot_y(angle: float) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    return np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])


def _fit_length(joints: np.ndarray, frames: int, rng: np.random.Generator) -> np.ndarray:
    if len(joints) >= frames:
        start = int(rng.integers(0, len(joints) - frames + 1))
        return joints[start : start + frames]
    pad = np.repeat(joints[-1:], frames - len(joints), axis=0)
    return np.concatenate([joints, pad])


def _gap(actor: np.ndarray, receiver: np.ndarray) -> tuple[float, int]:
    d = reach_distances(actor, receiver).min(axis=1)
    return float(d.min()), int(np.argmin(d))


def stage(actor: np.ndarray, receiver: np.ndarray, gap: float, rng: np.random.Generator,
          recoil: bool = False) -> np.ndarray:
    """``[2, T, 22, 3]``: ``receiver`` turned to face ``actor`` (both canonical, facing +Z)
    and walked in along +Z from 4 m until the closest hand/foot-to-head/torso distance
    first comes down to ``gap`` metres (the first contact on the way in, as a person
    stepping up to another meets them)."""
    frames = len(actor)
    rec = _fit_length(receiver, frames, rng) @ _rot_y(np.pi).T
    rec = rec - rec[:1, :1] * np.array([1.0, 0.0, 1.0])
    lateral = float(rng.normal(0.0, 0.08))
    offset = np.array([lateral, 0.0, 0.0])
    step, hi = 0.05, 4.0  # walk the receiver in from afar until the gap is first reached, then bisect
    while hi > 0.0 and _gap(actor, rec + offset + [0.0, 0.0, hi - step])[0] >= gap:
        hi -= step
    lo = max(0.0, hi - step)
    for _ in range(12):
        mid = (lo + hi) / 2
        if _gap(actor, rec + offset + [0.0, 0.0, mid])[0] < gap:
            lo = mid
        else:
            hi = mid
    rec = rec + np.array([lateral, 0.0, hi])
    if recoil:
        _, t_star = _gap(actor, rec)
        t = (np.arange(frames) - t_star) / FPS
        push = float(rng.uniform(0.10, 0.35)) * (1.0 - np.exp(-np.clip(t, 0.0, None) / rng.uniform(0.1, 0.3)))
        rec = rec + push[:, None, None] * np.array([0.0, 0.0, 1.0])
    scene = np.stack([actor, rec]) @ _rot_y(float(rng.uniform(0, 2 * np.pi))).T
    return scene + np.array([rng.uniform(-2, 2), 0.0, rng.uniform(-2, 2)])


def pair_scenes(actors: Sequence[Clip], receivers: Sequence[Clip], seed: int = 0, per_actor: int = 2,
                recoil_p: float = 0.5) -> list[PairScene]:
    """``per_actor`` staged scenes per actor clip (see the module doc): half within reach
    (gap 0-0.12 m), half out of reach (0.6-2 m); receivers are drawn from ``receivers``
    (calm clips)."""
    calm = [r for r in receivers if not r.violent]
    if not calm:
        raise ValueError("staging pairs needs calm receiver clips")
    rng = np.random.default_rng([seed, 27])
    out = []
    for clip in actors:
        for k in range(per_actor):
            reach = k % 2 == 0
            gap = rng.uniform(0.0, 0.12) if reach else rng.uniform(0.6, 2.0)
            violent = bool(clip.violent and reach)
            receiver = calm[int(rng.integers(len(calm)))]
            joints = stage(clip.joints.astype(np.float64), receiver.joints.astype(np.float64), gap, rng,
                           recoil=violent and rng.random() < recoil_p)
            out.append(PairScene(f"{clip.clip_id}~pair{k}", joints.astype(np.float32), violent, clip.dataset,
                                 str(clip.subject or clip.clip_id)))
    return out
