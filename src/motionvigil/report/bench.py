"""The speed tables (``bench-table`` block) from the JSON the benchmark scripts write.

Each of ``benchmarks/{fewshot,pretrain,detect,io}_bench.py --output FILE`` writes one
JSON object whose ``"benchmark"`` key says which script wrote it; a marker names one or
more such files and each renders as:

- ``fewshot``: the FOMAML episode table (preset, episode, full vs fast mode, episode
  time, episodes/min, inner step time and GFLOP, share of the run's ``torch.mm`` peak,
  speed-up vs full), the encoder's forward GFLOP per clip, and the 30-shot global
  adaptation line;
- ``pretrain``: training pairs/s and inference clips/s per preset and encoder;
- ``detect``: the streaming latency per pushed frame and offline throughput line;
- ``io``: the BVH reading and feature throughput line.

Each file's part ends with a one-line caption: the command that wrote it (from its
``"settings"``) and the machine (CPU model, cores, torch threads, ``torch.mm`` GFLOP/s).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from motionvigil.report.blocks import load_json, num

ENCODERS = {"tmr": "TMR", "vit": "ViT"}
LAYOUTS = {"smpl22": "SMPL-22", "kinect_sdk": "Kinect SDK"}


def rate(v: float | None) -> str:
    """A throughput: thousands separators and no decimals from 100 up, one decimal below."""
    return "n/a" if v is None else f"{v:,.0f}" if v >= 100 else f"{v:.1f}"


def command(kind: str, settings: dict[str, Any]) -> str:
    """The command line that ran the benchmark, rebuilt from its recorded settings."""
    parts = [f"python benchmarks/{kind}_bench.py"]
    for key, value in settings.items():
        flag = "--" + key.replace("_", "-")
        if value is True:
            parts.append(flag)
        elif value not in (None, False):
            parts.append(" ".join([flag, *map(str, value if isinstance(value, list) else [value])]))
    return " ".join(parts)


def caption(kind: str, data: dict, name: str) -> str:
    """One line: how the file was produced and on what machine."""
    m = data.get("machine")
    if not isinstance(m, dict):
        raise ValueError(f"{name}: no machine block (re-run benchmarks/{kind}_bench.py --output {name})")
    threads = m.get("torch_threads")
    device = f", device {data['device']}" if data.get("device", "cpu") != "cpu" else ""
    return (f"`{command(kind, data.get('settings', {}))}` on {m.get('cpu', '?')} "
            f"({m.get('cores', '?')} cores), {threads} torch thread{'' if threads == 1 else 's'}, "
            f"torch.mm {num(m.get('mm_gflops'), 1)} GFLOP/s, "
            f"torch {m.get('torch', '?')}{device}.")


def episode_name(config: str) -> str:
    """``5w1s`` -> ``5-way 1-shot``."""
    m = re.fullmatch(r"(\d+)w(\d+)s", config)
    return f"{m.group(1)}-way {m.group(2)}-shot" if m else config


def mode_name(mode: str) -> str:
    """``full`` -> ``full FOMAML``; ``fast_topN`` -> ``fast (top layer)`` / ``fast (top N layers)``."""
    m = re.fullmatch(r"fast_top(\d+)", mode)
    if mode == "full":
        return "full FOMAML"
    return ("fast (top layer)" if m.group(1) == "1" else f"fast (top {m.group(1)} layers)") if m else mode


def percent(v: float | None) -> str:
    return "n/a" if v is None else f"{v * 100:.0f} %"


def render_fewshot(data: dict) -> list[str]:
    table = ["| preset | episode | mode | episode time | episodes/min | inner step | GFLOP per inner step "
             "| share of mm peak | speed-up vs full |",
             "|---|---|---|---:|---:|---:|---:|---:|---:|"]
    for e in data["episodes"]:
        step_ms = None if e["inner_step_s"] is None else e["inner_step_s"] * 1e3
        table.append(f"| {e['preset']} | {episode_name(e['config'])} | {mode_name(e['mode'])} "
                     f"| {num(e['episode_s'], 3)} s | {num(e['episodes_per_min'], 0)} | {num(step_ms, 1)} ms "
                     f"| {num(e['inner_step_gflop'], 3)} | {percent(e['share_of_mm_peak'])} "
                     f"| {num(e['speedup_vs_full'], 1)}x |")
    flops = "; ".join(f"{p} " + ", ".join(f"{num(g, 3)} GFLOP at {n} frames" for n, g in per.items())
                      for p, per in data.get("encoder_forward_gflop_per_clip", {}).items())
    parts = ["\n".join(table), f"Encoder forward per clip: {flops}."]
    g = data.get("global_30shot")
    if g is None:
        parts.append("30-shot global adaptation: not measured in this run (`--skip-global`).")
    elif "skipped" in g:
        parts.append(f"30-shot global adaptation: skipped ({g['skipped']}).")
    else:
        parts.append(f"30-shot global adaptation over the {g['classes']} classes of `mocap_violence` "
                     f"({g['support_clips']} support clips, {g['preset']}): {num(g['seconds'], 1)} s, "
                     f"peak resident memory {num(g['peak_rss_mb'] / 1024, 2)} GiB.")
    return parts


def render_pretrain(data: dict) -> list[str]:
    table = ["| preset | encoder | parameters | training pairs/s | inference clips/s |",
             "|---|---|---:|---:|---:|"]
    for r in data["results"]:
        table.append(f"| {r['preset']} | {ENCODERS.get(r['encoder'], r['encoder'])} "
                     f"| {num(r['parameters'] / 1e6, 1)} M | {rate(r['train_pairs_per_s'])} "
                     f"| {rate(r['inference_clips_per_s'])} |")
    return ["\n".join(table)]


def render_detect(data: dict) -> list[str]:
    streams = [f"{LAYOUTS.get(s['layout'], s['layout'])} at {s['fps']:g} Hz: "
               f"{num(s['latency_ms_mean'], 2)} ms mean per pushed frame, "
               f"{num(s['latency_ms_window_push_mean'], 1)} ms when a window completes, "
               f"{num(s['latency_ms_max'], 1)} ms max, against a {s['frame_period_ms']:.3g} ms frame period"
               for key, s in data.items() if key.startswith("stream_")]
    return [f"Streaming detection ({data['preset']} {ENCODERS.get(data['encoder'], data['encoder'])}, "
            f"{data['window_frames']}-frame windows every {data['stride_frames']} frames, "
            f"{data['classes']} classes): "
            f"{'; '.join(streams)}. Offline detection: "
            f"{rate(data['offline']['motion_s_per_s'])} s of motion per second."]


def fps(entry: dict) -> str:
    """``12,345 frames/s``, or ``n/a`` with the recorded reason."""
    v = entry.get("frames_per_s")
    return f"{rate(v)} frames/s" if v is not None else f"n/a ({entry.get('error', 'not measured')})"


def render_io(data: dict) -> list[str]:
    pypi = data["pypi_bvh_parse"]
    return [f"{data['files']} Bandai-2 BVH files ({data['frames']:,} frames): BVH parse + forward kinematics "
            f"{fps(data['motionvigil_read_bvh'])}, parse only {fps(data['motionvigil_parse_only'])}, "
            f"PyPI `bvh` {pypi.get('version', '')} parse only {fps(pypi)}; "
            f"joints -> 263-dim features {fps(data['joints_to_features'])}."]


RENDERERS: dict[str, Callable[[dict], list[str]]] = {
    "fewshot": render_fewshot, "pretrain": render_pretrain, "detect": render_detect, "io": render_io}


def render_data(data: Any, name: str) -> str:
    """The block part for one benchmark JSON (``name`` is used in error messages)."""
    kind = data.get("benchmark") if isinstance(data, dict) else None
    if kind not in RENDERERS:
        raise ValueError(f"{name}: unknown benchmark {kind!r} (known: {', '.join(sorted(RENDERERS))})")
    try:
        parts = RENDERERS[kind](data)
    except (KeyError, TypeError) as exc:
        raise ValueError(f"{name}: not a complete {kind} benchmark result "
                         f"({type(exc).__name__}: {exc})") from None
    return "\n\n".join([*parts, caption(kind, data, name)])


def render_files(files: list[str], root: Path) -> str:
    """The block for a ``bench-table`` marker naming benchmark JSON files."""
    if not files:
        raise ValueError("bench-table marker names no benchmark file")
    return "\n\n".join(render_data(load_json(root, name), name) for name in files)


__all__ = ["render_data", "render_files"]
