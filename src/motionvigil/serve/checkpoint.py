"""A camera's checkpoint as text: JSON with NumPy arrays as base64 (exact, no pickle).

:meth:`StreamSession.state` gives numbers, strings, dicts and arrays; :func:`dumps` writes
arrays as ``{"__array__": dtype, "shape": [...], "data": base64}`` so that a restored
session continues bit for bit (float64 stays float64), and :func:`loads` reads them back.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import numpy as np

ARRAY = "__array__"
_DTYPES = {"float32", "float64", "int64", "int32", "bool"}


def _encode(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        arr = np.ascontiguousarray(value)
        return {ARRAY: str(arr.dtype), "shape": list(arr.shape), "data": base64.b64encode(arr.tobytes()).decode()}
    if isinstance(value, dict):
        return {str(k): _encode(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_encode(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        if ARRAY in value:
            if value[ARRAY] not in _DTYPES:
                raise ValueError(f"checkpoint array of unsupported dtype {value[ARRAY]!r}")
            raw = base64.b64decode(value["data"])
            return np.frombuffer(raw, dtype=value[ARRAY]).reshape(value["shape"]).copy()
        return {k: _decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value


def dumps(state: dict[str, Any]) -> str:
    """``state`` as one JSON text (``-inf`` timestamps are kept, as Python's json does)."""
    return json.dumps(_encode(state), separators=(",", ":"))


def loads(text: str | bytes) -> dict[str, Any]:
    """The state :func:`dumps` wrote. Raises ValueError on anything else."""
    out = _decode(json.loads(text))
    if not isinstance(out, dict):
        raise ValueError("a checkpoint is a JSON object")
    return out
