"""The learned violence model: small networks over body-size-free descriptors of one
person and of a pair, with calibrated scores.

- **Person**: a one-hidden-layer network over the kinematic descriptors of a window
  (:mod:`motionvigil.features.kinematics`: how fast, far and suddenly hands and feet
  move relative to the body).
- **Pair**: a network of the same shape over what one person does to the other
  (:mod:`motionvigil.features.interaction`: hand/foot-to-head/torso distance, closing
  speed, contact then recoil, embrace, handshake) together with both persons'
  kinematic descriptors; a pair is scored in both directions and keeps the higher.

Each network's logit is **calibrated** (Platt scaling, ``sigmoid(a * logit + b)``) on
out-of-fold logits, windows scored by networks that never saw their subject or source,
so a score of 0.7 on a new source means about what it means on the training sources
instead of saturating at 0.999. Everything is numpy at scoring time; parameters are a
few thousand numbers kept in the detector's ``config.json``.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from motionvigil.features.interaction import INTERACTION_NAMES, interaction_features
from motionvigil.features.kinematics import (
    KINEMATIC_NAMES,
    STRIKE_NAMES,
    kinematic_features,
    rows_by_length,
    strike_features,
)

PERSON_FEATURES = KINEMATIC_NAMES + STRIKE_NAMES
PAIR_FEATURES = INTERACTION_NAMES + tuple(f"actor_{n}" for n in PERSON_FEATURES) + tuple(
    f"receiver_{n}" for n in PERSON_FEATURES)
DEFAULT_HIDDEN = 32
DEFAULT_ALPHA = 1e-2  # L2 penalty of the networks
MAX_EPOCHS = 150
SMOOTH_FRAMES = 1.0  # Gaussian smoothing in time (sigma, frames at 20 Hz) before any descriptor


def smoothed(window: np.ndarray, sigma: float = SMOOTH_FRAMES) -> np.ndarray:
    """``window [T, 22, 3]`` (or a batch ``[N, T, 22, 3]``) smoothed in time: sensor jitter (a Kinect's frame-to-frame
    noise) inflates speeds and accelerations differently on every sensor; a strike's
    0.2-0.5 s motion survives a one-frame Gaussian. Chosen on validation folds inside
    the training sources during development (mean held-out-source AUROC of the person
    network over MSR Action3D, HDM05 and UTD-MHAD training splits rose with it)."""
    if sigma <= 0:
        return np.asarray(window, np.float64)
    from scipy.ndimage import gaussian_filter1d

    return gaussian_filter1d(np.asarray(window, np.float64), sigma, axis=-3, mode="nearest")


def person_matrix(windows: Sequence[np.ndarray]) -> np.ndarray:
    """``[N, len(PERSON_FEATURES)]`` descriptors of one-person windows (:func:`smoothed` first)."""
    return rows_by_length(_person_rows, windows, width=len(PERSON_FEATURES))


def _person_rows(batch: np.ndarray) -> np.ndarray:
    s = smoothed(batch)
    return np.concatenate([kinematic_features(s), strike_features(s)], axis=1)


def pair_matrix(actors: Sequence[np.ndarray], receivers: Sequence[np.ndarray],
                kin_a: np.ndarray | None = None, kin_b: np.ndarray | None = None) -> np.ndarray:
    """``[N, len(PAIR_FEATURES)]`` descriptors of ``actors[i]`` acting on ``receivers[i]``
    (``kin_a``/``kin_b``: their person descriptors, if already computed)."""
    if not len(actors):
        return np.zeros((0, len(PAIR_FEATURES)), np.float32)
    kin_a = person_matrix(actors) if kin_a is None else kin_a
    kin_b = person_matrix(receivers) if kin_b is None else kin_b
    inter = rows_by_length(lambda a, b: interaction_features(smoothed(a), smoothed(b)), actors, receivers,
                           width=len(INTERACTION_NAMES))
    return np.concatenate([inter, kin_a, kin_b], axis=1).astype(np.float32)


@dataclass
class Net:
    """``logit = w2 . relu(W1 (x - mean) / scale + b1) + b2``, then ``sigmoid(a logit + b)``."""

    features: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    w1: np.ndarray  # [F, H]
    b1: np.ndarray  # [H]
    w2: np.ndarray  # [H]
    b2: float
    platt: tuple[float, float] = (1.0, 0.0)
    info: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.mean, self.scale, self.w1, self.b1, self.w2 = (
            np.asarray(a, dtype=np.float64) for a in (self.mean, self.scale, self.w1, self.b1, self.w2))
        f = len(self.features)
        if self.mean.shape != (f,) or self.scale.shape != (f,) or self.w1.shape[0] != f:
            raise ValueError(f"network needs {f} means, scales and input weights")
        if self.b1.shape != (self.w1.shape[1],) or self.w2.shape != (self.w1.shape[1],):
            raise ValueError("network hidden sizes disagree")
        params = (self.mean, self.scale, self.w1, self.b1, self.w2, np.array([self.b2, *self.platt]))
        if not all(np.isfinite(p).all() for p in params) or not (self.scale > 0).all():
            raise ValueError("network parameters must be finite, with positive scales")
        self.platt = (float(self.platt[0]), float(self.platt[1]))

    def logit(self, x: np.ndarray) -> np.ndarray:
        h = np.maximum(((np.asarray(x, np.float64) - self.mean) / self.scale) @ self.w1 + self.b1, 0.0)
        return h @ self.w2 + self.b2

    def score(self, x: np.ndarray) -> np.ndarray:
        """``[N]`` calibrated violence probabilities."""
        return self.probability(self.logit(x))

    def probability(self, logit: np.ndarray) -> np.ndarray:
        """Calibrated probabilities of raw logits: ``sigmoid(a * logit + b)``."""
        z = self.platt[0] * np.asarray(logit, np.float64) + self.platt[1]
        return 1.0 / (1.0 + np.exp(-np.clip(z, -60.0, 60.0)))

    @classmethod
    def fit(cls, x: np.ndarray, y: np.ndarray, features: Sequence[str], weights: np.ndarray | None = None,
            hidden: int = DEFAULT_HIDDEN, alpha: float = DEFAULT_ALPHA, seed: int = 0) -> "Net":
        """Train on ``x [N, F]``, ``y [N]`` with the classes balanced by total weight."""
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.neural_network import MLPClassifier

        x = np.asarray(x, np.float64)
        y = np.asarray(y, bool)
        if y.all() or not y.any():
            raise ValueError("violence model training needs both violent and calm windows")
        w = np.ones(len(y)) if weights is None else np.asarray(weights, np.float64)
        for label in (True, False):
            w = np.where(y == label, w / w[y == label].sum() * len(y) / 2.0, w)
        mean, scale = x.mean(axis=0), np.maximum(x.std(axis=0), 1e-6)
        net = MLPClassifier((hidden,), alpha=alpha, max_iter=MAX_EPOCHS, random_state=seed, early_stopping=False,
                            learning_rate_init=3e-3, batch_size=256, tol=1e-4, n_iter_no_change=10)
        with warnings.catch_warnings():  # stopping at MAX_EPOCHS is the budget, not a fault
            warnings.simplefilter("ignore", ConvergenceWarning)
            net.fit((x - mean) / scale, y, sample_weight=w)
        return cls(tuple(features), mean, scale, net.coefs_[0], net.intercepts_[0], net.coefs_[1][:, 0],
                   float(net.intercepts_[1][0]), info={"hidden": hidden, "alpha": alpha, "seed": seed,
                                                       "n_violent": int(y.sum()), "n_calm": int((~y).sum())})

    def calibrated(self, logits: np.ndarray, y: np.ndarray) -> "Net":
        """A copy whose Platt scaling is fitted on held-out ``logits`` of windows labelled ``y``
        (classes balanced, so 0.5 means equal odds under equal priors)."""
        from sklearn.linear_model import LogisticRegression

        y = np.asarray(y, bool)
        w = np.where(y, len(y) / (2.0 * max(y.sum(), 1)), len(y) / (2.0 * max((~y).sum(), 1)))
        lr = LogisticRegression(C=1e4, max_iter=1000).fit(np.asarray(logits)[:, None], y, sample_weight=w)
        return Net(self.features, self.mean, self.scale, self.w1, self.b1, self.w2, self.b2,
                   (float(lr.coef_[0, 0]), float(lr.intercept_[0])), dict(self.info, calibrated_on=int(len(y))))

    def to_json(self) -> dict[str, Any]:
        return {"features": list(self.features), "mean": self.mean.tolist(), "scale": self.scale.tolist(),
                "w1": self.w1.tolist(), "b1": self.b1.tolist(), "w2": self.w2.tolist(), "b2": self.b2,
                "platt": list(self.platt), "info": self.info}

    @classmethod
    def from_json(cls, d: dict[str, Any], expected: Sequence[str]) -> "Net":
        if list(d["features"]) != list(expected):
            raise ValueError("violence model feature names do not match this version's features")
        return cls(tuple(d["features"]), d["mean"], d["scale"], d["w1"], d["b1"], d["w2"], float(d["b2"]),
                   tuple(d.get("platt", (1.0, 0.0))), dict(d.get("info", {})))


@dataclass
class ViolenceModel:
    """The person network and, optionally, the pair network (see the module doc)."""

    person: Net
    pair: Net | None = None
    info: dict[str, Any] = field(default_factory=dict)

    kind = "model"

    def score_windows(self, windows: Sequence[np.ndarray]) -> np.ndarray:
        """``[N]`` violence of one-person 20 Hz SMPL-22 windows."""
        return self.person.score(person_matrix(windows))

    def score_pairs(self, a: Sequence[np.ndarray], b: Sequence[np.ndarray]) -> np.ndarray:
        """``[N]`` violence between the persons of windows ``a[i]`` and ``b[i]`` (shared
        frame), the more violent of the two directions; zeros without a pair network."""
        if self.pair is None or not len(a):
            return np.zeros(len(a))
        return self._pairs(a, b, person_matrix(a), person_matrix(b))

    def score_scene(self, windows: Sequence[np.ndarray],
                    pairs: Sequence[tuple[int, int]]) -> tuple[np.ndarray, np.ndarray]:
        """``([N], [M])``: the violence of each one-person window and of each pair
        ``(i, j)`` of them (as :meth:`score_pairs`), each window's descriptors computed once."""
        k = person_matrix(windows)
        if self.pair is None or not len(pairs):
            return self.person.score(k), np.zeros(len(pairs))
        i, j = (list(c) for c in zip(*pairs))
        return self.person.score(k), self._pairs([windows[x] for x in i], [windows[x] for x in j], k[i], k[j])

    def _pairs(self, a: Sequence[np.ndarray], b: Sequence[np.ndarray], ka: np.ndarray, kb: np.ndarray) -> np.ndarray:
        return np.maximum(self.pair.score(pair_matrix(a, b, ka, kb)), self.pair.score(pair_matrix(b, a, kb, ka)))

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "person": self.person.to_json(),
                **({"pair": self.pair.to_json()} if self.pair is not None else {}), "info": self.info}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> "ViolenceModel":
        pair = Net.from_json(d["pair"], PAIR_FEATURES) if "pair" in d else None
        return cls(Net.from_json(d["person"], PERSON_FEATURES), pair, dict(d.get("info", {})))
