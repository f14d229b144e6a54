"""The architecture README.md draws: one direction of data flow, small files, no cycles.

Every ``motionvigil`` import (module level or inside a function) must point to the same
layer or one to its left; the only import cycle allowed is the dataset registry's plugin
import; no source file exceeds 500 lines.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "motionvigil"

# README "Architecture": io -> skeleton -> features -> datasets -> models -> training ->
# metrics -> detect -> studies -> report -> cli (helpers first, serve beside cli).
LAYERS: dict[str, int] = {
    **dict.fromkeys(("atomic", "errors", "cache_dir", "data_root", "plotting", "machine"), 0),
    "io": 1, "skeleton": 2, "features": 3, "datasets": 4, "models": 5, "losses": 5,
    **dict.fromkeys(("training", "pretrain", "fewshot", "supervised", "kinemic"), 6),
    "metrics": 7, "detect": 8, "studies": 9, "report": 10, "serve": 11, "cli": 11, "zoo": 11,
}
MAX_LINES = 500


def _modules() -> list[Path]:
    return sorted(p for p in SRC.rglob("*.py") if "__pycache__" not in p.parts)


def _top(path: Path) -> str:
    rel = path.relative_to(SRC)
    return rel.parts[0].removesuffix(".py") if rel.parts[0] != "__init__.py" else ""


def _imports(path: Path) -> set[str]:
    """Top-level ``motionvigil`` packages that ``path`` imports (anywhere in the file)."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = []
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        elif isinstance(node, ast.ImportFrom) and node.level > 0:
            base = path.relative_to(SRC).parts[: -node.level]
            names = [".".join(("motionvigil", *base, *(node.module or "").split(".")))]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        out |= {n.split(".")[1] for n in names if n.startswith("motionvigil.") and len(n.split(".")) > 1}
    return out


def test_every_package_has_a_layer():
    assert {_top(p) for p in _modules()} - {""} <= set(LAYERS)


def test_imports_point_left():
    bad = []
    for path in _modules():
        me = _top(path)
        if not me:
            continue  # the package's lazy top-level API (motionvigil/__init__.py) may name anything
        for other in _imports(path) - {me}:
            if LAYERS.get(other, 99) > LAYERS[me]:
                bad.append(f"{path.relative_to(SRC)} imports {other}")
    assert not bad, "\n".join(bad)


def test_metrics_models_detect_do_not_train_or_run_studies():
    for pkg in ("metrics", "models", "detect"):
        for path in (SRC / pkg).rglob("*.py"):
            assert not _imports(path) & {"studies", "cli", "training", "pretrain", "supervised", "kinemic"}, path


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(SRC)))
def test_no_file_over_500_lines(path):
    assert len(path.read_text(encoding="utf-8").splitlines()) <= MAX_LINES


def _module_name(path: Path) -> str:
    parts = ("motionvigil", *path.relative_to(SRC).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _module_level_imports(path: Path, known: set[str]) -> set[str]:
    """Modules of ``known`` that ``path`` imports at module level (run on import)."""
    out = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        else:
            continue
        out |= {n for n in names if n in known}
    return out


def test_no_import_cycles_except_the_dataset_registry():
    import networkx as nx

    paths = {_module_name(p): p for p in _modules()}
    graph = nx.DiGraph()
    for name, path in paths.items():
        graph.add_node(name)
        graph.add_edges_from((name, dep) for dep in _module_level_imports(path, set(paths)) if dep != name)
    cycles = [sorted(c) for c in nx.strongly_connected_components(graph) if len(c) > 1]
    allowed = [c for c in cycles if all(m.startswith("motionvigil.datasets") for m in c)]
    assert cycles == allowed, cycles
