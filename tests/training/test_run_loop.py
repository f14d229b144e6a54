"""The run loop on a toy regression: resuming gives the same weights and log as an
uninterrupted run, early stopping, the best round restored from memory, and gradients
summed by a step that counts its items."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from torch import nn

from motionvigil.training.run import RunLoop, module_checkpoint


def _toy(out=None, rounds: int = 6, patience: int | None = None, scores=None) -> tuple[RunLoop, nn.Linear]:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 8), nn.Dropout(0.2), nn.Linear(8, 1))
    x = torch.randn(32, 3)
    y = x.sum(1, keepdim=True)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)
    rng = np.random.default_rng(0)

    def batches(epoch: int):
        model.train()
        order = rng.permutation(len(x))
        for start in range(0, len(order), 8):
            yield order[start : start + 8]

    def validate() -> dict[str, float]:
        if scores is not None:
            return {"loss": scores.pop(0)}
        with torch.no_grad():
            return {"loss": float(((model.eval()(x) - y) ** 2).mean())}

    loop = RunLoop(step=lambda idx: {"loss": ((model(x[idx]) - y[idx]) ** 2).mean()}, optimizer=optimizer,
                   source=batches, rounds=rounds, checkpoint=module_checkpoint({"model": model}), out=out,
                   validate=validate, patience=patience, keep_best=(model,), generators=(rng,))
    return loop, model


def test_resumed_run_ends_like_an_uninterrupted_one(tmp_path):
    straight, model = _toy(tmp_path / "a")
    straight.run()
    first, _ = _toy(tmp_path / "b", rounds=3)
    first.run()
    resumed, other = _toy(tmp_path / "b")
    assert resumed.run(resume=True)["epoch"] == 6
    for a, b in zip(model.state_dict().values(), other.state_dict().values()):
        assert torch.equal(a, b)
    assert (tmp_path / "a" / "log.jsonl").read_text() == (tmp_path / "b" / "log.jsonl").read_text()
    lines = [json.loads(line) for line in (tmp_path / "a" / "log.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in lines] == [1, 2, 3, 4, 5, 6] and {"train/loss", "val/loss"} <= set(lines[0])


def test_early_stopping_and_the_best_round_restored_from_memory():
    loop, model = _toy(rounds=10, patience=2, scores=[3.0, 1.0, 2.0, 1.5, 0.5, 0.1])
    progress = loop.run()
    assert progress["epoch"] == 4 and progress["best_epoch"] == 2 and progress["best_val"] == 1.0
    best = {k: v.clone() for k, v in loop._best_state[0].items()}
    loop.restore_best()
    assert all(torch.equal(v, best[k]) for k, v in model.state_dict().items())


def test_a_step_that_sums_gradients_over_counted_items():
    """The loop divides gradients by ``count`` and logs means over the counted items."""
    weight = nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.SGD([weight], lr=1.0)

    def step(_):
        weight.grad = torch.tensor([6.0])  # the sum of 3 items' gradients
        return {"count": 3.0, "loss": 9.0}

    loop = RunLoop(step=step, optimizer=optimizer, source=lambda r: [r], rounds=2, unit="step", every=2)
    loop.run()
    assert weight.item() == pytest.approx(-4.0) and loop.history == [{"step": 2, "train/loss": 3.0}]
