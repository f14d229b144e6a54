"""The tables of docs/tmor.md (T-MOR transfer), rendered from the results files of ``make results``.

One block kind, ``tmor-tables``, whose first argument names the table and the rest the files::

    <!-- tmor-tables:start pretrain results/tmor/infonce_train.json results/tmor/infonce_log.jsonl ... -->
    <!-- tmor-tables:start classify results/tmor/classify_linear_scratch.json ... -->
    <!-- tmor-tables:start detect results/tmor/detect_linear_scratch.json ... -->
    <!-- tmor-tables:start zeroshot results/tmor/classify_linear_infonce.json ... -->
    <!-- tmor-tables:start dbscan results/tmor/tmor_train.json results/tmor/tmor_log.jsonl -->

* ``classify`` / ``detect`` / ``zeroshot`` read ``motionvigil probe ... -o FILE.json`` reports.
  A file is named ``<protocol>_<model>.json``; ``<model>`` (the part after the last ``_``)
  picks the row label from :data:`MODELS` and groups a model's files into one row. Which
  column a file fills comes from the report itself (task, mode, datasets).
* ``pretrain`` takes ``RUN/train.json`` and ``RUN/log.jsonl`` copies in pairs, ``dbscan`` one
  such pair (the T-MOR run's); a ``.jsonl`` file holds one JSON object per line (epoch).

Every number is a percent field of a report (one decimal) or a loss / DBSCAN statistic of
the log; each table has a one-line caption with the counts and seeds of its files.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from motionvigil.report.blocks import load_json, num, results_file

MODELS = {
    "scratch": "UNIK from scratch",
    "infonce": "InfoNCE (TMR-style)",
    "stage1": "T-MOR stage 1 only (L_mm)",
    "tmor": "T-MOR cluster-guided (L_mm -> L_mm+L_mt)",
}
MSR, HDM = "msr_action3d", "hdm05"
SELECTION = "val/contrastive"  # the pre-training loop keeps the epoch with the lowest value of this


def load_jsonl(root: Path, name: str) -> list[dict]:
    """The JSON objects of a ``.jsonl`` results file, one per non-empty line."""
    path = results_file(root, name)
    rows = []
    for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise ValueError(f"{name}: line {i} is not valid JSON ({exc.msg})") from None
    return rows


def model_key(name: str) -> str:
    """``scratch`` for ``results/tmor/classify_linear_scratch.json``."""
    return Path(name).stem.rsplit("_", 1)[-1]


def model_label(name: str) -> str:
    key = model_key(name)
    return MODELS.get(key, key)


def _reports(files: list[str], root: Path) -> list[tuple[str, dict]]:
    if not files:
        raise ValueError("tmor-tables: no results files given")
    return [(f, load_json(root, f)) for f in files]


def _rows(reports: list[tuple[str, dict]]) -> dict[str, list[tuple[str, dict]]]:
    """Reports grouped by model key, in the order the files were named."""
    rows: dict[str, list[tuple[str, dict]]] = {}
    for name, report in reports:
        rows.setdefault(model_key(name), []).append((name, report))
    return rows


def _same(values: dict[str, Any], what: str) -> Any:
    """The one value every file agrees on (the splits of all rows must be the same)."""
    distinct = {json.dumps(v, sort_keys=True) for v in values.values()}
    if len(distinct) != 1:
        shown = "; ".join(f"{k}: {v}" for k, v in values.items())
        raise ValueError(f"tmor-tables: the files disagree on {what} ({shown})")
    return next(iter(values.values()))


def _seeds(reports: list[tuple[str, dict]]) -> str:
    seeds = sorted({r["settings"]["seed"] for _, r in reports})
    return f"seed {seeds[0]}" if len(seeds) == 1 else "seeds " + ", ".join(map(str, seeds))


def _counts(reports: list[tuple[str, dict]], dataset: str) -> dict:
    keys = ("n_train", "n_val", "n_test", "classes")
    return _same({f: {k: r["datasets"][dataset][k] for k in keys} for f, r in reports if dataset in r["datasets"]},
                 f"the {dataset} split")


# ---- classification (Table I layout) ---------------------------------------------------------------
def classify_table(reports: list[tuple[str, dict]]) -> str:
    cols = [(MSR, "linear"), (MSR, "finetune"), (HDM, "linear"), (HDM, "finetune")]
    lines = ["| model | MSR linear top-1 | MSR linear mAP | MSR fine-tune top-1 | MSR fine-tune mAP | HDM05 linear top-1 "
             "| HDM05 linear mAP | HDM05 fine-tune top-1 | HDM05 fine-tune mAP |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    epochs: dict[str, set[int]] = {MSR: set(), HDM: set()}
    for key, group in _rows(reports).items():
        cells: dict[tuple[str, str], dict] = {}
        for name, r in group:
            if r["settings"]["task"] != "classify":
                raise ValueError(f"{name}: not a classification probe (task {r['settings']['task']!r})")
            for dataset, d in r["datasets"].items():
                cells[(dataset, r["settings"]["mode"])] = d
                if r["settings"]["mode"] == "finetune" and dataset in epochs:
                    epochs[dataset].add(r["settings"]["epochs"] or 30)
        row = [MODELS.get(key, key)]
        for col in cols:
            d = cells.get(col)
            row += [num(d["top1"], 1), num(d["mAP"], 1)] if d else ["-", "-"]
        lines.append("| " + " | ".join(row) + " |")
    parts = []
    for dataset, title in ((MSR, "MSR Action3D"), (HDM, "HDM05")):
        c = _counts(reports, dataset)
        ep = ", ".join(map(str, sorted(epochs[dataset]))) or "-"
        parts.append(f"{title} {c['n_test']} test clips ({c['classes']} classes; {c['n_train']} train, "
                     f"{c['n_val']} validation; fine-tuning at most {ep} epochs)")
    caption = (f"Cross-subject test sets: {'; '.join(parts)}. One probe per cell, {_seeds(reports)}; "
               "top-1 and mAP on the test split, percent.")
    return "\n".join([caption, "", *lines])


# ---- frame-wise detection on UTKinect -----------------------------------------------------------------
def detect_table(reports: list[tuple[str, dict]]) -> str:
    lines = ["| model | setting | mAP@0.1 | mAP@0.3 | mAP@0.5 | frame acc | predicted / true events |",
             "|---|---|---:|---:|---:|---:|---:|"]
    epochs, smooth, datasets = set(), set(), set()
    for key, group in _rows(reports).items():
        for name, r in group:
            s = r["settings"]
            if s["task"] != "detect":
                raise ValueError(f"{name}: not a detection probe (task {s['task']!r})")
            smooth.add(s["smooth"])
            if s["mode"] == "finetune":
                epochs.add(s["epochs"] or 40)
            for dataset, d in r["datasets"].items():
                datasets.add(dataset)
                setting = "linear" if s["mode"] == "linear" else "fine-tune"
                lines.append(f"| {MODELS.get(key, key)} | {setting} | {num(d['mAP@0.1'], 1)} | {num(d['mAP@0.3'], 1)} "
                             f"| {num(d['mAP@0.5'], 1)} | {num(d['frame_acc'], 1)} | "
                             f"{d['predicted_events']} / {d['true_events']} |")
    dataset = ", ".join(sorted(datasets))
    c = _same({f: {k: r["datasets"][dataset][k] for k in ("n_train", "n_val", "n_test", "true_events", "classes")}
               for f, r in reports}, f"the {dataset} split")
    caption = (f"{dataset}: {c['n_test']} test sequences ({c['true_events']} action events, {c['classes']} classes), "
               f"{c['n_train']} training and {c['n_val']} validation sequences; {_seeds(reports)}; frame "
               f"probabilities smoothed over {', '.join(map(str, sorted(smooth)))} frames; fine-tuning at most "
               f"{', '.join(map(str, sorted(epochs))) or '-'} epochs. Event mAP and frame accuracy in percent.")
    return "\n".join([caption, "", *lines])


# ---- zero-shot (Table III layout) ------------------------------------------------------------------------
def zeroshot_table(reports: list[tuple[str, dict]]) -> str:
    lines = ["| model | MSR zero-shot top-1 (chance) | top-5 (chance) | HDM05 zero-shot top-1 (chance) | top-5 (chance) |",
             "|---|---|---|---|---|"]
    sides: dict[str, str] = {}
    for name, r in reports:
        row = [model_label(name)]
        for dataset in (MSR, HDM):
            z = r["datasets"].get(dataset, {}).get("zero_shot")
            if z is None:
                row += ["-", "-"]
                continue
            sides[model_label(name)] = z["text_side"]
            row += [f"{num(z['top1'], 1)} ({num(z['chance_top1'], 1)})", f"{num(z['top5'], 1)} ({num(z['chance_top5'], 1)})"]
        lines.append("| " + " | ".join(row) + " |")
    shapes = []
    for dataset, title in ((MSR, "MSR Action3D"), (HDM, "HDM05")):
        z = _same({f: {k: r["datasets"][dataset]["zero_shot"][k] for k in ("n", "n_classes")}
                   for f, r in reports if "zero_shot" in r["datasets"].get(dataset, {})}, f"the {dataset} test clips")
        shapes.append(f"{title} {z['n']} test clips, {z['n_classes']} prompts")
    templates = {r["datasets"][d]["zero_shot"]["prompt_template"] for _, r in reports for d in r["datasets"]
                 if "zero_shot" in r["datasets"][d]}
    via = "; ".join(f"{m}: {s}" for m, s in sides.items())
    caption = (f"{'; '.join(shapes)} (prompt {' / '.join(sorted(repr(t) for t in templates))}); {_seeds(reports)}; "
               f"text side: {via}. Percent; chance = a random ranking.")
    return "\n".join([caption, "", *lines])


# ---- pre-training runs and the DBSCAN log ------------------------------------------------------------------
def _pairs(files: list[str], root: Path) -> list[tuple[str, dict, list[dict]]]:
    if not files or len(files) % 2:
        raise ValueError("tmor-tables pretrain/dbscan: give RUN train.json and log.jsonl copies in pairs")
    out = []
    for train_name, log_name in zip(files[::2], files[1::2]):
        if not log_name.endswith(".jsonl"):
            raise ValueError(f"tmor-tables: {log_name} should be a log.jsonl copy (pairs: train.json, log.jsonl)")
        log = load_jsonl(root, log_name)
        if not log:
            raise ValueError(f"{log_name}: no epochs logged")
        out.append((train_name, load_json(root, train_name), log))
    return out


def kept_epoch(log: list[dict]) -> dict:
    """The log line of the epoch the run kept (lowest validation contrastive loss, the first on ties)."""
    return min(log, key=lambda e: (e[SELECTION], e["epoch"]))


def _objective(settings: dict) -> str:
    if settings["objective"] != "tmor":
        return "InfoNCE (the encoder's default objective)"
    t = settings["tmor"]
    n = t["self_supervised_epochs"]
    stage1 = "+".join(x for x in t["terms"] if x != "mt")
    return f"T-MOR: epochs 1-{n} {stage1}, then {'+'.join(t['terms'])}" if n else f"T-MOR: {'+'.join(t['terms'])}"


def pretrain_table(pairs: list[tuple[str, dict, list[dict]]]) -> str:
    lines = ["| run | objective | epochs | kept epoch | val loss of the kept epoch | train loss, last epoch |",
             "|---|---|---:|---:|---:|---:|"]
    clips = {}
    for name, train, log in pairs:
        s = train["settings"]
        best = kept_epoch(log)
        clips[name] = {"train": train["train_clips"], "val": train["val_clips"], "seed": s["seed"]}
        run = Path(name).stem.removesuffix("_train")  # results/tmor/tmor_train.json -> tmor
        lines.append(f"| {MODELS.get(run, run)} | {_objective(s)} | {len(log)} | {best['epoch']} | {num(best[SELECTION])} "
                     f"| {num(log[-1]['train/loss'])} |")
    c = _same(clips, "the pre-training clips")
    caption = (f"Pre-training on {c['train']} training clips, {c['val']} validation clips choose the kept epoch "
               f"(lowest validation loss of the objective's terms); seed {c['seed']}. The losses of the two "
               "objectives are on different scales and are not comparable with each other.")
    return "\n".join([caption, "", *lines])


def dbscan_table(pairs: list[tuple[str, dict, list[dict]]]) -> str:
    (name, train, log), = pairs
    t = train["settings"]["tmor"]
    lines = ["| epoch | terms | eps | min_samples | clusters | noise | largest cluster | val pair precision / recall "
             "/ F0.5 | train loss | val loss (all terms, instance level) |",
             "|---:|---|---:|---:|---:|---:|---:|---|---:|---:|"]
    for e in log:
        if "tmor/clusters" not in e:
            raise ValueError(f"{name}: epoch {e['epoch']} has no tmor/* fields (not a T-MOR run's log)")
        if e.get("tmor/fallback") == "instance":
            pairs_cell = "none eligible: instance level"
            if e.get("tmor/val_pair_precision") is not None:
                pairs_cell = "largest training cluster over the cap: instance level"
        elif e.get("tmor/eps") is None:
            pairs_cell = f"epoch {e['epoch']}: no clustering yet"
        else:
            pairs_cell = (f"{num(e['tmor/val_pair_precision'], 2)} / {num(e['tmor/val_pair_recall'], 2)} / "
                          f"{num(e['tmor/val_pair_fbeta'], 2)}")
        eps = "-" if e.get("tmor/eps") is None else f"{e['tmor/eps']:g}"
        ms = "-" if e.get("tmor/min_samples") is None else str(e["tmor/min_samples"])
        lines.append(f"| {e['epoch']} | {e['tmor/terms']} | {eps} | {ms} | {e['tmor/clusters']} | "
                     f"{num(e['tmor/noise_fraction'], 2)} | {num(e['tmor/largest_fraction'], 2)} | {pairs_cell} | "
                     f"{num(e['train/loss'])} | {num(e[SELECTION])} |")
    grid = (f"eps {{{', '.join(f'{x:g}' for x in t['eps_grid'])}}} x min_samples "
            f"{{{', '.join(map(str, t['min_samples_grid']))}}}") if t["eps"] is None else \
        f"fixed eps {t['eps']:g}, min_samples {t['min_samples']}"
    caption = (f"The T-MOR run's log ({name.removesuffix('_train.json')}_log.jsonl): {len(log)} epochs, seed {train['settings']['seed']}; eps / min_samples chosen before every "
               f"clustering on the {train['val_clips']} validation clips ({grid}; a setting is eligible when its "
               f"largest training cluster holds at most a share {t['max_cluster_fraction']:g} of the clips); "
               f"clusters, noise and largest cluster are shares of the {train['train_clips']} training clips.")
    return "\n".join([caption, "", *lines])


TABLES: dict[str, Callable[[list[str], Path], str]] = {
    "classify": lambda files, root: classify_table(_reports(files, root)),
    "detect": lambda files, root: detect_table(_reports(files, root)),
    "zeroshot": lambda files, root: zeroshot_table(_reports(files, root)),
    "pretrain": lambda files, root: pretrain_table(_pairs(files, root)),
    "dbscan": lambda files, root: dbscan_table(_pairs(files, root)),
}


def render_files(args: list[str], root: Path) -> str:
    """``TABLE FILE...``: one of :data:`TABLES` from the files after it."""
    if not args or args[0] not in TABLES:
        raise ValueError(f"tmor-tables takes TABLE FILE... with TABLE one of {', '.join(TABLES)}; got {args[:1]}")
    return TABLES[args[0]](args[1:], root)


__all__ = ["MODELS", "TABLES", "kept_epoch", "load_jsonl", "model_key", "render_files"]
