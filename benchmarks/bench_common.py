"""What the benchmark scripts share, written once (imported as ``bench_common``: a script run
as ``python benchmarks/NAME.py`` has this folder on ``sys.path``).

* :func:`write_report`: the closing JSON report, on stdout and optionally to a file;
* :func:`stream_args`: the ``--seconds``/``--repeats``/``--output`` flags of the detection
  speed benchmarks;
* :func:`torch_environment`: the torch, platform and machine block that closes their JSON.
"""

from __future__ import annotations

import argparse
import json
import platform
from typing import Any


def write_report(report: dict[str, Any], output: Any = None, indent: int | None = None) -> None:
    """Print ``report`` as one JSON object; with ``output``, also write it there (atomically)."""
    print(json.dumps(report, indent=indent))
    if output:
        from motionvigil.atomic import write_json_atomic

        write_json_atomic(output, report)


def stream_args(description: str) -> argparse.Namespace:
    """The command line of a benchmark over ``--seconds`` of motion, best of ``--repeats``."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--output", help="also write the JSON to this file (atomically)")
    return parser.parse_args()


def torch_environment(settings: dict[str, Any]) -> dict[str, Any]:
    """Torch threads and version, CPU architecture, Python, ``machine_info()`` and ``settings``."""
    import torch

    from motionvigil.machine import machine_info

    return {"torch_threads": torch.get_num_threads(), "torch": torch.__version__, "arch": platform.machine(),
            "python": platform.python_version(), "machine": machine_info(), "settings": settings}
