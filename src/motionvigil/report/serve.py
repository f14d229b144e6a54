"""The serve load test's stream-count search (``serve-search`` block) from ``serve_bench.py --search`` JSON.

``benchmarks/serve_bench.py --search N1,N2,...`` tries the listed stream counts per
micro-batching mode and stops at the first that is not sustained. A marker names one or
more such files; the block says, per file and mode, the largest sustained count with its
p99 latency and the first count that failed (or that none failed up to the largest count
tried), so the sentence stays true whatever the re-run finds.
"""

from __future__ import annotations

from pathlib import Path

from motionvigil.report.blocks import load_json, num

MODES = {"batching_on": "micro-batching on", "batching_off": "micro-batching off"}


def _mode(name: str, result: dict) -> str:
    tried = result.get("tried", [])
    held = [t for t in tried if t.get("sustained")]
    failed = [t for t in tried if not t.get("sustained")]
    counts = ", ".join(str(t["streams"]) for t in tried)
    text = f"{MODES.get(name, name)}: tried {counts or 'nothing'}; "
    if held:
        best = held[-1]
        text += f"sustained {best['streams']} streams (p99 {num(best['latency_ms']['p99'], 1)} ms)"
    else:
        text += "sustained none of them"
    if failed:
        first = failed[0]
        text += f", failed at {first['streams']} (p99 {num(first['latency_ms']['p99'], 0)} ms)"
    elif held:
        text += ", the largest count tried (no failure found)"
    return text


def render_files(files: list[str], root: Path) -> str:
    """One line per file and mode of a ``serve-search`` marker."""
    if not files:
        raise ValueError("serve-search marker names no results file")
    lines = []
    for name in files:
        search = load_json(root, name).get("search")
        if not search:
            raise ValueError(f"{name}: no 'search' block (run serve_bench.py with --search)")
        lines += [f"- `{name}`: " + "; ".join(_mode(m, r) for m, r in search.items() if isinstance(r, dict)) + "."]
    return "\n".join(lines)


__all__ = ["render_files"]
