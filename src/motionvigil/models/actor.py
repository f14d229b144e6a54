"""ACTOR-style Transformer encoder and decoder, in the form TMR uses (Petrovich et al.).

The encoder prepends learnable distribution tokens (``mu`` and ``logvar`` for a VAE,
one token otherwise) to the projected input sequence, adds sinusoidal positions, runs a
Transformer encoder with a key-padding mask, and reads the distribution off the token
outputs. In eval mode the layers run through ``lean_encoder`` (same weights; the last
layer computes the token rows only). The decoder turns one latent vector into a sequence: sinusoidal time queries
cross-attend to the latent in a Transformer decoder, and a linear layer maps to features.
"""

from __future__ import annotations

import torch
from torch import nn

from motionvigil.models.config import TransformerConfig
from motionvigil.models.lean_encoder import encode, hidden_states
from motionvigil.models.positional import SinusoidalPositions


class ActorEncoder(nn.Module):
    """``[B, T, in_feats]`` + mask ``[B, T]`` (True = valid) -> ``mu`` (and ``logvar``) ``[B, D]``."""

    def __init__(self, in_feats: int, cfg: TransformerConfig, vae: bool = True):
        super().__init__()
        d = cfg.latent_dim
        self.vae = vae
        self.num_tokens = 2 if vae else 1
        self.projection = nn.Linear(in_feats, d)
        self.tokens = nn.Parameter(torch.randn(self.num_tokens, d))
        self.positions = SinusoidalPositions(d, cfg.dropout)
        layer = nn.TransformerEncoderLayer(
            d, cfg.num_heads, cfg.ff_size, cfg.dropout, activation="gelu", batch_first=True
        )
        self.encoder = nn.TransformerEncoder(layer, cfg.num_layers, enable_nested_tensor=False)

    def embed(self, x: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Input sequence -> ``(tokens + projected frames + positions [B, S, D], valid [B, S])``."""
        batch = x.shape[0]
        seq = torch.cat([self.tokens.expand(batch, -1, -1), self.projection(x)], dim=1)
        valid = torch.cat([mask.new_ones(batch, self.num_tokens), mask], dim=1)
        return self.positions(seq), valid

    def hidden(self, x: torch.Tensor, mask: torch.Tensor, layers: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Eval mode: the states after the first ``layers`` Transformer layers, with ``valid``."""
        return hidden_states(self, x, mask, layers)

    def forward(self, x: torch.Tensor, mask: torch.Tensor,
                start_layer: int = 0) -> tuple[torch.Tensor, torch.Tensor | None]:
        """With ``start_layer > 0`` (eval mode), ``x, mask`` are ``hidden(..., start_layer)``."""
        out = encode(self, x, mask, start_layer, readout_rows=self.num_tokens)
        mu = out[:, 0]
        logvar = out[:, 1] if self.vae else None
        return mu, logvar


class ActorDecoder(nn.Module):
    """Latent ``[B, D]`` + mask ``[B, T]`` -> features ``[B, T, out_feats]`` (zeros where masked)."""

    def __init__(self, out_feats: int, cfg: TransformerConfig):
        super().__init__()
        d = cfg.latent_dim
        self.positions = SinusoidalPositions(d, cfg.dropout)
        layer = nn.TransformerDecoderLayer(
            d, cfg.num_heads, cfg.ff_size, cfg.dropout, activation="gelu", batch_first=True
        )
        self.decoder = nn.TransformerDecoder(layer, cfg.num_layers)
        self.output = nn.Linear(d, out_feats)

    def forward(self, z: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        batch, frames = mask.shape
        queries = self.positions(z.new_zeros(batch, frames, z.shape[-1]))
        out = self.decoder(tgt=queries, memory=z[:, None], tgt_key_padding_mask=~mask)
        return self.output(out) * mask[..., None]
