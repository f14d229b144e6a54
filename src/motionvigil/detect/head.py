"""A violent-vs-calm head: logistic regression on what a window's limbs do.

The prototype detector's score (cosine similarity to the nearest violent prototype)
ranks clips by how much they look like the *support clips*, and support clips from one
sensor teach it that sensor. The head scores instead what makes a strike a strike, in
units that carry across bodies and sensors (:mod:`motionvigil.features.kinematics`).
(An extra feature from the motion-text encoder, the margin between a window's nearest
violent and calm prototype, did not help on validation folds during development and is
not offered.)

It is trained on windows of the procedural corpus plus whatever labelled real clips the
user has (their support clips and calm background), with the features standardised and
the classes balanced. Its parameters are a few dozen numbers, stored in the detector's
``config.json``; scoring is numpy only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from motionvigil.features.kinematics import KINEMATIC_NAMES, kinematic_features, rows_by_length

FEATURE_SETS = ("kinematic",)  # stored with each head, so a future feature set is told apart


def feature_names(feature_set: str) -> tuple[str, ...]:
    if feature_set not in FEATURE_SETS:
        raise ValueError(f"unknown head feature set {feature_set!r}; known: {', '.join(FEATURE_SETS)}")
    return KINEMATIC_NAMES


def kinematic_matrix(windows: Sequence[np.ndarray]) -> np.ndarray:
    """``[N, len(KINEMATIC_NAMES)]`` kinematic features of 20 Hz SMPL-22 windows."""
    return rows_by_length(kinematic_features, windows, width=len(KINEMATIC_NAMES))


@dataclass
class ViolenceHead:
    """``P(violent | window) = sigmoid(coef . (x - mean) / scale + intercept)``.

    Attributes:
        feature_set: one of :data:`FEATURE_SETS` (which columns ``x`` holds).
        mean, scale: per-feature standardisation, fitted on the training windows.
        coef, intercept: the logistic regression.
        info: provenance (training counts, regularisation).
    """

    feature_set: str
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float
    info: dict[str, Any]

    def __post_init__(self) -> None:
        n = len(feature_names(self.feature_set))
        self.mean, self.scale, self.coef = (np.asarray(a, dtype=np.float64).reshape(-1)
                                            for a in (self.mean, self.scale, self.coef))
        if not (self.mean.shape == self.scale.shape == self.coef.shape == (n,)):
            raise ValueError(f"head feature set {self.feature_set!r} needs {n} means, scales and coefficients")
        if not (np.isfinite(self.mean).all() and np.isfinite(self.coef).all() and (self.scale > 0).all()
                and np.isfinite(self.intercept)):
            raise ValueError("head parameters must be finite, with positive scales")

    kind = "kinematic_head"
    pair = None  # the logistic head scores one person at a time

    def score_windows(self, windows: Sequence[np.ndarray]) -> np.ndarray:
        """``[N]`` violence probabilities of 20 Hz SMPL-22 windows."""
        return self.score(kinematic_matrix(windows))

    def score(self, kinematic: np.ndarray) -> np.ndarray:
        """``[N]`` violence probabilities of windows given their kinematic features."""
        x = np.asarray(kinematic, dtype=np.float64)
        logit = ((x - self.mean) / self.scale) @ self.coef + self.intercept
        return 1.0 / (1.0 + np.exp(-np.clip(logit, -60.0, 60.0)))

    @classmethod
    def fit(cls, x: np.ndarray, y: np.ndarray, feature_set: str, c: float = 1.0,
            weights: np.ndarray | None = None) -> "ViolenceHead":
        """Fit on features ``x [N, F]`` and labels ``y [N]`` (classes balanced; ``weights``
        multiply each window's weight, e.g. to let every clip count once)."""
        from sklearn.linear_model import LogisticRegression

        x = np.asarray(x, dtype=np.float64)
        y = np.asarray(y, dtype=bool)
        if x.ndim != 2 or x.shape[1] != len(feature_names(feature_set)) or len(x) != len(y):
            raise ValueError(f"head training needs x [N, {len(feature_names(feature_set))}] and y [N]")
        if y.all() or not y.any():
            raise ValueError("head training needs both violent and calm windows")
        w = np.ones(len(y)) if weights is None else np.asarray(weights, dtype=np.float64)
        for label in (True, False):  # balance the classes by total weight
            w = np.where(y == label, w / w[y == label].sum() * len(y) / 2.0, w)
        mean = x.mean(axis=0)
        scale = np.maximum(x.std(axis=0), 1e-6)
        model = LogisticRegression(C=c, max_iter=5000)
        model.fit((x - mean) / scale, y, sample_weight=w)
        info = {"c": c, "n_violent": int(y.sum()), "n_calm": int((~y).sum())}
        return cls(feature_set, mean, scale, model.coef_[0], float(model.intercept_[0]), info)

    def to_json(self) -> dict[str, Any]:
        return {"feature_set": self.feature_set, "features": list(feature_names(self.feature_set)),
                "mean": self.mean.tolist(), "scale": self.scale.tolist(), "coef": self.coef.tolist(),
                "intercept": self.intercept, "info": self.info}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> "ViolenceHead":
        head = cls(str(d["feature_set"]), d["mean"], d["scale"], d["coef"], float(d["intercept"]),
                   dict(d.get("info", {})))
        if list(d.get("features", feature_names(head.feature_set))) != list(feature_names(head.feature_set)):
            raise ValueError("head feature names do not match this version's features")
        return head
