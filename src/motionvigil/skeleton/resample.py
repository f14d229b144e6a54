"""Change the frame rate of a joint sequence by linear interpolation in time."""

from __future__ import annotations

import numpy as np
from scipy.interpolate import interp1d


def resample_joints(joints: np.ndarray, fps_in: float, fps_out: float) -> np.ndarray:
    """Resample ``[T, J, 3]`` joints sampled at ``fps_in`` to ``fps_out``.

    Output frames are at times ``k / fps_out`` for every ``k`` with ``k / fps_out`` not
    past the last input frame, so a 120 Hz clip becomes every 6th frame exactly (what
    HumanML3D's down-sampling by striding gives) and 15 or 30 Hz Kinect clips are
    interpolated linearly. Returns float32.
    """
    if fps_in <= 0 or fps_out <= 0:
        raise ValueError(f"frame rates must be positive, got {fps_in} -> {fps_out}")
    joints = np.asarray(joints)
    if np.isclose(fps_in, fps_out):
        return joints.astype(np.float32, copy=True)
    t_in = np.arange(len(joints)) / fps_in
    n_out = int(np.floor(t_in[-1] * fps_out + 1e-6)) + 1
    t_out = np.minimum(np.arange(n_out) / fps_out, t_in[-1])
    return interp1d(t_in, joints, axis=0, assume_sorted=True)(t_out).astype(np.float32)
