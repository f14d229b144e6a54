"""Alerts from the ``P:alerts`` stream to an HTTP webhook, with retries, never dropped silently.

A consumer group (``webhook``) on the alerts stream: each alert event is POSTed as JSON
with the header ``Idempotency-Key: <event id>`` (``camera:start frame:start|end``), so a
receiver can drop the duplicates that at-least-once delivery implies (a worker that dies
after the POST and before its ``XACK``). A failed POST is retried with exponential
backoff; after ``retries`` failures the event goes to ``P:webhook_failed`` with the reason
(and is logged) instead of blocking the others. Entries a dead worker held are taken over
after ``claim_idle_ms`` (``XAUTOCLAIM``).
"""

from __future__ import annotations

import json
import logging
import threading
import time
import urllib.error
import urllib.request

from motionvigil.serve.broker import DEFAULT_PREFIX, Keys, ensure_group, redis

log = logging.getLogger("motionvigil.webhook")


def post_json(url: str, body: bytes, key: str, timeout: float) -> None:
    """POST ``body``; raises OSError (urllib's errors included) unless the answer is 2xx."""
    req = urllib.request.Request(url, data=body, method="POST",
                                 headers={"Content-Type": "application/json", "Idempotency-Key": key})
    with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 - the operator's URL
        if not 200 <= resp.status < 300:
            raise OSError(f"HTTP {resp.status}")


class WebhookSender:
    """Delivers alert events to ``url`` (see the module doc); :meth:`step` is one round."""

    def __init__(self, client: "redis.Redis", url: str, name: str, prefix: str = DEFAULT_PREFIX,
                 group: str = "webhook", retries: int = 5, backoff_s: float = 0.2, timeout_s: float = 5.0,
                 claim_idle_ms: int = 30_000):
        self.r, self.url, self.name, self.group = client, url, name, group
        self.keys = Keys(prefix)
        self.retries, self.backoff_s, self.timeout_s, self.claim_idle_ms = retries, backoff_s, timeout_s, claim_idle_ms
        self.failed_key = f"{prefix}:webhook_failed"
        self.sent = self.failed = 0
        ensure_group(self.r, self.keys.alerts, group)

    def _deliver(self, entry_id, fields, stop: threading.Event | None) -> None:
        fields = {(k.decode() if isinstance(k, bytes) else k): v for k, v in fields.items()}
        key = fields["id"].decode() if isinstance(fields["id"], bytes) else fields["id"]
        body = fields["alert"] if isinstance(fields["alert"], bytes) else fields["alert"].encode()
        error = ""
        for attempt in range(self.retries):
            try:
                post_json(self.url, body, key, self.timeout_s)
                self.sent += 1
                break
            except (OSError, ValueError) as exc:
                error = f"{type(exc).__name__}: {exc}"[:300]
                log.warning("webhook %s: attempt %d failed (%s)", key, attempt + 1, error)
                wait = self.backoff_s * 2 ** attempt
                if stop is not None and stop.wait(wait):
                    return  # shutting down: left pending, another worker delivers it
                if stop is None:
                    time.sleep(wait)
        else:
            self.failed += 1
            log.error("webhook %s: giving up after %d attempts; kept in %s", key, self.retries, self.failed_key)
            self.r.xadd(self.failed_key, {"id": key, "alert": body, "error": error})
        self.r.xack(self.keys.alerts, self.group, entry_id)

    def step(self, stop: threading.Event | None = None, block_ms: int = 200) -> int:
        """Deliver what a dead worker left (idle entries), then new alert events; the number handled."""
        _, claimed, *_ = self.r.xautoclaim(self.keys.alerts, self.group, self.name, self.claim_idle_ms,
                                           start_id="0-0", count=50)
        res = self.r.xreadgroup(self.group, self.name, {self.keys.alerts: ">"}, count=50, block=block_ms)
        entries = list(claimed) + [e for _, batch in (res or []) for e in batch]
        for entry_id, fields in entries:
            if fields:  # an entry trimmed away meanwhile comes back empty
                self._deliver(entry_id, fields, stop)
        return len(entries)

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                self.step(stop)
            except redis.exceptions.RedisError as exc:
                log.warning("webhook: redis unavailable (%s)", type(exc).__name__)
                stop.wait(0.5)


def alert_json(fields: dict) -> dict:
    """An alerts-stream entry's alert as a dict (for readers of ``P:alerts``)."""
    raw = fields.get(b"alert", fields.get("alert"))
    return json.loads(raw)
