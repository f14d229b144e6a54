"""Helpers of the kill/resume tests that use ``kill_train_script.py``: run it, read a
checkpoint's progress, and read what a run ended with (weights compared bit for bit)."""

from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors.torch import load_file

from proc_helpers import run_script


def run_kill_script(kind: str, out: Path, rounds: int, kill_after: int = 0) -> int:
    """``kill_train_script.py KIND OUT ROUNDS KILL_AFTER``; its exit status."""
    return run_script("kill_train_script.py", [kind, out, rounds, kill_after], check=False).returncode


def progress(folder: Path) -> dict:
    return json.loads((folder / "config.json").read_text())["progress"]


def result_of(out: Path) -> tuple[dict, dict[str, bytes]]:
    """The run's JSON result and its weights as raw bytes (equal only when bit-identical)."""
    weights = load_file(str(out / "result.safetensors"))
    raw = {k: v.reshape(-1).contiguous().view(torch.uint8).numpy().tobytes() for k, v in weights.items()}
    return json.loads((out / "result.json").read_text()), raw
