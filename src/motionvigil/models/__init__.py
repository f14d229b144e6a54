"""Models: motion encoders (TMR Transformer VAE, motion-patch ViT) and the text side."""

from motionvigil.models.config import PRESETS, ModelConfig, preset
from motionvigil.models.motion_text import MotionTextModel

__all__ = ["PRESETS", "ModelConfig", "MotionTextModel", "preset"]
