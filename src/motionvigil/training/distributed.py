"""Small collective helpers for trainers that average gradients themselves (meta-training,
supervised training) instead of wrapping a module in DistributedDataParallel.

Every helper is the identity (and costs nothing) in a single process, so a trainer has
one code path. Under ``torchrun`` every rank must call the same helpers in the same
order (they are collectives).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TypeVar

import torch
import torch.distributed as dist

from motionvigil.training.runtime import Runtime

T = TypeVar("T")


def from_main(make: Callable[[], T], runtime: Runtime) -> T:
    """Call ``make`` on rank 0 only and hand its (picklable) result to every rank.

    Used for decisions that read files (resume or not, which checkpoint), so that all
    ranks act on what rank 0 saw even while rank 0 is writing, and so that the other
    ranks need not see rank 0's filesystem.
    """
    if not runtime.distributed:
        return make()
    box = [make() if runtime.is_main else None]
    dist.broadcast_object_list(box, src=0)
    return box[0]  # type: ignore[return-value]


def broadcast_(tensors: Iterable[torch.Tensor], runtime: Runtime) -> None:
    """Overwrite ``tensors`` on every rank with rank 0's values (in place)."""
    if not runtime.distributed:
        return
    with torch.no_grad():
        for t in tensors:
            dist.broadcast(t.data, src=0)


def sum_gradients_(grads: Sequence[torch.Tensor | None], params: Sequence[torch.Tensor], runtime: Runtime,
                   extra: torch.Tensor | None = None,
                   ) -> tuple[list[torch.Tensor | None], torch.Tensor | None]:
    """Sum per-parameter gradients (and an optional small ``extra`` vector) over all
    ranks with one flat ``all_reduce``.

    A ``None`` gradient counts as zeros; a parameter stays ``None`` only when it is
    ``None`` on every rank (e.g. a rank whose episodes were all empty still takes part,
    and parameters the loss never touches are still skipped by the optimizer). In a
    single process the inputs are returned unchanged.
    """
    if not runtime.distributed:
        return list(grads), extra
    dtype = params[0].dtype if params else torch.float32
    parts = [(g if g is not None else torch.zeros_like(p)).reshape(-1).to(dtype)
             for g, p in zip(grads, params)]
    present = torch.tensor([g is not None for g in grads], dtype=dtype, device=runtime.device)
    parts.append(present)
    if extra is not None:
        parts.append(extra.reshape(-1).to(device=runtime.device, dtype=dtype))
    flat = torch.cat(parts)
    dist.all_reduce(flat, op=dist.ReduceOp.SUM)
    out: list[torch.Tensor | None] = []
    offset = 0
    for p in params:
        out.append(flat[offset : offset + p.numel()].view_as(p).clone())
        offset += p.numel()
    used = (flat[offset : offset + len(params)] > 0).tolist()
    offset += len(params)
    out = [g if u else None for g, u in zip(out, used)]
    total = flat[offset:].view_as(extra).to(extra.dtype).clone() if extra is not None else None
    return out, total


class _AllGather(torch.autograd.Function):
    """``torch.cat`` of ``x`` from every rank (equal shapes); the backward pass sums the
    upstream gradients of all ranks and returns this rank's rows."""

    @staticmethod
    def forward(ctx, x: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        x = x.contiguous()
        parts = [torch.empty_like(x) for _ in range(dist.get_world_size())]
        dist.all_gather(parts, x)
        ctx.rows, ctx.rank = x.shape[0], dist.get_rank()
        return torch.cat(parts)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        grad = grad.contiguous().clone()
        dist.all_reduce(grad, op=dist.ReduceOp.SUM)
        return grad[ctx.rank * ctx.rows : (ctx.rank + 1) * ctx.rows]


def gather_rows(x: torch.Tensor, sizes: Sequence[int], runtime: Runtime) -> torch.Tensor:
    """All ranks' rows of ``x`` (rank ``r`` holds ``sizes[r]`` rows), rank after rank, with
    gradients: every rank gets the whole ``[sum(sizes), ...]`` tensor, and the gradient
    reaching rank ``r``'s rows is the sum of what every rank's loss sends them."""
    if not runtime.distributed:
        return x
    rows = max(sizes)
    padded = torch.cat([x, x.new_zeros(rows - len(x), *x.shape[1:])]) if len(x) < rows else x
    full = _AllGather.apply(padded)
    return torch.cat([full[r * rows : r * rows + n] for r, n in enumerate(sizes)], dim=0)


def my_items(count: int, runtime: Runtime) -> range:
    """The indices ``0 .. count-1`` this rank works on (round robin)."""
    return range(runtime.rank, count, runtime.world_size)


def assemble_rows(rows: torch.Tensor, runtime: Runtime) -> torch.Tensor:
    """Combine a ``[N, ...]`` tensor whose rows each rank filled only for its own items
    (zeros elsewhere) into the full tensor on every rank. Adding zeros is exact, so the
    result is bit-identical to computing every row in one process."""
    if not runtime.distributed:
        return rows
    buffer = rows.to(runtime.device)
    dist.all_reduce(buffer, op=dist.ReduceOp.SUM)
    return buffer.to(rows.device)
