"""Helpers shared by the operator-console tests (tests/serve, tests/cli): a tiny random detector that alerts on every
window, a scripted stream, and a motion that holds punches."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from motionvigil.datasets.labelled import LabelledSet
from motionvigil.datasets.synthetic import generate_corpus, generate_sequence
from motionvigil.detect import Detector
from motionvigil.models import MotionTextModel, preset
from motionvigil.models.bundle import MotionTextBundle
from motionvigil.models.inputs import MotionInputs

CONSOLE_CLASSES = ("kick", "punch", "walk", "wave", "clap")
CONSOLE_KEY = "console-test-key-0123456789"


@pytest.fixture(scope="session")
def alerting_detector() -> Detector:
    return make_alerting_detector()


def make_alerting_detector() -> Detector:
    """A randomly initialised tiny detector whose threshold every window reaches."""
    corpus = generate_corpus(3, seed=0, num_sequences=0, classes=CONSOLE_CLASSES)
    torch.manual_seed(0)
    bundle = MotionTextBundle(MotionTextModel(preset("tiny")), MotionInputs.fit("tmr", corpus.clips, 64))
    d = Detector.build(bundle, LabelledSet.build(corpus.clips, CONSOLE_CLASSES))
    return Detector(d.bundle, d.prototypes, d.classes, d.violent, -2.0, "fixed", d.window, d.stride)


@pytest.fixture(scope="session")
def scripted_joints() -> np.ndarray:
    return generate_sequence(np.random.default_rng(1), actions=["walk", "punch", "kick"]).joints


def frames_message(joints: np.ndarray, first: int, t0: float = 0.0) -> str:
    return json.dumps({"type": "frames", "frames": [{"t": t0 + (first + i) / 20, "joints": j.tolist()}
                                                    for i, j in enumerate(joints)]})
