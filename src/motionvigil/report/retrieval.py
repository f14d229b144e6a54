"""The retrieval table (``retrieval-table`` block) from ``motionvigil retrieval`` reports.

The marker names one report per pre-trained model (``retrieval RUN --data ... -o FILE``);
the table has a row per (model, test dataset): TMR's "all" protocol (R@1/5/10, MedR,
text-to-motion), the threshold protocol (a caption within cosine 0.9 of the query's
counts as correct) in both directions, batches of 32, and zero-shot classification from
``a person {label}`` prompts with its chance level. Values are percentages.
"""

from __future__ import annotations

from pathlib import Path

from motionvigil.report.blocks import load_json, num

ENCODERS = {"tmr": "TMR", "vit": "ViT (random init)", "unik": "UNIK"}


def _row(name: str, spec: str, entry: dict) -> str:
    r, z = entry.get("retrieval", {}), entry.get("zero_shot")
    a, t, b = r.get("all", {}), r.get("threshold", {}), r.get("small_batches", {})
    cells = [num(a.get("t2m/R01"), 1), num(a.get("t2m/R05"), 1), num(a.get("t2m/R10"), 1), num(a.get("t2m/MedR"), 1),
             num(t.get("t2m/R01"), 1), num(t.get("m2t/R01"), 1), num(b.get("t2m/R01"), 1)]
    zero = ([f"{num(z['top1'], 1)} ({num(z['chance_top1'], 1)})", f"{num(z['top5'], 1)} ({num(z['chance_top5'], 1)})"]
            if z else ["n/a", "n/a"])
    return f"| {name} | {spec} | {entry['clips']} | " + " | ".join(cells + zero) + " |"


def render_reports(reports: list[dict]) -> str:
    lines = ["| encoder | test data | clips | all t2m R@1 | R@5 | R@10 | MedR | threshold t2m R@1 | threshold m2t R@1 "
             "| batches-of-32 t2m R@1 | zero-shot top-1 (chance) | top-5 (chance) |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|"]
    for report in reports:
        name = ENCODERS.get(report.get("encoder", ""), report.get("encoder", "?"))
        for spec, entry in report["datasets"].items():
            lines.append(_row(name, spec, entry))
    training = [f"{ENCODERS.get(r.get('encoder', ''), '?')} on {', '.join(r['datasets'])}: epoch "
                f"{r.get('training', {}).get('best_epoch', 'n/a')}, {r.get('training', {}).get('train_clips', 'n/a')} "
                "training clips" for r in reports]
    lines += ["", "Test splits; percentages. Each model is the epoch with the lowest validation loss "
                  f"({'; '.join(training)})."]
    return "\n".join(lines)


def render_files(files: list[str], root: Path) -> str:
    """The block for a ``retrieval-table`` marker naming retrieval reports."""
    if not files:
        raise ValueError("retrieval-table marker names no report")
    return render_reports([load_json(root, name) for name in files])


__all__ = ["render_files", "render_reports"]
