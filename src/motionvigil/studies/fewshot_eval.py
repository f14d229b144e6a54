"""``motionvigil fewshot``: one protocol on an existing study folder."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from pathlib import Path

from motionvigil.atomic import write_text_atomic
from motionvigil.cache_dir import cache_root
from motionvigil.datasets.select import load_specs, split_train_val_test
from motionvigil.studies.fewshot_protocols import (
    EpisodicProtocol,
    GlobalProtocol,
    rows_to_markdown,
    run_episodic,
    run_global,
)
from motionvigil.errors import MotionFileError
from motionvigil.fewshot.adaptation import AdaptSettings
from motionvigil.datasets.labelled import LabelledSet
from motionvigil.models.bundle import MotionTextBundle
from motionvigil.models.text import TextEmbeddingCache
from motionvigil.training.runtime import start_runtime, stop_runtime


def evaluate_fewshot(run: str | Path, specs: Sequence[str], protocol: str, episodes: int = 200,
                     device: str = "cpu", seed: int = 0, val_fraction: float = 0.15,
                     skip_bad: bool = False, adapt: AdaptSettings = AdaptSettings()) -> list[dict]:
    """Evaluate ``RUN/pretrain/best`` (prototypes) and ``RUN/maml/best`` (FOMAML) and
    write ``RUN/<protocol>[_fastK].{md,json}`` (``_fastK``: fast mode, top K layers adapted).

    Under ``torchrun`` the episodes (or global draws) are spread over the processes and
    gathered; rank 0 writes the files.
    """
    from motionvigil.studies.fewshot_study import pool

    runtime = start_runtime(device)
    device = str(runtime.device)
    run = Path(run)
    pre_dir, maml_dir = run / "pretrain" / "best", run / "maml" / "best"
    if not (pre_dir / "config.json").is_file():
        raise MotionFileError(pre_dir, "no pre-trained model here (run `motionvigil study fewshot` first)")
    pre = MotionTextBundle.load(pre_dir, device)
    maml = MotionTextBundle.load(maml_dir, device) if (maml_dir / "config.json").is_file() else None
    datasets = load_specs(specs, skip_bad=skip_bad)
    classes = pool(datasets)
    train_c, _, test_c = split_train_val_test(datasets, val_fraction, seed)
    train, test = LabelledSet.build(train_c, classes), LabelledSet.build(test_c, classes)
    cache = TextEmbeddingCache(cache_root() / "text")
    if protocol == "episodic":
        rows = run_episodic(pre, maml, test, dataclasses.replace(EpisodicProtocol(), episodes=episodes, seed=seed), cache,
                            adapt, progress=runtime.is_main)
        lead = ("config", "model")
    elif protocol == "global":
        rows = run_global(pre, maml, train, test, dataclasses.replace(GlobalProtocol(), seed=seed), cache, adapt,
                          progress=runtime.is_main)
        lead = ("model",)
    else:
        raise ValueError(f"unknown protocol {protocol!r}")
    if runtime.is_main:
        name = protocol if adapt.top_layers is None else f"{protocol}_fast{adapt.top_layers}"
        write_text_atomic(run / f"{name}.md", rows_to_markdown(rows, lead) + "\n")
        write_text_atomic(run / f"{name}.json", json.dumps(rows, indent=2, default=float))
    stop_runtime(runtime)
    return rows
