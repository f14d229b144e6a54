"""``--objective tmor``: the cluster-guided multi-modal objective as a training-loop plug-in.

:class:`TmorObjective` wraps the motion-text model with three MLP projection heads
(motion, frozen text sentence embeddings, frozen visual features) and offers the hooks
:class:`motionvigil.pretrain.trainer.PretrainRun` calls: ``prepare_epoch`` (DBSCAN on
all training embeddings, logged), ``batch`` (original view, augmented view, caption,
visual feature, cluster ids), ``forward`` (the loss terms), ``validation`` and the
extra checkpoint state (the heads, under ``tmor.``).

Text side: the frozen all-MiniLM-L6-v2 sentence embedding of the caption (the same
text cache as TMR pre-training) through a learnable head; the model's own text encoder
is not trained by this objective. Visual side: features a user extracted with a
frozen video model, one vector (or ``[T, D]`` array, mean-pooled) per clip id in an
``.npz``; this project has no video data, so tests build such a file themselves.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from torch import nn

from motionvigil.errors import MotionFileError
from motionvigil.losses import TMR_NEGATIVE_FILTER
from motionvigil.models.checkpoint import load_checkpoint, load_into
from motionvigil.models.config import TEXT_TOKEN_DIM
from motionvigil.models.inputs import MotionInputs
from motionvigil.models.motion_text import MotionTextModel
from motionvigil.models.text import TextEmbeddingCache
from motionvigil.pretrain.batches import PairSource, make_batch
from motionvigil.pretrain.objective import gather_batch
from motionvigil.pretrain.tmor import (
    NOISE,
    TmorSettings,
    augmented_sequence,
    choose_dbscan,
    cluster_contrastive,
    cluster_embeddings,
    cluster_stats,
    positive_mask,
    text_masks,
)

VALIDATION_SEED = 20_260_619


class VisualFeatures:
    """Frozen per-clip visual features from an ``.npz`` keyed by clip id."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        try:
            with np.load(self.path, allow_pickle=False) as z:
                raw = {k: np.asarray(z[k], dtype=np.float32) for k in z.files}
        except (OSError, ValueError) as exc:
            raise MotionFileError(self.path, f"cannot read visual features ({exc})") from None
        self.vectors = {k: (v.mean(0) if v.ndim == 2 else v) for k, v in raw.items()}
        dims = {v.shape for v in self.vectors.values()}
        if not self.vectors or len(dims) != 1 or len(next(iter(dims))) != 1:
            raise MotionFileError(self.path, "visual features must be one [D] or [T, D] array per clip id; "
                                             f"got shapes {sorted(dims)[:3]}")
        self.dim = int(next(iter(dims))[0])

    def check(self, clip_ids: Sequence[str]) -> None:
        missing = [c for c in clip_ids if c not in self.vectors]
        if missing:
            raise MotionFileError(self.path, f"no visual features for {len(missing)} clip(s), e.g. {missing[:3]}")

    def batch(self, clip_ids: Sequence[str]) -> torch.Tensor:
        return torch.from_numpy(np.stack([self.vectors[c] for c in clip_ids]))


def projection_head(d_in: int, d_out: int) -> nn.Sequential:
    """The learnable MLP ``phi`` of Eq. (4)."""
    return nn.Sequential(nn.Linear(d_in, d_out), nn.ReLU(), nn.Linear(d_out, d_out))


def build_heads(embed_dim: int, settings: TmorSettings, visual_dim: int | None) -> nn.ModuleDict:
    heads = nn.ModuleDict({"motion": projection_head(embed_dim, settings.proj_dim),
                           "text": projection_head(TEXT_TOKEN_DIM, settings.proj_dim)})
    if visual_dim is not None:
        heads["visual"] = projection_head(visual_dim, settings.proj_dim)
    return heads


def load_heads(folder: str | Path) -> nn.ModuleDict | None:
    """The projection heads stored in a T-MOR checkpoint folder (``None`` for other runs)."""
    tensors, config = load_checkpoint(folder)
    meta = config.get("tmor")
    if not meta:
        return None
    settings = TmorSettings(**{**meta["settings"], "terms": tuple(meta["settings"]["terms"]),
                               "eps_grid": tuple(meta["settings"]["eps_grid"]),
                               "min_samples_grid": tuple(meta["settings"]["min_samples_grid"])})
    heads = build_heads(config["model"]["embed_dim"], settings, meta.get("visual_dim"))
    load_into(heads, tensors, Path(folder), prefix="tmor.")
    return heads.eval()


class TmorObjective(nn.Module):
    def __init__(self, model: MotionTextModel, settings: TmorSettings):
        super().__init__()
        self.model = model
        self.settings = settings
        self.visual = VisualFeatures(settings.visual_features) if settings.visual_features else None
        self.heads = build_heads(model.cfg.embed_dim, settings, self.visual.dim if self.visual else None)
        self.active = settings.active_terms(0)
        self.train_clusters: np.ndarray | None = None

    # ---- clustering (before every epoch) -------------------------------------------------
    @torch.no_grad()
    def embed(self, source: PairSource, inputs: MotionInputs, device: torch.device, batch_size: int = 64) -> np.ndarray:
        """``E_M`` embeddings (not projected) of every item, centred crops, eval mode."""
        self.model.eval()
        out = []
        for start in range(0, len(source), batch_size):
            seqs = [inputs.crop(s, None) for s in source.sequences[start : start + batch_size]]
            x, mask = inputs.collate(seqs)
            out.append(self.model.encode_motion(x.to(device), mask.to(device)).cpu().numpy())
        return np.concatenate(out)

    def prepare_epoch(self, epoch: int, train: PairSource, val: PairSource, inputs: MotionInputs,
                      device: torch.device) -> dict:
        """Cluster the training set with the current encoder (from epoch 2 on: "after each
        epoch"); epoch 1 has no embedding to cluster yet, so every sample is noise
        (instance discrimination). Returns what the epoch's log line records."""
        s = self.settings
        self.active = s.active_terms(epoch)
        if self.visual is not None and "mv" in s.terms:
            self.visual.check([c.clip_id for c in train.clips])
        log: dict = {"tmor/terms": "+".join(self.active)}
        if epoch == 0:
            self.train_clusters = np.full(len(train), NOISE, dtype=np.int64)
            stats = cluster_stats(self.train_clusters)
            return {**log, "tmor/eps": None, "tmor/min_samples": None, **{f"tmor/{k}": v for k, v in stats.items()}}
        eps, min_samples = s.eps, s.min_samples
        train_emb = self.embed(train, inputs, device)
        center = train_emb.mean(0)
        if eps is None or min_samples is None:
            grid_eps = (eps,) if eps is not None else s.eps_grid
            grid_ms = (min_samples,) if min_samples is not None else s.min_samples_grid
            eps, min_samples, table = choose_dbscan(self.embed(val, inputs, device), [_class_key(c) for c in val.clips],
                                                    grid_eps, grid_ms, train_emb, s.max_cluster_fraction, center)
            if eps is not None:
                best = next(r for r in table if r["eps"] == eps and r["min_samples"] == min_samples)
                log.update({"tmor/val_pair_fbeta": best["fbeta"], "tmor/val_pair_precision": best["precision"],
                            "tmor/val_pair_recall": best["recall"]})
        clusters = None if eps is None else cluster_embeddings(train_emb, eps, min_samples, center)
        if clusters is None or cluster_stats(clusters)["largest_fraction"] > s.max_cluster_fraction:
            clusters = np.full(len(train), NOISE, dtype=np.int64)  # no usable clustering: instance level
            log["tmor/fallback"] = "instance"
        self.train_clusters = clusters
        return {**log, "tmor/eps": eps, "tmor/min_samples": min_samples,
                **{f"tmor/{k}": v for k, v in cluster_stats(self.train_clusters).items()}}

    # ---- batches ----------------------------------------------------------------------------
    def batch(self, source: PairSource, indices: Sequence[int], inputs: MotionInputs, cache: TextEmbeddingCache,
              rng: np.random.Generator | None, clusters: np.ndarray | None = None) -> dict[str, torch.Tensor]:
        """TMR's batch (original view, caption) + the augmented view, visual features and
        cluster ids (training clusters by default; all noise when ``clusters`` is given as
        such or no clustering exists). Without ``rng`` the augmentation is seeded per item."""
        out = make_batch(source, indices, inputs, cache, rng)
        views = []
        for i in indices:
            gen = rng if rng is not None else np.random.default_rng([VALIDATION_SEED, int(i)])
            views.append(augmented_sequence(source.clips[i], inputs, gen, self.settings.max_angle,
                                            self.settings.min_crop))
        out["augmented"], out["augmented_mask"] = inputs.collate(views)
        if clusters is None:
            clusters = self.train_clusters if self.train_clusters is not None else np.full(len(source), NOISE)
        out["clusters"] = torch.as_tensor(np.asarray(clusters)[list(indices)], dtype=torch.long)
        if self.visual is not None:
            out["visual"] = self.visual.batch([source.clips[i].clip_id for i in indices])
        return out

    # ---- loss -------------------------------------------------------------------------------
    def forward(self, batch: dict[str, torch.Tensor], stochastic: bool = True, gather: bool = True,
                terms: Sequence[str] | None = None) -> dict[str, torch.Tensor]:
        del stochastic  # no sampling in this objective
        terms = tuple(self.active if terms is None else terms)
        t = self.settings.temperature
        phi = self.heads
        z = gather_batch(phi["motion"](self.model.encode_motion(batch["motion"], batch["motion_mask"])), gather)
        clusters = gather_batch(batch["clusters"].float(), gather).round().long()
        positives = positive_mask(clusters)
        out: dict[str, torch.Tensor] = {}
        if "mm" in terms:
            z_aug = phi["motion"](self.model.encode_motion(batch["augmented"], batch["augmented_mask"]))
            out["mm"] = cluster_contrastive(z, gather_batch(z_aug, gather), positives, t)
        if "mv" in terms:
            if "visual" not in phi or "visual" not in batch:
                raise ValueError("the 'mv' term needs visual features (TmorSettings.visual_features)")
            out["mv"] = cluster_contrastive(z, gather_batch(phi["visual"](batch["visual"]), gather), positives, t)
        if "mt" in terms:
            sentences = gather_batch(batch["sentence"], gather)
            pos_t, excluded = text_masks(clusters, sentences, 2.0 * TMR_NEGATIVE_FILTER - 1.0)
            text = gather_batch(phi["text"](batch["sentence"]), gather)
            out["mt"] = cluster_contrastive(z, text, pos_t, t, excluded)
        loss = sum(out.values())
        # heads a stage leaves unused still take part (DistributedDataParallel needs every parameter)
        loss = loss + 0.0 * sum(p.sum() for p in phi.parameters())
        out["contrastive"] = sum(v.detach() for k, v in out.items())
        out["loss"] = loss
        return out

    @torch.no_grad()
    def validation(self, source: PairSource, inputs: MotionInputs, cache: TextEmbeddingCache, batch_size: int,
                   device: torch.device) -> dict[str, float]:
        """Mean of every enabled term over fixed validation batches (centred crops, seeded
        augmentations, no clusters: instance-level positives), comparable across epochs."""
        self.eval()
        noise = np.full(len(source), NOISE, dtype=np.int64)
        totals: dict[str, float] = {}
        count = 0
        for start in range(0, len(source), batch_size):
            idx = list(range(start, min(start + batch_size, len(source))))
            if len(idx) < 2:
                continue
            batch = {k: v.to(device) for k, v in self.batch(source, idx, inputs, cache, None, noise).items()}
            for name, value in self.forward(batch, gather=False, terms=self.settings.terms).items():
                totals[name] = totals.get(name, 0.0) + float(value) * len(idx)
            count += len(idx)
        return {k: v / max(count, 1) for k, v in totals.items()}

    # ---- checkpoint state -------------------------------------------------------------------
    def extra_tensors(self) -> dict[str, torch.Tensor]:
        return {f"tmor.{k}": v for k, v in self.heads.state_dict().items()}

    def extra_config(self) -> dict:
        settings = dataclasses.asdict(self.settings)
        return {"tmor": {"settings": settings, "visual_dim": self.visual.dim if self.visual else None}}

    def load_extra(self, tensors: dict[str, torch.Tensor], source: Path) -> None:
        load_into(self.heads, tensors, source, prefix="tmor.")


def _class_key(clip) -> str:
    """What "the same class" means for choosing DBSCAN's parameters: the labels, else the first caption."""
    if clip.labels:
        return "|".join(sorted(clip.labels))
    return clip.captions[0] if clip.captions else clip.clip_id
