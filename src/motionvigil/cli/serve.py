"""``serve``: score live skeleton streams (WebSocket) and uploaded files (HTTP) with a detector;
``export``: a detector's scoring network as ONNX (for other runtimes). ``add_serve`` registers both."""

from __future__ import annotations

import argparse
import sys

from motionvigil.cli.common import add_detector, add_device, add_threads, count, load_detector


def cmd_serve(args: argparse.Namespace) -> int:
    try:
        import uvicorn  # noqa: F401
        import starlette  # noqa: F401
    except ImportError:
        print("motionvigil serve: error: needs the serve extra: pip install 'motionvigil[serve]'", file=sys.stderr)
        return 2
    from motionvigil.serve.app import ServeConfig, load_api_keys
    from motionvigil.serve.feedback import FeedbackError
    from motionvigil.serve.server import is_loopback, serve

    keys: tuple[str, ...] = ()
    if args.api_key_file:
        try:
            keys = load_api_keys(args.api_key_file)
        except (OSError, ValueError) as exc:
            print(f"motionvigil serve: error: API key file: {exc}", file=sys.stderr)
            return 2
    if not keys and not is_loopback(args.host):
        print(f"motionvigil serve: error: refusing to listen on {args.host} without --api-key-file "
              "(only loopback addresses may be served without a key)", file=sys.stderr)
        return 2
    detector = load_detector(args.detector, args.device, args.threads)
    config = ServeConfig(max_streams=args.max_streams, max_batch=1 if args.no_batching else args.max_batch,
                         max_wait_ms=0.0 if args.no_batching else args.max_wait_ms,
                         max_message_bytes=args.max_message_kb * 1024, api_keys=keys,
                         idle_timeout_s=args.idle_timeout, cascade=not args.no_cascade,
                         feedback_db=args.feedback_db,
                         capacity=None if args.capacity == "auto" else int(args.capacity),
                         publish_redis=args.publish_redis,
                         **({} if args.utilization is None else {"utilization": args.utilization}))
    try:
        serve(detector, args.host, args.port, config, log_level=args.log_level, access_log=args.access_log)
    except FeedbackError as exc:
        print(f"motionvigil serve: error: feedback database {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"motionvigil serve: error: cannot listen on {args.host}:{args.port} ({exc.strerror or exc})",
              file=sys.stderr)
        return 2
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from motionvigil.models.onnx_export import export_detector

    detector = load_detector(args.detector)
    try:
        export_detector(detector, args.onnx)
    except ValueError as exc:
        print(f"motionvigil export: error: {exc}", file=sys.stderr)
        return 2
    except ImportError as exc:
        print(f"motionvigil export: error: ONNX export needs the onnx package ({exc.name})", file=sys.stderr)
        return 2
    print(f"wrote {args.onnx}: inputs motion [B, T, {detector.bundle.config.motion_feats}] (normalised features), "
          f"mask [B, T]; outputs mu [B, {detector.bundle.config.embed_dim}], scores [B, {len(detector.classes)}] "
          f"({', '.join(detector.classes)})")
    return 0


def add_serve(sub) -> None:
    _add_export(sub)
    p = sub.add_parser("serve", help="serve a detector: live WebSocket streams, file uploads, the /ui operator "
                                     "console, /healthz, /metrics")
    add_detector(p)
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (a non-loopback address needs --api-key-file)")
    p.add_argument("--port", type=int, default=8765, help="port (0: a free one, printed at start)")
    p.add_argument("--api-key-file", metavar="F",
                   help="file with accepted API keys, one per line; clients send one in the X-API-Key header")
    p.add_argument("--max-streams", type=count, default=256, metavar="N",
                   help="open streams at most; further streams are refused with a 'saturated' message")
    p.add_argument("--max-batch", type=count, default=64, help="windows per encoder call at most")
    p.add_argument("--max-wait-ms", type=float, default=5.0,
                   help="how long a completed window may wait for others to share its encoder call")
    p.add_argument("--no-batching", action="store_true", help="one window per encoder call (for comparison)")
    p.add_argument("--capacity", default="auto", type=_capacity, metavar="N|auto",
                   help="streams accepted at most by cost; auto: measured at start from this process's own cost "
                        "per frame and per window (further streams are refused, never accepted and then timed out)")
    p.add_argument("--utilization", type=float, default=None,
                   help="share of one core the measured cost of the accepted streams may fill; the rest is "
                        "headroom for latency (default: serve/capacity.py's DEFAULT_UTILIZATION, 0.3)")
    p.add_argument("--publish-redis", metavar="URL",
                   help="score nothing here: relay every stream's frames to the Redis of `motionvigil worker` "
                        "(alerts then go to its alerts stream)")
    p.add_argument("--no-cascade", action="store_true",
                   help="run the motion encoder on every window, not only on those the violence head gates")
    p.add_argument("--max-message-kb", type=count, default=256, help="largest stream message accepted (KiB)")
    p.add_argument("--idle-timeout", type=float, default=60.0, metavar="S",
                   help="close a stream that sends nothing for S seconds")
    p.add_argument("--feedback-db", metavar="PATH",
                   help="SQLite file (created if absent) that keeps every alert, its motion and the operators' "
                        "verdicts from the /ui console or POST /v1/alerts/ID/feedback (default: kept in memory, "
                        "lost at exit)")
    add_threads(p)
    p.add_argument("--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"],
                   help="server log level (keys and authorization headers are never logged)")
    p.add_argument("--access-log", action="store_true", help="log every HTTP request (never headers or keys)")
    add_device(p)
    p.set_defaults(func=cmd_serve)


def _add_export(sub) -> None:
    p = sub.add_parser("export", help="write a detector's scoring network (motion encoder + prototypes) as ONNX")
    add_detector(p, help="detector folder (default: the built-in detector)")
    p.add_argument("--onnx", "-o", "--output", dest="onnx", required=True, metavar="OUT.onnx",
                   help="ONNX file to write")
    p.set_defaults(func=cmd_export)


def _capacity(text: str) -> str:
    if text == "auto":
        return text
    return str(count(text))
