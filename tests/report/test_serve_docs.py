"""docs/serve.md quotes every measured number from results/serve/*.json through generated blocks."""

from __future__ import annotations

import re
from pathlib import Path

from motionvigil.report.blocks import MARKER, main, render_doc, unmarked_numbers

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "serve.md"


def test_serve_doc_blocks_are_up_to_date_and_strict():
    assert main([str(DOC), "--root", str(ROOT), "--check", "--strict", str(DOC)]) == 0


def test_serve_doc_has_no_loose_measured_number():
    assert unmarked_numbers(DOC.read_text(encoding="utf-8")) == []


def test_serve_doc_markers_name_serve_results_only():
    text = DOC.read_text(encoding="utf-8")
    files = {m.group("args").split()[0] for m in MARKER.finditer(text)}
    assert files, "docs/serve.md quotes no results file"
    assert all(re.fullmatch(r"results/serve/[\w.-]+\.json", f) for f in files), files
    assert render_doc(text, ROOT) == text


def test_serve_benchmarks_write_their_json_with_a_machine_block():
    for name in ("serve_bench.py", "encoder_bench.py"):
        src = (ROOT / "benchmarks" / name).read_text(encoding="utf-8")
        assert '"--output"' in src and "write_json_atomic(args.output, report)" in src, name
        assert '"machine": machine' in src and "machine_info()" in src, name


def test_serve_search_block_states_the_largest_sustained_count_and_the_first_failure(tmp_path):
    import json

    from motionvigil.report.serve import render_files

    trial = lambda n, ok, p99: {"streams": n, "sustained": ok, "latency_ms": {"p99": p99}}  # noqa: E731
    search = {"batching_on": {"tried": [trial(25, True, 48.2), trial(50, True, 89.5)]},
              "batching_off": {"tried": [trial(25, True, 113.8), trial(50, False, 10737.7)]}, "ratio": 3.0}
    (tmp_path / "s.json").write_text(json.dumps({"search": search}))
    text = render_files(["s.json"], tmp_path)
    assert "micro-batching on: tried 25, 50; sustained 50 streams (p99 89.5 ms), the largest count tried" in text
    assert "micro-batching off: tried 25, 50; sustained 25 streams (p99 113.8 ms), failed at 50 (p99 10738 ms)" in text
    (tmp_path / "t.json").write_text("{}")
    import pytest

    with pytest.raises(ValueError, match="t.json: no 'search' block"):
        render_files(["t.json"], tmp_path)
