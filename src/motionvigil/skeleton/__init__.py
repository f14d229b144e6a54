"""Skeleton geometry: SMPL-22 kinematics, retargeting, resampling, canonical frame."""

from motionvigil.skeleton.canonical import canonicalize
from motionvigil.skeleton.mappings import MAPPINGS, mapping_matrix
from motionvigil.skeleton.resample import resample_joints
from motionvigil.skeleton.retarget import TARGET_FPS, to_smpl22

__all__ = ["MAPPINGS", "TARGET_FPS", "canonicalize", "mapping_matrix", "resample_joints", "to_smpl22"]
