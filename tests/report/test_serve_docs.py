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
