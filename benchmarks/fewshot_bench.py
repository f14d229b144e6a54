"""Few-shot speed benchmark: prints one JSON object.

Measures, in one run on this machine:
- torch.mm throughput (GFLOP/s, float32, 1024^3 and 2048^3), the machine's reference peak;
- one 5-way 5-shot FOMAML episode (20 inner steps + query scoring) for the ``tiny`` and
  ``paper`` presets: seconds, inner-step seconds, FLOPs counted by
  ``torch.utils.flop_counter`` and the achieved share of the mm peak;
- 30-shot global adaptation over all classes of ``mocap_violence`` (real data; skipped
  with a reason when absent): seconds and peak resident memory.

Models are randomly initialised (speed does not depend on the weights).
Usage: python benchmarks/fewshot_bench.py [--presets tiny paper] [--skip-global]
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import time

import numpy as np
import torch
from torch.utils.flop_counter import FlopCounterMode

from motionvigil.datasets.labelled import LabelledSet
from motionvigil.datasets.synthetic import load_synthetic
from motionvigil.fewshot.adaptation import AdaptSettings, InputCache, adapt, embed_indices, encoder_params
from motionvigil.fewshot.episodes import EpisodeSampler
from motionvigil.losses import fewshot_loss
from motionvigil.models import MotionTextModel, preset
from motionvigil.models.bundle import MotionTextBundle
from motionvigil.models.inputs import MotionInputs


def mm_gflops(n: int, repeats: int = 5) -> float:
    a, b = torch.randn(n, n), torch.randn(n, n)
    torch.mm(a, b)
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        torch.mm(a, b)
        best = min(best, time.perf_counter() - t)
    return 2 * n**3 / best / 1e9


def make_bundle(name: str, clips) -> MotionTextBundle:
    cfg = preset(name)
    torch.manual_seed(0)
    return MotionTextBundle(MotionTextModel(cfg).eval(), MotionInputs.fit("tmr", clips, cfg.max_frames))


def episode_benchmark(name: str, data: LabelledSet, repeats: int = 3) -> dict:
    bundle = make_bundle(name, data.clips)
    cache = InputCache(bundle, data.clips)
    params = encoder_params(bundle)
    sampler = EpisodeSampler(data, 5, 5, 5)
    ep = sampler.sample(np.random.default_rng(0))
    settings = AdaptSettings()
    # FLOPs of one inner step (forward + backward on the support set)
    x, mask = cache.batch(ep.support)
    fast = {k: v.detach().clone().requires_grad_(True) for k, v in params.items()}
    from motionvigil.fewshot.adaptation import encode

    with FlopCounterMode(display=False) as counter:
        loss = fewshot_loss(encode(bundle, fast, x, mask), torch.from_numpy(ep.support_targets),
                            torch.from_numpy(ep.violent))["loss"]
        torch.autograd.grad(loss, list(fast.values()))
    step_flops = counter.get_total_flops()
    adapt(bundle, params, cache, ep.support, ep.support_targets, ep.violent, AdaptSettings(steps=2))  # warm-up
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fast = adapt(bundle, params, cache, ep.support, ep.support_targets, ep.violent, settings)
        embed_indices(bundle, fast, cache, ep.query)
        times.append(time.perf_counter() - t)
    t = time.perf_counter()
    adapt(bundle, params, cache, ep.support, ep.support_targets, ep.violent, AdaptSettings(steps=settings.steps))
    inner = (time.perf_counter() - t) / settings.steps
    return {
        "preset": name,
        "support_clips": int(len(ep.support)),
        "padded_frames": int(x.shape[1]),
        "episode_s": min(times),
        "episodes_per_min": 60.0 / min(times),
        "inner_step_s": inner,
        "inner_step_gflop": step_flops / 1e9,
        "inner_step_gflops_per_s": step_flops / inner / 1e9,
    }


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
    args = parser.parse_args()
    peak = max(mm_gflops(1024), mm_gflops(2048))
    corpus = load_synthetic(None, clips_per_class=12, sequences=0, seed=0)
    data = LabelledSet.build(corpus.clips, corpus.classes)
    episodes = [episode_benchmark(p, data) for p in args.presets]
    for e in episodes:
        e["share_of_mm_peak"] = e["inner_step_gflops_per_s"] / peak
    out = {
        "benchmark": "fewshot",
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "machine": platform.machine(),
        "mm_peak_gflops": peak,
        "episode_5w5s": episodes,
        "global_30shot": None if args.skip_global else global_benchmark(),
    }
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
