"""Shared test fixtures: where the real data lives, and skipping when it is absent."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

_REPO = Path(__file__).resolve().parents[1]


def shared_data_root() -> Path:
    """``$MOTIONVIGIL_SHARED_DATA`` or ``../shared/data`` beside the checkout."""
    env = os.environ.get("MOTIONVIGIL_SHARED_DATA")
    return Path(env) if env else _REPO.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    root = shared_data_root()
    if not root.is_dir():
        pytest.skip(f"real data not found at {root} (set MOTIONVIGIL_SHARED_DATA)")
    return root


@pytest.fixture(scope="session")
def data_path(shared_data):
    """``data_path("bandai2/data/x.bvh")`` -> the path, or skip if that file is absent."""

    def get(rel: str) -> Path:
        p = shared_data / rel
        if not p.exists():
            pytest.skip(f"real data file {p} not present")
        return p

    return get
