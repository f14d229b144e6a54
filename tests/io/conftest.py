"""The video tests' OpenCV fixture: skips without the video extra, except under
``make test-video`` (MOTIONVIGIL_REQUIRE_VIDEO=1), where a missing extra is a failure."""

from __future__ import annotations

import os

import pytest


@pytest.fixture(scope="module")
def cv2():
    if os.environ.get("MOTIONVIGIL_REQUIRE_VIDEO"):  # make test-video: never skip
        import cv2
        import mediapipe  # noqa: F401
        import supervision  # noqa: F401

        return cv2
    pytest.importorskip("mediapipe", reason="mediapipe not installed (pip install -e '.[video]')")
    pytest.importorskip("supervision", reason="supervision not installed (comes with the video extra)")
    return pytest.importorskip("cv2", reason="OpenCV not installed (comes with the video extra)")
