"""Shared material for the persons-axis tests (tests/detect/test_persons_*.py,
tests/serve/test_serve_persons.py): a tiny random detector, synthetic one- and
two-person motions, and a fake pair model.

The detector is a randomly initialised tiny bundle (as in test_detect.py): the tests
compare code paths (offline == stream == serve, one person unchanged), never accuracy.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import torch

from motionvigil.datasets.labelled import LabelledSet
from motionvigil.datasets.synthetic import generate_corpus, generate_sequence
from motionvigil.detect import Detector
from motionvigil.detect.windows import WindowResult

CLASSES = ("kick", "punch", "walk", "wave", "clap")


def tiny_detector() -> Detector:
    """The tiny random detector of tests/serve/test_serve.py (seeded: the same every run)."""
    from motionvigil.models import MotionTextModel, preset
    from motionvigil.models.bundle import MotionTextBundle
    from motionvigil.models.inputs import MotionInputs

    corpus = generate_corpus(3, seed=0, num_sequences=0, classes=CLASSES)
    torch.manual_seed(0)
    bundle = MotionTextBundle(MotionTextModel(preset("tiny")), MotionInputs.fit("tmr", corpus.clips, 64))
    return Detector.build(bundle, LabelledSet.build(corpus.clips, CLASSES))


def with_threshold(detector: Detector, threshold: float) -> Detector:
    d = detector
    return Detector(d.bundle, d.prototypes, d.classes, d.violent, threshold, "fixed", d.window, d.stride,
                    d.calibration, d.info, d.head)


def sequence(seed: int = 1, actions: tuple[str, ...] = ("walk", "punch", "kick")) -> np.ndarray:
    """SMPL-22 joints at 20 Hz of a few actions (about 8-10 s)."""
    return generate_sequence(np.random.default_rng(seed), actions=list(actions)).joints


class FakePairModel:
    """Stands in for the lead's pair model: one result per pair of persons scored in a
    window, whose violence is the mean of the two persons' own scores plus a fixed bonus
    (so pairs alert where neither person alone does). Records every call."""

    def __init__(self, bonus: float = 0.0):
        self.bonus = bonus
        self.calls: list[int] = []  # scenes per call

    def results(self, keys, scenes, own, threshold) -> dict[int, list[WindowResult]]:
        self.calls.append(len(scenes))
        out: dict[int, list[WindowResult]] = {}
        for start, scene in zip(keys, scenes):
            ids = sorted(scene)
            for i, a in enumerate(ids):
                for b in ids[i + 1:]:
                    ra, rb = own[(start, a)], own[(start, b)]
                    v = (ra.violence + rb.violence) / 2 + self.bonus
                    best = ra if ra.violence >= rb.violence else rb
                    out.setdefault(start, []).append(replace(best, violence=v, alert=v >= threshold, persons=(a, b)))
        return out


def with_pairs(detector: Detector, bonus: float = 0.0) -> Detector:
    """A copy of ``detector`` (same threshold) with a :class:`FakePairModel`."""
    d = with_threshold(detector, detector.threshold)
    d.policy = detector.policy
    d.pair_model = FakePairModel(bonus)
    return d


def three_persons(fps: float = 20.0):
    """Three persons of synthetic motion on one clock (``Motion`` args): ``(bodies [3, T, J, 3],
    layout, ids, present)`` with person 9 appearing a third in, person 1 missing for a few
    frames mid-way, person 4 gone for over a window and back, and person 4 lost (all-zero
    joints, as a Kinect reports it) in three frames. ``fps`` 30 gives Kinect SDK joints."""
    from motionvigil.datasets.synthetic.sensors import as_kinect_sdk
    from motionvigil.io import KINECT_SDK, SMPL22
    from motionvigil.skeleton.resample import resample_joints

    acts = ("walk", "punch", "kick", "wave", "punch")
    seqs = [sequence(1, acts), sequence(2, acts) + [1.0, 0.0, 0.0], sequence(3, acts) + [0.0, 0.0, 1.0]]
    n = min(len(s) for s in seqs)
    if fps == 20.0:
        bodies, layout = np.stack([s[:n] for s in seqs]), SMPL22
    else:
        bodies, layout = np.stack([as_kinect_sdk(resample_joints(s[:n], 20.0, fps)) for s in seqs]), KINECT_SDK
    t = bodies.shape[1]
    present = np.ones((3, t), bool)
    present[2, : t // 3 + 1] = False  # (+1: at 30 Hz, off the 20 Hz grid)
    present[1, t // 2 + 1 : t // 2 + 11] = False
    gone = int(3.6 * fps)  # longer than a 3.2 s window
    present[0, t // 3 + 1 : t // 3 + 2 + gone] = False
    bodies[0, 10:13] = 0.0
    return bodies, layout, (4, 1, 9), present


def push_in_chunks(stream, motion, seed: int = 0, most: int = 8) -> list[WindowResult]:
    """Feed a multi-person ``motion`` to ``stream`` in uneven chunks of 1 to ``most`` frames,
    as a tracker would: each push carries the persons seen in any of its frames (zeros
    where one is not seen)."""
    rng = np.random.default_rng(seed)
    raw, present, out, i = motion.bodies, motion.presence, [], 0
    while i < motion.num_frames:
        part = slice(i, i + int(rng.integers(1, most + 1)))
        rows = [p for p in range(motion.num_persons) if present[p, part].any()]
        frames = np.stack([np.where(present[p, part][:, None, None], raw[p, part], 0.0) for p in rows], axis=1) \
            if rows else np.zeros((len(raw[0, part]), 0, motion.num_joints, 3))
        out += stream.push(frames, motion.layout, motion.fps, ids=[motion.person_ids[p] for p in rows])
        i = part.stop
    return out


def offline_results(timeline) -> list[WindowResult]:
    """Every person's and pair's results of a multi-person timeline."""
    return [r for t in timeline.tracks for r in t.windows] + [r for p in timeline.pairs for r in p.windows]
