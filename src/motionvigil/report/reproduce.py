"""Does a second run reproduce the committed figures? ``fewshot.json`` against ``fewshot.json``.

``python -m motionvigil.report.reproduce COMMITTED RERUN`` takes two files (or two
folders, compared file by file for every ``*/fewshot.json`` both hold) written by
``study fewshot`` and checks every table cell of the second against the first: a cell
with an interval over seeds reproduces when the re-run's mean lies inside the committed
95% interval; a one-seed cell (no interval) when it is equal to 3 decimals, the
precision the docs print. Prints one JSON object (cells compared, inside, the cells
outside with both values, the largest difference) and exits 1 when a cell is outside.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

from motionvigil.studies.fewshot_protocols import TABLE_KEYS


def _cells(result: dict):
    for table in ("table1", "table2"):
        for row in result[table]:
            for metric in TABLE_KEYS:
                stat = row.get(metric)
                if isinstance(stat, dict) and stat.get("mean") is not None and math.isfinite(stat["mean"]):
                    yield (table, row.get("config", ""), row["model"], metric), stat


def compare(committed: dict, rerun: dict) -> dict:
    """Every cell of ``rerun`` checked against ``committed`` (see the module docstring)."""
    theirs = dict(_cells(rerun))
    outside, compared, largest = [], 0, 0.0
    for key, stat in _cells(committed):
        if key not in theirs:
            continue
        compared += 1
        mean, lo, hi = theirs[key]["mean"], *stat["ci"]
        largest = max(largest, abs(mean - stat["mean"]))
        has_ci = lo is not None and hi is not None and math.isfinite(lo) and math.isfinite(hi)
        ok = (lo - 1e-9 <= mean <= hi + 1e-9) if has_ci else round(mean, 3) == round(stat["mean"], 3)
        if not ok:
            outside.append({"cell": " / ".join(key), "committed": stat["mean"], "ci": stat["ci"], "rerun": mean})
    return {"cells": compared, "inside": compared - len(outside), "outside": outside,
            "largest_abs_difference": largest}


def _pairs(a: Path, b: Path) -> list[tuple[str, Path, Path]]:
    if a.is_file():
        return [(a.name, a, b)]
    return [(str(p.relative_to(a)), p, b / p.relative_to(a)) for p in sorted(a.glob("*/fewshot.json"))
            if (b / p.relative_to(a)).is_file()]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m motionvigil.report.reproduce",
                                description="check a second run's few-shot figures against the committed ones")
    p.add_argument("committed", type=Path, help="fewshot.json, or a folder of */fewshot.json (e.g. results/fewshot)")
    p.add_argument("rerun", type=Path, help="the second run's fewshot.json, or its folder")
    args = p.parse_args(argv)
    for path in (args.committed, args.rerun):
        if not path.exists():
            print(f"{path}: no such file or folder", file=sys.stderr)
            return 2
    pairs = _pairs(args.committed, args.rerun)
    if not pairs:
        print(f"{args.rerun}: holds no fewshot.json that {args.committed} also holds", file=sys.stderr)
        return 2
    report = {name: compare(json.loads(a.read_text()), json.loads(b.read_text())) for name, a, b in pairs}
    print(json.dumps(report, indent=1))
    return 1 if any(r["outside"] for r in report.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
