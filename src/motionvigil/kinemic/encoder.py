"""The pre-trained motion encoder (a TMR ``MotionTextBundle`` over 263-dim features)
as used by synthesis: embedding raw feature windows, and embedding the denoiser's
predicted x0 differentiably (for the contrastive term)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from motionvigil.features.normalize import Normalizer
from motionvigil.kinemic.data import crop
from motionvigil.models.bundle import MotionTextBundle


def load_encoder(path: str | Path, device: str | torch.device = "cpu") -> MotionTextBundle:
    """A pre-trained motion encoder (on ``device``): a model folder, or a pre-training run
    (its ``best/``)."""
    folder = Path(path)
    if (folder / "best" / "config.json").is_file():
        folder = folder / "best"
    return MotionTextBundle.load(folder, device)


def check_bundle(bundle: MotionTextBundle) -> None:
    if bundle.inputs.kind != "tmr":
        raise ValueError(f"synthesis needs a motion encoder over HumanML3D features (kind 'tmr'), "
                         f"got {bundle.inputs.kind!r}")


@torch.no_grad()
def embed_features(bundle: MotionTextBundle, feats: Sequence[np.ndarray], batch_size: int = 64) -> np.ndarray:
    """Embeddings ``[N, D]`` of raw (unnormalised) feature sequences (centred crops)."""
    bundle.model.eval()
    out = []
    for start in range(0, len(feats), batch_size):
        seqs = [crop(bundle.inputs.normalizer.normalize(f), bundle.inputs.max_frames, None)
                for f in feats[start : start + batch_size]]
        x, mask = bundle.inputs.collate(seqs)
        out.append(bundle.model.encode_motion(x.to(bundle.device), mask.to(bundle.device)).cpu().numpy())
    return np.concatenate(out) if out else np.zeros((0, bundle.config.embed_dim), np.float32)


def encode_normalised(bundle: MotionTextBundle, x0: torch.Tensor, valid: torch.Tensor,
                      normalizer: Normalizer) -> torch.Tensor:
    """Differentiable embeddings ``[B, D]`` of features normalised with the synthesis
    ``normalizer`` (re-normalised with the encoder's statistics)."""
    dev = x0.device
    raw = x0 * torch.from_numpy(normalizer.std).to(dev) + torch.from_numpy(normalizer.mean).to(dev)
    enc = bundle.inputs.normalizer
    x = (raw - torch.from_numpy(enc.mean).to(dev)) / torch.from_numpy(enc.std).to(dev)
    x = x * valid[..., None]
    n = bundle.inputs.max_frames
    return bundle.model.encode_motion(x[:, :n], valid[:, :n])
