"""motionvigil: few-shot recognition of violent and other rare actions in 3D skeletal motion.

Data flows one way (see "Architecture" in the README):
io -> skeleton -> features -> datasets -> models -> training -> metrics -> detect -> studies -> report -> cli,
where training is training/, pretrain/, fewshot/, supervised/ and kinemic/.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# the Python API (README "Python API"): name -> module; imported on first use, so that
# ``import motionvigil`` stays light (no torch until a name below is touched)
_API = {
    "load_motion": "motionvigil.io",
    "save_npz": "motionvigil.io.arrays",
    "load_dataset": "motionvigil.datasets",
    "Detector": "motionvigil.detect",
    "StreamingDetector": "motionvigil.detect",
    "MotionTextBundle": "motionvigil.models.bundle",
}
__all__ = ["__version__", *_API]

if TYPE_CHECKING:  # for type checkers and IDEs
    from motionvigil.datasets import load_dataset  # noqa: F401
    from motionvigil.detect import Detector, StreamingDetector  # noqa: F401
    from motionvigil.io import load_motion  # noqa: F401
    from motionvigil.io.arrays import save_npz  # noqa: F401
    from motionvigil.models.bundle import MotionTextBundle  # noqa: F401


def __getattr__(name: str) -> Any:
    if name in _API:
        value = getattr(importlib.import_module(_API[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'motionvigil' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
