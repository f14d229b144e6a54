"""AdamW state as flat tensors + JSON, so training can resume without pickles."""

from __future__ import annotations

from typing import Any

import torch


def optimizer_tensors(optimizer: torch.optim.Optimizer) -> dict[str, torch.Tensor]:
    """Per-parameter state tensors keyed ``optim.<index>.<name>`` (index = position in the param list)."""
    out = {}
    params = [p for group in optimizer.param_groups for p in group["params"]]
    for i, p in enumerate(params):
        for name, value in optimizer.state.get(p, {}).items():
            out[f"optim.{i}.{name}"] = torch.as_tensor(value).detach().cpu().clone()
    return out


def optimizer_groups(optimizer: torch.optim.Optimizer) -> list[dict[str, Any]]:
    """JSON-serialisable hyper-parameters of each parameter group."""
    out = []
    for group in optimizer.param_groups:
        out.append(
            {
                k: (list(v) if isinstance(v, tuple) else v)
                for k, v in group.items()
                if k != "params" and isinstance(v, (int, float, bool, tuple, type(None)))
            }
        )
    return out


def restore_optimizer(
    optimizer: torch.optim.Optimizer, tensors: dict[str, torch.Tensor], groups: list[dict[str, Any]]
) -> None:
    """Inverse of :func:`optimizer_tensors` + :func:`optimizer_groups`."""
    params = [p for group in optimizer.param_groups for p in group["params"]]
    for key, value in tensors.items():
        if not key.startswith("optim."):
            continue
        _, index, name = key.split(".", 2)
        p = params[int(index)]
        optimizer.state.setdefault(p, {})[name] = value.to(p.device) if value.dim() else value.clone()
    for group, saved in zip(optimizer.param_groups, groups):
        group.update({k: (tuple(v) if isinstance(v, list) else v) for k, v in saved.items()})
