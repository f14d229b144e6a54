"""Model configurations and the ``paper`` / ``tiny`` presets."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from motionvigil.features.humanml3d import FEATURE_DIM

TEXT_TOKEN_DIM = 384  # all-MiniLM-L6-v2 hidden size


@dataclass(frozen=True)
class TransformerConfig:
    """Size of one Transformer stack."""

    latent_dim: int = 256
    ff_size: int = 1024
    num_layers: int = 6
    num_heads: int = 4
    dropout: float = 0.1


@dataclass(frozen=True)
class ViTConfig:
    """ViT over motion patches (Motion Patches [docs/papers.md]: ViT-B/16, patches 16x16,
    224 frames -> 70 patches)."""

    width: int = 768
    num_layers: int = 12
    num_heads: int = 12
    mlp_size: int = 3072
    dropout: float = 0.0
    patch_size: int = 16
    max_frames: int = 224
    num_points: int = 80  # 5 chains x 16 points


@dataclass(frozen=True)
class UnikConfig:
    """UNIK-style skeleton backbone (T-MOR / Yang et al. 2021): one block per entry of
    ``channels`` (spatial attention over joints + learnable dependency matrix, then a
    temporal convolution), spatio-temporal pooling. Input: SMPL-22 joints ``[T, 22, 3]``."""

    channels: tuple[int, ...] = (64, 64, 64, 64, 128, 128, 128, 256, 256, 256)
    num_heads: int = 3
    attn_dim: int = 16
    temporal_kernel: int = 9
    dropout: float = 0.0
    num_joints: int = 22


@dataclass(frozen=True)
class ModelConfig:
    """Everything needed to rebuild a motion-text model from its checkpoint.

    Attributes:
        motion_encoder: ``"tmr"`` (Transformer VAE over 263-dim features), ``"vit"``
            (ViT over motion patches) or ``"unik"`` (UNIK-style backbone over joints).
        embed_dim: size of the shared motion-text embedding.
        max_frames: clips are cropped to this many frames (20 Hz) for training.
    """

    preset: str = "paper"
    motion_encoder: str = "tmr"
    embed_dim: int = 256
    motion_feats: int = FEATURE_DIM
    text_feats: int = TEXT_TOKEN_DIM
    transformer: TransformerConfig = field(default_factory=TransformerConfig)
    vit: ViTConfig = field(default_factory=ViTConfig)
    unik: UnikConfig = field(default_factory=UnikConfig)
    vae: bool = True
    max_frames: int = 200

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["unik"]["channels"] = list(data["unik"]["channels"])  # as JSON stores it
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "ModelConfig":
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown model config keys: {sorted(unknown)}")
        data = dict(data)
        if "transformer" in data:
            data["transformer"] = TransformerConfig(**data["transformer"])
        if "vit" in data:
            data["vit"] = ViTConfig(**data["vit"])
        if "unik" in data:
            data["unik"] = UnikConfig(**{**data["unik"], "channels": tuple(data["unik"].get("channels", ()))})
        return cls(**data)


PRESETS: dict[str, ModelConfig] = {
    # TMR sizes: 6 layers, 4 heads, d=256, ff=1024, GELU, dropout 0.1; ViT-B/16.
    "paper": ModelConfig(preset="paper"),
    # Small enough to train in minutes on 2 CPU cores.
    "tiny": ModelConfig(
        preset="tiny",
        embed_dim=128,
        transformer=TransformerConfig(latent_dim=128, ff_size=256, num_layers=2, num_heads=4, dropout=0.1),
        vit=ViTConfig(width=128, num_layers=2, num_heads=4, mlp_size=256, dropout=0.0),
        unik=UnikConfig(channels=(32, 64, 64), num_heads=3, attn_dim=8, temporal_kernel=9),
        max_frames=64,  # 3.2 s windows at 20 Hz keep CPU adaptation fast
    ),
}


def preset(name: str, motion_encoder: str = "tmr") -> ModelConfig:
    """The named preset with the chosen motion encoder (``"tmr"``, ``"vit"`` or ``"unik"``)."""
    if name not in PRESETS:
        raise KeyError(f"unknown preset {name!r}; choose from {', '.join(PRESETS)}")
    if motion_encoder not in ("tmr", "vit", "unik"):
        raise ValueError(f"motion_encoder must be 'tmr', 'vit' or 'unik', got {motion_encoder!r}")
    return dataclasses.replace(PRESETS[name], motion_encoder=motion_encoder)
