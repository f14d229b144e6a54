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
        self.calls: list[list[int]] = []

    def results(self, starts, scenes, own, threshold) -> dict[int, list[WindowResult]]:
        self.calls.append(list(starts))
        out: dict[int, list[WindowResult]] = {}
        for start, scene in zip(starts, scenes):
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
