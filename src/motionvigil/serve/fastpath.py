"""Scoring a micro-batch of windows with NumPy work shared across the batch.

:meth:`Detector.score_windows` turns each window into HumanML3D features on its own
(canonical frame, retarget to the reference skeleton, inverse kinematics, ...): about a
hundred small NumPy calls per window, 16 ms on one core for a 64-frame window, against
well under a millisecond for the tiny encoder. A micro-batch of equal-length windows
(every streamed window has ``detector.window`` frames) runs the very same arithmetic here
with the windows stacked on a leading batch axis, so the number of NumPy calls is per
batch, not per window. :class:`BatchScorer` gives the results of
``detector.score_windows`` (``tests/serve/test_serve.py`` checks them to 1e-5).

Streams of several persons add scenes (person id -> window) to a batch: every person's
window of every scene is embedded in the same call as the one-person windows, then all the
batch's scenes, of every stream, go through the detector's own ``score_scenes`` (pairs
included) in one call with those embeddings, so the results are ``score_scene``'s. With the
cascade, they go through ``score_scenes`` with the encoder gated (only persons at or over
the gate, alone or in a pair, are embedded); the person and pair descriptors of the whole
batch are computed together either way.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from scipy.ndimage import gaussian_filter1d

from motionvigil.detect.cascade import Cascade
from motionvigil.detect.detector import Detector
from motionvigil.detect.windows import WindowResult, embed_windows
from motionvigil.features.humanml3d import CONTACT_THRESHOLD
from motionvigil.io.layouts import SMPL22_PARENTS
from motionvigil.models.fast_encoder import PackedEncoder
from motionvigil.skeleton.quaternion import qbetween, qinv, qmul, qrot, quat_to_cont6d
from motionvigil.skeleton.smpl22 import (
    FOOT_LEFT,
    FOOT_RIGHT,
    FORWARD_SMOOTHING_SIGMA,
    KINEMATIC_CHAINS,
    L_HIP,
    L_SHOULDER,
    R_ANKLE,
    R_HIP,
    R_KNEE,
    R_SHOULDER,
    RAW_OFFSETS,
    reference_offsets,
)

_Z = np.array([0.0, 0.0, 1.0])
_UP = np.array([0.0, 1.0, 0.0])


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-12)


def _facing(j: np.ndarray, quirk: bool) -> np.ndarray:
    """``facing_direction`` of ``j [..., 22, 3]`` -> ``[..., 3]``."""
    hips = j[..., L_HIP, :] - j[..., R_HIP, :] if quirk else j[..., R_HIP, :] - j[..., L_HIP, :]
    across = _unit(hips + j[..., R_SHOULDER, :] - j[..., L_SHOULDER, :])
    return np.cross(_UP, across)


def canonicalize_batch(j: np.ndarray) -> np.ndarray:
    """``canonicalize`` of each window of ``j [B, T, 22, 3]``."""
    out = np.array(j, dtype=np.float64)
    out[..., 1] -= out[..., 1].min(axis=(1, 2))[:, None, None]
    out -= (out[:, 0, 0] * np.array([1.0, 0.0, 1.0]))[:, None, None]
    forward = _unit(_facing(out[:, 0], quirk=False))
    turn = qbetween(forward, _Z)
    return qrot(turn[:, None, None], out)


def _inverse_kinematics(j: np.ndarray, smooth: bool) -> np.ndarray:
    forward = _facing(j, quirk=True)  # [B, T, 3]
    if smooth:
        forward = gaussian_filter1d(forward, FORWARD_SMOOTHING_SIGMA, axis=1, mode="nearest")
    root = qbetween(_unit(forward), _Z)
    root[:, 0] = (1.0, 0.0, 0.0, 0.0)
    quats = np.zeros(j.shape[:-1] + (4,))
    quats[:, :, 0] = root
    for chain in KINEMATIC_CHAINS:
        global_rot = root
        for parent, child in zip(chain[:-1], chain[1:]):
            bone = _unit(j[:, :, child] - j[:, :, parent])
            local = qmul(qinv(global_rot), qbetween(RAW_OFFSETS[child], bone))
            quats[:, :, child] = local
            global_rot = qmul(global_rot, local)
    return quats


def _forward_kinematics(quats: np.ndarray, root: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    j = np.zeros(quats.shape[:-1] + (3,))
    j[:, :, 0] = root
    for chain in KINEMATIC_CHAINS:
        global_rot = quats[:, :, 0]
        for parent, child in zip(chain[:-1], chain[1:]):
            global_rot = qmul(global_rot, quats[:, :, child])
            j[:, :, child] = qrot(global_rot, offsets[child]) + j[:, :, parent]
    return j


def _to_reference(j: np.ndarray) -> np.ndarray:
    target = reference_offsets()
    parents = np.array(SMPL22_PARENTS[1:])
    first = np.linalg.norm(j[:, 0, 1:] - j[:, 0, parents], axis=-1)  # [B, 21]
    src_leg = first[:, R_KNEE - 1] + first[:, R_ANKLE - 1]
    tgt_leg = np.linalg.norm(target[R_KNEE]) + np.linalg.norm(target[R_ANKLE])
    root = j[:, :, 0] * (tgt_leg / np.maximum(src_leg, 1e-9))[:, None, None]
    return _forward_kinematics(_inverse_kinematics(j, smooth=False), root, target)


def _qfix(q: np.ndarray) -> np.ndarray:
    out = q.copy()
    dots = (out[:, 1:] * out[:, :-1]).sum(-1)
    flip = (np.cumsum(dots < 0, axis=1) % 2).astype(bool)
    out[:, 1:][flip] *= -1
    return out


def features_batch(windows: np.ndarray) -> np.ndarray:
    """What ``joints_to_features(canonicalize(w))`` gives for each window of ``[B, T, 22, 3]``:
    ``[B, T-1, 263]`` float32 (as :func:`~motionvigil.detect.windows.embed_windows` feeds the model)."""
    j = _to_reference(canonicalize_batch(windows))
    pos = canonicalize_batch(j)
    b, n = pos.shape[:2]
    feet = pos[:, :, list(FOOT_LEFT + FOOT_RIGHT)]
    contacts = ((((feet[:, 1:] - feet[:, :-1]) ** 2).sum(-1)) < CONTACT_THRESHOLD).astype(np.float64)
    quats = _inverse_kinematics(pos, smooth=True)
    cont6d = quat_to_cont6d(quats)
    root_rot = _qfix(quats[:, :, 0])
    root_vel = qrot(root_rot[:, 1:], pos[:, 1:, 0] - pos[:, :-1, 0])
    root_turn = qmul(root_rot[:, 1:], qinv(root_rot[:, :-1]))
    root_rot_vel = np.arcsin(np.clip(root_turn[..., 2:3], -1.0, 1.0))
    ric = pos.copy()
    ric[..., 0] -= ric[:, :, :1, 0]
    ric[..., 2] -= ric[:, :, :1, 2]
    ric = qrot(root_rot[:, :, None], ric)
    local_vel = qrot(root_rot[:, :-1, None], pos[:, 1:] - pos[:, :-1])
    features = np.concatenate([
        root_rot_vel, root_vel[..., [0, 2]], ric[:, :-1, 0, 1:2], ric[:, :-1, 1:].reshape(b, n - 1, -1),
        cont6d[:, :-1, 1:].reshape(b, n - 1, -1), local_vel.reshape(b, n - 1, -1), contacts], axis=-1)
    return features.astype(np.float32)


class BatchScorer:
    """``score_windows`` of a TMR-encoder detector with the per-window NumPy work batched.

    Windows of one length go through :func:`features_batch` together, then the packed
encoder (:class:`~motionvigil.models.fast_encoder.PackedEncoder`); any other detector
    (another encoder kind) falls back to ``detector.score_windows``.
    """

    def __init__(self, detector: Detector, cascade: bool = False):
        self.detector = detector
        self.batched = detector.bundle.inputs.kind == "tmr" and detector.bundle.config.motion_encoder == "tmr"
        # the packed eval-mode encoder (same float32 arithmetic, see models/fast_encoder.py)
        self.encoder = PackedEncoder(detector.bundle.model.motion_encoder.eval()) if self.batched else None
        # cascade: the violence head decides, the encoder runs on the gated windows only (detect/cascade.py)
        self.cascade = Cascade(detector, self.embed if self.batched else None) if cascade else None

    @torch.no_grad()
    def embed(self, windows: Sequence[np.ndarray]) -> np.ndarray:
        bundle = self.detector.bundle
        inputs = bundle.inputs
        out = np.zeros((len(windows), bundle.config.embed_dim), np.float32)
        by_length: dict[int, list[int]] = {}
        for i, w in enumerate(windows):
            by_length.setdefault(len(w), []).append(i)
        bundle.model.eval()
        for length, rows in by_length.items():
            feats = inputs.normalizer.normalize(features_batch(np.stack([windows[i] for i in rows])))
            seqs = [inputs.crop(f, None) for f in feats]
            x, mask = inputs.collate(seqs)
            out[rows] = self.encoder(x.to(bundle.device), mask.to(bundle.device))[0].cpu().numpy()
        return out

    def score_windows(self, windows: Sequence[np.ndarray | dict[int, np.ndarray]],
                      starts: Sequence[int]) -> list[WindowResult | list[WindowResult]]:
        """One result per window; for a scene (person id -> window) the list ``score_scene`` gives."""
        det = self.detector
        if not windows:
            return []
        if all(isinstance(w, np.ndarray) for w in windows):
            if self.cascade is not None:
                return self.cascade.score_windows(windows, starts)
            if not self.batched:
                return det.score_windows(windows, starts)
            return det.results(windows, starts, self.embed(windows))
        scened = [i for i, w in enumerate(windows) if isinstance(w, dict)]
        single = [i for i, w in enumerate(windows) if not isinstance(w, dict)]
        out: list[WindowResult | list[WindowResult]] = [[] for _ in windows]
        if self.cascade is not None:  # scenes: the encoder only for gated persons and pairs
            groups = self.cascade.score_scenes([starts[i] for i in scened], [windows[i] for i in scened])
            alone = self.cascade.score_windows([windows[i] for i in single], [starts[i] for i in single])
        else:
            flat = [w for item in windows for w in (item.values() if isinstance(item, dict) else (item,))]
            z = self.embed(flat) if self.batched else embed_windows(det.bundle, flat)
            row = {id(w): i for i, w in enumerate(flat)}

            def embedded(ws: Sequence[np.ndarray]) -> np.ndarray:
                return z[[row[id(w)] for w in ws]]

            groups = det.score_scenes([starts[i] for i in scened], [windows[i] for i in scened], embed=embedded)
            alone = det.score_windows([windows[i] for i in single], [starts[i] for i in single], embed=embedded)
        for i, group in zip(scened, groups):  # every scene of the batch, of every stream, in one call
            out[i] = group
        for i, result in zip(single, alone):
            out[i] = result
        return out
