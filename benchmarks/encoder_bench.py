"""Eval-mode speed of the TMR motion encoder: stock ``nn.TransformerEncoder`` vs the faster paths. Prints JSON.

Batches of 32 clips of realistic, different lengths (paper preset: 50-200 frames; tiny
preset: 20-64 frames, its crop length), padded to the longest, randomly initialised
weights (speed does not depend on them). Each path embeds the same batch (input
projection, tokens and positions included) and returns ``mu``:

- ``stock``: ``nn.TransformerEncoder`` with the same layers and ``enable_nested_tensor=True``
  under ``torch.inference_mode()`` (its nested-tensor / fused fast path: what TMR runs);
- ``lean``: the existing eval path (:mod:`motionvigil.models.lean_encoder`);
- ``packed_fp32``, ``packed_bf16``, ``packed_int8``: :class:`motionvigil.models.fast_encoder.PackedEncoder`
  (length buckets of 8 clips, packed tokens, read-out rows only in the last layer);
- ``onnx``: an ONNX Runtime session of the exported encoder, when onnxruntime is installed.

Reported: median seconds per batch over ``--repeats`` rounds (after warm-up; the paths take
turns in each round), the
speed-up of each path over ``stock``, and its largest absolute difference from ``stock``
(plus the cosine similarity of the embeddings for the reduced-precision paths).
``speedup_paper_padded`` / ``speedup_tiny_padded`` / ``max_abs_diff`` are those of the
exact float32 packed path.

The JSON also holds ``machine`` (:func:`motionvigil.machine.machine_info`: CPU model,
cores, torch.mm speed with the benchmark's thread count) and ``settings`` (the options).

Usage: python benchmarks/encoder_bench.py [--repeats 15] [--threads 1] [--output FILE]
(``--output``: also write the JSON to FILE, atomically.)
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import platform
import statistics
import time

import torch
from torch import nn

from motionvigil.atomic import write_json_atomic
from motionvigil.machine import machine_info
from motionvigil.models import MotionTextModel, preset
from motionvigil.models.fast_encoder import PackedEncoder


def batch(cfg, lo: int, hi: int, n: int = 32, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    lengths = torch.randint(lo, hi + 1, (n,), generator=g)
    lengths[0] = hi  # the batch is padded to a full-length clip
    x = torch.randn(n, int(lengths.max()), cfg.motion_feats, generator=g)
    mask = torch.arange(x.shape[1])[None] < lengths[:, None]
    return x, mask


def stock_of(enc) -> nn.TransformerEncoder:
    layer = copy.deepcopy(enc.encoder.layers[0])
    stock = nn.TransformerEncoder(layer, len(enc.encoder.layers), enable_nested_tensor=True)
    stock.load_state_dict(enc.encoder.state_dict())
    return stock.eval()


def timed(paths: dict, repeats: int) -> dict[str, float]:
    """Median seconds per path; the paths take turns in every round, so that load from
    other processes on a shared machine hits them alike."""
    for fn in paths.values():
        for _ in range(2):
            fn()
    times: dict[str, list[float]] = {k: [] for k in paths}
    for _ in range(repeats):
        for key, fn in paths.items():
            t = time.perf_counter()
            fn()
            times[key].append(time.perf_counter() - t)
    return {k: statistics.median(v) for k, v in times.items()}


def measure(name: str, lo: int, hi: int, repeats: int) -> dict:
    torch.manual_seed(0)
    cfg = preset(name)
    enc = MotionTextModel(cfg).motion_encoder.eval()
    x, mask = batch(cfg, lo, hi)
    stock = stock_of(enc)

    def run_stock():
        with torch.inference_mode():
            seq, valid = enc.embed(x, mask)
            return stock(seq, src_key_padding_mask=~valid)[:, 0]

    def run_lean():
        with torch.inference_mode():
            return enc(x, mask)[0]

    paths = {"stock": run_stock, "lean": run_lean}
    for precision in ("fp32", "bf16", "int8"):
        packed = PackedEncoder(enc, precision)
        paths[f"packed_{precision}"] = (lambda p: (lambda: p(x, mask)[0]))(packed)
    try:
        from motionvigil.models.onnx_export import encoder_session

        session = encoder_session(enc)
        feeds = {"motion": x.numpy(), "mask": mask.numpy()}
        paths["onnx"] = lambda: torch.from_numpy(session.run(["mu"], feeds)[0])
    except ImportError:
        pass
    ref = run_stock()
    out = {"batch": len(x), "lengths": [lo, hi], "padded_to": x.shape[1],
           "valid_fraction": round(float(mask.float().mean()), 3), "paths": {}}
    seconds = timed(paths, repeats)
    base = seconds["stock"]
    for key, fn in paths.items():
        sec = seconds[key]
        got = fn()
        cos = torch.nn.functional.cosine_similarity(got, ref, dim=1)
        out["paths"][key] = {"seconds": round(sec, 5), "speedup": round(base / sec, 3),
                             "max_abs_diff": float((got - ref).abs().max()), "min_cosine": round(float(cos.min()), 6)}
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--repeats", type=int, default=15)
    p.add_argument("--threads", type=int, default=1,
                   help="torch threads (default 1: on a shared machine more threads mostly measure the other load)")
    p.add_argument("--output", help="also write the JSON to this file (atomically)")
    args = p.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    machine = machine_info()  # after setting the thread count: mm speed with the threads the paths get
    paper = measure("paper", 50, 200, args.repeats)
    tiny = measure("tiny", 20, 64, args.repeats)
    report = {
        "speedup_paper_padded": paper["paths"]["packed_fp32"]["speedup"],
        "speedup_tiny_padded": tiny["paths"]["packed_fp32"]["speedup"],
        "max_abs_diff": max(paper["paths"]["packed_fp32"]["max_abs_diff"], tiny["paths"]["packed_fp32"]["max_abs_diff"]),
        "paper": paper, "tiny": tiny,
        "torch": torch.__version__, "threads": torch.get_num_threads(), "cpus": os.cpu_count(),
        "platform": platform.platform(), "machine": machine,
        "settings": {"repeats": args.repeats, "threads": args.threads},
    }
    print(json.dumps(report, indent=1))
    if args.output:
        write_json_atomic(args.output, report)


if __name__ == "__main__":
    main()
