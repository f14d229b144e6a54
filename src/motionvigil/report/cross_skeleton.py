"""The cross-skeleton study's two tables, rendered from its results JSON.

``study cross-skeleton -o FILE.json`` writes every row of the study: transfer rows (a
``value`` in %, Top-1 or R@1, with the ``chance`` level where there is one and the
target's ``n_test`` clips) and few-shot episode rows (fractions with their std over
episodes). The block shows them in the layout of docs/cross_skeleton.md: one transfer
table (arms as columns) and one episodic table (mean ± std over episodes, in %), each
under a one-line caption with the seed, the counts and the chance levels.
"""

from __future__ import annotations

from pathlib import Path

from motionvigil.report.blocks import load_json, num
from motionvigil.report.fewshot_grid import machine_line


def _pct(row: dict, key: str) -> str:
    """``31.7 ± 9.3``: an episodic fraction's mean and std over episodes, in percent."""
    mean, std = row.get(key), row.get(f"{key}_std")
    return f"{num(None if mean is None else 100 * mean, 1)} ± {num(None if std is None else 100 * std, 1)}"


def _key(row: dict) -> tuple[str, str, str, str]:
    return row["task"], row["source"], row["target"], row["setting"]


def _transfer_caption(result: dict, transfer: list[dict]) -> str:
    s = result["settings"]
    targets = {}
    for r in transfer:
        if r.get("n_test") is not None:
            q = f", {r['queries']} caption queries" if r.get("queries") is not None else ""
            targets.setdefault(r["target"], f"{r['target']} {r['n_test']} test clips{q}")
    chances = {}
    for r in transfer:
        if r.get("chance") is not None:
            chances.setdefault((r["target"], r["setting"]), f"{r['target']} {r['setting']} {num(r['chance'], 1)}")
    counts = f" ({'; '.join(targets.values())})" if targets else ""
    return (f"Transfer, `{s['preset']}` preset, seed {s['seed']}, {s['pretrain_epochs']} pre-training / "
            f"{s['finetune_epochs']} fine-tuning epochs: Top-1 or R@1 in % on each target's test split{counts}; "
            f"chance in %: {', '.join(chances.values()) or 'n/a'}.")


def _episodic_caption(result: dict, fewshot: list[dict]) -> str:
    s = result["settings"]
    episodes = sorted({r["episodes"] for r in fewshot})
    return (f"Few-shot violence across families, seed {s['seed']}: {s['ways']}-way {s['shots']}-shot, "
            f"{s['queries']} queries per class, {'/'.join(map(str, episodes))} episodes per row (in brackets); "
            f"mean ± std over episodes, in %; chance Top-1 of a {s['ways']}-way episode is "
            f"{num(100 / s['ways'], 1)}.")


def render_result(result: dict) -> str:
    """The transfer table and the episodic table of one cross-skeleton result."""
    rows = result["rows"]
    arms = list(dict.fromkeys(r["arm"] for r in rows))
    transfer = [r for r in rows if "value" in r]
    fewshot = [r for r in rows if "episodes" in r]
    lines = [_transfer_caption(result, transfer), "",
             "| task | source -> target | setting | " + " | ".join(arms) + " |",
             "|---|---|---|" + "---|" * len(arms)]
    by_key = {(r["arm"], *_key(r)): r for r in transfer}
    for task, src, tgt, setting in dict.fromkeys(map(_key, transfer)):
        hits = [by_key.get((arm, task, src, tgt, setting)) for arm in arms]
        chance = next((h["chance"] for h in hits if h and h.get("chance") is not None), None)
        label = setting + (f" (chance {num(chance, 1)})" if chance is not None else "")
        cells = [num(h["value"], 1) if h else "n/a" for h in hits]
        lines.append(f"| {task} | {src} -> {tgt} | {label} | " + " | ".join(cells) + " |")
    if fewshot:
        lines += ["", _episodic_caption(result, fewshot), "",
                  "| episodes | arm | Top-1 | mAP | VDR | FPR |", "|---|---|---|---|---|---|"]
        for r in fewshot:
            cells = [_pct(r, k) for k in ("top1", "mAP", "VDR", "FPR")]
            lines.append(f"| {r['setting']} ({r['episodes']}) | {r['arm']} | " + " | ".join(cells) + " |")
    if "machine" in result:
        lines += ["", machine_line([result])]
    return "\n".join(lines)


def render_files(files: list[str], root: Path) -> str:
    """The ``cross-skeleton-tables`` block: the tables of each results file named."""
    return "\n\n".join(render_result(load_json(root, name)) for name in files)


__all__ = ["render_files", "render_result"]
