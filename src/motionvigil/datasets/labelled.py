"""Clips over a fixed class vocabulary, as label matrices: what few-shot and supervised
learning consume."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from motionvigil.datasets.clip import Clip
from motionvigil.datasets.violence import is_violent


@dataclass(frozen=True)
class LabelledSet:
    """Clips with a fixed class vocabulary: ``labels [n, C]`` multi-hot, ``violent [C]``."""

    clips: tuple[Clip, ...]
    classes: tuple[str, ...]
    labels: np.ndarray
    violent: np.ndarray

    @classmethod
    def build(cls, clips: Sequence[Clip], classes: Sequence[str]) -> "LabelledSet":
        index = {c: i for i, c in enumerate(classes)}
        labels = np.zeros((len(clips), len(classes)), dtype=bool)
        for row, clip in enumerate(clips):
            for label in clip.labels:
                if label in index:
                    labels[row, index[label]] = True
        violent = np.array([is_violent(c) for c in classes], dtype=bool)
        return cls(tuple(clips), tuple(classes), labels, violent)

    def class_counts(self) -> np.ndarray:
        return self.labels.sum(0)
