"""ONNX export of a detector's scoring network: motion features -> embedding and class scores.

The exported graph takes normalised HumanML3D features ``motion [B, T, 263]`` (float32)
and ``mask [B, T]`` (bool, True = valid frame), batch size and length dynamic, and
returns ``mu [B, D]`` (the motion embedding, the VAE mean) and ``scores [B, C]`` (cosine
similarity to each class prototype). Windows, features and the kinematic head stay in
Python (:class:`~motionvigil.serve.fastpath.BatchScorer` / :meth:`Detector.score_windows`);
the graph replaces the encoder call. The encoder's eval path (:mod:`.lean_encoder`) is
what is traced. ``tests/models/test_onnx_export.py`` checks ONNX Runtime against PyTorch
(max abs diff < 1e-4).
"""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import numpy as np
import torch
from torch import nn

OPSET = 17


class _Scoring(nn.Module):
    def __init__(self, encoder: nn.Module, prototypes: np.ndarray | None):
        super().__init__()
        self.encoder = encoder
        protos = torch.zeros(1, 1) if prototypes is None else torch.as_tensor(prototypes, dtype=torch.float32)
        self.register_buffer("prototypes", protos)
        self.has_prototypes = prototypes is not None

    def forward(self, motion: torch.Tensor, mask: torch.Tensor):
        mu = self.encoder(motion, mask)[0]
        if not self.has_prototypes:
            return (mu,)
        z = mu / mu.norm(dim=-1, keepdim=True).clamp_min(1e-12)
        return mu, z @ self.prototypes.T


def export_encoder(encoder: nn.Module, path: str | Path | io.BytesIO, prototypes: np.ndarray | None = None,
                   feats: int | None = None) -> None:
    """Write the eval-mode ``encoder`` (an :class:`ActorEncoder`) as ONNX; with ``prototypes`` also ``scores``."""
    if getattr(encoder, "num_tokens", None) is None:
        raise ValueError("ONNX export supports the TMR (ActorEncoder) motion encoder only")
    model = _Scoring(encoder, prototypes).eval()
    feats = feats or encoder.projection.in_features
    x = torch.randn(2, 24, feats)
    mask = torch.arange(24)[None] < torch.tensor([24, 17])[:, None]
    outputs = ["mu", "scores"] if prototypes is not None else ["mu"]
    axes = {"motion": {0: "batch", 1: "frames"}, "mask": {0: "batch", 1: "frames"}, "mu": {0: "batch"}}
    if prototypes is not None:
        axes["scores"] = {0: "batch"}
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (x, mask), path, input_names=["motion", "mask"], output_names=outputs,
                          dynamic_axes=axes, opset_version=OPSET, dynamo=False)


def export_detector(detector, path: str | Path) -> None:
    """``motionvigil export DET --onnx OUT.onnx``: the detector's motion encoder and prototypes."""
    bundle = detector.bundle
    if bundle.inputs.kind != "tmr":
        raise ValueError(f"ONNX export supports TMR-encoder detectors only (this one: {bundle.inputs.kind})")
    bundle.model.eval()
    export_encoder(bundle.model.motion_encoder, path, detector.prototypes)


def encoder_session(encoder: nn.Module, threads: int | None = None):
    """An ONNX Runtime session of ``encoder`` exported in memory (outputs ``mu``)."""
    import onnxruntime as ort

    buf = io.BytesIO()
    export_encoder(encoder.eval(), buf)
    options = ort.SessionOptions()
    if threads:
        options.intra_op_num_threads = threads
    return ort.InferenceSession(buf.getvalue(), options, providers=["CPUExecutionProvider"])
