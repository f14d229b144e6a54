"""``worker``: consume the cameras' frame streams from Redis with a consumer group and score them.

Many workers on many machines share the cameras (docs/serve.md, "Workers"); each one runs
until SIGTERM/SIGINT, then gives its cameras back so others take them at once.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from motionvigil.cli.common import add_detector, add_device, add_threads, count, load_detector


def cmd_worker(args: argparse.Namespace) -> int:
    try:
        import redis  # noqa: F401
        import starlette  # noqa: F401
    except ImportError:
        print("motionvigil worker: error: needs the worker extra: pip install 'motionvigil[worker]'", file=sys.stderr)
        return 2
    import redis as redis_lib

    from motionvigil.serve.broker import connect
    from motionvigil.serve.webhook import WebhookSender
    from motionvigil.serve.worker import Worker, WorkerConfig

    detector = load_detector(args.detector, args.device, args.threads)
    config = WorkerConfig(group=args.group, prefix=args.prefix, name=args.name or "",
                          max_cameras=0 if args.max_cameras == "auto" else int(args.max_cameras),
                          lease_ms=args.lease_ms, idle_close_s=args.idle_close, cascade=not args.no_cascade)
    try:
        client = connect(args.redis)
        client.ping()
    except (redis_lib.exceptions.RedisError, ValueError) as exc:
        print(f"motionvigil worker: error: cannot reach Redis at {args.redis} ({exc})", file=sys.stderr)
        return 2
    worker = Worker(client, detector, config)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    threads = []
    if args.webhook:
        sender = WebhookSender(connect(args.redis), args.webhook, worker.name, args.prefix, retries=args.webhook_retries)
        threads.append(threading.Thread(target=sender.run, args=(stop,), name="motionvigil-webhook", daemon=True))
        threads[-1].start()
    print(f"motionvigil worker: {worker.name} consuming {args.prefix}:cam:*:frames as group {args.group!r} "
          f"(up to {worker.config.max_cameras} cameras{', webhook on' if args.webhook else ''})", flush=True)
    worker.run(stop)
    for t in threads:
        t.join(timeout=10)
    print(f"motionvigil worker: {worker.name} stopped", file=sys.stderr, flush=True)
    return 0


def add_worker(sub) -> None:
    p = sub.add_parser("worker", help="score camera frame streams from Redis (consumer group; survives a worker's death)")
    add_detector(p)
    p.add_argument("--redis", required=True, metavar="URL", help="Redis URL, e.g. redis://10.0.0.2:6379/0")
    p.add_argument("--group", default="motionvigil", help="consumer group of the camera streams")
    p.add_argument("--prefix", default="mv", help="key prefix (frames at PREFIX:cam:{CAMERA}:frames)")
    p.add_argument("--name", help="consumer name (default: host-pid-random)")
    p.add_argument("--max-cameras", type=_cameras, default="auto", metavar="N|auto",
                   help="cameras this worker carries at most (auto: measured at start from its own cost per frame "
                        "and window); the pool refuses cameras beyond the live workers' sum")
    p.add_argument("--lease-ms", type=count, default=2000,
                   help="a dead worker's cameras are taken over after this many milliseconds")
    p.add_argument("--idle-close", type=float, default=10.0, metavar="S",
                   help="close the open alert of a camera quiet for S seconds")
    p.add_argument("--webhook", metavar="URL", help="also POST every alert event to this URL (with retries)")
    p.add_argument("--webhook-retries", type=count, default=5, help="POST attempts before an event is set aside")
    p.add_argument("--no-cascade", action="store_true", help="run the motion encoder on every window")
    add_threads(p)
    add_device(p)
    p.set_defaults(func=cmd_worker)


def _cameras(text: str) -> str:
    return text if text == "auto" else str(count(text))
