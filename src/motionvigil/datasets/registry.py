"""Named datasets: each is a loader over a root folder."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from motionvigil.data_root import default_data_root
from motionvigil.datasets.clip import Dataset
from motionvigil.errors import MotionFileError, UnknownDatasetError

Loader = Callable[..., Dataset]


@dataclass(frozen=True)
class DatasetSpec:
    name: str
    loader: Loader
    default_subdir: str | None  # folder under the shared data root, if any
    description: str


_REGISTRY: dict[str, DatasetSpec] = {}
_ALIASES: dict[str, str] = {}  # alias -> registered name (old names kept working)


def register_dataset(name: str, default_subdir: str | None, description: str) -> Callable[[Loader], Loader]:
    """Decorator: register ``loader(root: Path, **options) -> Dataset`` under ``name``."""

    def wrap(loader: Loader) -> Loader:
        if name in _REGISTRY:
            raise ValueError(f"dataset {name!r} registered twice")
        _REGISTRY[name] = DatasetSpec(name, loader, default_subdir, description)
        return loader

    return wrap


def register_alias(alias: str, name: str) -> None:
    """Make ``alias`` another name of the registered dataset ``name``."""
    if alias in _REGISTRY or alias in _ALIASES:
        raise ValueError(f"dataset name {alias!r} is taken")
    _ALIASES[alias] = name


def canonical_name(name: str) -> str:
    """The registered name behind ``name`` (itself unless it is an alias)."""
    _import_builtin_loaders()
    return _ALIASES.get(name, name)


def dataset_names() -> list[str]:
    _import_builtin_loaders()
    return sorted(_REGISTRY)


def get_spec(name: str) -> DatasetSpec:
    spec = _REGISTRY.get(canonical_name(name))
    if spec is None:
        raise UnknownDatasetError(f"unknown dataset {name!r}; known: {', '.join(sorted(_REGISTRY))}")
    return spec


def load_dataset(name: str, root: str | Path | None = None, **options) -> Dataset:
    """Load dataset ``name`` from ``root`` (default: its folder under the shared data root)."""
    spec = get_spec(name)
    if root is None:
        if spec.default_subdir is None:
            return spec.loader(None, **options)
        root = default_data_root() / spec.default_subdir
    root = Path(root)
    if not root.exists():
        raise MotionFileError(root, f"dataset folder for {name!r} not found")
    return spec.loader(root, **options)


def _import_builtin_loaders() -> None:
    """Import the modules that register the built-in datasets (once)."""
    import motionvigil.datasets.folder  # noqa: F401
    import motionvigil.datasets.loaders  # noqa: F401
