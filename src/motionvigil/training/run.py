"""The one optimiser loop behind every trainer: rounds (epochs, iterations or steps) of
steps, a validation score choosing the best round, early stopping, ``best/`` and
``last/`` checkpoints as safetensors, ``log.jsonl``, resuming to identical weights and
gradient sums over ``torchrun`` ranks.

A trainer keeps its own losses and sampling and hands the loop:

* ``source(r)``: the batches of round ``r`` (0-based; an epoch's batches, or ``[r]``
  for a round of one step that draws its own batch);
* ``step(batch)``: a dict of terms. A ``"loss"`` that requires grad is backpropagated
  by the loop; a step may instead leave summed gradients in ``.grad`` and name in
  ``"count"`` how many items they sum (the loop divides by the count summed over the
  ranks and skips the update when it is 0). Logged means are over steps, or over
  ``count`` when a step gives one;
* optionally ``validate()``: a dict of scores, of which ``metric`` decides the best
  round (``mode`` ``"min"`` or ``"max"``) and early stopping (``patience``);
* a :class:`Checkpoint`: how the weights are written and read back in the trainer's
  own format (``module_checkpoint`` for plain modules), and ``out``: the run folder
  (``None``: nothing is written; the best weights are kept in memory).

Every record point (each ``every`` rounds and the last round) appends a line to
``OUT/log.jsonl`` and writes ``OUT/last`` (weights, optimiser, scheduler, random
generators, progress), so that a resumed run ends with the same weights as an
uninterrupted one. Rank 0 alone writes; every rank takes rank 0's decisions.
"""

from __future__ import annotations

import copy
import json
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from motionvigil.atomic import write_text_atomic
from motionvigil.errors import CheckpointError
from motionvigil.models.checkpoint import load_checkpoint, load_into, save_checkpoint
from motionvigil.training.distributed import from_main, sum_gradients_
from motionvigil.training.optim_state import optimizer_groups, optimizer_tensors, restore_optimizer
from motionvigil.training.runtime import Runtime, barrier

Terms = Mapping[str, Any]
Generator = np.random.Generator | torch.Generator
LOG = "log.jsonl"


@dataclass(frozen=True)
class Checkpoint:
    """A trainer's checkpoint format. ``save_best(folder, progress)`` writes the best
    weights; ``save_last(folder, tensors, config)`` writes the weights with the loop's
    extra ``tensors`` and ``config`` (optimiser, progress, generators); ``load(tensors,
    config, folder)`` restores the weights from a ``last`` checkpoint (raising when it
    does not fit the run)."""

    save_best: Callable[[Path, dict], None]
    save_last: Callable[[Path, dict[str, torch.Tensor], dict], None]
    load: Callable[[dict[str, torch.Tensor], dict, Path], None]


def module_checkpoint(modules: Mapping[str, nn.Module], config: Mapping[str, Any] | None = None) -> Checkpoint:
    """Plain checkpoints of named modules: tensors ``NAME.<key>``, ``config`` stored
    beside them and checked on resume."""
    fixed = dict(config or {})

    def tensors() -> dict[str, torch.Tensor]:
        return {f"{name}.{k}": v for name, m in modules.items() for k, v in m.state_dict().items()}

    def save_last(folder: Path, extra: dict[str, torch.Tensor], extra_config: dict) -> None:
        save_checkpoint(folder, {**tensors(), **extra}, {**fixed, **extra_config})

    def load(saved: dict[str, torch.Tensor], saved_config: dict, folder: Path) -> None:
        if any(saved_config.get(k) != v for k, v in json.loads(json.dumps(fixed)).items()):
            raise CheckpointError(folder, "cannot resume: the folder holds a run with other settings")
        for name, module in modules.items():
            load_into(module, saved, folder, prefix=f"{name}.")

    return Checkpoint(lambda folder, progress: save_last(folder, {}, {"progress": progress}), save_last, load)


# --------------------------------------------------------------------------- random generators


def generator_state(generators: Sequence[Generator]) -> tuple[dict[str, torch.Tensor], list]:
    """The states of the global torch generator and of ``generators`` as tensors + JSON."""
    tensors = {"rng.torch": torch.get_rng_state()}
    states: list = []
    for i, g in enumerate(generators):
        if isinstance(g, torch.Generator):
            tensors[f"rng.{i}"] = g.get_state()
            states.append(None)
        else:
            states.append(g.bit_generator.state)
    return tensors, states


def restore_generators(generators: Sequence[Generator], tensors: Mapping[str, torch.Tensor], states: list) -> None:
    """Inverse of :func:`generator_state`."""
    if "rng.torch" in tensors:
        torch.set_rng_state(tensors["rng.torch"])
    for i, (g, state) in enumerate(zip(generators, states)):
        if isinstance(g, torch.Generator):
            g.set_state(tensors[f"rng.{i}"])
        else:
            g.bit_generator.state = state


# --------------------------------------------------------------------------- the loop


@dataclass
class RunLoop:
    """One run: see the module docstring. ``rounds`` rounds named ``unit`` (``"epoch"``,
    ``"iteration"``, ``"step"``: the name of the progress and log counters)."""

    step: Callable[[Any], Terms]
    optimizer: torch.optim.Optimizer
    source: Callable[[int], Iterable[Any]]
    rounds: int
    unit: str = "epoch"
    every: int = 1
    checkpoint: Checkpoint | None = None
    out: Path | None = None
    validate: Callable[[], dict[str, float]] | None = None
    metric: str = "loss"
    mode: str = "min"
    patience: int | None = None
    min_rounds: int = 0
    validate_first: bool = False
    keep_best: Sequence[nn.Module] = ()
    runtime: Runtime = field(default_factory=lambda: Runtime(torch.device("cpu")))
    sync_gradients: bool = False
    scheduler: Any = None
    clip_norm: float | None = None
    generators: Sequence[Generator] = ()
    train_prefix: str = "train/"
    log_extra: Callable[[], dict] | None = None
    log_improved: bool = False
    echo: Callable[[str], None] | None = None
    on_round: Callable[[int], None] | None = None
    bar: dict | None = None

    def __post_init__(self) -> None:
        if self.mode not in ("min", "max"):
            raise ValueError(f"mode must be 'min' or 'max', got {self.mode!r}")
        if self.out is not None and self.checkpoint is None:
            raise ValueError("a run with an output folder needs a checkpoint format")
        self.out = None if self.out is None else Path(self.out)
        worst = math.inf if self.mode == "min" else -math.inf
        self.progress: dict = {self.unit: 0, "best_val": worst, f"best_{self.unit}": 0, "stale": 0}
        self.history: list[dict] = []
        self._best_state: list[dict] | None = None
        self._params = [p for group in self.optimizer.param_groups for p in group["params"]]

    # ---- resume ---------------------------------------------------------------------------
    def resume(self) -> bool:
        """Continue from ``OUT/last`` (read by rank 0, sent to every rank) if there is one."""
        if self.out is None:
            return False
        last = self.out / "last"
        saved = from_main(lambda: load_checkpoint(last) if (last / "config.json").is_file() else None, self.runtime)
        if saved is None:
            return False
        tensors, config = saved
        self.checkpoint.load(tensors, config, last)
        restore_optimizer(self.optimizer, tensors, config["optimizer"])
        if self.scheduler is not None and "scheduler" in config:
            self.scheduler.load_state_dict(config["scheduler"])
        restore_generators(self.generators, tensors, config.get("rng", []))
        self.progress = {**self.progress, **config["progress"]}
        self.history = from_main(self._read_log, self.runtime)
        return True

    def _read_log(self) -> list[dict]:
        path = self.out / LOG
        lines = path.read_text().splitlines() if path.is_file() else []
        records = [json.loads(line) for line in lines if line.strip()]
        return [r for r in records if r.get(self.unit, 0) <= self.progress[self.unit]]

    # ---- one round ------------------------------------------------------------------------
    def _update(self, terms: Terms) -> dict[str, float]:
        """Backpropagate, sum gradients (and terms) over the ranks, and step."""
        loss = terms.get("loss")
        if isinstance(loss, torch.Tensor) and loss.requires_grad:
            loss.backward()
        logged = {k: v.detach() if isinstance(v, torch.Tensor) else v for k, v in terms.items()}
        if self.sync_gradients and self.runtime.distributed:
            names = list(logged)
            extra = torch.tensor([float(logged[k]) for k in names], dtype=torch.float64)
            grads, totals = sum_gradients_([p.grad for p in self._params], self._params, self.runtime, extra=extra)
            for p, g in zip(self._params, grads):
                p.grad = g
            logged = dict(zip(names, totals))
        count = float(logged.get("count", 1.0))
        if "count" in logged:
            if count <= 0:
                return {k: float(v) for k, v in logged.items()}
            for p in self._params:
                p.grad = None if p.grad is None else p.grad.detach() / count
        if self.clip_norm is not None:
            torch.nn.utils.clip_grad_norm_(self._params, self.clip_norm)
        self.optimizer.step()
        if self.scheduler is not None:
            self.scheduler.step()
        return {k: float(v) for k, v in logged.items()}

    def _round(self, index: int, sums: dict[str, float]) -> None:
        for batch in self.source(index):
            self.optimizer.zero_grad(set_to_none=True)
            logged = self._update(self.step(batch))
            logged.setdefault("count", 1.0)
            for name, value in logged.items():
                sums[name] = sums.get(name, 0.0) + value

    @staticmethod
    def _means(sums: dict[str, float]) -> dict[str, float]:
        count = max(sums.get("count", 0.0), 1.0)
        return {k: v / count for k, v in sums.items() if k != "count"}

    # ---- selection ------------------------------------------------------------------------
    def _better(self, score: float) -> bool:
        """The first validation of the run, or a strictly better finite score."""
        p = self.progress
        if p[f"best_{self.unit}"] == 0 and math.isinf(p["best_val"]):
            return True
        if not math.isfinite(score):
            return False
        return score < p["best_val"] if self.mode == "min" else score > p["best_val"]

    def _judge(self, scores: dict[str, float]) -> bool:
        score = scores[self.metric]
        improved = self._better(score)
        if improved:
            worst = math.inf if self.mode == "min" else -math.inf
            self.progress.update({"best_val": score if math.isfinite(score) else worst,
                                  f"best_{self.unit}": self.progress[self.unit], "stale": 0})
            self._save_best()
        else:
            self.progress["stale"] += 1
        return improved

    def _save_best(self) -> None:
        if self.keep_best:
            self._best_state = [copy.deepcopy(m.state_dict()) for m in self.keep_best]
        if self.out is not None and self.runtime.is_main:
            self.checkpoint.save_best(self.out / "best", dict(self.progress))

    def restore_best(self) -> None:
        """Load the best round's weights into ``keep_best`` (from memory, or ``OUT/best``
        after a resume)."""
        if self._best_state is not None:
            for module, state in zip(self.keep_best, self._best_state):
                module.load_state_dict(state)
        elif self.out is not None and (self.out / "best" / "config.json").is_file():
            tensors, config = load_checkpoint(self.out / "best")
            self.checkpoint.load(tensors, config, self.out / "best")

    def stopped(self) -> bool:
        """Whether early stopping has ended the run."""
        p = self.progress
        return self.patience is not None and p["stale"] >= self.patience and p[self.unit] >= self.min_rounds

    # ---- records --------------------------------------------------------------------------
    def _record(self, train: dict[str, float], scores: dict[str, float] | None, improved: bool) -> None:
        record: dict = {self.unit: self.progress[self.unit], **{self.train_prefix + k: v for k, v in train.items()}}
        record.update({f"val/{k}": v for k, v in (scores or {}).items()})
        if self.log_extra is not None:
            record.update(self.log_extra())
        if self.log_improved:
            record["improved"] = improved
        self.history.append(record)
        if self.echo is not None:
            self.echo(json.dumps(record))
        if self.out is not None and self.runtime.is_main:
            self._save_last()
            write_text_atomic(self.out / LOG, "".join(json.dumps(r) + "\n" for r in self.history))

    def _save_last(self) -> None:
        tensors, states = generator_state(self.generators)
        config = {"progress": self.progress, "optimizer": optimizer_groups(self.optimizer), "rng": states}
        if self.scheduler is not None:
            config["scheduler"] = self.scheduler.state_dict()
        self.checkpoint.save_last(self.out / "last", {**optimizer_tensors(self.optimizer), **tensors}, config)

    def _first_validation(self) -> None:
        """Score the starting weights (``validate_first``) unless a best already exists."""
        exists = self.out is not None and from_main(lambda: (self.out / "best" / "config.json").is_file(), self.runtime)
        if self.validate_first and self.progress[self.unit] == 0 and not exists:
            self._judge(self.validate())

    # ---- the run --------------------------------------------------------------------------
    def run(self, resume: bool = False) -> dict:
        """Train (continuing from ``OUT/last`` with ``resume``); returns the progress."""
        if resume:
            self.resume()
        if self.out is not None and self.runtime.is_main:
            self.out.mkdir(parents=True, exist_ok=True)
        self._first_validation()
        start = self.progress[self.unit]
        bar = tqdm(range(start, self.rounds), initial=start, total=self.rounds, **(self.bar or {"disable": True}))
        sums: dict[str, float] = {}
        for index in bar:
            if self.stopped():
                break
            self._round(index, sums)
            self.progress[self.unit] = index + 1
            if (index + 1) % self.every == 0 or index + 1 == self.rounds:
                self._close_window(sums, bar)
                sums = {}
            if self.on_round is not None:
                self.on_round(index + 1)
        bar.close()
        barrier(self.runtime)
        return self.progress

    def _close_window(self, sums: dict[str, float], bar: tqdm) -> None:
        train = self._means(sums)
        scores = self.validate() if self.validate is not None else None
        improved = self._judge(scores) if scores is not None else False
        self._record(train, scores, improved)
        self.progress = from_main(lambda: self.progress, self.runtime)  # one decision for all ranks
        postfix = {k: f"{v:.3f}" for k, v in train.items() if k == "loss"}
        if scores is not None:
            postfix[f"val_{self.metric}"] = f"{scores[self.metric]:.3f}"
        bar.set_postfix(**postfix)
