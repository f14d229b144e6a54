"""The full N-way K-shot grid of one training seed, in the paper's table layout.

A one-seed ``fewshot.json`` (``study fewshot --seed S`` without ``--headline``) holds every
configuration of Table 1 and every row of Table 2 for one run. There is no spread over
training seeds to report, so each cell is the mean and standard deviation over the
run's test episodes (Table 1) or support draws (Table 2), and the caption says so.
"""

from __future__ import annotations

from motionvigil.report.blocks import num

DASH = "—"


def _pm(row: dict, key: str) -> str:
    """``0.953 ± .062``: the mean and the std over episodes (or draws) of one run's row."""
    if row.get(key) is None:
        return "n/a"
    std = row.get(f"{key}_std")
    return num(row[key]) if std is None else f"{num(row[key])} ± {num(std)[1:] if std < 1 else num(std)}"


def machine_line(results: list[dict]) -> str:
    """Where and how long the runs behind ``results`` ran, from their ``machine`` blocks."""
    machine = results[0].get("machine", {})
    minutes = sum(r.get("seconds", 0) for r in results) / 60
    return (f"Measured on {machine.get('cpu', 'n/a')} ({machine.get('cores', 'n/a')} cores, "
            f"{machine.get('torch_threads', 'n/a')} torch thread(s) per process, torch.mm "
            f"{num(machine.get('mm_gflops'), 0)} GFLOP/s), {minutes:.0f} min of runs in all.")


def _title(result: dict) -> str:
    inner = result["settings"]["meta"]["inner"]
    parts = [f"inner loop T = {inner['steps']}, alpha = {inner['lr']:g}"]
    if inner.get("top_layers"):
        parts.append(f"fast mode: top {inner['top_layers']} layer(s) adapted")
    return "; ".join(parts)


def _table1(run: dict) -> list[str]:
    lines = ["| config | model | mAP | Top-1 | Top-5 | VDR (n) | FPR (n) |", "|---|---|---|---|---|---|---|"]
    for row in run["table1"]:
        if "skipped" in row:
            lines.append(f"| {row['config']} | {row['model']} | skipped: {row['skipped']} | | | | |")
            continue
        top5 = DASH if row.get("ways", 0) <= 5 else _pm(row, "top5")
        counts = row["model"] != "chance"
        vdr = _pm(row, "VDR") + (f" ({row['n_VDR']})" if counts and "n_VDR" in row else "")
        fpr = _pm(row, "FPR") + (f" ({row['n_FPR']})" if counts and "n_FPR" in row else "")
        lines.append(f"| {row['config']} | {row['model']} | {_pm(row, 'mAP')} | {_pm(row, 'top1')} | {top5} | "
                     f"{vdr} | {fpr} |")
    return lines


def _table2(run: dict) -> list[str]:
    lines = ["| model | mAP | Top-1 | Top-5 | VDR | FPR |", "|---|---|---|---|---|---|"]
    for row in run["table2"]:
        lines.append(f"| {row['model']} | {_pm(row, 'mAP')} | {_pm(row, 'top1')} | {_pm(row, 'top5')} | "
                     f"{_pm(row, 'VDR')} | {_pm(row, 'FPR')} |")
    return lines


def _reading(run: dict) -> str:
    """One sentence computed from the run: where MAML beats the prototypes, and the best global row."""
    t1 = {(r["config"], r["model"]): r["mAP"] for r in run["table1"] if "skipped" not in r and r.get("mAP") is not None}
    gains = [t1[(c, "MAML")] - t1[(c, "TMR")] for c, m in t1 if m == "MAML" and (c, "TMR") in t1]
    t2 = {r["model"]: r["mAP"] for r in run["table2"] if r.get("mAP") is not None}
    shots = [m.removeprefix("MAML ") for m in t2 if m.startswith("MAML ") and f"Proto {m.removeprefix('MAML ')}" in t2]
    wins = sum(t2[f"MAML {k}"] > t2[f"Proto {k}"] for k in shots)
    best = max(t2, key=t2.get) if t2 else "n/a"
    text = (f"MAML's mAP is above the prototypes' in {sum(g > 0 for g in gains)} of {len(gains)} episodic "
            f"configurations (by {min(gains):+.3f} to {max(gains):+.3f})" if gains else "No MAML row ran")
    return text + (f" and in {wins} of {len(shots)} global rows; the best global row is {best} "
                   f"(mAP {num(t2[best])}).") if t2 else text + "."


def render_grid(results: list[dict]) -> str:
    """Tables 1 and 2 of each one-seed result in ``results``."""
    lines: list[str] = []
    for result in results:
        run = result["runs"][0]
        data = ", ".join(result["data"])
        s = result["settings"]
        episodes, repeats = s["episodic"]["episodes"], s["global_protocol"]["repeats"]
        classes = run["summary"]["classes"]
        lines += [f"Table 1: episodic few-shot on {data}, training seed {run['seed']} ({_title(result)}); each cell is "
                  f"the mean ± std over {episodes} test episodes of this one run (the std is over episodes, not a "
                  f"confidence interval over training: see the 3-seed headline rows for that). (n) after VDR/FPR: "
                  f"episodes that held a violent (VDR) or non-violent (FPR) query. {DASH}: Top-5 is 1 by "
                  "construction at 5-way. 'chance' scores random similarities on episodes of the same shape.", ""]
        lines += _table1(run)
        lines += ["", f"Table 2: global evaluation over all {classes} classes of the test split, the same run; mean ± "
                      f"std over {repeats} support draws (one draw for rows without support).", ""]
        lines += _table2(run)
        lines += ["", _reading(run), ""]
    lines.append(machine_line(results))
    return "\n".join(lines)


__all__ = ["machine_line", "render_grid"]
