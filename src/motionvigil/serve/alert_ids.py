"""Stable alert ids: the same alert gets the same id in every process that sees it.

An alert is named by the stream it was raised on, the start of its first window and
the person or pair it is about (``WindowResult.persons``: ``()`` for a one-person
stream, ``(id,)`` or ``(a, b)``). Any process that scores the same stream (``serve``,
a broker worker) derives the same id without asking anyone, so feedback given on one
can be matched with alerts raised by another.

``start_s`` is the window start on the *stream's own clock*: the timestamp ``t`` of the
stream's first frame plus the window's start in stream seconds (``start`` of the alert
message). A client that sends wall-clock or otherwise ever-increasing timestamps thus
gets fresh ids when it reconnects under the same stream id; one that restarts its
clock at 0 reuses them (a store then keeps the first alert of that id).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

ALERT_ID = re.compile(r"^[0-9a-f]{20}$")


def alert_id(stream_id: str, start_s: float, persons: Sequence[int] = ()) -> str:
    """20 hex characters from ``stream_id``, ``start_s`` (to the millisecond) and the
    persons (order-free)."""
    ms = int(round(float(start_s) * 1000))
    who = ",".join(str(int(p)) for p in sorted(persons))
    key = f"{stream_id}\x1f{ms}\x1f{who}".encode()
    return hashlib.blake2b(key, digest_size=10).hexdigest()


def is_alert_id(text: str) -> bool:
    return bool(ALERT_ID.match(text))
