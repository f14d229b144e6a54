"""Training the text-to-motion prior on any captioned corpus.

Every step draws a batch of clips, a random caption of each, a random crop of at most
``max_frames`` feature frames, and minimises the x0 loss of :func:`diffusion_loss`
with condition dropout ``cfg.cond_drop`` (for classifier-free guidance). AdamW, fixed
number of steps, one seeded generator: a CPU run is deterministic, and a run resumed
from ``OUT/last`` ends with the same weights as an uninterrupted one.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from motionvigil.datasets.clip import Clip
from motionvigil.features.normalize import Normalizer
from motionvigil.kinemic.data import MIN_FRAMES, clip_sequences, crop, pad_batch
from motionvigil.kinemic.denoiser import DenoiserConfig
from motionvigil.kinemic.diffusion import diffusion_loss
from motionvigil.kinemic.model import SynthesisModel
from motionvigil.training.run import RunLoop, module_checkpoint

SentenceFn = Callable[[Sequence[str]], np.ndarray]


@dataclass(frozen=True)
class PriorSettings:
    steps: int = 2000
    batch_size: int = 32
    lr: float = 2e-4
    weight_decay: float = 0.0
    seed: int = 0
    log_every: int = 100


def captioned(clips: Sequence[Clip]) -> list[Clip]:
    """Clips with at least one caption and enough frames to train on."""
    return [c for c in clips if c.captions and c.num_frames > MIN_FRAMES]


def train_prior(clips: Sequence[Clip], cfg: DenoiserConfig, sentences: SentenceFn, out_dir: str | Path | None,
                settings: PriorSettings = PriorSettings(), log: Callable[[str], None] | None = None,
                device: str | torch.device = "cpu", resume: bool = True,
                on_step: Callable[[int], None] | None = None) -> SynthesisModel:
    """Train a text-to-motion prior on the captioned ``clips`` on ``device``; saved to ``out_dir``.

    Every ``log_every`` steps a line goes to ``log`` and ``OUT/log.jsonl`` and the state
    to ``OUT/last``, from which a stopped run resumes (``resume``) to the same weights.
    ``on_step(n)`` is called after step ``n`` (and its checkpoint)."""
    clips = captioned(clips)
    if len(clips) < 2:
        raise ValueError("the text-to-motion prior needs at least 2 captioned clips")
    torch.manual_seed(settings.seed)
    rng = np.random.default_rng(settings.seed)
    gen = torch.Generator().manual_seed(settings.seed)
    normalizer = Normalizer.fit((c.get_features() for c in clips), group_std=True)
    seqs = clip_sequences(clips, normalizer)
    all_caps = sorted({t for c in clips for t in c.captions})
    emb = np.asarray(sentences(all_caps), np.float32)
    cap_index = {t: i for i, t in enumerate(all_caps)}
    clip_caps = [[cap_index[t] for t in c.captions] for c in clips]

    model = SynthesisModel(cfg, normalizer, info={"train_clips": len(clips), "captions": len(all_caps),
                                                  "settings": asdict(settings)})
    den = model.to(device).denoiser.train()
    opt = torch.optim.AdamW(den.parameters(), lr=settings.lr, weight_decay=settings.weight_decay)

    def step(_: int) -> dict[str, torch.Tensor]:
        idx = rng.integers(0, len(clips), settings.batch_size)
        x0, valid = (t.to(device) for t in pad_batch([crop(seqs[i], cfg.max_frames, rng) for i in idx]))
        text = torch.from_numpy(emb[[clip_caps[i][rng.integers(len(clip_caps[i]))] for i in idx]]).to(device)
        return {"loss": diffusion_loss(den, model.schedule, x0, text, valid, cfg.cond_drop, gen)[0]}

    start = time.time()
    loop = RunLoop(step=step, optimizer=opt, source=lambda s: [s], rounds=settings.steps, unit="step",
                   every=settings.log_every, out=None if out_dir is None else Path(out_dir),
                   checkpoint=module_checkpoint({"denoiser": den}, {"denoiser": cfg.to_dict()}),
                   scheduler=torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / 100)),
                   clip_norm=1.0, generators=(rng, gen), train_prefix="", echo=log, on_round=on_step,
                   log_extra=lambda: {"seconds": round(time.time() - start, 1)})
    loop.run(resume=resume)
    den.eval()
    model.info["final_loss"] = loop.history[-1]["loss"]
    if out_dir is not None:
        model.save(Path(out_dir))
    return model
