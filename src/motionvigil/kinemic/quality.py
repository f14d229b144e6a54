"""Generation quality in a motion encoder's embedding space, and kinematic
plausibility of joint trajectories.

Embedding metrics (as in the text-to-motion literature, with our own encoder):

- FID: Frechet distance between Gaussians fitted to real and generated embeddings;
- diversity: mean distance between random pairs of (all) generated embeddings;
- multimodality: mean distance between random pairs generated for the same class.

Kinematic metrics of SMPL-22 joints ``[T, 22, 3]`` at 20 Hz:

- bone-length variation: per clip and bone, std / mean of the length over frames,
  averaged (0 for a rigid skeleton);
- foot skating: mean horizontal speed (m/s) of the ankles and toes in frames where that
  joint is within ``contact_height`` of the clip's lowest foot point (floor);
- joint speed: mean and 95th percentile of all joint speeds (m/s).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import linalg

from motionvigil.io.layouts import SMPL22_PARENTS

FEET = (7, 8, 10, 11)
FPS = 20.0


def fid(real: np.ndarray, gen: np.ndarray) -> float:
    """Frechet distance between Gaussians fitted to two embedding sets ``[N, D]``."""
    real, gen = np.asarray(real, np.float64), np.asarray(gen, np.float64)
    if len(real) < 2 or len(gen) < 2:
        raise ValueError("FID needs at least 2 samples per set")
    mu1, mu2 = real.mean(0), gen.mean(0)
    s1, s2 = np.cov(real, rowvar=False), np.cov(gen, rowvar=False)
    covmean = linalg.sqrtm(s1 @ s2)
    if not np.isfinite(covmean).all():
        eps = np.eye(len(s1)) * 1e-6
        covmean = linalg.sqrtm((s1 + eps) @ (s2 + eps))
    covmean = np.real(covmean)
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean))


def diversity(emb: np.ndarray, pairs: int = 300, seed: int = 0) -> float:
    """Mean Euclidean distance over ``pairs`` random pairs of distinct rows."""
    emb = np.asarray(emb, np.float64)
    if len(emb) < 2:
        return float("nan")
    rng = np.random.default_rng(seed)
    a = rng.integers(0, len(emb), pairs)
    b = (a + rng.integers(1, len(emb), pairs)) % len(emb)
    return float(np.linalg.norm(emb[a] - emb[b], axis=1).mean())


def multimodality(emb: np.ndarray, labels: Sequence[int], pairs: int = 20, seed: int = 0) -> float:
    """Mean over classes of :func:`diversity` within the class (``pairs`` pairs each)."""
    labels = np.asarray(labels)
    values = [diversity(emb[labels == c], pairs, seed) for c in np.unique(labels) if (labels == c).sum() >= 2]
    return float(np.mean(values)) if values else float("nan")


def bone_length_variation(joints: np.ndarray) -> float:
    """Mean over bones of std / mean of the bone length across frames."""
    j = np.asarray(joints, np.float64)
    child = [c for c, p in enumerate(SMPL22_PARENTS) if p >= 0]
    parent = [SMPL22_PARENTS[c] for c in child]
    lengths = np.linalg.norm(j[:, child] - j[:, parent], axis=-1)  # [T, 21]
    return float((lengths.std(0) / np.maximum(lengths.mean(0), 1e-6)).mean())


def foot_skating(joints: np.ndarray, contact_height: float = 0.05, fps: float = FPS) -> float:
    """Mean horizontal speed (m/s) of foot joints while in floor contact (nan: no contact)."""
    j = np.asarray(joints, np.float64)
    if len(j) < 2:
        return float("nan")
    feet = j[:, FEET]
    floor = feet[..., 1].min()
    contact = feet[:-1, :, 1] - floor < contact_height  # [T-1, 4]
    speed = np.linalg.norm(np.diff(feet[..., [0, 2]], axis=0), axis=-1) * fps
    return float(speed[contact].mean()) if contact.any() else float("nan")


def joint_speeds(joints: np.ndarray, fps: float = FPS) -> np.ndarray:
    """All joint speeds (m/s) of a clip, flattened."""
    j = np.asarray(joints, np.float64)
    return (np.linalg.norm(np.diff(j, axis=0), axis=-1) * fps).reshape(-1)


def kinematics(motions: Sequence[np.ndarray], fps: float = FPS) -> dict[str, float]:
    """Averages of the kinematic metrics over clips (speed percentiles over all frames)."""
    if not motions:
        raise ValueError("no motions to measure")
    speeds = np.concatenate([joint_speeds(m, fps) for m in motions])
    skate = [foot_skating(m, fps=fps) for m in motions]
    return {
        "bone_length_cv": float(np.mean([bone_length_variation(m) for m in motions])),
        "foot_skate_mps": float(np.nanmean(skate)) if np.isfinite(skate).any() else float("nan"),
        "joint_speed_mean_mps": float(speeds.mean()),
        "joint_speed_p95_mps": float(np.percentile(speeds, 95)),
        "clips": len(motions),
    }


def embedding_quality(real: np.ndarray, gen: np.ndarray, gen_labels: Sequence[int],
                      seed: int = 0) -> dict[str, float]:
    """FID (real vs generated), diversity of both, multimodality of the generated set."""
    return {"fid": fid(real, gen), "diversity_gen": diversity(gen, seed=seed),
            "diversity_real": diversity(real, seed=seed),
            "multimodality": multimodality(gen, gen_labels, seed=seed)}
