"""Checkpoints: ``weights-<sha256 prefix>.safetensors`` + ``config.json`` in one folder.
No pickles.

``config.json`` records the model configuration, any extra JSON state (training
progress, normalisation statistics), the name of the weights file and its SHA-256.
Loading verifies the hash, then that the stored tensors match the architecture rebuilt
from the configuration; every mismatch is a :class:`~motionvigil.errors.CheckpointError` (a MotionFileError) naming the file.

Crash safety: the new weights go to a new, content-named file (written atomically);
only then is ``config.json`` atomically replaced to point at it, and only then are
older weights files removed. A process killed at any moment leaves a folder whose
``config.json`` names complete weights (the old or the new checkpoint).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from motionvigil.atomic import write_text_atomic
from motionvigil.errors import CheckpointError

WEIGHTS = "weights.safetensors"  # name used before content-named weights (still read)
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
    fd, tmp_name = tempfile.mkstemp(prefix=".weights.", suffix=".tmp", dir=folder)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        save_file(flat, str(tmp))
        digest = sha256_file(tmp)
        name = f"weights-{digest[:16]}.safetensors"
        os.replace(tmp, folder / name)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    meta = {"format_version": FORMAT_VERSION, "weights_file": name, "weights_sha256": digest, **config}
    write_text_atomic(folder / CONFIG, json.dumps(meta, indent=2, sort_keys=True))
    for old in [*folder.glob("weights-*.safetensors"), folder / WEIGHTS]:
        if old.name != name:
            old.unlink(missing_ok=True)


def read_config(folder: str | Path) -> dict[str, Any]:
    """The JSON configuration of a checkpoint folder."""
    path = Path(folder) / CONFIG
    if not path.is_file():
        raise CheckpointError(path, "checkpoint has no config.json")
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CheckpointError(path, f"corrupt checkpoint configuration ({exc})") from None
    if not isinstance(config, dict) or config.get("format_version") != FORMAT_VERSION:
        raise CheckpointError(path, "not a motionvigil checkpoint configuration (format_version missing)")
    return config


def weights_path(folder: str | Path, config: dict[str, Any]) -> Path:
    """The weights file a checkpoint's configuration points at."""
    name = config.get("weights_file", WEIGHTS)
    if not isinstance(name, str) or "/" in name or "\\" in name or name.startswith("."):
        raise CheckpointError(Path(folder) / CONFIG, f"invalid weights file name {name!r}")
    return Path(folder) / name


def load_checkpoint(folder: str | Path) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Tensors and configuration of a checkpoint, after verifying the weights' hash."""
    folder = Path(folder)
    config = read_config(folder)
    weights = weights_path(folder, config)
    if not weights.is_file():
        raise CheckpointError(weights, "checkpoint weights file is missing")
    if sha256_file(weights) != config.get("weights_sha256"):
        raise CheckpointError(weights, "weights do not match the SHA-256 in config.json (truncated or edited)")
    try:
        tensors = load_file(str(weights))
    except (SafetensorError, OSError, ValueError) as exc:
        raise CheckpointError(weights, f"cannot read safetensors weights ({exc})") from None
    return tensors, config


def load_into(module: torch.nn.Module, tensors: dict[str, torch.Tensor], source: str | Path, prefix: str = "") -> None:
    """Load ``tensors[prefix + name]`` into ``module``; clear error on any mismatch."""
    own = module.state_dict()
    wanted = {k: v for k, v in tensors.items() if k.startswith(prefix)}
    stripped = {k[len(prefix) :]: v for k, v in wanted.items()}
    missing = sorted(set(own) - set(stripped))
    unexpected = sorted(set(stripped) - set(own))
    if missing or unexpected:
        raise CheckpointError(
            source,
            f"checkpoint does not match the architecture: missing {missing[:5]}, unexpected {unexpected[:5]}",
        )
    for name, value in stripped.items():
        if value.shape != own[name].shape:
            raise CheckpointError(
                source, f"checkpoint tensor {name} has shape {tuple(value.shape)}, model expects {tuple(own[name].shape)}"
            )
    module.load_state_dict(stripped, strict=True)
