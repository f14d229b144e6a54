"""Motion I/O: every supported file format becomes a :class:`Motion`.

``load_motion(path)`` picks the reader from the file's extension and content.
"""

from motionvigil.errors import MotionFileError
from motionvigil.io.layouts import KINECT_MSR, KINECT_SBU15, KINECT_SDK, KINECT_UTD, SMPL22
from motionvigil.io.load import load_motion, supported_formats
from motionvigil.io.motion import Layout, Motion, validate_joints

__all__ = [
    "KINECT_MSR",
    "KINECT_SBU15",
    "KINECT_SDK",
    "KINECT_UTD",
    "SMPL22",
    "Layout",
    "Motion",
    "MotionFileError",
    "load_motion",
    "supported_formats",
    "validate_joints",
]
