"""Summaries of datasets for ``motionvigil data info``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from motionvigil.data_root import default_data_root
from motionvigil.datasets.registry import get_spec
from motionvigil.datasets.select import load_specs, parse_data_spec


def dataset_info(name: str, root: str | Path | None = None, load: bool = False) -> dict[str, Any]:
    """``{"name", "clips", "classes", "violent_classes", "subjects", "splits"}``.

    Datasets that can be indexed from file names alone (MSR Action3D) are counted
    without reading motion unless ``load``; others are loaded (unusable files skipped
    and counted under ``"skipped_files"``).
    """
    if root is None:
        name, root = parse_data_spec(name)  # a folder path means the folder dataset
    spec = get_spec(name)
    folder = Path(root) if root else (default_data_root() / spec.default_subdir if spec.default_subdir else None)
    if name == "msr_action3d" and not load:
        from motionvigil.datasets.loaders.msr_action3d import index_msr_action3d, index_summary

        return {**index_summary(index_msr_action3d(folder)), "indexed": True}
    dataset = load_specs([f"{name}:{folder}" if folder else name], skip_bad=True)[0]
    info = dataset.info()
    info["skipped_files"] = len(dataset.bad_files)
    return info
