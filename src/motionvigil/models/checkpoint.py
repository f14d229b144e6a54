"""Checkpoints: ``weights.safetensors`` + ``config.json`` in one folder. No pickles.

``config.json`` records the model configuration, any extra JSON state (training
progress, normalisation statistics) and the SHA-256 of the weights file. Loading
verifies the hash, then that the stored tensors match the architecture rebuilt from
the configuration; every mismatch is a :class:`MotionFileError` naming the file.
Both files are written atomically, weights first, so an interrupted save leaves either
the previous checkpoint or a hash mismatch that loading reports, never silent garbage.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from motionvigil.atomic import atomic_path, write_text_atomic
from motionvigil.errors import MotionFileError

WEIGHTS = "weights.safetensors"
CONFIG = "config.json"
FORMAT_VERSION = 1


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def save_checkpoint(folder: str | Path, tensors: dict[str, torch.Tensor], config: dict[str, Any]) -> None:
    """Write ``tensors`` and the JSON-serialisable ``config`` to ``folder``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    flat = {k: v.detach().to("cpu").contiguous() for k, v in tensors.items()}
    with atomic_path(folder / WEIGHTS) as tmp:
        save_file(flat, str(tmp))
        digest = sha256_file(tmp)
    meta = {"format_version": FORMAT_VERSION, "weights_sha256": digest, **config}
    write_text_atomic(folder / CONFIG, json.dumps(meta, indent=2, sort_keys=True))


def read_config(folder: str | Path) -> dict[str, Any]:
    """The JSON configuration of a checkpoint folder."""
    path = Path(folder) / CONFIG
    if not path.is_file():
        raise MotionFileError(path, "checkpoint has no config.json")
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MotionFileError(path, f"corrupt checkpoint configuration ({exc})") from None
    if not isinstance(config, dict) or config.get("format_version") != FORMAT_VERSION:
        raise MotionFileError(path, "not a motionvigil checkpoint configuration (format_version missing)")
    return config


def load_checkpoint(folder: str | Path) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Tensors and configuration of a checkpoint, after verifying the weights' hash."""
    folder = Path(folder)
    config = read_config(folder)
    weights = folder / WEIGHTS
    if not weights.is_file():
        raise MotionFileError(weights, "checkpoint weights file is missing")
    if sha256_file(weights) != config.get("weights_sha256"):
        raise MotionFileError(weights, "weights do not match the SHA-256 in config.json (truncated or edited)")
    try:
        tensors = load_file(str(weights))
    except (SafetensorError, OSError, ValueError) as exc:
        raise MotionFileError(weights, f"cannot read safetensors weights ({exc})") from None
    return tensors, config


def load_into(module: torch.nn.Module, tensors: dict[str, torch.Tensor], source: str | Path, prefix: str = "") -> None:
    """Load ``tensors[prefix + name]`` into ``module``; clear error on any mismatch."""
    own = module.state_dict()
    wanted = {k: v for k, v in tensors.items() if k.startswith(prefix)}
    stripped = {k[len(prefix) :]: v for k, v in wanted.items()}
    missing = sorted(set(own) - set(stripped))
    unexpected = sorted(set(stripped) - set(own))
    if missing or unexpected:
        raise MotionFileError(
            source,
            f"checkpoint does not match the architecture: missing {missing[:5]}, unexpected {unexpected[:5]}",
        )
    for name, value in stripped.items():
        if value.shape != own[name].shape:
            raise MotionFileError(
                source, f"checkpoint tensor {name} has shape {tuple(value.shape)}, model expects {tuple(own[name].shape)}"
            )
    module.load_state_dict(stripped, strict=True)
