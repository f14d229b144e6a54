"""Few-shot tables rendered from ``fewshot.json`` files (``study fewshot``).

A doc holds a block

    <!-- fewshot-tables:start results/fewshot/A/fewshot.json results/fewshot/B/fewshot.json -->
    ...
    <!-- fewshot-tables:end -->

naming the JSON files (paths relative to the repository root) whose tables go between
the markers. Several seeds (the headline rows): Table 1 (episodic) and Table 2 (global),
one block of rows per JSON (the paper's protocol beside the class-disjoint one), each
cell the mean over seeds with its 95% interval, and a paragraph on how MAML's gain
splits into meta-training and the inner loop, computed per seed. One seed (the full
N-way K-shot grid): the paper's layout, each cell the mean and std over episodes (Table 1)
or support draws (Table 2), with the seed stated. A ``fewshot-compare`` block names two
single-seed JSON files and compares their MAML rows config by config
(:mod:`motionvigil.report.fewshot_compare`).

``python -m motionvigil.report.fewshot DOC... [--check]`` rewrites the blocks
(``--check``: exit 1 when a block differs from its JSON).
"""

from __future__ import annotations

import math
from pathlib import Path

from motionvigil.metrics.seeds import seed_interval
from motionvigil.report.blocks import load_json, num
from motionvigil.report.fewshot_grid import machine_line, render_grid
from motionvigil.studies.fewshot_repeats import rows_by_seed, seed_means

PROTOCOL_NAMES = {"paper": "paper (same classes)", "novel": "novel classes"}


def _cell(stat: dict | None, count: float | None = None) -> str:
    if not stat or stat.get("mean") is None:
        return "n/a"
    lo, hi = stat.get("ci") or (None, None)
    text = num(stat["mean"])
    if lo is not None and hi is not None and num(lo) != num(hi):
        text += f" [{num(lo)}, {num(hi)}]"
    if count is not None:
        text += f" (n={count:.0f})"
    return text


def _protocol(result: dict) -> str:
    return PROTOCOL_NAMES.get(result["class_split"], result["class_split"])


def _table1(results: list[dict]) -> list[str]:
    lines = ["| protocol | config | model | mAP | Top-1 | VDR (n) | FPR (n) |", "|---|---|---|---|---|---|---|"]
    for res in results:
        for row in res["table1"]:
            chance = row["model"] == "chance"
            lines.append(f"| {_protocol(res)} | {row['config']} | {row['model']} | {_cell(row['mAP'])} | "
                         f"{_cell(row['top1'])} | {_cell(row['VDR'], None if chance else row.get('n_VDR'))} | "
                         f"{_cell(row['FPR'], None if chance else row.get('n_FPR'))} |")
    return lines


def _table2(results: list[dict]) -> list[str]:
    lines = ["| protocol | classes | model | mAP | Top-1 | Top-5 | VDR | FPR |", "|---|---:|---|---|---|---|---|---|"]
    for res in results:
        classes = res["runs"][0]["summary"]["classes"]
        for row in res["table2"]:
            lines.append(f"| {_protocol(res)} | {classes} | {row['model']} | {_cell(row['mAP'])} | "
                         f"{_cell(row['top1'])} | {_cell(row['top5'])} | {_cell(row['VDR'])} | {_cell(row['FPR'])} |")
    return lines


def gain(result: dict, config: str, model: str, over: str = "TMR") -> dict:
    """Per-seed mAP difference ``model - over`` at ``config`` (each seed's value the mean
    over its folds), with its interval over seeds."""
    groups = rows_by_seed(result["runs"], "table1")
    a = seed_means(groups.get((config, model), {}), "mAP")
    b = seed_means(groups.get((config, over), {}), "mAP")
    return seed_interval([a[s] - b[s] for s in a if s in b])


def _signed(stat: dict) -> str:
    if stat.get("n", 0) == 0:
        return "n/a"
    lo, hi = stat["ci"]
    finite = lo is not None and hi is not None and math.isfinite(lo) and math.isfinite(hi)
    return f"{stat['mean']:+.3f}" + (f" [{lo:+.3f}, {hi:+.3f}]" if finite else " (one seed, no interval)")


def _gains(results: list[dict]) -> list[str]:
    lines = ["MAML's gain in mAP over the pre-trained encoder's prototypes (TMR), per seed, mean [95% CI over "
             "seeds]; 'meta-training alone' is MAML with 0 inner steps, 'inner loop alone' adapts the pre-trained "
             "encoder without meta-training:", ""]
    for res in results:
        for config in sorted({r["config"] for r in res["table1"] if r["model"] == "MAML"}):
            parts = [f"MAML {_signed(gain(res, config, 'MAML'))}",
                     f"meta-training alone {_signed(gain(res, config, 'MAML, 0 inner steps'))}",
                     f"inner loop alone {_signed(gain(res, config, 'TMR + inner loop'))}"]
            lines.append(f"- {_protocol(res)}, {config}: " + "; ".join(parts) + ".")
    return lines


def _survival(results: list[dict]) -> list[str]:
    """How much of MAML's gain over prototypes the class-disjoint protocol keeps, per config."""
    by_split = {r["class_split"]: r for r in results}
    if not {"paper", "novel"} <= set(by_split):
        return []
    lines = []
    for config in sorted({r["config"] for r in by_split["paper"]["table1"] if r["model"] == "MAML"}):
        paper, novel = gain(by_split["paper"], config, "MAML"), gain(by_split["novel"], config, "MAML")
        if paper.get("n", 0) == 0 or novel.get("n", 0) == 0:
            continue
        share = novel["mean"] / paper["mean"] if paper["mean"] > 0 else float("nan")
        lines.append(f"- {config}: MAML's mAP gain over prototypes is {_signed(paper)} with the paper's protocol "
                     f"and {_signed(novel)} on novel classes, "
                     + (f"{share:.0%} of the paper-protocol gain." if math.isfinite(share)
                        else "with no paper-protocol gain to compare with."))
    return ["", "How much of MAML's gain survives on classes never seen in pre-training or meta-training:", ""] + lines


def _splits(results: list[dict]) -> list[str]:
    """The class-disjoint folds' base and novel classes, as the runs recorded them."""
    lines = []
    for res in results:
        folds = {run["fold"]: run["summary"].get("class_split") for run in res["runs"]}
        for fold, split in sorted(folds.items()):
            if split:
                lines += ["", f"Class-disjoint fold {fold}: base (pre-training, meta-training) = "
                              f"{', '.join(split['base'])}; novel (test) = {', '.join(split['novel'])}."]
    return lines


def render_block(results: list[dict]) -> str:
    """Tables 1 and 2 and the gain paragraph for ``results`` (one per protocol)."""
    first = results[0]
    seeds = ", ".join(str(s) for s in first["seeds"])
    episodes = first["settings"]["episodic"]["episodes"]
    repeats = first["settings"]["global_protocol"]["repeats"]
    data = ", ".join(first["data"])
    lines = [f"Table 1: episodic 5-way few-shot on {data}; every cell is the mean over training seeds {seeds} "
             f"[95% Student-t interval over seeds] of the mean over {episodes} test episodes; the class-disjoint "
             "rows also average folds 0 and 1 within each seed. (n=...) after VDR/FPR: episodes per run that held "
             "a violent (VDR) or non-violent (FPR) query. 'chance' scores random similarities on episodes of the "
             "same shape. Top-5 and Recall@5 are left out (1 by construction at 5-way); Recall@1 equals Top-1 on "
             "single-label data.", ""]
    lines += _table1(results)
    lines += ["", f"Table 2: global evaluation over all classes of the protocol's test set (novel classes only for "
                  f"the class-disjoint rows); cells as above, each seed's value the mean over {repeats} support "
                  "draws. Supervised rows train on all training clips of those classes.", ""]
    lines += _table2(results)
    lines += [""] + _gains(results)
    lines += _survival(results)
    lines += _splits(results)
    lines += ["", machine_line(results)]
    return "\n".join(lines)


def render_files(files: list[str], root: Path) -> str:
    """The block for a ``fewshot-tables`` marker naming ``files`` (:mod:`motionvigil.report.blocks`)."""
    if not files:
        raise ValueError("fewshot-tables marker names no results file")
    results = [load_json(root, name) for name in files]
    return render_grid(results) if len(results[0]["seeds"]) == 1 else render_block(results)
