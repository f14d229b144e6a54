"""The few-shot study repeated over training seeds (and class folds), as one results JSON.

``run_fewshot_repeats`` runs :func:`~motionvigil.studies.fewshot_study.run_fewshot_study`
once per seed (and, for the class-disjoint protocol, once per fold and seed) in
``OUT/runs/seed{S}[_fold{F}]/`` and writes ``OUT/fewshot.json`` (a one-seed study run
straight into ``OUT`` gets the same file from :func:`write_single_run`):

- ``runs``: every run's Table 1 and Table 2 rows and its summary (timings, counts);
- ``table1`` / ``table2``: one row per (config, model) whose metrics are
  ``{"mean", "ci", "n", "values"}`` over seeds (:func:`motionvigil.metrics.seeds.seed_interval`);
  with two folds, a seed's value is the mean of its two folds' values;
- ``machine``: CPU model, threads, torch.mm GFLOP/s (:mod:`motionvigil.machine`).

The evaluation episodes and support draws are the same for every seed (the protocols'
own seed is fixed), so the interval measures what training varies.

``headline`` is the short preset ``make results`` uses: 5-way 1- and 5-shot episodes
with the two ablation rows, global 5- and 30-shot, and the supervised BCE baseline
(BCE+Center+Inter, below BCE in every full run, is left out to save its training time).

A run that finished keeps its rows in ``runs/NAME/run.json``; running the command again
reuses them, so an interrupted repeat study resumes at the first unfinished run.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from motionvigil.atomic import write_json_atomic
from motionvigil.machine import machine_info
from motionvigil.metrics.seeds import seed_interval
from motionvigil.studies.fewshot_protocols import TABLE_KEYS
from motionvigil.studies.fewshot_study import StudySettings, run_fewshot_study
from motionvigil.training.runtime import is_main_process

COUNT_KEYS = ("n_VDR", "n_FPR", "n_episodes")


def headline(settings: StudySettings, episodes: int = 200) -> StudySettings:
    """``settings`` cut to the headline rows (see the module docstring)."""
    return dataclasses.replace(
        settings,
        episodic=dataclasses.replace(settings.episodic, ways=(5,), shots=(1, 5), episodes=episodes, ablations=True),
        global_protocol=dataclasses.replace(settings.global_protocol, shots=(5, 30)),
        supervised_objectives=("bce",),
    )


def _row_key(row: dict) -> tuple[str, str]:
    return str(row.get("config", "")), str(row["model"])


def _fold_mean(rows: Sequence[dict], metric: str) -> float:
    """Mean of ``metric`` over one seed's folds (NaN when no fold has it)."""
    values = [float(r[metric]) for r in rows if r.get(metric) is not None and np.isfinite(float(r[metric]))]
    return float(np.mean(values)) if values else float("nan")


def rows_by_seed(runs: Sequence[dict], table: str) -> dict[tuple[str, str], dict[int, list[dict]]]:
    """``{(config, model): {seed: [that row of each of the seed's folds]}}`` in first-seen
    order (skipped configurations left out)."""
    grouped: dict[tuple[str, str], dict[int, list[dict]]] = {}
    for run in runs:
        for row in run[table]:
            if "skipped" not in row:
                grouped.setdefault(_row_key(row), {}).setdefault(run["seed"], []).append(row)
    return grouped


def seed_means(by_seed: dict[int, list[dict]], metric: str) -> dict[int, float]:
    """``metric`` per seed, each the mean over that seed's folds."""
    return {seed: _fold_mean(rows, metric) for seed, rows in by_seed.items()}


def combine(runs: Sequence[dict], table: str) -> list[dict]:
    """Rows of ``table`` over runs: per seed the mean over its folds, then
    :func:`seed_interval` over seeds; counts are the mean count per run."""
    out = []
    for by_seed in rows_by_seed(runs, table).values():
        first = next(iter(by_seed.values()))[0]
        row = {k: first[k] for k in ("config", "model", "ways", "shots") if k in first}
        for metric in TABLE_KEYS:
            row[metric] = seed_interval(list(seed_means(by_seed, metric).values()), bounds=(0.0, 1.0))
        for count in COUNT_KEYS:
            values = [r[count] for rows in by_seed.values() for r in rows if count in r]
            if values:
                row[count] = float(np.mean(values))
        out.append(row)
    return out


def _one_run(specs: Sequence[str], folder: Path, settings: StudySettings, pretrained, device: str, progress: bool,
             skip_bad: bool) -> dict:
    """One study run, or its stored rows when it finished before with the same settings."""
    done = folder / "run.json"
    want = json.loads(json.dumps(dataclasses.asdict(settings), default=str))
    if done.is_file():
        stored = json.loads(done.read_text())
        if stored.get("summary", {}).get("settings") == want and stored.get("data") == list(specs):
            return {k: stored[k] for k in ("seed", "fold", "table1", "table2", "summary")}
    r = run_fewshot_study(specs, folder, settings, pretrained=pretrained, device=device, progress=progress,
                          skip_bad=skip_bad)
    run = {"seed": settings.seed, "fold": settings.fold, "table1": r["table1"], "table2": r["table2"],
           "summary": r["summary"]}
    if is_main_process():
        write_json_atomic(done, {**run, "data": list(specs)})
    return run


def study_json(specs: Sequence[str], settings: StudySettings, seeds: Sequence[int], folds: Sequence[int],
               runs: Sequence[dict]) -> dict:
    """The ``fewshot.json`` object for ``runs`` (see the module docstring)."""
    return {
        "data": list(specs),
        "class_split": settings.class_split,
        "seeds": list(seeds),
        "folds": list(folds),
        "settings": json.loads(json.dumps(dataclasses.asdict(settings), default=str)),
        "machine": machine_info(),
        "seconds": round(sum(r["summary"]["timings"]["total_s"] for r in runs), 1),
        "table1": combine(runs, "table1"),
        "table2": combine(runs, "table2"),
        "runs": list(runs),
    }


def write_single_run(specs: Sequence[str], out_dir: str | Path, settings: StudySettings) -> dict:
    """``OUT/fewshot.json`` for the one-seed study that wrote its tables into ``OUT``
    (``table1.json``, ``table2.json``, ``summary.json``), so that the report renders it
    like a repeat study; returns it."""
    out = Path(out_dir)
    run = {"seed": settings.seed, "fold": settings.fold,
           **{name: json.loads((out / f"{name}.json").read_text()) for name in ("table1", "table2", "summary")}}
    result = study_json(specs, settings, [settings.seed], [settings.fold], [run])
    write_json_atomic(out / "fewshot.json", result)
    return result


def run_fewshot_repeats(specs: Sequence[str], out_dir: str | Path, settings: StudySettings,
                        seeds: Sequence[int] = (0,), folds: Sequence[int] | None = None,
                        pretrained: str | Path | None = None, device: str = "cpu", progress: bool = True,
                        skip_bad: bool = False) -> dict:
    """Run the study for every seed (x fold) and write ``OUT/fewshot.json``; returns it."""
    out = Path(out_dir)
    if folds is None:
        folds = (0, 1) if settings.class_split == "novel" else (0,)
    runs = []
    for seed in seeds:
        for fold in folds:
            name = f"seed{seed}" + (f"_fold{fold}" if settings.class_split == "novel" else "")
            s = dataclasses.replace(settings, seed=seed, fold=fold)
            runs.append(_one_run(specs, out / "runs" / name, s, pretrained, device, progress, skip_bad))
    result = study_json(specs, settings, seeds, folds, runs)
    if is_main_process():
        write_json_atomic(out / "fewshot.json", result)
    return result


__all__ = ["combine", "headline", "rows_by_seed", "run_fewshot_repeats", "seed_means", "study_json",
           "write_single_run"]
