"""The unit every learning stage consumes: a ``Clip``, and a ``Dataset`` of clips."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from motionvigil.features.humanml3d import joints_to_features

FPS = 20.0


@dataclass(frozen=True)
class Segment:
    """A labelled frame range ``[start, end)`` of a clip, in frames at 20 Hz."""

    label: str
    start: int
    end: int

    def __post_init__(self) -> None:
        if not 0 <= self.start < self.end:
            raise ValueError(f"segment {self.label!r}: need 0 <= start < end, got {self.start}, {self.end}")


@dataclass
class Clip:
    """One motion with its annotations.

    Attributes:
        clip_id: unique within its dataset.
        joints: ``[T, 22, 3]`` float32, SMPL-22 layout, 20 Hz, metres, canonical frame.
        labels: the clip's class labels (multi-label; may be empty for caption-only data).
        violent: whether any label is violent (see ``datasets.violence``).
        dataset: name of the dataset it came from.
        subject: performer id (for subject-disjoint splits), if known.
        source: the file it was read from.
        segments: frame-level labels for multi-action clips.
        captions: natural-language descriptions.
        split: ``"train"``, ``"val"``, ``"test"`` or ``None``.
        features: ``[T-1, 263]`` HumanML3D features if already known (else computed on demand).
    """

    clip_id: str
    joints: np.ndarray
    labels: tuple[str, ...]
    violent: bool
    dataset: str
    subject: str | None = None
    source: str | None = None
    segments: tuple[Segment, ...] = ()
    captions: tuple[str, ...] = ()
    split: str | None = None
    features: np.ndarray | None = field(default=None, repr=False)
    meta: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def num_frames(self) -> int:
        return int(self.joints.shape[0])

    def get_features(self) -> np.ndarray:
        """HumanML3D features ``[T-1, 263]``, computed once and kept."""
        if self.features is None:
            self.features = joints_to_features(self.joints)
        return self.features


@dataclass
class Dataset:
    """A named list of clips with its class vocabulary."""

    name: str
    clips: list[Clip]
    classes: tuple[str, ...]
    violent_classes: tuple[str, ...] = ()
    description: str = ""
    bad_files: list[tuple[str, str]] = field(default_factory=list)  # (file, problem) of skipped inputs

    def __len__(self) -> int:
        return len(self.clips)

    def __iter__(self):
        return iter(self.clips)

    def split(self, name: str) -> "Dataset":
        """The clips of one split (same vocabulary)."""
        return replace(self, clips=[c for c in self.clips if c.split == name])

    def class_counts(self) -> dict[str, int]:
        counts = Counter(label for clip in self.clips for label in clip.labels)
        return {c: counts.get(c, 0) for c in self.classes}

    def info(self) -> dict[str, Any]:
        """Summary as printed by ``motionvigil data info``."""
        splits = Counter(c.split for c in self.clips if c.split is not None)
        return {
            "name": self.name,
            "clips": len(self.clips),
            "classes": len(self.classes),
            "violent_classes": len(self.violent_classes),
            "subjects": len({c.subject for c in self.clips if c.subject is not None}),
            "splits": dict(sorted(splits.items())),
            "frames": int(sum(c.num_frames for c in self.clips)),
        }
