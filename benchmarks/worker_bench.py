"""Load and failure test of ``motionvigil worker`` against a real Redis. Prints one JSON object.

Starts its own ``redis-server`` (append-only, fsync always) in a temporary folder, then:

1. **Throughput** (unless ``--no-throughput``): ``--streams`` cameras' frames, ``--seconds``
   each, published at once as a backlog, drained by 1 worker process and then, on a fresh
   prefix, by ``--workers`` processes: ``windows_per_s_1_worker``, ``windows_per_s_2_workers``
   (windows scored / seconds from the first frame published to the last frame committed).
2. **Live run**: ``--workers`` worker processes; the cameras publish at 20 Hz in real time
   for ``--seconds`` (binary frames); with ``--kill-one``, ``kill -9`` of one worker halfway.
   Then every camera ends its stream and the run waits (bounded) until all is committed.

Keys of the JSON: ``frames_sent``, ``frames_processed`` (committed by the workers),
``frames_lost`` (sent - processed - refused as malformed), ``alerts_expected`` (alert
starts of the same frames through one uninterrupted in-process session per camera),
``alerts_raised`` (distinct alert ids in the alerts stream), ``alerts_duplicated``
(entries beyond one per id), ``recovery_s`` (from the kill until every camera of the killed
worker has been committed by another), ``p99_alert_latency_ms`` (an alert start's entry
time minus that of the frame completing its window, both Redis stream ids),
``windows_per_s_1_worker``, ``windows_per_s_2_workers``, ``cores``, and ``machine``,
``load_average_at_start``, ``settings``.

Usage: python benchmarks/worker_bench.py --streams 20 --seconds 20 --workers 2 --kill-one [--output FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from motionvigil.atomic import write_json_atomic
from motionvigil.datasets.synthetic import generate_sequence
from motionvigil.detect.builtin import load_builtin_detector
from motionvigil.machine import machine_info
from motionvigil.serve import checkpoint
from motionvigil.serve.broker import FramePublisher, Keys, connect, id_ms, wait_for
from motionvigil.serve.fastpath import BatchScorer
from motionvigil.serve.redis_server import RedisServer
from motionvigil.serve.session import StreamSession

FPS = 20
SEQUENCES = 6  # distinct motions; camera i plays motion i % SEQUENCES


def motions(seconds: float) -> list[np.ndarray]:
    out = []
    for s in range(SEQUENCES):
        rng, parts, total = np.random.default_rng(s), [], 0
        while total < seconds * FPS:
            parts.append(generate_sequence(rng, actions=["walk", "punch", "kick", "wave"]).joints)
            total += len(parts[-1])
        out.append(np.concatenate(parts)[: int(seconds * FPS)].astype(np.float32))
    return out


def expected_alerts(scorer: BatchScorer, joints: np.ndarray) -> int:
    """Alert starts of ``joints`` through one uninterrupted session (what serve would raise)."""
    det = scorer.detector
    session = StreamSession("ref", det.window, det.stride, det.threshold)
    session.start({"layout": "smpl22", "fps": FPS})
    windows, starts = session.push(np.arange(len(joints)) / FPS, joints.astype(np.float64))
    events = session.events(scorer.score_windows(windows, starts))
    return sum(e.get("event") == "start" for e in events)


def entry(k: int, frame: np.ndarray) -> dict:
    fields = {"bin": np.concatenate([[k / FPS], frame.ravel()]).astype("<f4").tobytes()}
    if k == 0:
        fields.update(layout="smpl22", fps="20")
    return fields


def start_workers(url: str, prefix: str, n: int, tag: str) -> list[subprocess.Popen]:
    src = str(Path(__file__).resolve().parents[1] / "src")
    env = dict(os.environ, OMP_NUM_THREADS="1",
               PYTHONPATH=os.pathsep.join(p for p in (src, os.environ.get("PYTHONPATH", "")) if p))
    procs = [subprocess.Popen([sys.executable, "-m", "motionvigil.cli", "worker", "--redis", url, "--group", "bench",
                               "--prefix", prefix, "--name", f"{tag}{i}", "--lease-ms", "1000", "--threads", "1",
                               "--max-cameras", "1000"], env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                              text=True) for i in range(n)]
    for p in procs:
        line = p.stdout.readline()
        if "consuming" not in line:
            raise RuntimeError(f"worker did not start: {line}")
    return procs


def stop_workers(procs: list[subprocess.Popen]) -> None:
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    for p in procs:
        try:
            p.wait(30)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(10)


def stat(r, keys: Keys, name: str) -> int:
    return int(r.hget(keys.stats, name) or 0)


def throughput(url: str, prefix: str, workers: int, streams: int, clips: list[np.ndarray]) -> dict:
    """Drain a published backlog with ``workers`` processes: windows per second."""
    r, keys = connect(url), Keys(prefix)
    procs = start_workers(url, prefix, workers, f"{prefix}-w")
    try:
        wait_for(lambda: r.zcard(keys.workers) >= workers, 30)
        pub = FramePublisher(r, prefix, max_backlog=10**7, group="bench")
        t0 = time.perf_counter()
        total = 0
        for i in range(streams):
            cam, joints = f"c{i}", clips[i % len(clips)]
            pub.open(cam)
            pub.publish(cam, [entry(k, f) for k, f in enumerate(joints)])
            total += len(joints)
        ok = wait_for(lambda: stat(r, keys, "frames") >= total, timeout=600, step=0.05)
        elapsed = time.perf_counter() - t0
        return {"workers": workers, "frames": total, "drained": ok, "windows": stat(r, keys, "windows"),
                "seconds": round(elapsed, 2), "windows_per_s": round(stat(r, keys, "windows") / elapsed, 1)}
    finally:
        stop_workers(procs)


def live(url: str, args, clips: list[np.ndarray]) -> dict:
    prefix = "live"
    r, keys = connect(url), Keys(prefix)
    procs = start_workers(url, prefix, args.workers, "live-w")
    killed, kill_at, recovery = None, None, None
    try:
        wait_for(lambda: r.zcard(keys.workers) >= args.workers, 30)
        pub = FramePublisher(r, prefix, max_backlog=10**7, group="bench")
        cams = [f"c{i}" for i in range(args.streams)]
        for cam in cams:
            pub.open(cam)
        frames = int(args.seconds * FPS)
        t0 = time.perf_counter() + 0.5
        sent = 0
        for k in range(frames):  # bounded: one tick per frame
            due = t0 + k / FPS
            time.sleep(max(0.0, due - time.perf_counter()))
            pipe = r.pipeline(transaction=False)
            for i, cam in enumerate(cams):
                pipe.xadd(keys.frames(cam), entry(k, clips[i % len(clips)][k]))
            pipe.execute()
            sent += len(cams)
            if args.kill_one and killed is None and k >= frames // 2:
                owned = [c for c in cams if (r.get(keys.owner(c)) or b"").decode().startswith("live-w0:")]
                procs[0].send_signal(signal.SIGKILL)
                killed, kill_at = owned, time.perf_counter()
            if killed and recovery is None and k % 2 == 0 and all(taken_over(r, keys, c) for c in killed):
                recovery = time.perf_counter() - kill_at
        for cam in cams:
            pub.end(cam)
        done = wait_for(lambda: r.hlen(keys.cameras) == 0, timeout=300, step=0.05)
        if killed and recovery is None:  # taken over after the last frame was sent
            wait_for(lambda: all(taken_over(r, keys, c) for c in killed) or r.hlen(keys.cameras) == 0, 60)
            recovery = time.perf_counter() - kill_at
    finally:
        stop_workers(procs)
    alerts = [json.loads(f[b"alert"]) | {"_at": id_ms(i)} for i, f in r.xrange(keys.alerts)]
    starts = [a for a in alerts if a["event"] == "start"]
    latency = [a["_at"] - id_ms(a["frame_id"]) for a in starts]
    errors = stat(r, keys, "errors")
    return {"frames_sent": sent, "frames_processed": stat(r, keys, "frames"), "frames_refused": errors,
            "frames_lost": sent - stat(r, keys, "frames") - errors, "all_committed": done,
            "alerts_raised": len({a["id"] for a in starts}), "alerts_duplicated": len(starts) - len({a["id"] for a in starts}),
            "alert_ends": sum(a["event"] == "end" for a in alerts), "windows": stat(r, keys, "windows"),
            "killed_worker_cameras": len(killed or []), "recovery_s": None if recovery is None else round(recovery, 3),
            "p99_alert_latency_ms": round(float(np.percentile(latency, 99)), 1) if latency else None}


def taken_over(r, keys: Keys, cam: str) -> bool:
    """True once another worker committed ``cam`` (or it ended)."""
    raw = r.get(keys.state(cam))
    return raw is None or not checkpoint.loads(raw)["owner"].startswith("live-w0")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--streams", type=int, default=20)
    p.add_argument("--seconds", type=float, default=20.0)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--kill-one", action="store_true", help="kill -9 one worker halfway through the live run")
    p.add_argument("--no-throughput", action="store_true", help="skip the 1-worker / N-worker backlog drains")
    p.add_argument("--note", help="a remark added to the JSON's note (e.g. that the machine was shared)")
    p.add_argument("--output", help="also write the JSON to this file (atomically)")
    args = p.parse_args()
    machine = machine_info()
    report = {"cores": os.cpu_count(), "load_average_at_start": os.getloadavg(), "machine": machine,
              "note": "workers, Redis and the publishing client share the machine's cores"
              + (f"; {args.note}" if args.note else ""),
              "settings": {k: getattr(args, k) for k in ("streams", "seconds", "workers", "kill_one", "no_throughput")}}
    clips = motions(args.seconds)
    scorer = BatchScorer(load_builtin_detector(), cascade=True)
    per_clip = [expected_alerts(scorer, c) for c in clips]
    report["alerts_expected"] = sum(per_clip[i % len(clips)] for i in range(args.streams))
    with tempfile.TemporaryDirectory(prefix="worker-bench-") as tmp, RedisServer(tmp) as server:
        if not args.no_throughput:
            one = throughput(server.url, "tp1", 1, args.streams, clips)
            many = throughput(server.url, "tp2", args.workers, args.streams, clips)
            report["throughput"] = [one, many]
            report["windows_per_s_1_worker"] = one["windows_per_s"]
            report[f"windows_per_s_{args.workers}_workers"] = many["windows_per_s"]
            report["scaling"] = round(many["windows_per_s"] / max(one["windows_per_s"], 1e-9), 2)
        report.update(live(server.url, args, clips))
    report["load_average_at_end"] = os.getloadavg()
    print(json.dumps(report, indent=1))
    if args.output:
        write_json_atomic(args.output, report)


if __name__ == "__main__":
    main()
