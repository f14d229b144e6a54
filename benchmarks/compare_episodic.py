"""Compare two episodic Table 1 results (JSON from ``motionvigil fewshot --protocol episodic``):
prints one JSON object with, per configuration, the MAML rows' mAP, VDR and FPR of both
runs and their difference (B - A).

Meant for the fast mode against the faithful FOMAML on the same episodes (same seed and
data), e.g.::

    motionvigil fewshot runs/full --data mocap_violence --protocol episodic
    motionvigil fewshot runs/fast --data mocap_violence --protocol episodic --fast-top-layers 1 --inner-lr 0.2
    python benchmarks/compare_episodic.py runs/full/episodic.json runs/fast/episodic_fast1.json

Usage: python benchmarks/compare_episodic.py A.json B.json [--model MAML]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

METRICS = ("mAP", "top1", "VDR", "FPR")


def load_rows(path: Path, model: str) -> dict[str, dict]:
    try:
        rows = json.loads(path.read_text(encoding="utf-8"))
        return {r["config"]: r for r in rows if r["model"] == model}
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError) as exc:
        sys.exit(f"{path}: not an episodic results file ({exc})")


def compare(a: dict[str, dict], b: dict[str, dict]) -> dict:
    shared = [c for c in a if c in b]
    if not shared:
        sys.exit("the two files share no configuration")
    out = {}
    for config in shared:
        if a[config]["n_episodes"] != b[config]["n_episodes"]:
            sys.exit(f"{config}: different numbers of episodes ({a[config]['n_episodes']} vs {b[config]['n_episodes']})")
        out[config] = {m: {"a": a[config][m], "b": b[config][m], "b_minus_a": b[config][m] - a[config][m]}
                       for m in METRICS if m in a[config] and m in b[config]}
    drops = [v["mAP"]["b_minus_a"] for v in out.values()]
    return {"configs": out, "mAP_change_min": min(drops), "mAP_change_max": max(drops),
            "mAP_change_mean": sum(drops) / len(drops)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("a", type=Path)
    ap.add_argument("b", type=Path)
    ap.add_argument("--model", default="MAML", help="which rows to compare (MAML or TMR)")
    args = ap.parse_args()
    print(json.dumps(compare(load_rows(args.a, args.model), load_rows(args.b, args.model)), indent=2))


if __name__ == "__main__":
    main()
