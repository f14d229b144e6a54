"""Sliding windows over 20 Hz SMPL-22 joints, and their embeddings.

A detector looks at fixed-length windows of ``window`` frames at 20 Hz that start every
``stride`` frames from the first frame of a motion (or stream): windows
``[s, s + window)`` for ``s = 0, stride, 2 stride, ...`` with ``s + window`` not past the
end. A motion shorter than one window gets a single window covering all of it. Each
window is put in the canonical frame on its own (feet on the floor, start at the XZ
origin, facing +Z), exactly as a support clip is, so a window's embedding does not
depend on what happened before it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from motionvigil.datasets.clip import FPS, Clip
from motionvigil.models.bundle import MotionTextBundle
from motionvigil.skeleton.canonical import canonicalize

DEFAULT_WINDOW = 64  # frames at 20 Hz = 3.2 s (the tiny preset's max_frames)
DEFAULT_STRIDE = 10  # frames at 20 Hz = 0.5 s

EmbedFn = Callable[[Sequence[np.ndarray]], np.ndarray]  # windows -> [N, D] embeddings


def window_starts(num_frames: int, window: int, stride: int) -> list[int]:
    """Start frames of the windows of a ``num_frames``-frame motion (see the module doc)."""
    if window < 2 or stride < 1:
        raise ValueError(f"need window >= 2 and stride >= 1 frames, got {window}, {stride}")
    if num_frames < 2:
        return []
    if num_frames < window:
        return [0]
    return list(range(0, num_frames - window + 1, stride))


def alert_runs(starts: np.ndarray, ends: np.ndarray, hold: float = 0.0) -> list[tuple[int, int]]:
    """``(first, last)`` indices of each alert in alerting windows sorted by ``starts``
    (``ends`` theirs, in the same unit): a window joins the current alert when it starts
    no later than ``hold`` after the latest end so far (``hold`` 0: windows whose spans
    overlap or touch; a longer hold keeps an alert open through lulls). Offline scans, the
    study's counts and ``detect``'s alert segments all merge windows this way."""
    starts, ends = np.asarray(starts, np.float64), np.asarray(ends, np.float64)
    if starts.size == 0:
        return []
    reach = np.maximum.accumulate(ends)
    breaks = np.flatnonzero(starts[1:] > reach[:-1] + hold + 1e-9)
    return list(zip(np.r_[0, breaks + 1].tolist(), np.r_[breaks, starts.size - 1].tolist()))


def window_clip(joints: np.ndarray, clip_id: str = "window") -> Clip:
    """An unlabelled clip of SMPL-22 joints ``[T, 22, 3]`` (20 Hz) in its own canonical frame."""
    return Clip(clip_id, canonicalize(joints).astype(np.float32), (), False, "detect")


def centre_crop(clip: Clip, window: int) -> Clip:
    """``clip`` cut to its centred ``window`` frames (re-canonicalised); unchanged if shorter.

    Support clips are cropped like this so prototypes describe what a detection window
    sees: the same duration, in the same frame of reference.
    """
    excess = clip.num_frames - window
    if excess <= 0:
        return clip
    start = excess // 2
    joints = canonicalize(clip.joints[start : start + window]).astype(np.float32)
    return Clip(clip.clip_id, joints, clip.labels, clip.violent, clip.dataset, subject=clip.subject,
                source=clip.source, captions=clip.captions, split=clip.split,
                meta=dict(clip.meta, crop=(start, start + window)))


def embed_windows(bundle: MotionTextBundle, windows: Sequence[np.ndarray], batch_size: int = 64) -> np.ndarray:
    """Embeddings ``[N, D]`` of 20 Hz SMPL-22 joint windows (each canonicalised first)."""
    return bundle.embed_clips([window_clip(w) for w in windows], batch_size=batch_size)


def gated(violence: np.ndarray | None, gate: float | None, n: int) -> np.ndarray:
    """Rows of the ``n`` windows the encoder embeds: all of them without a ``gate`` or
    without violence scores (a detector with no head), else those with ``violence >= gate``."""
    if gate is None or violence is None:
        return np.arange(n)
    return np.flatnonzero(np.asarray(violence) >= gate)


def seconds(frames: int) -> float:
    """Frames at 20 Hz -> seconds."""
    return frames / FPS


@dataclass(frozen=True)
class WindowResult:
    """The detector's verdict on one window.

    Attributes:
        start_s, end_s: the window's time span ``[start_s, end_s)`` in seconds from the
            first frame of the motion (or stream).
        scores: cosine similarity of the window to each class prototype.
        violence: the highest score over the violent classes.
        alert: ``violence >= threshold``.
        violent_class: the violent class with that highest score.
        persons: whose window it is: ``()`` for the one body of a one-person motion or
            stream (as before persons existed), ``(id,)`` for one person of a
            multi-person input, ``(a, b)`` with ``a < b`` for the pair of persons ``a``
            and ``b`` (see docs/persons.md).
    """

    start_s: float
    end_s: float
    scores: dict[str, float]
    violence: float
    alert: bool
    violent_class: str = ""
    persons: tuple[int, ...] = ()

    @property
    def top_class(self) -> str:
        """The best-scoring class over all classes ("" for a window the cascade did not embed)."""
        return max(self.scores, key=self.scores.__getitem__) if self.scores else ""
