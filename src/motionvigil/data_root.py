"""Where the real datasets live by default."""

from __future__ import annotations

import os
from pathlib import Path

ENV_VAR = "MOTIONVIGIL_SHARED_DATA"


def default_data_root() -> Path:
    """``$MOTIONVIGIL_SHARED_DATA``, else ``../shared/data`` beside the current folder."""
    env = os.environ.get(ENV_VAR)
    return Path(env) if env else Path.cwd().parent / "shared" / "data"
