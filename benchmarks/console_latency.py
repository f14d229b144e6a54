"""How fast an alert reaches the ``/ui`` operator console. Prints JSON.

Starts ``motionvigil serve`` (a tiny random detector whose threshold every window
reaches, an API key, a feedback database in a temporary folder) in a subprocess, opens
the console in headless Chromium (Debian's chromium + chromium-driver, selenium from the
dev extra: the tests' ``browser_helpers``) and signs in. Then, ``--alerts`` times, a
scripted 20 Hz stream sends frames until its first window completes and the server
raises an alert. A ``MutationObserver`` in the page notes the browser's clock when the
alert's row appears in the feed; the latency is that time minus ``raised``, the server's
clock when it raised the alert (one machine: one clock).

Reported: every latency, p50 and max in ms, ``within_1s`` (every alert in the feed
within 1 s of being raised), the load average at the start, ``machine`` and ``settings``.
Exit status 1 when an alert was not in the feed within 1 s.

Usage: python benchmarks/console_latency.py [--alerts 20] [--output results/console/latency.json]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # browser_helpers, serve_process, console_helpers

from browser_helpers import chrome  # noqa: E402
from console_helpers import CONSOLE_KEY, make_alerting_detector  # noqa: E402
from serve_process import Server  # noqa: E402

from motionvigil.atomic import write_json_atomic  # noqa: E402
from motionvigil.datasets.synthetic import generate_sequence  # noqa: E402
from motionvigil.machine import machine_info  # noqa: E402

WATCH = """
window.feedSeen = {};
new MutationObserver(() => {
  for (const li of document.querySelectorAll('#feed li')) {
    if (!(li.dataset.id in window.feedSeen)) window.feedSeen[li.dataset.id] = Date.now() / 1000;
  }
}).observe(document.getElementById('feed'), {childList: true, subtree: true});
"""


def _alert(url: str, stream: str, joints: np.ndarray) -> dict:
    from websockets.sync.client import connect

    with connect(f"{url}/v1/streams/{stream}", additional_headers={"x-api-key": CONSOLE_KEY}, open_timeout=30) as ws:
        ws.send(json.dumps({"type": "start", "layout": "smpl22", "fps": 20}))
        json.loads(ws.recv(timeout=30))
        for first in range(0, len(joints), 10):
            ws.send(json.dumps({"type": "frames", "frames": [{"t": (first + i) / 20, "joints": j.tolist()}
                                                             for i, j in enumerate(joints[first:first + 10])]}))
            time.sleep(0.5)  # 10 frames at 20 Hz: a live camera's pace
            if first + 10 >= 64:
                msg = json.loads(ws.recv(timeout=60))
                ws.send(json.dumps({"type": "end"}))
                return msg
    raise RuntimeError("no alert raised")


def run(alerts: int) -> dict:
    joints = generate_sequence(np.random.default_rng(1), actions=["walk", "punch"]).joints[:80]
    with tempfile.TemporaryDirectory(prefix="motionvigil-console-bench-") as tmp:
        tmp = Path(tmp)
        make_alerting_detector().save(tmp / "det")
        (tmp / "keys").write_text(CONSOLE_KEY + "\n")
        server = Server(tmp / "det", "--api-key-file", str(tmp / "keys"), "--feedback-db", str(tmp / "f.db"),
                        "--log-level", "warning")
        try:
            with chrome(1280, 720) as driver:
                base = f"http://127.0.0.1:{server.port}"
                driver.get(f"{base}/ui")
                driver.find_element("id", "key").send_keys(CONSOLE_KEY)
                driver.find_element("css selector", "#login button[type=submit]").click()
                deadline = time.time() + 30
                while driver.execute_script("return document.getElementById('status').textContent") != "live":
                    if time.time() > deadline:
                        raise RuntimeError("the console did not go live")
                    time.sleep(0.05)
                driver.execute_script(WATCH)
                ids = [_alert(server.url, f"cam-{i}", joints)["id"] for i in range(alerts)]
                time.sleep(2.0)
                seen = driver.execute_script("return window.feedSeen")
                raised = {a["id"]: a["raised"] for a in
                          json.loads(driver.execute_script(
                              "return fetch('/v1/alerts', {headers: {'x-api-key': arguments[0]}})"
                              ".then(r => r.text())", CONSOLE_KEY))["alerts"]}
        finally:
            server.stop()
    latencies = [round((seen[i] - raised[i]) * 1000, 1) for i in ids if i in seen]
    return {"alerts": alerts, "in_feed": len(latencies),
            "latency_ms": {"p50": float(np.percentile(latencies, 50)) if latencies else None,
                           "max": max(latencies) if latencies else None, "all": latencies},
            "within_1s": len(latencies) == alerts and max(latencies) <= 1000.0}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--alerts", type=int, default=20, help="alerts to raise, one stream each")
    p.add_argument("--output", help="also write the JSON here (atomically)")
    args = p.parse_args()
    load = [round(x, 2) for x in os.getloadavg()]  # the browser, server and client share these cores
    result = {**run(args.alerts), "load_average_at_start": load, "machine": machine_info(),
              "settings": {"alerts": args.alerts}}
    print(json.dumps(result, indent=1))
    if args.output:
        write_json_atomic(Path(args.output), result)
    return 0 if result["within_1s"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
