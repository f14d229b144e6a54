"""Pre-training speed benchmark: prints one JSON object.

For each preset (tiny, paper) and motion encoder (tmr, vit): training throughput
(pairs/s over a few optimisation steps on synthetic clips with their captions, batch
32) and encoder inference throughput (clips/s, batch 64, no gradients), on this
machine's CPU (or --device cuda).
Usage: python benchmarks/pretrain_bench.py [--presets tiny paper] [--steps 5] [--device cpu] [--output FILE]
(``--output``: also write the JSON to FILE, atomically, for the docs' ``bench-table`` blocks.)
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time

import numpy as np
import torch

from motionvigil.atomic import write_json_atomic
from motionvigil.datasets.synthetic import generate_corpus
from motionvigil.machine import machine_info
from motionvigil.models import MotionTextModel, preset
from motionvigil.models.bundle import MotionTextBundle
from motionvigil.models.inputs import MotionInputs
from motionvigil.models.text import TextEmbeddingCache
from motionvigil.pretrain.batches import PairSource, epoch_batches, make_batch
from motionvigil.pretrain.objective import compute_losses


def bench(name: str, encoder: str, clips, cache: TextEmbeddingCache, steps: int, device: torch.device) -> dict:
    cfg = preset(name, encoder)
    torch.manual_seed(0)
    model = MotionTextModel(cfg).to(device)
    inputs = MotionInputs.fit(encoder, clips, cfg.max_frames)
    source = PairSource.build(clips, inputs, cache)
    rng = np.random.default_rng(0)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    batches = epoch_batches(len(source), 32, rng)[: steps + 1]
    data = [{k: v.to(device) for k, v in make_batch(source, b, inputs, cache, rng).items()} for b in batches]
    model.train()

    def step(batch):
        loss = compute_losses(model, batch)["loss"]
        opt.zero_grad()
        loss.backward()
        opt.step()

    step(data[0])  # warm-up
    t = time.perf_counter()
    for batch in data[1:]:
        step(batch)
    if device.type == "cuda":
        torch.cuda.synchronize()
    train_s = time.perf_counter() - t
    bundle = MotionTextBundle(model.eval(), inputs)
    bundle.embed_clips(clips[:64])
    t = time.perf_counter()
    bundle.embed_clips(clips[:256], batch_size=64)
    infer_s = time.perf_counter() - t
    return {
        "preset": name,
        "encoder": encoder,
        "parameters": sum(p.numel() for p in model.parameters()),
        "max_frames": cfg.max_frames,
        "train_pairs_per_s": 32 * (len(data) - 1) / train_s,
        "inference_clips_per_s": min(256, len(clips)) / infer_s,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--presets", nargs="+", default=["tiny", "paper"])
    parser.add_argument("--encoders", nargs="+", default=["tmr", "vit"])
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--output", help="also write the JSON to this file (atomically)")
    args = parser.parse_args()
    device = torch.device(args.device)
    clips = generate_corpus(8, seed=0, num_sequences=0).clips
    with tempfile.TemporaryDirectory() as tmp:
        cache = TextEmbeddingCache(tmp)
        rows = [bench(p, e, clips, cache, args.steps, device) for p in args.presets for e in args.encoders]
    out = {"benchmark": "pretrain", "device": str(device), "torch": torch.__version__,
           "threads": torch.get_num_threads(), "arch": platform.machine(), "machine": machine_info(),
           "settings": {"presets": args.presets, "encoders": args.encoders, "steps": args.steps,
                        "device": args.device},
           "results": rows}
    print(json.dumps(out, indent=2))
    if args.output:
        write_json_atomic(args.output, out)


if __name__ == "__main__":
    main()
