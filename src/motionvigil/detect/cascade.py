"""The cascade: the violence score decides, the motion encoder only names the class.

A detector with a violence head (:meth:`Detector.with_head`, the built-in detector)
decides whether a window alerts from body kinematics alone; the motion encoder's
embedding only names the violent class of an alerting window. :class:`Cascade` scores
every window with :meth:`Detector.violence` and runs the encoder, in one batch, only on
the windows whose violence reaches ``gate``. With ``gate <= threshold`` (the default is
the threshold itself) every alerting window is embedded, so the alerts (their spans,
classes and scores) are exactly those of :meth:`Detector.score_windows`; windows below
the gate get no class scores (``scores == {}``, ``violent_class == ""``). A lower gate
also names the class of near misses, at the cost of more encoder calls.

A detector without a head (the prototypes' score needs the embedding) gets no cascade:
every window is embedded, as before.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from motionvigil.detect.detector import Detector
from motionvigil.detect.windows import EmbedFn, WindowResult, embed_windows


@dataclass
class CascadeCounts:
    """Windows scored and windows embedded since the cascade was made."""

    windows: int = 0
    embedded: int = 0

    @property
    def encoder_windows_saved(self) -> int:
        return self.windows - self.embedded


class Cascade:
    """``score_windows`` of ``detector`` with the encoder gated by the violence score.

    Args:
        detector: the detector (its threshold, classes, head).
        embed: windows -> ``[N, D]`` embeddings (default: the detector's own
            :func:`~motionvigil.detect.windows.embed_windows`; ``serve`` passes its batched path).
        gate: embed windows whose violence is ``>= gate``; default the detector's threshold.
            Above the threshold an alerting window could go unnamed, so that is refused.
    """

    def __init__(self, detector: Detector, embed: EmbedFn | None = None, gate: float | None = None):
        self.detector = detector
        self.window, self.stride, self.threshold = detector.window, detector.stride, detector.threshold
        self._embed = embed or (lambda ws: embed_windows(detector.bundle, ws))
        self.gate = detector.threshold if gate is None else float(gate)
        if self.gate > detector.threshold:
            raise ValueError(f"the cascade's gate {self.gate:g} is above the alert threshold "
                             f"{detector.threshold:g}: alerting windows would not be named")
        self.counts = CascadeCounts()

    @property
    def gated(self) -> bool:
        """True when the encoder is gated (the detector has a violence head)."""
        return self.detector.head is not None

    def _counted(self, windows: Sequence[np.ndarray]) -> np.ndarray:
        self.counts.embedded += len(windows)
        return self._embed(windows)

    def score_windows(self, windows: Sequence[np.ndarray], starts: Sequence[int]) -> list[WindowResult]:
        """Results for 20 Hz SMPL-22 ``windows`` starting at frames ``starts`` (see the module doc)."""
        self.counts.windows += len(windows)
        return self.detector.score_windows(windows, starts, gate=self.gate, embed=self._counted)

    def score_scenes(self, starts: Sequence[int], scenes: Sequence[dict[int, np.ndarray]]) -> list[list[WindowResult]]:
        """:meth:`Detector.score_scenes` with the encoder gated (persons and their pairs)."""
        self.counts.windows += sum(len(scene) for scene in scenes)
        return self.detector.score_scenes(starts, scenes, gate=self.gate, embed=self._counted)

    def score_scene(self, starts: Sequence[int], scenes: Sequence[dict[int, np.ndarray]]) -> list[WindowResult]:
        """:meth:`Detector.score_scene` with the encoder gated (persons and their pairs)."""
        return [r for group in self.score_scenes(starts, scenes) for r in group]
