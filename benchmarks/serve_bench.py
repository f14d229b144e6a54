"""Load test of ``motionvigil serve``: N simulated 20 Hz skeleton streams over loopback. Prints JSON.

Starts ``motionvigil serve`` (the ``tiny`` preset, randomly initialised: speed does not
depend on the weights) on a free port of 127.0.0.1 in a subprocess, then drives
``--streams`` WebSocket streams from this process for ``--seconds`` seconds: each sends
one SMPL-22 frame (compact binary form) every 50 ms on a fixed schedule (stream starts
evenly spread over one window stride, 0.5 s, as independent cameras would be), asks for every window's result, and at the end sends ``end``
and reads the server's frame count. Reported per server mode (micro-batching on, then
off = one window per encoder call):

- frames sent, received (the server's count), lost (= sent - received);
- windows received / expected, windows/s;
- latency from sending a window's last frame to receiving its result (what an alert
  waits for): p50, p99, max in ms;
- CPU use of the server and of this client process (percent of one core), and how late
  the client sent frames against the schedule (p99 ms; a loaded client inflates latency);
- server CPU per window (frames included) and the streams one server core would carry at that
  cost (an estimate: cost measured, capacity extrapolated);
- ``sustained``: every stream accepted, 0 frames lost, every window received, p99 < 250 ms.

``--detector builtin`` serves the built-in detector (its violence head gates the encoder: the
cascade) instead of the random tiny prototype detector; ``--cascade on,off`` runs each mode with
the cascade on and off (``serve --no-cascade``) and reports the encoder windows it saved (from
``/metrics``). The server refuses streams beyond its measured capacity (``refused``, also when
its close 1013 crossed the client's ``start`` message), unless ``--capacity`` is given.

``--search 50,100,200,300`` also finds, per mode, the largest listed stream count that
is sustained (stops at the first that is not). Every loop is bounded by the stream
count and the duration; the run stops by itself. Loopback only.

The JSON also holds ``machine`` (:func:`motionvigil.machine.machine_info`: CPU model,
cores, torch.mm speed of this client process) and ``settings`` (the command-line options).

Usage: python benchmarks/serve_bench.py --streams 200 --seconds 20 [--search 25,50,100,200,300]
       [--output FILE]
(``--output``: also write the JSON to FILE, atomically.)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import numpy as np
import torch

from motionvigil.atomic import write_json_atomic
from motionvigil.datasets.labelled import LabelledSet
from motionvigil.datasets.synthetic import generate_corpus, generate_sequence
from motionvigil.detect import Detector
from motionvigil.machine import machine_info
from motionvigil.models import MotionTextModel, preset
from motionvigil.models.bundle import MotionTextBundle
from motionvigil.models.inputs import MotionInputs

CLASSES = ("kick", "punch", "hit", "walk", "wave", "clap", "jump", "run")
FPS = 20
P99_LIMIT_MS = 250.0


def build_detector(folder: Path) -> None:
    corpus = generate_corpus(3, seed=0, num_sequences=0, classes=CLASSES)
    torch.manual_seed(0)
    bundle = MotionTextBundle(MotionTextModel(preset("tiny")), MotionInputs.fit("tmr", corpus.clips, 64))
    Detector.build(bundle, LabelledSet.build(corpus.clips, CLASSES)).save(folder)


def motion(frames: int) -> np.ndarray:
    rng = np.random.default_rng(0)
    parts, total = [], 0
    while total < frames:
        parts.append(generate_sequence(rng, actions=["walk", "punch", "kick", "wave"]).joints)
        total += len(parts[-1])
    return np.concatenate(parts)[:frames]


def start_server(det: Path | None, batching: bool, streams: int, threads: int, max_batch: int,
                 max_wait_ms: float, cascade: bool = True, capacity: str = "auto") -> tuple[subprocess.Popen, int]:
    src = str(Path(__file__).resolve().parents[1] / "src")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in (src, os.environ.get("PYTHONPATH", "")) if p))
    cmd = [sys.executable, "-m", "motionvigil.cli", "serve", *([str(det)] if det else []), "--host", "127.0.0.1",
           "--port", "0", "--threads", str(threads), "--max-streams", str(streams + 16), "--log-level", "warning",
           "--max-batch", str(max_batch), "--max-wait-ms", str(max_wait_ms), "--capacity", capacity]
    if not batching:
        cmd.append("--no-batching")
    if not cascade:
        cmd.append("--no-cascade")
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    line = proc.stdout.readline()
    if "listening on" not in line:
        raise RuntimeError(f"server did not start: {line}{proc.stdout.read()}")
    return proc, int(line.split("http://127.0.0.1:")[1].split(" ")[0])


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process (Linux /proc; all its threads)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _refused_close(exc: Exception) -> bool:
    """The server closed with 1013 (try again later): a refusal whose close crossed the client's
    ``start`` message (the client's send then fails before it reads the refusal)."""
    rcvd = getattr(exc, "rcvd", None)
    return rcvd is not None and getattr(rcvd, "code", None) == 1013


async def one_stream(i: int, n: int, url: str, frames: np.ndarray, t0: float, window: int, stride: int,
                     out: dict) -> None:
    from websockets.asyncio.client import connect

    period = 1.0 / FPS
    offset = (i / n) * stride * period  # streams started at evenly spread times: windows complete evenly
    sent_at = np.full(len(frames), np.nan)
    latencies, lags = [], []
    windows = 0
    acked = None
    accepted = False
    try:
        async with connect(f"{url}/v1/streams/s{i}", max_size=None, ping_interval=None, open_timeout=60, close_timeout=10) as ws:
            await ws.send(json.dumps({"type": "start", "layout": "smpl22", "fps": FPS, "windows": True}))
            ready = json.loads(await asyncio.wait_for(ws.recv(), 60))
            if ready.get("type") != "ready":
                out["refused"] += 1
                return
            out["accepted"] += 1
            accepted = True

            async def receive() -> None:
                nonlocal windows, acked
                while True:
                    msg = json.loads(await ws.recv())
                    now = time.perf_counter()
                    if msg["type"] == "window":
                        windows += 1
                        last = int(round(msg["end"] * FPS)) - 1
                        latencies.append(now - sent_at[last])
                    elif msg["type"] in ("closed", "bye"):
                        acked = msg["frames"]
                        return

            receiver = asyncio.create_task(receive())
            while time.perf_counter() < t0:
                await asyncio.sleep(t0 - time.perf_counter())
            for k in range(len(frames)):  # fixed bound: the stream's frames
                due = t0 + offset + k * period
                delay = due - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                now = time.perf_counter()
                lags.append(max(0.0, now - due))
                sent_at[k] = now
                payload = np.concatenate([[k / FPS], frames[k].ravel()]).astype("<f4").tobytes()
                await ws.send(payload)
                out["sent"] += 1
            await ws.send(json.dumps({"type": "end"}))
            await asyncio.wait_for(receiver, 120)
    except Exception as exc:  # noqa: BLE001 - a failed stream is counted, the run goes on
        if not accepted and _refused_close(exc):
            out["refused"] += 1  # refused up front: the server's close (1013) crossed our start message
            return
        out["failed"] += 1
        out["errors"].append(f"{type(exc).__name__}: {exc}"[:200])
    expected = max(0, (len(frames) - window) // stride + 1)
    out["windows"] += windows
    out["windows_expected"] += expected
    out["received"] += acked or 0
    out["latencies"].extend(latencies)
    out["lags"].extend(lags)


async def drive(url: str, streams: int, seconds: float, window: int, stride: int) -> dict:
    frames = motion(int(seconds * FPS))
    out = {"accepted": 0, "refused": 0, "failed": 0, "sent": 0, "received": 0, "windows": 0,
           "windows_expected": 0, "latencies": [], "lags": [], "errors": []}
    t0 = time.perf_counter() + 3.0 + streams * 0.01  # connect everyone first
    tasks = [asyncio.create_task(one_stream(i, streams, url, frames, t0, window, stride, out))
             for i in range(streams)]
    await asyncio.gather(*tasks)
    out["elapsed_s"] = time.perf_counter() - t0
    return out


def server_metrics(port: int) -> dict[str, float]:
    """The unlabelled series of the server's /metrics."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as resp:  # noqa: S310 - loopback
        lines = resp.read().decode().splitlines()
    return {k: float(v) for k, v in (ln.split(" ", 1) for ln in lines if ln and not ln.startswith("#") and "{" not in ln)}


def run_mode(det: Path | None, batching: bool, args, streams: int, cascade: bool = True) -> dict:
    proc, port = start_server(det, batching, streams, args.threads, args.max_batch, args.max_wait_ms, cascade,
                              args.capacity)
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=30) as resp:  # noqa: S310
            health = json.loads(resp.read())
        cpu0, client0, wall0 = cpu_seconds(proc.pid), sum(os.times()[:2]), time.perf_counter()
        res = asyncio.run(drive(f"ws://127.0.0.1:{port}", streams, args.seconds, 64, 10))
        wall = time.perf_counter() - wall0
        server_cpu = cpu_seconds(proc.pid) - cpu0
        client_cpu = sum(os.times()[:2]) - client0
        series = server_metrics(port)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
    lat = np.array(res["latencies"]) * 1000
    lags = np.array(res["lags"]) * 1000
    pct = (lambda a, q: round(float(np.percentile(a, q)), 1) if len(a) else None)
    lost = res["sent"] - res["received"]
    p99 = pct(lat, 99)
    encoded = series.get("motionvigil_serve_encoder_windows_total")
    saved = series.get("motionvigil_serve_encoder_windows_saved_total")
    return {
        "micro_batching": batching, "cascade": cascade, "capacity": health.get("capacity"),
        "encoder_windows": None if encoded is None else int(encoded),
        "encoder_windows_saved": None if saved is None else int(saved),
        "encoder_calls_saved_fraction": round(saved / (saved + encoded), 3) if encoded is not None and saved + encoded
        else None,
        "streams": streams, "accepted": res["accepted"], "refused": res["refused"],
        "failed": res["failed"], "frames_sent": res["sent"], "frames_received": res["received"], "frames_lost": lost,
        "windows_received": res["windows"], "windows_expected": res["windows_expected"],
        "windows_per_s": round(res["windows"] / max(res["elapsed_s"], 1e-9), 1),
        "latency_ms": {"p50": pct(lat, 50), "p99": p99, "max": round(float(lat.max()), 1) if len(lat) else None},
        "client_send_lag_ms": {"p50": pct(lags, 50), "p99": pct(lags, 99)},
        "server_cpu_pct": round(100 * server_cpu / wall, 1), "client_cpu_pct": round(100 * client_cpu / wall, 1),
        # what the server spends per window (frames included): on a machine shared with other work the
        # server may get less CPU than it needs, and this cost, unlike latency, hardly depends on that
        "server_cpu_ms_per_window": round(1000 * server_cpu / max(res["windows"], 1), 2),
        # a stream completes FPS / stride = 2 windows per second
        "streams_per_server_core_estimate": round(1.0 / (server_cpu / res["windows"] * FPS / 10), 1)
        if res["windows"] else None,
        # accepted streams only: refused ones sent nothing (refused up front, never accepted and timed out)
        "sustained": bool(res["accepted"] == streams and lost == 0 and res["windows"] == res["windows_expected"]
                          and p99 is not None and p99 < P99_LIMIT_MS),
        "errors": res["errors"][:3],
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--streams", type=int, default=200)
    p.add_argument("--seconds", type=float, default=20.0)
    p.add_argument("--threads", type=int, default=1, help="server torch threads")
    p.add_argument("--max-batch", type=int, default=64)
    p.add_argument("--max-wait-ms", type=float, default=5.0)
    p.add_argument("--search", help="comma-separated stream counts: the largest sustained per mode")
    p.add_argument("--no-compare", action="store_true", help="micro-batching on only")
    p.add_argument("--modes", default="on,off", help="micro-batching modes to run: on, off or on,off")
    p.add_argument("--detector", choices=["random", "builtin"], default="random",
                   help="random: a randomly initialised tiny prototype detector (no head, so no cascade); "
                        "builtin: the built-in detector (violence head + tiny encoder)")
    p.add_argument("--cascade", default="on", help="cascade modes to run: on, off or on,off")
    p.add_argument("--capacity", default="auto", help="the server's --capacity (auto: measured; a number: fixed)")
    p.add_argument("--note", help="a remark stored in the JSON (e.g. that the machine was shared)")
    p.add_argument("--output", help="also write the JSON to this file (atomically)")
    args = p.parse_args()
    machine = machine_info()  # before the runs: the torch.mm speed is measured in this process
    with tempfile.TemporaryDirectory(prefix="serve-bench-") as tmp:
        det = None
        if args.detector == "random":
            det = Path(tmp) / "det"
            build_detector(det)
        modes = [m == "on" for m in args.modes.split(",")]
        cascades = [c == "on" for c in args.cascade.split(",")]
        if args.no_compare:
            modes = [True]
        report = {**({"note": args.note} if args.note else {}), "platform": platform.platform(), "cpus": os.cpu_count(), "preset": "tiny",
                  "load_average_at_start": os.getloadavg(),
                  "seconds": args.seconds, "server_threads": args.threads, "machine": machine,
                  "settings": {"streams": args.streams, "seconds": args.seconds, "threads": args.threads,
                               "max_batch": args.max_batch, "max_wait_ms": args.max_wait_ms,
                               "search": args.search, "modes": args.modes, "no_compare": args.no_compare,
                               "detector": args.detector, "cascade": args.cascade, "capacity": args.capacity},
                  "runs": [run_mode(det, m, args, args.streams, c) for m in modes for c in cascades]}
        if args.search:
            counts = sorted(int(c) for c in args.search.split(","))
            report["search"] = {}
            for mode in modes:
                best, tried = 0, []
                for n in counts:  # bounded: the listed counts, stops at the first failure
                    r = run_mode(det, mode, args, n, cascades[0])
                    tried.append({k: r[k] for k in ("streams", "frames_lost", "latency_ms", "sustained",
                                                   "server_cpu_pct", "client_cpu_pct")})
                    if not r["sustained"]:
                        break
                    best = n
                report["search"]["batching_on" if mode else "batching_off"] = {"max_sustained_streams": best,
                                                                               "tried": tried}
            s = report["search"]
            if len(modes) == 2 and s["batching_off"]["max_sustained_streams"]:  # noqa: SIM102
                report["search"]["ratio"] = round(s["batching_on"]["max_sustained_streams"]
                                                  / s["batching_off"]["max_sustained_streams"], 2)
    print(json.dumps(report, indent=1))
    if args.output:
        write_json_atomic(args.output, report)


if __name__ == "__main__":
    main()
