"""Toy captioned clips for the pre-training tests: a rest pose with one body part
oscillating, depending on the action (wave / kick / jump)."""

from __future__ import annotations

import numpy as np

from motionvigil.datasets.clip import Clip
from motionvigil.skeleton.smpl22 import forward_kinematics, reference_offsets

ACTIONS = ["a person waves the right hand", "a person kicks with the left leg", "a person jumps up and down"]
LABELS = ("wave", "kick", "jump")


def toy_clip(i: int, rng: np.random.Generator, walk: bool = False, labelled: bool = False) -> Clip:
    """Clip ``i`` (action ``i % 3``); ``walk`` adds a slow drift in +X/+Z, ``labelled`` the class label."""
    frames = int(rng.integers(30, 50))
    quats = np.zeros((frames, 22, 4))
    quats[..., 0] = 1.0
    joints = forward_kinematics(quats, np.tile([0.0, 0.95, 0.0], (frames, 1)), reference_offsets())
    t = np.arange(frames) / 20.0
    action = i % len(ACTIONS)
    wave = np.sin(2 * np.pi * (1.0 + rng.uniform(0, 0.5)) * t)[:, None, None]
    if action == 0:
        joints[:, [19, 21]] += wave * np.array([0.0, 0.3, 0.1])
    elif action == 1:
        joints[:, [4, 7, 10]] += np.abs(wave) * np.array([0.0, 0.3, 0.4])
    else:
        joints += np.abs(wave) * np.array([0.0, 0.3, 0.0])
    if walk:
        joints += t[:, None, None] * np.array([0.2, 0.0, 0.1])
    joints += rng.normal(0, 0.005, joints.shape)
    labels = (LABELS[action],) if labelled else ()
    return Clip(f"toy{i}", joints.astype(np.float32), labels, False, "toy", captions=(ACTIONS[action],))
