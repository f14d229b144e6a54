"""Summaries of datasets for ``motionvigil data info``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from motionvigil.data_root import default_data_root
from motionvigil.datasets.registry import get_spec
from motionvigil.datasets.select import load_specs, parse_data_spec


# datasets counted from their file names alone: loader module -> its index function
_INDEXED = {"msr_action3d": "index_msr_action3d", "utd_mhad": "index_utd_mhad", "sbu_kinect": "index_sbu"}


def dataset_info(name: str, root: str | Path | None = None, load: bool = False) -> dict[str, Any]:
    """``{"name", "clips", "classes", "violent_classes", "subjects", "splits"}``.

    Datasets that can be indexed from file names alone (MSR Action3D, UTD-MHAD, SBU
    Kinect) are counted
    without reading motion unless ``load``; others are loaded (unusable files skipped
    and counted under ``"skipped_files"``).
    """
    if root is None:
        name, root = parse_data_spec(name)  # a folder path means the folder dataset
    spec = get_spec(name)
    folder = Path(root) if root else (default_data_root() / spec.default_subdir if spec.default_subdir else None)
    if name in _INDEXED and not load:
        import importlib

        module = importlib.import_module(f"motionvigil.datasets.loaders.{name}")
        index = getattr(module, _INDEXED[name])
        return {**module.index_summary(index(folder)), "indexed": True}
    dataset = load_specs([f"{name}:{folder}" if folder else name], skip_bad=True)[0]
    info = dataset.info()
    info["skipped_files"] = len(dataset.bad_files)
    return info
