"""``--joint-map`` files: SMPL-22 joints settled by hand for :func:`motionvigil.skeleton.auto_map.auto_map`.

Reading and validating the file is input handling, so it lives in ``io`` (``load_motion``
calls it); the retargeting that uses the map is in ``skeleton``.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from motionvigil.errors import MotionFileError
from motionvigil.io.layouts import SMPL22_NAMES

Mix = dict[str, float]  # a weighted blend of file joints: {file joint: weight}, weights sum to 1

__all__ = ["check_joint_map", "read_joint_map"]


def read_joint_map(path: str | Path) -> dict[str, str | Mix]:
    """Read a ``--joint-map`` JSON file: ``{"<SMPL-22 joint>": "<file joint>" or {"<joint>": weight}}``.

    Raises:
        MotionFileError: unreadable, not JSON, unknown SMPL-22 names, or bad values.
    """
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise MotionFileError(path, f"cannot read joint map ({exc.strerror or exc})") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MotionFileError(path, f"joint map is not JSON ({exc})") from None
    return check_joint_map(doc, path)


def check_joint_map(doc: object, path: str | Path | None = None) -> dict[str, str | Mix]:
    """Validate a joint map given as a dict (see :func:`read_joint_map`)."""
    if not isinstance(doc, dict):
        raise MotionFileError(path, "joint map must be a JSON object: SMPL-22 joint -> file joint")
    unknown = [k for k in doc if k not in SMPL22_NAMES]
    if unknown:
        raise MotionFileError(path, f"joint map: unknown SMPL-22 joint(s) {unknown}; known: {', '.join(SMPL22_NAMES)}")
    out: dict[str, str | Mix] = {}
    for key, value in doc.items():
        if isinstance(value, str) and value:
            out[key] = value
        elif (isinstance(value, dict) and value and all(isinstance(k, str) for k in value)
              and all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
                      for v in value.values())
              and abs(sum(value.values()) - 1.0) < 1e-6):
            out[key] = {k: float(v) for k, v in value.items()}
        else:
            raise MotionFileError(path, f"joint map: {key} -> {value!r} is neither a joint name nor a "
                                        "{joint: weight} mix whose weights sum to 1")
    return out
