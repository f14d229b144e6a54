"""Sampling clips from a synthesis model and writing them as a folder dataset
(``--data folder:DIR`` loads them back)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from motionvigil.datasets.clip import Clip, Dataset
from motionvigil.datasets.folder import export_dataset
from motionvigil.datasets.violence import is_violent
from motionvigil.features.humanml3d import features_to_joints
from motionvigil.kinemic.data import valid_mask
from motionvigil.kinemic.diffusion import sample
from motionvigil.kinemic.model import SynthesisModel

MIN_GEN_FRAMES = 8


def sample_features(model: SynthesisModel, conditions: torch.Tensor, lengths: Sequence[int], seed: int = 0,
                    guidance: float | None = None, sampling_steps: int | None = None, batch_size: int = 64,
                    eta: float = 0.0) -> list[np.ndarray]:
    """Raw (denormalised) features ``[L_i, 263]`` for each condition row and length."""
    if len(conditions) != len(lengths):
        raise ValueError("need one length per condition")
    cfg = model.cfg
    lengths = [int(min(max(n, MIN_GEN_FRAMES), cfg.max_frames)) for n in lengths]
    gen = torch.Generator().manual_seed(seed)
    model.denoiser.eval()
    out: list[np.ndarray] = []
    for start in range(0, len(lengths), batch_size):
        part = lengths[start : start + batch_size]
        valid = valid_mask(part).to(model.device)
        cond = conditions[start : start + batch_size].float().to(model.device)
        scale = cfg.guidance if guidance is None else guidance
        x = sample(model.denoiser, model.schedule, cond, valid, cfg.feats, sampling_steps or cfg.sampling_steps,
                   scale, eta, gen)
        for row, n in zip(x.cpu().numpy(), part):
            out.append(model.normalizer.denormalize(row[:n]))
    return out


def features_to_clip(feats: np.ndarray, label: str, clip_id: str, dataset: str, caption: str = "",
                     split: str = "train") -> Clip:
    """A clip from generated features (joints recovered from the ric block; the
    features are recomputed from the joints on demand, like any real clip)."""
    joints = features_to_joints(feats)
    if not np.isfinite(joints).all():
        raise ValueError(f"generated clip {clip_id} has non-finite joints")
    return Clip(clip_id, joints.astype(np.float32), (label,), is_violent(label), dataset, subject="synthetic",
                source=None, captions=(caption,) if caption else (), split=split, meta={"synthetic": True})


def generate_clips(model: SynthesisModel, class_names: Sequence[str], per_class: int,
                   lengths: dict[str, Sequence[int]], seed: int = 0, conditions: torch.Tensor | None = None,
                   guidance: float | None = None,
                   dataset: str = "kinemic", captions: Sequence[str] | None = None) -> list[Clip]:
    """``per_class`` clips of every class. Conditions: the model's action conditions
    (fine-tuned generator) unless ``conditions [C, 384]`` is given (e.g. sentence
    embeddings of class descriptions for the plain prior). Lengths are drawn (seeded)
    from ``lengths[class]``."""
    rng = np.random.default_rng(seed)
    if conditions is None:
        if model.actions is None:
            raise ValueError("this model has no action conditions; pass conditions (text embeddings)")
        index = {c: i for i, c in enumerate(model.actions.classes)}
        with torch.no_grad():
            conditions = model.actions(torch.tensor([index[c] for c in class_names]))
    rows, lens, labels = [], [], []
    for ci, name in enumerate(class_names):
        pool = list(lengths.get(name) or [model.cfg.max_frames])
        for _ in range(per_class):
            rows.append(ci)
            lens.append(int(pool[rng.integers(len(pool))]))
            labels.append(ci)
    cond = conditions.detach()[torch.tensor(rows, dtype=torch.long)]
    feats = sample_features(model, cond, lens, seed=seed, guidance=guidance)
    clips = []
    for k, (f, ci) in enumerate(zip(feats, labels)):
        name = class_names[ci]
        cap = captions[ci] if captions else ""
        clips.append(features_to_clip(f, name, f"gen_{ci:03d}_{k:05d}", dataset, cap))
    return clips


def plan_generation(model: SynthesisModel, classes: Sequence[str] | None = None,
                    prompts: Sequence[str] | None = None, frames: int | None = None
                    ) -> tuple[list[str], list[str] | None, dict[str, list[int]]]:
    """What to sample: class names, captions (text conditions, for ``prompts`` or a plain
    text-to-motion prior; ``None``: the model's action conditions) and the candidate
    lengths per class (``frames``, else the few-shot lengths stored with the model, else the
    model's maximum). Raises ValueError for a request the model cannot serve."""
    from motionvigil.kinemic.text import class_description

    captions = None
    if prompts or model.actions is None:
        if not (prompts or classes):
            raise ValueError("a text-to-motion prior needs --class or --prompt")
        names = list(classes or [f"prompt{i}" for i in range(len(prompts))])
        captions = list(prompts or [class_description(c) for c in names])
        if len(captions) != len(names):
            raise ValueError("give one --prompt per --class")
    else:
        names = list(classes or model.actions.classes)
        unknown = [c for c in names if c not in model.actions.classes]
        if unknown:
            raise ValueError(f"classes {unknown} are not in the model ({', '.join(model.actions.classes)})")
    stored = model.info.get("lengths") or {}
    lengths = {c: ([frames] if frames else stored.get(c) or [model.cfg.max_frames]) for c in names}
    return names, captions, lengths


def write_generated(clips: Sequence[Clip], classes: Sequence[str], out_dir: str | Path, name: str = "kinemic",
                    description: str = "") -> Path:
    """Write clips as a folder dataset; returns the annotations path."""
    ds = Dataset(name, list(clips), tuple(classes), tuple(c for c in classes if is_violent(c)), description)
    return export_dataset(ds, out_dir)
