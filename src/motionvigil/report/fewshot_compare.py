"""Two one-seed few-shot runs compared config by config (``fewshot-compare`` block).

The marker names two ``fewshot.json`` files, A then B, that differ in one setting (e.g.
full FOMAML against the fast mode). The block lists, for every Table 1 configuration and
every global MAML row both runs hold, mAP, Top-1, VDR and FPR as ``A -> B``, the mean
and range of B - A in mAP, and the time of the phases that differ.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from motionvigil.report.blocks import load_json, num
from motionvigil.report.fewshot_grid import machine_line

METRICS = (("mAP", "mAP"), ("Top-1", "top1"), ("VDR", "VDR"), ("FPR", "FPR"))
PHASES = (("meta-training", "meta_train_s"), ("Table 1", "table1_s"), ("Table 2 few-shot", "table2_fewshot_s"))


def describe(result: dict) -> str:
    """A run's inner-loop setting in words: ``full FOMAML, alpha 0.02`` / ``fast (top 1 layer), alpha 0.2``."""
    inner = result["settings"]["meta"]["inner"]
    k = inner.get("top_layers")
    mode = f"fast (top {k} layer{'s' if k > 1 else ''})" if k else "full FOMAML"
    return f"{mode}, alpha {inner['lr']:g}"


def _maml_rows(result: dict) -> dict[str, dict]:
    run = result["runs"][0]
    rows = {r["config"]: r for r in run["table1"] if r["model"] == "MAML" and "skipped" not in r}
    rows.update({f"global {r['model'].removeprefix('MAML ')}": r for r in run["table2"]
                 if r["model"].startswith("MAML")})
    return rows


def render_compare(a: dict, b: dict) -> str:
    """The comparison table and summary of one-seed results ``a`` and ``b``."""
    for r in (a, b):
        if len(r["seeds"]) != 1:
            raise ValueError("fewshot-compare takes one-seed results (study fewshot --seed S without --headline)")
    rows_a, rows_b = _maml_rows(a), _maml_rows(b)
    configs = [c for c in rows_a if c in rows_b]
    if not configs:
        raise ValueError("fewshot-compare: the two results share no MAML row")
    lines = [f"MAML rows, A = {describe(a)} -> B = {describe(b)}; training seed {a['runs'][0]['seed']} for both, the "
             "same pre-trained encoder and the same test episodes and support draws.", "",
             "| config | " + " | ".join(f"{name} A -> B" for name, _ in METRICS) + " |",
             "|---|" + "---|" * len(METRICS)]
    for c in configs:
        cells = [f"{num(rows_a[c].get(k))} -> {num(rows_b[c].get(k))}" for _, k in METRICS]
        lines.append(f"| {c} | " + " | ".join(cells) + " |")
    diffs = np.array([rows_b[c]["mAP"] - rows_a[c]["mAP"] for c in configs])
    episodic = [c for c in configs if not c.startswith("global")]
    stds = [rows_a[c].get("mAP_std") for c in episodic if rows_a[c].get("mAP_std") is not None]
    ta, tb = a["runs"][0]["summary"]["timings"], b["runs"][0]["summary"]["timings"]
    times = ", ".join(f"{name} {ta.get(k, float('nan')):.0f} s -> {tb.get(k, float('nan')):.0f} s"
                      for name, k in PHASES)
    lines += ["", f"B - A in mAP over the {len(configs)} rows: mean {diffs.mean():+.3f}, from {diffs.min():+.3f} to "
                  f"{diffs.max():+.3f}"
              + (f" (the std over test episodes of A's episodic rows is {min(stds):.3f}-{max(stds):.3f})." if stds
                 else "."),
              f"Time: {times}.", "", machine_line([a, b])]
    return "\n".join(lines)


def render_files(files: list[str], root: Path) -> str:
    """The block for a ``fewshot-compare`` marker naming two results files."""
    if len(files) != 2:
        raise ValueError(f"fewshot-compare marker takes two results files, got {len(files)}")
    return render_compare(load_json(root, files[0]), load_json(root, files[1]))


__all__ = ["describe", "render_compare", "render_files"]
