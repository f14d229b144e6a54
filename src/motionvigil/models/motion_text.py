"""The motion-text model: a motion encoder and a text encoder into one embedding space.

``motion_encoder="tmr"``: TMR (Petrovich et al. 2023) - ACTOR-style Transformer VAE
encoders for motion features and for text token embeddings, plus a motion decoder used
by the reconstruction losses. ``motion_encoder="vit"``: motion patches through a ViT
(Motion Patches [docs/papers.md]), with the same text encoder, trained with a plain CLIP loss.
``motion_encoder="unik"``: a UNIK-style backbone over SMPL-22 joints (T-MOR).
"""

from __future__ import annotations

import torch
from torch import nn

from motionvigil.models.actor import ActorDecoder, ActorEncoder
from motionvigil.models.config import ModelConfig
from motionvigil.models.unik import UnikEncoder
from motionvigil.models.vit import MotionViT


class MotionTextModel(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.cfg = cfg
        d = cfg.transformer.latent_dim
        self.text_encoder = ActorEncoder(cfg.text_feats, cfg.transformer, vae=cfg.vae)
        self.text_proj = nn.Identity() if d == cfg.embed_dim else nn.Linear(d, cfg.embed_dim)
        if cfg.motion_encoder == "tmr":
            if d != cfg.embed_dim:
                raise ValueError("the TMR encoder's latent_dim must equal embed_dim")
            self.motion_encoder: nn.Module = ActorEncoder(cfg.motion_feats, cfg.transformer, vae=cfg.vae)
            self.motion_decoder: nn.Module | None = ActorDecoder(cfg.motion_feats, cfg.transformer)
        elif cfg.motion_encoder == "vit":
            self.motion_encoder = MotionViT(cfg.vit, cfg.embed_dim)
            self.motion_decoder = None
        elif cfg.motion_encoder == "unik":
            self.motion_encoder = UnikEncoder(cfg.unik, cfg.embed_dim)
            self.motion_decoder = None
        else:
            raise ValueError(f"unknown motion encoder {cfg.motion_encoder!r}")

    @property
    def is_vae(self) -> bool:
        return self.cfg.motion_encoder == "tmr" and self.cfg.vae

    # ---- distributions (training) -----------------------------------------------------
    def motion_distribution(self, motion: torch.Tensor, mask: torch.Tensor):
        """``(mu, logvar)`` of the motion (``logvar`` is None for the ViT, UNIK or a non-VAE)."""
        if self.cfg.motion_encoder in ("vit", "unik"):
            return self.motion_encoder(motion, mask), None
        return self.motion_encoder(motion, mask)

    def text_distribution(self, tokens: torch.Tensor, mask: torch.Tensor):
        mu, logvar = self.text_encoder(tokens, mask)
        if logvar is not None and isinstance(self.text_proj, nn.Identity):
            return mu, logvar
        return self.text_proj(mu), None

    # ---- embeddings (evaluation: the mean) --------------------------------------------
    def encode_motion(self, motion: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Motion embeddings ``[B, embed_dim]`` (the VAE mean)."""
        return self.motion_distribution(motion, mask)[0]

    def encode_text(self, tokens: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Text embeddings ``[B, embed_dim]`` from frozen token embeddings ``[B, L, 384]``."""
        return self.text_distribution(tokens, mask)[0]

    def decode(self, latent: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        if self.motion_decoder is None:
            raise RuntimeError(f"this model has no motion decoder ({self.cfg.motion_encoder} encoder)")
        return self.motion_decoder(latent, mask)
