"""Motion features: HumanML3D 263-dim vectors (TMR encoder) and motion patches (ViT encoder)."""

from motionvigil.features.humanml3d import FEATURE_DIM, features_to_joints, joints_to_features
from motionvigil.features.normalize import Normalizer
from motionvigil.features.patches import fit_point_stats, image_to_patches, motion_image

__all__ = [
    "FEATURE_DIM",
    "Normalizer",
    "features_to_joints",
    "fit_point_stats",
    "image_to_patches",
    "joints_to_features",
    "motion_image",
]
