"""T-MOR's cluster-guided contrastive learning ([docs/papers.md], Section II-B): the pure parts.

* Clustering: DBSCAN (cosine metric) on the motion embeddings of the whole training
  set, centred on the training mean and L2-normalised (without centring, a direction
  shared by all embeddings makes every cosine distance tiny). Samples of one cluster
  are positives of each other; samples of other clusters are negatives; a noise point
  (label ``-1``) has only its own other view as a positive and everything else as
  negatives.
* The loss of Eq. (1)-(4): ``-log(S_align / (S_align + S_disc))`` with ``S`` sums of
  ``exp(cos / temperature)`` over the positive and the negative candidates, averaged
  over anchors and over both directions (anchor -> candidate and back).
* Choosing ``eps`` / ``min_samples``: on VALIDATION embeddings, the setting whose
  "same cluster" pairs best match "same label" pairs (pairwise F-beta, beta = 0.5: a
  wrong positive pair hurts more than a missed one), among the settings that put at
  most ``max_cluster_fraction`` of the TRAINING set into one cluster (one giant cluster
  makes every pair positive and the loss zero). Never on test data.
* The positive motion view: a random temporal crop and a random rotation about the
  vertical (Y) axis, applied to the representation the encoder reads (see
  :func:`augmented_sequence`).

Negatives come from the (global, under torchrun) batch, not from a memory bank.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from motionvigil.datasets.clip import Clip
from motionvigil.features.humanml3d import LOCAL_VEL, RIC, ROOT_LIN_VEL
from motionvigil.features.patches import chain_points
from motionvigil.io.layouts import SMPL22
from motionvigil.losses import cosine_logits
from motionvigil.models.inputs import MotionInputs

NOISE = -1
TERMS = ("mm", "mv", "mt")
SELF_SUPERVISED_TERMS = ("mm", "mv")
DEFAULT_TERMS = ("mm", "mt")  # 'mv' needs the user's precomputed video features
DEFAULT_EPS_GRID = (0.01, 0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5)
DEFAULT_MIN_SAMPLES_GRID = (2, 3, 5)
PAIR_BETA = 0.5


@dataclass(frozen=True)
class TmorSettings:
    """Settings of ``--objective tmor``.

    Attributes:
        terms: the enabled loss terms (any of ``mm``, ``mv``, ``mt``: Table V's rows).
        self_supervised_epochs: the first this-many epochs are stage 1 (``mm`` + ``mv``
            only, no labels or captions); the remaining epochs are stage 2 (every enabled
            term). ``0``: stage 2 throughout.
        eps, min_samples: DBSCAN parameters; ``None`` = chosen on the validation clips
            before every clustering, from ``eps_grid`` x ``min_samples_grid``.
        temperature: of the cosine similarities (Eq. 4).
        proj_dim: output size of the MLP projection heads.
        visual_features: ``.npz`` of precomputed frozen video features keyed by clip id
            (needed by ``mv``).
        max_angle: rotation about the vertical axis drawn from ``U(-max_angle, max_angle)`` rad.
        min_crop: the augmented view keeps a random ``[min_crop, 1]`` share of the frames.
        max_cluster_fraction: settings that put more of the training set into one
            cluster are not eligible (automatic choice) or fall back to no clusters (fixed).
    """

    terms: tuple[str, ...] = DEFAULT_TERMS
    self_supervised_epochs: int = 0
    eps: float | None = None
    min_samples: int | None = None
    eps_grid: tuple[float, ...] = DEFAULT_EPS_GRID
    min_samples_grid: tuple[int, ...] = DEFAULT_MIN_SAMPLES_GRID
    temperature: float = 0.1
    proj_dim: int = 128
    visual_features: str | None = None
    max_angle: float = math.pi
    min_crop: float = 0.5
    max_cluster_fraction: float = 0.25

    def __post_init__(self) -> None:
        unknown = set(self.terms) - set(TERMS)
        if unknown or not self.terms:
            raise ValueError(f"tmor terms must be a non-empty subset of {TERMS}, got {self.terms}")
        if "mv" in self.terms and not self.visual_features:
            raise ValueError("the motion-video term 'mv' needs visual_features (an .npz keyed by clip id)")
        if not 0.0 < self.min_crop <= 1.0:
            raise ValueError(f"min_crop must lie in (0, 1], got {self.min_crop}")

    def active_terms(self, epoch: int) -> tuple[str, ...]:
        """Terms optimised in (0-based) ``epoch``: stage 1 drops ``mt``."""
        if epoch < self.self_supervised_epochs:
            active = tuple(t for t in self.terms if t in SELF_SUPERVISED_TERMS)
            if not active:
                raise ValueError("stage 1 (self-supervised) needs 'mm' or 'mv' among the terms")
            return active
        return self.terms


def settings_from_options(terms: str | None = None, visual_features: str | None = None,
                          self_supervised_epochs: int = 0, dbscan_eps: str | float | None = "auto",
                          dbscan_min_samples: str | int | None = "auto") -> TmorSettings:
    """TmorSettings from command-line style options: ``terms`` is a comma-separated subset of
    ``mm,mv,mt`` (default: ``mm,mt``, plus ``mv`` when ``visual_features`` is given); the DBSCAN
    parameters are numbers or ``"auto"``/``None`` (chosen on validation). Raises ValueError."""
    if terms:
        chosen = tuple(t.strip() for t in terms.split(",") if t.strip())
    else:
        chosen = ("mm", "mv", "mt") if visual_features else ("mm", "mt")
    auto = lambda v, cast: None if v in (None, "auto") else cast(v)  # noqa: E731
    return TmorSettings(terms=chosen, self_supervised_epochs=self_supervised_epochs,
                        eps=auto(dbscan_eps, float), min_samples=auto(dbscan_min_samples, int),
                        visual_features=visual_features)


# ---- clustering ---------------------------------------------------------------------------
def cluster_embeddings(embeddings: np.ndarray, eps: float, min_samples: int,
                       center: np.ndarray | None = None) -> np.ndarray:
    """DBSCAN labels (``-1`` = noise) of ``embeddings [N, D]`` (minus ``center``, if given)
    under the cosine distance."""
    from sklearn.cluster import DBSCAN

    x = np.asarray(embeddings, dtype=np.float64)
    if center is not None:
        x = x - np.asarray(center, dtype=np.float64)
    x = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    return DBSCAN(eps=eps, min_samples=min_samples, metric="cosine").fit_predict(x).astype(np.int64)


def cluster_stats(labels: np.ndarray) -> dict[str, float | int]:
    """Number of clusters, share of noise points, share of the largest cluster."""
    labels = np.asarray(labels)
    found = labels[labels != NOISE]
    sizes = np.bincount(found) if len(found) else np.zeros(0, dtype=int)
    n = max(len(labels), 1)
    return {"clusters": int((sizes > 0).sum()), "noise_fraction": float((labels == NOISE).sum() / n),
            "largest_fraction": float(sizes.max() / n) if len(sizes) else 0.0}


def pairwise_scores(clusters: np.ndarray, classes: Sequence[object], beta: float = PAIR_BETA) -> dict[str, float]:
    """Precision, recall, F1 and F-beta of "same (non-noise) cluster" as a predictor of
    "same class" over all unordered pairs."""
    clusters = np.asarray(clusters)
    codes = np.unique(np.asarray([str(c) for c in classes]), return_inverse=True)[1]
    iu = np.triu_indices(len(clusters), k=1)
    predicted = (clusters[iu[0]] == clusters[iu[1]]) & (clusters[iu[0]] != NOISE)
    truth = codes[iu[0]] == codes[iu[1]]
    tp = int((predicted & truth).sum())
    precision = tp / predicted.sum() if predicted.any() else 0.0
    recall = tp / truth.sum() if truth.any() else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0
    b2 = beta * beta
    fb = (1 + b2) * precision * recall / (b2 * precision + recall) if precision + recall > 0 else 0.0
    return {"precision": float(precision), "recall": float(recall), "f1": float(f1), "fbeta": float(fb)}


def choose_dbscan(val_embeddings: np.ndarray, val_classes: Sequence[object],
                  eps_grid: Sequence[float] = DEFAULT_EPS_GRID,
                  min_samples_grid: Sequence[int] = DEFAULT_MIN_SAMPLES_GRID,
                  train_embeddings: np.ndarray | None = None,
                  max_cluster_fraction: float = 1.0,
                  center: np.ndarray | None = None) -> tuple[float | None, int | None, list[dict]]:
    """``(eps, min_samples, table)``: the grid point with the best pairwise F-beta on the
    validation clips (ties: the smaller ``eps``, then the larger ``min_samples``). With
    ``train_embeddings``, points whose training clustering has a cluster holding more than
    ``max_cluster_fraction`` of the training set are not eligible; ``(None, None, table)``
    when nothing is. ``center`` is subtracted from both sets of embeddings."""
    table = []
    for eps in eps_grid:
        for ms in min_samples_grid:
            labels = cluster_embeddings(val_embeddings, eps, ms, center)
            row = {"eps": float(eps), "min_samples": int(ms), **pairwise_scores(labels, val_classes),
                   **cluster_stats(labels), "eligible": True}
            if train_embeddings is not None:
                train_share = cluster_stats(cluster_embeddings(train_embeddings, eps, ms, center))["largest_fraction"]
                row.update(train_largest_fraction=train_share, eligible=train_share <= max_cluster_fraction)
            table.append(row)
    eligible = [r for r in table if r["eligible"]]
    if not eligible:
        return None, None, table
    best = max(eligible, key=lambda r: (round(r["fbeta"], 12), -r["eps"], r["min_samples"]))
    return best["eps"], best["min_samples"], table


# ---- masks and loss -----------------------------------------------------------------------
def positive_mask(clusters: torch.Tensor) -> torch.Tensor:
    """``[B, B]``: ``i`` and ``j`` are positives if ``i == j`` or they share a (non-noise) cluster."""
    same = (clusters[:, None] == clusters[None, :]) & (clusters[:, None] != NOISE)
    return same | torch.eye(len(clusters), dtype=torch.bool, device=clusters.device)


def cluster_contrastive(anchors: torch.Tensor, candidates: torch.Tensor, positives: torch.Tensor,
                        temperature: float, excluded: torch.Tensor | None = None) -> torch.Tensor:
    """Eq. (1): mean over anchors of ``-log(S_align / (S_align + S_disc))``, in both directions.

    ``positives [B, B]``: candidate ``j`` is a positive of anchor ``i`` (the diagonal must
    be set); every other candidate is a negative unless ``excluded [B, B]`` says it takes
    no part (neither positive nor negative).
    """
    if not bool(positives.diagonal().all()):
        raise ValueError("every anchor needs its own pair among its positives (the diagonal)")
    logits = cosine_logits(anchors, candidates, temperature)
    if excluded is not None:
        logits = logits.masked_fill(excluded & ~positives, float("-inf"))

    def one_way(lg: torch.Tensor, pos: torch.Tensor) -> torch.Tensor:
        return (torch.logsumexp(lg, 1) - torch.logsumexp(lg.masked_fill(~pos, float("-inf")), 1)).mean()

    return 0.5 * (one_way(logits, positives) + one_way(logits.T, positives.T))


def text_masks(clusters: torch.Tensor, sentences: torch.Tensor,
               filter_cosine: float) -> tuple[torch.Tensor, torch.Tensor]:
    """``(positives, excluded)`` of the motion-text term (Eq. 6-8): the own caption is the
    positive; captions of the same cluster and captions whose sentence embeddings have
    cosine > ``filter_cosine`` with the own one (TMR's false-negative filter) are left out;
    captions of other clusters are the negatives."""
    eye = torch.eye(len(clusters), dtype=torch.bool, device=clusters.device)
    same_cluster = positive_mask(clusters) & ~eye
    similar = (sentences @ sentences.T) > filter_cosine
    return eye, (same_cluster | similar) & ~eye


# ---- the augmented (positive) view ---------------------------------------------------------
def rotate_vertical(points: np.ndarray, angle: float) -> np.ndarray:
    """Rotate ``[..., 3]`` points (Y up) by ``angle`` rad about the vertical axis through the origin."""
    c, s = math.cos(angle), math.sin(angle)
    out = np.array(points, dtype=np.float32, copy=True)
    x, z = points[..., 0], points[..., 2]
    out[..., 0] = c * x + s * z
    out[..., 2] = -s * x + c * z
    return out


def rotate_features(features: np.ndarray, angle: float) -> np.ndarray:
    """HumanML3D features seen from a facing frame turned by ``angle`` about Y.

    The 263-dim vector is expressed in the body's own facing frame, so rotating the input
    joints and recomputing the features changes nothing (a global yaw is removed by the
    canonicalisation). This instead rotates the facing-frame quantities in place: the
    root's XZ velocity (dims 1-2), the root-relative joints (ric, 21 x 3) and the local
    joint velocities (22 x 3). Yaw rate, root height, the joint-local 6D rotations and the
    foot contacts do not depend on the facing direction and stay as they are.
    """
    out = np.array(features, dtype=np.float32, copy=True)
    c, s = math.cos(angle), math.sin(angle)
    vx, vz = features[:, ROOT_LIN_VEL.start], features[:, ROOT_LIN_VEL.start + 1]
    out[:, ROOT_LIN_VEL.start] = c * vx + s * vz
    out[:, ROOT_LIN_VEL.start + 1] = -s * vx + c * vz
    n = len(features)
    for block in (RIC, LOCAL_VEL):
        out[:, block] = rotate_vertical(features[:, block].reshape(n, -1, 3), angle).reshape(n, -1)
    return out


def augmented_sequence(clip: Clip, inputs: MotionInputs, rng: np.random.Generator, max_angle: float = math.pi,
                       min_crop: float = 0.5) -> np.ndarray:
    """The positive view of ``clip`` as a normalised input sequence ``[T', F]``.

    Rotation about the vertical axis by ``U(-max_angle, max_angle)``: for joint-based
    inputs (``unik``, ``vit``) the canonical-frame joints are rotated about the origin
    (the root's start position) before normalisation; for the 263-dim features
    (``tmr``) see :func:`rotate_features`. Other input kinds are only cropped. Then a
    random temporal crop keeps ``U(min_crop, 1)`` of ``min(T, max_frames)`` frames (at
    least 16 or all) at a random offset.
    """
    angle = float(rng.uniform(-max_angle, max_angle))
    norm = inputs.normalizer.normalize
    if inputs.kind == "tmr":
        seq = norm(rotate_features(clip.get_features(), angle))
    elif inputs.kind == "unik":
        seq = norm(rotate_vertical(clip.joints, angle).reshape(clip.num_frames, -1))
    elif inputs.kind == "vit":
        seq = norm(chain_points(rotate_vertical(clip.joints, angle), SMPL22).reshape(clip.num_frames, -1))
    else:
        seq = inputs.sequence(clip)
    limit = min(len(seq), inputs.max_frames)
    length = min(limit, max(16, int(round(rng.uniform(min_crop, 1.0) * limit))))
    start = int(rng.integers(0, len(seq) - length + 1))
    return seq[start : start + length]
