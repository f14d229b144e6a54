"""Fine-tuning the text-to-motion prior into a few-shot action-to-motion generator.

The prior is frozen; LoRA adapters on every attention and feed-forward projection and on
the input and output layers, and one learned offset per class (added to the sentence
embedding of the class description) are trained on

    loss = L_x0(target samples) + w_mined * L_x0(mined windows) + w_con * L_con

``L_x0`` is the diffusion x0 loss conditioned on the class; ``L_con`` is a contrastive
term in the pre-trained motion encoder's space: the denoised x0 of each target sample
is classified against the prototypes (mean unit embeddings) of the real target samples
of every class, cross-entropy at temperature ``tau``. Condition dropout stays on, so
classifier-free guidance still works after fine-tuning.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from motionvigil.kinemic.data import crop, pad_batch
from motionvigil.kinemic.diffusion import diffusion_loss
from motionvigil.kinemic.encoder import encode_normalised, embed_features
from motionvigil.kinemic.model import SynthesisModel
from motionvigil.models.bundle import MotionTextBundle
from motionvigil.training.run import RunLoop, module_checkpoint


@dataclass(frozen=True)
class FinetuneSettings:
    steps: int = 300
    batch_size: int = 16  # target samples per step (and as many mined windows)
    lr: float = 1e-3
    rank: int = 8
    alpha: float = 16.0
    w_mined: float = 0.5
    w_contrastive: float = 0.1
    tau: float = 0.1
    seed: int = 0
    log_every: int = 50


def class_prototypes(emb: np.ndarray, classes: Sequence[int], num_classes: int) -> np.ndarray:
    """Mean unit embedding per class (zeros for a class without samples), ``[C, D]``."""
    unit = emb / np.maximum(np.linalg.norm(emb, axis=1, keepdims=True), 1e-12)
    protos = np.zeros((num_classes, emb.shape[1]), np.float32)
    for c in range(num_classes):
        rows = unit[np.asarray(classes) == c]
        if len(rows):
            protos[c] = rows.mean(0)
    return protos


def contrastive_term(z: torch.Tensor, classes: torch.Tensor, prototypes: torch.Tensor,
                     tau: float) -> torch.Tensor:
    """Cross-entropy of cosine(z, prototypes) / tau against each row's class."""
    logits = F.normalize(z, dim=-1) @ F.normalize(prototypes, dim=-1).T / tau
    return F.cross_entropy(logits, classes)


def finetune(model: SynthesisModel, classes: Sequence[str], descriptions: np.ndarray,
             target_feats: Sequence[np.ndarray], target_classes: Sequence[int],
             mined_feats: Sequence[np.ndarray], mined_classes: Sequence[int],
             bundle: MotionTextBundle | None, settings: FinetuneSettings = FinetuneSettings(),
             log: Callable[[str], None] | None = None, work_dir: str | Path | None = None,
             on_step: Callable[[int], None] | None = None) -> SynthesisModel:
    """Turn ``model`` (a prior; modified in place and returned) into a generator over
    ``classes``. Features are raw (unnormalised) ``[T, 263]`` arrays. ``work_dir``:
    checkpoints and ``log.jsonl`` every ``log_every`` steps, and resume from them;
    ``on_step(n)`` is called after step ``n``."""
    s = settings
    if not target_feats:
        raise ValueError("fine-tuning needs at least one target sample")
    torch.manual_seed(s.seed)
    rng = np.random.default_rng(s.seed)
    gen = torch.Generator().manual_seed(s.seed)
    model.add_lora(s.rank, s.alpha)
    model.set_actions(classes, descriptions)
    norm = model.normalizer
    tseqs = [norm.normalize(f) for f in target_feats]
    mseqs = [norm.normalize(f) for f in mined_feats]
    tcls, mcls = np.asarray(target_classes), np.asarray(mined_classes)
    protos = None
    if bundle is not None and s.w_contrastive > 0:
        for p in bundle.model.parameters():
            p.requires_grad_(False)
        bundle.model.eval()
        protos = torch.from_numpy(class_prototypes(embed_features(bundle, target_feats), tcls, len(classes))).to(model.device)
    model.denoiser.train()
    opt = torch.optim.AdamW(model.trainable(), lr=s.lr, weight_decay=0.0)
    modules = {"denoiser": model.denoiser, "actions": model.actions}
    loop = RunLoop(step=lambda _: _finetune_terms(model, bundle, (tseqs, tcls), (mseqs, mcls), protos, s, rng, gen),
                   optimizer=opt, source=lambda n: [n], rounds=s.steps, unit="step", every=s.log_every,
                   out=None if work_dir is None else Path(work_dir),
                   checkpoint=module_checkpoint(modules, {"finetune": asdict(s), "classes": list(classes)}),
                   clip_norm=1.0, generators=(rng, gen), train_prefix="", echo=log, on_round=on_step)
    loop.run(resume=work_dir is not None)
    model.denoiser.eval()
    model.info.update(finetune=asdict(s), finetune_log=loop.history, target_samples=len(tseqs),
                      mined_windows=len(mseqs))
    return model


def _finetune_terms(model: SynthesisModel, bundle: MotionTextBundle | None, target, mined, protos, s: FinetuneSettings,
                    rng: np.random.Generator, gen: torch.Generator) -> dict[str, torch.Tensor]:
    """The loss and its terms on one step's batch of target samples (and mined windows)."""
    cfg, norm, dev, den = model.cfg, model.normalizer, model.device, model.denoiser
    (tseqs, tcls), (mseqs, mcls) = target, mined
    idx = rng.integers(0, len(tseqs), s.batch_size)
    x0, valid = (t.to(dev) for t in pad_batch([crop(tseqs[i], cfg.max_frames, rng) for i in idx]))
    cls_t = torch.from_numpy(tcls[idx]).long().to(dev)
    loss, pred, _ = diffusion_loss(den, model.schedule, x0, model.actions(cls_t), valid, cfg.cond_drop, gen)
    terms = {"x0_target": loss}
    if mseqs and s.w_mined > 0:
        jdx = rng.integers(0, len(mseqs), s.batch_size)
        xm, vm = (t.to(dev) for t in pad_batch([crop(mseqs[j], cfg.max_frames, rng) for j in jdx]))
        cond_m = model.actions(torch.from_numpy(mcls[jdx]).long().to(dev))
        terms["x0_mined"] = diffusion_loss(den, model.schedule, xm, cond_m, vm, cfg.cond_drop, gen)[0]
        loss = loss + s.w_mined * terms["x0_mined"]
    if protos is not None:
        z = encode_normalised(bundle, pred, valid, norm)
        terms["contrastive"] = contrastive_term(z, cls_t, protos, s.tau)
        loss = loss + s.w_contrastive * terms["contrastive"]
    return {"loss": loss, **terms}
