"""Choosing data on the command line (``NAME[:ROOT]``) and carving out a validation set.

Model selection uses a validation set taken from the training split (a dataset's own
``val`` split when it has one); the test split is kept for the final evaluation only.
"""

from __future__ import annotations

import inspect
import os
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from motionvigil.datasets.clip import Clip, Dataset
from motionvigil.datasets.registry import dataset_names, get_spec, load_dataset


def parse_data_spec(spec: str) -> tuple[str, str | None]:
    """``"bandai2:/data/bandai"`` -> ``("bandai2", "/data/bandai")``;
    ``"procedural"`` -> ``("procedural", None)``.

    A folder path (``mydata/``, ``./mydata``, or an existing folder that is not a dataset
    name) means the folder dataset: ``("folder", "mydata/")``.
    """
    if _looks_like_folder(spec):
        return "folder", spec
    name, sep, root = spec.partition(":")
    if not name:
        raise ValueError(f"bad data spec {spec!r}; expected NAME, NAME:ROOT or a folder")
    return name, (root if sep and root else None)


def _looks_like_folder(spec: str) -> bool:
    name = spec.partition(":")[0]
    if any(sep in name for sep in ("/", os.sep)) or name in (".", "..") or name.startswith("~"):
        return True
    return Path(spec).is_dir() and name not in dataset_names()


def is_procedural(spec: str) -> bool:
    """Whether ``NAME[:ROOT]`` names the built-in procedural corpus (``procedural`` or its alias)."""
    from motionvigil.datasets.registry import canonical_name
    from motionvigil.datasets.synthetic import REGISTERED_NAME

    return canonical_name(parse_data_spec(spec)[0]) == REGISTERED_NAME


def load_specs(specs: Sequence[str], skip_bad: bool | None = None, **reader_options) -> list[Dataset]:
    """Load every ``NAME[:ROOT]`` spec (or folder); ``skip_bad`` (``None``: each loader's own
    default behaviour, i.e. class folders skip, the rest stop) goes to every loader that
    takes it (unusable files are then skipped and listed in ``dataset.bad_files``), and so
    do ``reader_options`` (``joint_map``, ``scale``: see ``load_motion``)."""
    out = []
    for name, root in map(parse_data_spec, specs):
        params = inspect.signature(get_spec(name).loader).parameters
        options = {**({} if skip_bad is None else {"skip_bad": skip_bad}), **reader_options}
        dataset = load_dataset(name, root, **{k: v for k, v in options.items() if k in params})
        report_bad_files(dataset)
        out.append(dataset)
    return out


def report_bad_files(dataset: Dataset, stream=None) -> None:
    """List a dataset's skipped files on stderr (one line each), so that a command that
    skipped some (``--skip-bad``, class folders, ``mocap_violence``) says which."""
    if not dataset.bad_files:
        return
    stream = stream or sys.stderr
    print(f"motionvigil: {dataset.name}: skipped {len(dataset.bad_files)} unusable file(s) "
          "(--strict stops at the first instead):", file=stream)
    for path, problem in dataset.bad_files:
        print(f"  {path}: {problem}", file=stream)


def training_clips(specs: Sequence[str], skip_bad: bool | None = None) -> list[Clip]:
    """The non-test clips of every ``NAME[:ROOT]`` spec, pooled (test splits stay unseen)."""
    return [c for ds in load_specs(specs, skip_bad=skip_bad) for c in ds.clips if c.split != "test"]


def split_train_val_test(
    datasets: Sequence[Dataset], val_fraction: float = 0.1, seed: int = 0
) -> tuple[list[Clip], list[Clip], list[Clip]]:
    """Pool datasets into (train, val, test) clip lists.

    Per dataset: ``test`` = its test split; ``val`` = its val split if present, else a
    random ``val_fraction`` of its train split (at least 2 clips); ``train`` = the rest of
    the train split. Clips without a split count as training data.
    """
    rng = np.random.default_rng(seed)
    train: list[Clip] = []
    val: list[Clip] = []
    test: list[Clip] = []
    for ds in datasets:
        test += [c for c in ds.clips if c.split == "test"]
        own_val = [c for c in ds.clips if c.split == "val"]
        pool = [c for c in ds.clips if c.split not in ("val", "test")]
        if own_val:
            val += own_val
            train += pool
            continue
        n_val = max(2, int(round(val_fraction * len(pool)))) if len(pool) >= 4 else 0
        chosen = set(rng.permutation(len(pool))[:n_val].tolist())
        val += [c for i, c in enumerate(pool) if i in chosen]
        train += [c for i, c in enumerate(pool) if i not in chosen]
    return train, val, test
