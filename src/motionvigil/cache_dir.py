"""Where motionvigil keeps its caches (converted motions, text embeddings)."""

from __future__ import annotations

import os
from pathlib import Path

ENV_VAR = "MOTIONVIGIL_CACHE"


def cache_root() -> Path:
    """``$MOTIONVIGIL_CACHE``, else ``~/.cache/motionvigil``."""
    env = os.environ.get(ENV_VAR)
    return Path(env).expanduser() if env else Path.home() / ".cache" / "motionvigil"
