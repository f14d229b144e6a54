"""Choosing a detector's operating threshold on the violence score from labelled clips.

The violence score of a window (or clip) is its highest cosine similarity to a violent
class prototype; an alert is ``violence >= threshold``. Two policies:

``"f1"``
    The threshold maximising F1 of "violent" vs "not violent" over the clips
    (:func:`motionvigil.metrics.classification.best_f1_threshold`).
``"target_fpr"``
    The lowest threshold at which at most ``target_fpr`` of the non-violent clips score
    at or above it (:func:`motionvigil.metrics.classification.threshold_for_fpr`). With
    ``n`` non-violent clips the achievable rates are multiples of ``1 / n``, so a target
    below ``1 / n`` puts the threshold just above every non-violent score.

When the clips are the support set that also built the prototypes, their scores are
taken **leave-one-out** (:func:`leave_one_out_violence`): each clip is scored against
prototypes built without it, so a support clip does not vote for itself and the
threshold is not set on self-similarity (which would always be high and make the
detector's real false-alarm rate much worse than the calibration says).
"""

from __future__ import annotations

import math

import numpy as np

from motionvigil.metrics.classification import best_f1_threshold, threshold_for_fpr, vdr_fpr_at_threshold


def _unit(z: np.ndarray) -> np.ndarray:
    z = np.asarray(z, dtype=np.float64)
    return z / np.maximum(np.linalg.norm(z, axis=-1, keepdims=True), 1e-12)


def cosine_scores(z: np.ndarray, prototypes: np.ndarray) -> np.ndarray:
    """``[N, C]`` cosine similarity of embeddings ``z [N, D]`` to unit ``prototypes [C, D]``."""
    return _unit(z) @ np.asarray(prototypes, dtype=np.float64).T


def violence_of(scores: np.ndarray, violent: np.ndarray) -> np.ndarray:
    """``[N]`` maximum score over the violent classes (``violent [C]`` boolean)."""
    return np.asarray(scores)[:, np.asarray(violent, bool)].max(axis=1)


def leave_one_out_violence(z: np.ndarray, labels: np.ndarray, violent: np.ndarray) -> np.ndarray:
    """``[N]`` violence score of each clip against prototypes built without that clip.

    ``z [N, D]`` embeddings, ``labels [N, C]`` multi-hot (clips without labels are
    background: in no prototype, scored against all of them), ``violent [C]``. A
    prototype is the renormalised mean of its clips' unit embeddings (as
    :func:`motionvigil.losses.class_prototypes`), so removing clip ``i`` from class ``c``
    leaves ``normalise(sum_c - z_i)``. Classes that clip ``i`` leaves empty (it was their
    only example) are skipped for it; a clip left with no violent prototype gets NaN.
    """
    zn = _unit(z)
    lab = np.asarray(labels, dtype=np.float64)
    v = np.asarray(violent, bool)
    sums = lab.T @ zn  # [C, D]
    counts = lab.sum(0)  # [C]
    vs, vlab = sums[v], lab[:, v]  # only violent classes matter
    without = vs[None] - vlab[:, :, None] * zn[:, None, :]  # [N, V, D]
    left = counts[v][None] - vlab  # [N, V]
    cos = np.einsum("nvd,nd->nv", without, zn) / np.maximum(np.linalg.norm(without, axis=-1), 1e-12)
    cos = np.where(left > 0, cos, -np.inf)
    best = cos.max(axis=1) if cos.shape[1] else np.full(len(zn), -np.inf)
    return np.where(np.isfinite(best), best, np.nan)


def choose_threshold(violence: np.ndarray, is_violent: np.ndarray, target_fpr: float | None = None) -> dict:
    """Threshold and calibration summary from clip violence scores and ground truth.

    NaN scores (clips with no usable prototype) are left out. Returns ``{"policy",
    "threshold", "target_fpr", "n_violent", "n_nonviolent"}`` plus ``VDR``, ``FPR``,
    ``F1``, ``precision`` and the counts on these clips at the threshold.

    Raises:
        ValueError: the policy cannot be applied (no violent clip for ``"f1"``, no
            non-violent clip for ``"target_fpr"``).
    """
    s = np.asarray(violence, dtype=np.float64)
    y = np.asarray(is_violent, bool)
    ok = ~np.isnan(s)
    s, y = s[ok], y[ok]
    if target_fpr is None:
        if not y.any():
            raise ValueError(
                "the 'f1' threshold needs violent support clips with a leave-one-out score: give at least "
                "2 clips of a violent class (or use a target false-positive rate)"
            )
        threshold, policy = best_f1_threshold(s, y), "f1"
    else:
        if not 0.0 <= target_fpr <= 1.0:
            raise ValueError(f"target_fpr must be in [0, 1], got {target_fpr}")
        if y.all():
            raise ValueError("a target false-positive rate needs non-violent support clips to measure it on")
        threshold, policy = threshold_for_fpr(s[~y], target_fpr), "target_fpr"
    summary = vdr_fpr_at_threshold(s, y, threshold)
    return {"policy": policy, "threshold": float(threshold), "target_fpr": target_fpr,
            "n_violent": int(y.sum()), "n_nonviolent": int((~y).sum()),
            **{k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in summary.items()
               if k != "threshold"}}
