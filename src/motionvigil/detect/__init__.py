"""Detection: few-shot violence detectors over sliding windows, offline and streaming.

- :class:`Detector` (``detector.py``): model + class prototypes + threshold; build from
  support clips (optionally MAML-adapted) or class-name prompts; save/load one folder.
- :class:`StreamingDetector` (``stream.py``): push raw frames of any layout and rate,
  get a :class:`WindowResult` per completed window.
- :func:`detect_motion` (``timeline.py``): all windows of a file, alert segments and JSON
  (the PNG plot: :func:`motionvigil.report.timeline.plot_timeline`).
- Several persons (docs/persons.md): ``scene.py`` holds what offline and streaming share
  (:data:`MIN_PRESENT`, the window each person is scored on); a :class:`Timeline` of
  multi-person input has a :class:`Track` per person and a :class:`PairTrack` per pair.
"""

from motionvigil.detect.detector import Detector
from motionvigil.detect.scene import MIN_PRESENT
from motionvigil.detect.stream import StreamingDetector, StreamRetargeter
from motionvigil.detect.timeline import (
    AlertSegment,
    PairTrack,
    Timeline,
    Track,
    alert_segments,
    detect_motion,
    timeline_json,
)
from motionvigil.detect.windows import DEFAULT_STRIDE, DEFAULT_WINDOW, WindowResult

__all__ = [
    "DEFAULT_STRIDE",
    "DEFAULT_WINDOW",
    "MIN_PRESENT",
    "AlertSegment",
    "Detector",
    "StreamRetargeter",
    "PairTrack",
    "StreamingDetector",
    "Timeline",
    "Track",
    "WindowResult",
    "alert_segments",
    "detect_motion",
    "timeline_json",
]
