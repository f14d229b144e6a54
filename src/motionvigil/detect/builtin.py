"""The built-in detector shipped in :mod:`motionvigil.zoo`: verified, then loaded.

Every file listed in ``zoo/manifest.json`` is checked against its recorded SHA-256
before use, so an edited threshold or a corrupted weights file is refused with one line
naming the file (rebuild with ``make model`` or reinstall).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from motionvigil.detect.detector import Detector
from motionvigil.errors import CheckpointError
from motionvigil.models.checkpoint import sha256_file

ZOO = Path(__file__).resolve().parents[1] / "zoo"
MANIFEST = "manifest.json"
DETECTOR = "violence_detector"


def read_manifest(zoo: Path = ZOO) -> dict[str, Any]:
    path = zoo / MANIFEST
    if not path.is_file():
        raise CheckpointError(path, "no built-in models in this installation (build them with `make model`)")
    try:
        manifest = json.loads(path.read_text())
        manifest["models"][DETECTOR]["files"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise CheckpointError(path, f"unreadable built-in model manifest ({exc})") from None
    return manifest


def verify(name: str = DETECTOR, zoo: Path = ZOO) -> Path:
    """The model's folder, after checking every listed file's SHA-256."""
    manifest = read_manifest(zoo)
    if name not in manifest["models"]:
        raise CheckpointError(zoo / MANIFEST, f"no built-in model {name!r}; known: {', '.join(manifest['models'])}")
    for rel, digest in manifest["models"][name]["files"].items():
        path = zoo / rel
        if not path.is_file():
            raise CheckpointError(path, "built-in model file is missing (reinstall motionvigil or run `make model`)")
        if sha256_file(path) != digest:
            raise CheckpointError(path, "built-in model file does not match its recorded SHA-256 (edited or "
                                        "corrupt; reinstall motionvigil or run `make model`)")
    return zoo / name


def load_builtin_detector(device: str = "cpu", zoo: Path = ZOO) -> Detector:
    """The default violence detector, verified."""
    return Detector.load(verify(DETECTOR, zoo), device=device)


def builtin_models(zoo: Path = ZOO) -> dict[str, Any]:
    """``{name: card}`` for every built-in model (the manifest's model entries)."""
    return read_manifest(zoo)["models"]
