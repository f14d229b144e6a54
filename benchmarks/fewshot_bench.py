"""Few-shot speed benchmark: prints one JSON object.

Measures, in one run on this machine:
- torch.mm throughput (GFLOP/s, float32, 1024^3 and 2048^3), the machine's reference peak;
- the encoder's forward FLOPs per clip length (``torch.utils.flop_counter``);
- for the ``tiny`` and ``paper`` presets and the 5-way 1-shot, 5-way 5-shot and 10-way
  5-shot configurations: one FOMAML episode (20 inner steps on the support set, then
  support + query scoring) with the whole encoder adapted (the paper's method) and in the
  fast mode (top layer only, frozen states cached): seconds, episodes per minute, inner
  step seconds, FLOPs per inner step, achieved share of the mm peak, peak memory;
- 30-shot global adaptation over all classes of ``mocap_violence`` (real data; skipped
  with a reason when absent): seconds and peak resident memory.

Each episode configuration runs in its own process, so its peak resident memory is its
own. Models are randomly initialised (speed does not depend on the weights). The FLOP
counter has no formula for the CPU flash-attention kernel, so attention score FLOPs are
not counted (a few per cent of the total at these sizes): shares are slight underestimates.
Usage: python benchmarks/fewshot_bench.py [--presets tiny paper] [--skip-global] [--output FILE]
(``--output``: also write the JSON to FILE, atomically, for the docs' ``bench-table`` blocks.)
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import platform
import resource
import time

import numpy as np
import torch
from torch.utils.flop_counter import FlopCounterMode

from motionvigil.datasets.labelled import LabelledSet
from motionvigil.datasets.synthetic import load_synthetic
from motionvigil.fewshot.adaptation import (
    AdaptSettings,
    InputCache,
    adapt,
    adaptation_cache,
    adapted_params,
    embed_indices,
    encode_clips,
    encoder_params,
)
from motionvigil.fewshot.episodes import EpisodeSampler
from motionvigil.losses import fewshot_loss
from motionvigil.atomic import write_json_atomic
from motionvigil.machine import machine_info, mm_gflops
from motionvigil.models import MotionTextModel, preset
from motionvigil.models.bundle import MotionTextBundle
from motionvigil.models.inputs import MotionInputs


def make_bundle(name: str, clips) -> MotionTextBundle:
    cfg = preset(name)
    torch.manual_seed(0)
    return MotionTextBundle(MotionTextModel(cfg).eval(), MotionInputs.fit("tmr", clips, cfg.max_frames))


CONFIGS = ((5, 1), (5, 5), (10, 5))
MODES = {"full": None, "fast_top1": 1}


def clip_flops(name: str, lengths=(16, 64, 200)) -> dict:
    """Forward GFLOPs of the motion encoder for one clip of each length (eval mode)."""
    cfg = preset(name)
    model = MotionTextModel(cfg).eval()
    out = {}
    for frames in lengths:
        if frames > cfg.max_frames:
            continue
        x, mask = torch.zeros(1, frames, cfg.motion_feats), torch.ones(1, frames, dtype=torch.bool)
        with FlopCounterMode(display=False) as counter, torch.no_grad():
            model.motion_encoder(x, mask)
        out[str(frames)] = counter.get_total_flops() / 1e9
    return out


def episode_benchmark(name: str, ways: int, shots: int, mode: str, repeats: int = 3) -> dict:
    """One configuration; meant to run in a fresh process (see ``main``)."""
    corpus = load_synthetic(None, clips_per_class=12, sequences=0, seed=0)
    data = LabelledSet.build(corpus.clips, corpus.classes)
    bundle = make_bundle(name, data.clips)
    settings = AdaptSettings(top_layers=MODES[mode])
    cache = adaptation_cache(bundle, data.clips, settings)
    params = adapted_params(bundle, settings)
    ep = EpisodeSampler(data, ways, shots, 5).sample(np.random.default_rng(0))
    both = np.concatenate([ep.support, ep.query])
    embed_indices(bundle, params, cache, both)  # warm-up; fills the fast mode's state cache
    fast = {k: v.detach().clone().requires_grad_(True) for k, v in params.items()}
    with FlopCounterMode(display=False) as counter:  # one inner step: forward + backward
        loss = fewshot_loss(encode_clips(bundle, fast, cache, ep.support), torch.from_numpy(ep.support_targets),
                            torch.from_numpy(ep.violent))["loss"]
        torch.autograd.grad(loss, list(fast.values()))
    step_flops = counter.get_total_flops()
    times, inner = [], []
    for _ in range(repeats):
        t = time.perf_counter()
        adapted = adapt(bundle, params, cache, ep.support, ep.support_targets, ep.violent, settings)
        t_inner = time.perf_counter() - t
        embed_indices(bundle, adapted, cache, both)
        times.append(time.perf_counter() - t)
        inner.append(t_inner / settings.steps)
    step = min(inner)
    return {
        "preset": name, "config": f"{ways}w{shots}s", "mode": mode, "support_clips": int(len(ep.support)),
        "episode_s": min(times), "episodes_per_min": 60.0 / min(times), "inner_step_s": step,
        "inner_step_gflop": step_flops / 1e9, "inner_step_gflops_per_s": step_flops / step / 1e9,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def _episode_in_child(args: tuple) -> dict:
    return episode_benchmark(*args)


def global_benchmark(shots: int = 30) -> dict:
    from motionvigil.datasets import load_dataset

    try:
        pool = load_dataset("mocap_violence", progress=False)
    except Exception as exc:  # absent data: say why
        return {"skipped": str(exc)}
    train = LabelledSet.build([c for c in pool.clips if c.split == "train"], pool.classes)
    bundle = make_bundle("tiny", list(train.clips))
    cache = InputCache(bundle, train.clips)
    rng = np.random.default_rng(0)
    support = []
    for c in range(len(train.classes)):
        support += [i for i in rng.permutation(np.flatnonzero(train.labels[:, c])) if i not in support][:shots]
    support = np.array(sorted(set(support)))
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t = time.perf_counter()
    adapt(bundle, encoder_params(bundle), cache, support, train.labels[support], train.violent, AdaptSettings(), rng)
    seconds = time.perf_counter() - t
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"preset": "tiny", "classes": len(train.classes), "support_clips": int(len(support)),
            "seconds": seconds, "peak_rss_mb": rss_after / 1024, "rss_growth_mb": (rss_after - rss_before) / 1024}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--presets", nargs="+", default=["tiny", "paper"])
    parser.add_argument("--skip-global", action="store_true")
    parser.add_argument("--output", help="also write the JSON to this file (atomically)")
    args = parser.parse_args()
    peak = max(mm_gflops(1024), mm_gflops(2048))
    jobs = [(p, w, k, m) for p in args.presets for (w, k) in CONFIGS for m in MODES]
    ctx = multiprocessing.get_context("spawn")
    episodes = []
    for job in jobs:  # one fresh process per configuration: clean peak memory, no interference
        with ctx.Pool(1) as pool:
            episodes.append(pool.apply(_episode_in_child, (job,)))
    for e in episodes:
        e["share_of_mm_peak"] = e["inner_step_gflops_per_s"] / peak
        full = next(f for f in episodes if f["mode"] == "full" and f["preset"] == e["preset"]
                    and f["config"] == e["config"])
        e["speedup_vs_full"] = full["episode_s"] / e["episode_s"]
    out = {
        "benchmark": "fewshot",
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "arch": platform.machine(),
        "machine": {**machine_info(measure=False), "mm_gflops": round(peak, 1)},
        "settings": {"presets": args.presets, "skip_global": args.skip_global},
        "mm_peak_gflops": peak,
        "encoder_forward_gflop_per_clip": {p: clip_flops(p) for p in args.presets},
        "episodes": episodes,
        "global_30shot": None if args.skip_global else global_benchmark(),
    }
    print(json.dumps(out, indent=2))
    if args.output:
        write_json_atomic(args.output, out)


if __name__ == "__main__":
    main()
