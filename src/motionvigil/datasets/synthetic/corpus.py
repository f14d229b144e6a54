"""Synthetic clips, multi-action sequences and the registered ``"procedural"`` dataset
(alias ``"synthetic"``, the name its clips carry).

A clip is one action from the library (``actions.ACTIONS``) on a random body, turned
into joint positions by forward kinematics: the supporting foot stays planted (so the
root travels when the legs step), the lowest foot touches the floor, and gaussian
sensor noise is added before the canonical frame is taken. A sequence concatenates
2-4 actions, cross-fading their joint angles over 5-10 frames, with frame-level
segments. Everything is drawn from numpy Generators seeded from ``seed``, so the same
arguments always give byte-identical arrays.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy.ndimage import gaussian_filter1d

from motionvigil.datasets.clip import Clip, Dataset, Segment
from motionvigil.datasets.registry import register_alias, register_dataset
from motionvigil.datasets.synthetic.actions import ACTION_NAMES, ACTIONS_BY_NAME, ActionSpec
from motionvigil.datasets.synthetic.body import Body, euler_to_quat, forward_kinematics, random_body
from motionvigil.datasets.synthetic.curves import smooth_noise, smoothstep
from motionvigil.datasets.synthetic.motion import Ctx, Motion
from motionvigil.datasets.synthetic.moves import idle
from motionvigil.datasets.violence import is_violent
from motionvigil.skeleton.canonical import canonicalize
from motionvigil.skeleton.smpl22 import FOOT_LEFT, FOOT_RIGHT

DATASET_NAME = "synthetic"  # the clips' dataset name: everything made from them says "synthetic"
REGISTERED_NAME = "procedural"  # --data procedural (DATASET_NAME stays a working alias)
CLIP_FRAMES = (40, 120)  # single-action clip length (frames at 20 Hz), inclusive
SEGMENT_FRAMES = (40, 90)  # length of one action inside a sequence
SEQUENCE_ACTIONS = (2, 4)
BLEND_FRAMES = (5, 10)
SPEED_RANGE = (0.75, 1.3)
AMPLITUDE_RANGE = (0.8, 1.2)
NOISE_RANGE_M = (0.005, 0.010)  # per-axis standard deviation of the sensor noise
DRIFT_RANGE_M = (0.005, 0.02)  # standard deviation of the slow random root drift
SUPPORT_DEAD_ZONE_M = 0.02  # feet closer in height than this share the weight (no random walk)
SLIDE_SMOOTHING = 1.5  # frames; softens the hand-over between supporting feet
FAST, SLOW = 1.15, 0.85  # speed factors above/below which captions say "quickly"/"slowly"
SUBJECT_PHRASES = ("a person", "someone", "the person")
_NUMBERS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")


@dataclass
class _Part:
    """One generated action before rendering: its motion and what the captions may say."""

    spec: ActionSpec
    motion: Motion
    slots: dict[str, str]
    side: str | None
    speed: float
    amplitude: float


# --------------------------------------------------------------------------- rendering


def render(motion: Motion, body: Body) -> np.ndarray:
    """Joint positions ``[T, 22, 3]`` (float64) of ``motion`` on ``body``.

    The root's horizontal motion keeps the supporting foot planted where ``motion.pin``
    is 1 (smoothed over a few frames), plus ``motion.root``. The supporting foot is the
    one ``motion.support`` names (gaits), else the clearly lower foot; feet at about the
    same height share the weight. The root's height puts the lowest foot joint on the
    floor, plus ``motion.air``.
    """
    n = len(motion)
    rel = forward_kinematics(euler_to_quat(np.radians(motion.angles)), np.zeros((n, 3)), body.offsets)
    left_h = rel[:, list(FOOT_LEFT), 1].min(axis=1)
    right_h = rel[:, list(FOOT_RIGHT), 1].min(axis=1)
    lower = right_h - left_h  # > 0 where the left foot is the lower one
    lower = np.sign(lower) * np.maximum(np.abs(lower) - SUPPORT_DEAD_ZONE_M, 0.0)
    w_left = 0.5 * (1.0 + np.tanh(lower / 0.01))  # the clearly lower foot supports, else both ...
    w_left = np.where(np.isnan(motion.support), w_left, motion.support)  # ... unless the action says
    slide = w_left[1:, None] * np.diff(rel[:, FOOT_LEFT[0]], axis=0)
    slide += (1.0 - w_left[1:, None]) * np.diff(rel[:, FOOT_RIGHT[0]], axis=0)
    slide = gaussian_filter1d(slide * motion.pin[1:, None], SLIDE_SMOOTHING, axis=0, mode="nearest")
    root = np.zeros((n, 3))
    root[1:] = -np.cumsum(slide, axis=0)
    root[:, [0, 2]] += motion.root[:, [0, 2]]
    root[:, 1] = -np.minimum(left_h, right_h) + motion.air
    return rel + root[:, None, :]


def _finish(joints: np.ndarray, rng: np.random.Generator, noise: bool) -> tuple[np.ndarray, float]:
    """Add sensor noise (if ``noise``), take the canonical frame, cast to float32."""
    sigma = float(rng.uniform(*NOISE_RANGE_M)) if noise else 0.0
    if noise:
        joints = joints + rng.normal(0.0, sigma, size=joints.shape)
    return canonicalize(joints).astype(np.float32), sigma


# --------------------------------------------------------------------------- one action


def _swap_sides(text: str) -> str:
    """Exchange the words "left" and "right"."""
    words = {"left": "right", "right": "left"}
    return " ".join(words.get(w, w) for w in text.split(" "))


def _slots(info: dict[str, Any], side: str | None, speed: float, mirrored: bool) -> dict[str, str]:
    """Caption slot values, all true of the generated motion."""
    count = int(info.get("count", 1))
    number = _NUMBERS[count] if count < len(_NUMBERS) else str(count)
    slots = {
        "adv": "quickly" if speed >= FAST else "slowly" if speed <= SLOW else "",
        "adj": "fast" if speed >= FAST else "slow" if speed <= SLOW else "",
        "times": {1: "once", 2: "twice"}.get(count, f"{number} times"),
        "count_word": "a" if count == 1 else number,
        "s": "" if count == 1 else "s",
        "es": "" if count == 1 else "es",
    }
    if side is not None:
        slots["side"], slots["other"] = side, ("left" if side == "right" else "right")
    for key, value in info.items():
        if key != "count":
            slots[key] = _swap_sides(str(value)) if mirrored else str(value)
    return slots


def _make_part(spec: ActionSpec, rng: np.random.Generator, n: int, side: str | None) -> _Part:
    """Generate ``spec`` for ``n`` frames on the given side (random side if ``None``)."""
    mirror = bool(rng.random() < 0.5) if side is None else side == "left"
    c = Ctx(rng, n, speed=float(rng.uniform(*SPEED_RANGE)), amp=float(rng.uniform(*AMPLITUDE_RANGE)))
    m = Motion.still(n)
    idle(c, m)
    info = spec.generate(c, m)
    m.root[:, [0, 2]] += c.u(*DRIFT_RANGE_M) * smooth_noise(rng, (n, 2), c.u(10, 20))
    if mirror:
        m = m.mirrored()
    side_word = ("left" if mirror else "right") if spec.lateral else None
    return _Part(spec, m, _slots(info, side_word, c.speed, mirror), side_word, c.speed, c.amp)


def _predicate(part: _Part, rng: np.random.Generator, index: int | None = None) -> str:
    templates = part.spec.captions
    template = templates[int(rng.integers(len(templates))) if index is None else index]
    return " ".join(template.format_map(part.slots).split())


def _subject_phrase(rng: np.random.Generator) -> str:
    return SUBJECT_PHRASES[int(rng.integers(len(SUBJECT_PHRASES)))]


def generate_clip(
    action: str,
    rng: np.random.Generator,
    *,
    body: Body | None = None,
    side: str | None = None,
    noise: bool = True,
    num_frames: int | None = None,
    clip_id: str = "synthetic_000000",
) -> Clip:
    """One single-action clip of class ``action``.

    Args:
        action: a name from ``ACTION_NAMES``.
        rng: the only source of randomness (same state -> identical clip).
        body: the performer; a random one if ``None``.
        side: ``"left"``/``"right"`` for the acting limb or direction; random if ``None``.
        noise: add gaussian sensor noise (turn off to check exact bone lengths).
        num_frames: clip length; random in ``CLIP_FRAMES`` if ``None``.
        clip_id: the clip's id.
    """
    if action not in ACTIONS_BY_NAME:
        raise KeyError(f"unknown synthetic action {action!r}")
    if side not in (None, "left", "right"):
        raise ValueError(f"side must be 'left', 'right' or None, got {side!r}")
    spec = ACTIONS_BY_NAME[action]
    body = random_body(rng, "synthetic_s_random") if body is None else body
    n = int(rng.integers(CLIP_FRAMES[0], CLIP_FRAMES[1] + 1)) if num_frames is None else int(num_frames)
    part = _make_part(spec, rng, n, side)
    facing = float(rng.uniform(-180.0, 180.0))
    joints, sigma = _finish(render(part.motion.placed(facing, np.zeros(3)), body), rng, noise)
    k = int(rng.integers(2, 5))
    order = rng.permutation(len(spec.captions))[: min(k, len(spec.captions))]
    captions = tuple(f"{_subject_phrase(rng)} {_predicate(part, rng, int(i))}" for i in order)
    meta = {
        "synthetic": True, "kind": "action", "action": action, "side": part.side, "speed": part.speed,
        "amplitude": part.amplitude, "noise_m": sigma, "facing_deg": facing,
        "height_factor": body.height_factor,
    }  # fmt: skip
    return Clip(
        clip_id=clip_id, joints=joints, labels=(action,), violent=is_violent(action), dataset=DATASET_NAME,
        subject=body.subject or None, source="synthetic", segments=(Segment(action, 0, n),),
        captions=captions, meta=meta,
    )  # fmt: skip


# --------------------------------------------------------------------------- sequences


def _blend(a: Motion, b: Motion, k: int) -> Motion:
    """``a`` then ``b``, the last ``k`` frames of ``a`` cross-faded into the first ``k`` of ``b``."""
    w = smoothstep((np.arange(k) + 1.0) / (k + 1.0))

    def mix(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        ww = w.reshape((k,) + (1,) * (x.ndim - 1))
        return np.concatenate([x[:-k], (1.0 - ww) * x[-k:] + ww * y[:k], y[k:]])

    fields = ("angles", "root", "air", "pin", "support")
    return Motion(*(mix(getattr(a, f), getattr(b, f)) for f in fields))


def _sequence_actions(rng: np.random.Generator) -> list[str]:
    """2-4 action names, no immediate repeats; "stand up" only first or after "sit down"."""
    count = int(rng.integers(SEQUENCE_ACTIONS[0], SEQUENCE_ACTIONS[1] + 1))
    names: list[str] = []
    while len(names) < count:
        if names and names[-1] == "sit down":
            names.append("stand up")
            continue
        name = ACTION_NAMES[int(rng.integers(len(ACTION_NAMES)))]
        if (names and name == names[-1]) or (name == "stand up" and names):
            continue
        names.append(name)
    return names


def generate_sequence(
    rng: np.random.Generator,
    *,
    body: Body | None = None,
    actions: list[str] | None = None,
    noise: bool = True,
    clip_id: str = "synthetic_000000",
) -> Clip:
    """A BABEL-like clip of 2-4 actions with smooth transitions and frame-level segments."""
    body = random_body(rng, "synthetic_s_random") if body is None else body
    names = _sequence_actions(rng) if actions is None else list(actions)
    lengths = [int(rng.integers(SEGMENT_FRAMES[0], SEGMENT_FRAMES[1] + 1)) for _ in names]
    parts = [_make_part(ACTIONS_BY_NAME[name], rng, n, None) for name, n in zip(names, lengths)]
    motion = parts[0].motion
    bounds = [0]
    for part in parts[1:]:
        k = int(rng.integers(BLEND_FRAMES[0], BLEND_FRAMES[1] + 1))
        start = len(motion) - k
        origin = motion.root[start] * np.array([1.0, 0.0, 1.0])
        motion = _blend(motion, part.motion.placed(float(motion.angles[start, 0, 1]), origin), k)
        bounds.append(start + k // 2)
    bounds.append(len(motion))
    segments = tuple(Segment(p.spec.name, s, e) for p, s, e in zip(parts, bounds[:-1], bounds[1:]))
    facing = float(rng.uniform(-180.0, 180.0))
    joints, sigma = _finish(render(motion.placed(facing, np.zeros(3)), body), rng, noise)
    captions = tuple(
        f"{_subject_phrase(rng)} " + ", then ".join(_predicate(p, rng) for p in parts)
        for _ in range(int(rng.integers(2, 4)))
    )
    labels = tuple(sorted(set(names)))
    meta = {
        "synthetic": True, "kind": "sequence", "actions": names, "sides": [p.side for p in parts],
        "speeds": [p.speed for p in parts], "noise_m": sigma, "facing_deg": facing,
        "height_factor": body.height_factor,
    }  # fmt: skip
    return Clip(
        clip_id=clip_id, joints=joints, labels=labels, violent=any(is_violent(x) for x in labels),
        dataset=DATASET_NAME, subject=body.subject or None, source="synthetic", segments=segments,
        captions=captions, meta=meta,
    )  # fmt: skip


# --------------------------------------------------------------------------- the corpus


def _split_subjects(subjects: list[str], test_fraction: float, seed: int) -> tuple[list[str], list[str]]:
    """(train, test) subjects: a seeded shuffle, about ``test_fraction`` of them for test."""
    order = np.random.default_rng([seed, 2]).permutation(len(subjects))
    n_test = int(np.clip(round(test_fraction * len(subjects)), 1, len(subjects) - 1))
    test = sorted(subjects[i] for i in order[:n_test])
    return [s for s in subjects if s not in test], test


def _assign(j: int, n: int, offset: int, train: list[str], test: list[str], test_fraction: float) -> str:
    """Subject of item ``j`` of ``n`` in a group: about ``test_fraction`` of each group goes to
    test subjects (at least one item on each side when ``n >= 2``), cycling over subjects."""
    n_test = int(round(test_fraction * n))
    if n >= 2:
        n_test = min(max(n_test, 1), n - 1)
    if j < n_test:
        return test[(j + offset) % len(test)]
    return train[(j - n_test + offset) % len(train)]


def generate_corpus(
    num_clips_per_class: int = 20,
    seed: int = 0,
    num_sequences: int = 20,
    *,
    test_fraction: float = 0.3,
    num_subjects: int = 10,
    classes: tuple[str, ...] | None = None,
    noise: bool = True,
) -> Dataset:
    """The procedural corpus: ``num_clips_per_class`` clips of every class plus
    ``num_sequences`` multi-action sequences, split train/test by subject (body)."""
    if num_subjects < 2:
        raise ValueError("need at least 2 subjects for a subject-disjoint split")
    names = ACTION_NAMES if classes is None else tuple(classes)
    subjects = [f"synthetic_s{i:02d}" for i in range(num_subjects)]
    bodies = {s: random_body(np.random.default_rng([seed, 1, i]), s) for i, s in enumerate(subjects)}
    train, test = _split_subjects(subjects, test_fraction, seed)
    clips: list[Clip] = []

    def add(clip: Clip) -> None:
        clip.split = "test" if clip.subject in test else "train"
        clips.append(clip)

    for ci, name in enumerate(names):
        for j in range(num_clips_per_class):
            body = bodies[_assign(j, num_clips_per_class, ci, train, test, test_fraction)]
            rng = np.random.default_rng([seed, 3, ci, j])
            add(generate_clip(name, rng, body=body, noise=noise, clip_id=f"synthetic_{len(clips):06d}"))
    for j in range(num_sequences):
        body = bodies[_assign(j, num_sequences, 0, train, test, test_fraction)]
        rng = np.random.default_rng([seed, 4, j])
        add(generate_sequence(rng, body=body, noise=noise, clip_id=f"synthetic_{len(clips):06d}"))
    return Dataset(
        name=DATASET_NAME,
        clips=clips,
        classes=names,
        violent_classes=tuple(n for n in names if is_violent(n)),
        description=f"procedural synthetic motions (seed {seed}); not real motion capture",
    )


@register_dataset(REGISTERED_NAME, None, "procedural synthetic motions of 37 actions (no files needed)")
def load_synthetic(
    root: str | Path | None = None,
    *,
    clips_per_class: int = 20,
    sequences: int = 20,
    seed: int = 0,
    test_fraction: float = 0.3,
) -> Dataset:
    """Registry loader for ``"procedural"`` (alias ``"synthetic"``); ``root`` is ignored (nothing is read)."""
    del root
    return generate_corpus(clips_per_class, seed, sequences, test_fraction=test_fraction)


register_alias(DATASET_NAME, REGISTERED_NAME)
