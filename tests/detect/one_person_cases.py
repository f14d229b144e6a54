"""One-person outputs that the persons work must keep byte-identical.

``one_person_expected.json`` was written by this module on main at 17a37f5, before
multi-person detection existed; test_persons_unchanged.py recomputes the same outputs
and compares them byte for byte. Do not regenerate the file to make that test pass.

Usage (from the repository root): ``PYTHONPATH=src:tests python tests/detect/one_person_cases.py``
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from scenes import sequence, tiny_detector, with_threshold

from motionvigil.datasets.synthetic.sensors import as_kinect_sdk
from motionvigil.detect import StreamingDetector, detect_motion, timeline_json
from motionvigil.detect.timeline import format_alerts
from motionvigil.io import KINECT_SDK, SMPL22, Motion
from motionvigil.skeleton.resample import resample_joints

EXPECTED = Path(__file__).with_name("one_person_expected.json")


def cases(detector) -> dict:
    seq = sequence()
    kinect = as_kinect_sdk(resample_joints(seq, 20.0, 30.0))
    return {"smpl22_20hz": (detector, Motion(seq, 20.0, SMPL22, source="seq.npz")),
            "smpl22_threshold_0.99": (with_threshold(detector, 0.99), Motion(seq, 20.0, SMPL22, source="seq.npz")),
            "kinect_sdk_30hz": (detector, Motion(kinect, 30.0, KINECT_SDK, source="kin.txt"))}


def outputs(detector, motion: Motion) -> dict[str, str]:
    """``detect --json``, the text ``detect`` prints, and the stream's results (7-frame pushes)."""
    timeline = detect_motion(detector, motion)
    stream = StreamingDetector(detector)
    results = [r for i in range(0, motion.num_frames, 7)
               for r in stream.push(motion.joints[i : i + 7], motion.layout, motion.fps)]
    return {"json": json.dumps(timeline_json(timeline)), "text": format_alerts(timeline, motion.source),
            "stream": json.dumps([[r.start_s, r.end_s, round(r.violence, 6), r.alert, r.violent_class,
                                   list(r.persons)] for r in results])}


if __name__ == "__main__":
    detector = tiny_detector()
    EXPECTED.write_text(json.dumps({name: outputs(d, m) for name, (d, m) in cases(detector).items()}, indent=1))
    print(f"wrote {EXPECTED}", file=sys.stderr)
