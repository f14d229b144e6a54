"""Motion-text pre-training (TMR losses or CLIP for the ViT encoder)."""

from motionvigil.pretrain.trainer import PretrainRun, TrainSettings

__all__ = ["PretrainRun", "TrainSettings"]
