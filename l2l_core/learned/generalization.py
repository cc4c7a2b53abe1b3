"""The generalization map: where the shipped learned optimizers keep winning.

Every *cell* is one setting (a task family, a dimension, a horizon); in each,
the four baselines are tuned over their learning rate on the very tasks they
are scored on (:func:`~l2l_core.learned.baselines.tune_baseline`), and every
learned optimizer runs on the same tasks with its weights frozen. A cell
reports each optimizer's mean final loss, its ratio to the best tuned
baseline (below 1: the learned optimizer wins) and whether it diverged
(a non-finite final loss, or one above the starting loss).

The cells follow Andrychowicz et al. (2016), section 3.2: the quadratic
optimizer at dimensions 10/20/40/80; the digits network with 40 hidden units,
two hidden layers, ReLU, 200 and 1000 steps, and on the wine and
breast-cancer datasets. Nothing is stored: every number is computed by
:func:`generalization_map`.
"""

from __future__ import annotations

import dataclasses
import math
import time

import numpy as np

from l2l_core.checks import check_seed
from l2l_core.learned.baselines import BASELINES, lr_grid, mean_metrics, tune_baseline
from l2l_core.learned.checkpoints import Checkpoint, load_checkpoint
from l2l_core.learned.comparison import lstm_run
from l2l_core.tasks.families import TASK_FAMILIES, get_family
from l2l_core.tasks.quadratics import check_task_shape


@dataclasses.dataclass(frozen=True)
class Cell:
    """One setting of the map; ``batch`` None: the family's comparison batch."""

    key: str
    label: str
    task: str
    steps: int = 100
    dim: int = 10
    batch: int | None = None
    trained_on: str | None = None  # the family an optimizer was trained on, if this is its home setting


CELLS: tuple[Cell, ...] = (
    Cell("quadratic_d10", "quadratic, dim 10", "quadratic", dim=10, trained_on="quadratic"),
    Cell("quadratic_d20", "quadratic, dim 20", "quadratic", dim=20),
    Cell("quadratic_d40", "quadratic, dim 40", "quadratic", dim=40),
    Cell("quadratic_d80", "quadratic, dim 80", "quadratic", dim=80),
    Cell("digits", "digits MLP (20 sigmoid, 100 steps)", "digits_mlp", trained_on="digits_mlp"),
    Cell("digits_h40", "digits MLP, 40 hidden units", "digits_mlp_h40"),
    Cell("digits_2layer", "digits MLP, two hidden layers", "digits_mlp_2layer"),
    Cell("digits_relu", "digits MLP, ReLU", "digits_mlp_relu"),
    Cell("digits_200", "digits MLP, 200 steps", "digits_mlp", steps=200),
    Cell("digits_1000", "digits MLP, 1000 steps", "digits_mlp", steps=1000, batch=16),
    Cell("wine", "wine MLP", "wine_mlp"),
    Cell("breast_cancer", "breast-cancer MLP", "breast_cancer_mlp"),
)
SHIPPED_OPTIMIZERS = ("quadratic", "digits_mlp")  # the shipped optimizers, by the family they were trained on


def _verdict(ratio: float, diverged: bool) -> str:
    if diverged:
        return "diverged"
    return "wins" if ratio < 1.0 else "loses"


def evaluate_cell(cell: Cell, optimizers: dict[str, Checkpoint], *, seed: int = 0,
                  batch: int | None = None, lr_points: int | None = None) -> dict:
    """One row of the map: the tuned baselines and every learned optimizer on the cell's tasks."""
    family = get_family(cell.task)
    batch, _ = check_task_shape((cell.batch or family.eval_batch) if batch is None else batch, 1)
    seed = check_seed("seed", seed)
    log_lrs = family.log_lrs() if lr_points is None else lr_grid(family.log_lr_range, lr_points)
    tasks = family.tasks_for_seed(seed, batch, cell.dim)
    t0 = time.perf_counter()
    final, test, best_lr = {}, {}, {}
    for name in BASELINES:
        tuned = tune_baseline(name, tasks, cell.steps, np.asarray(log_lrs, np.float32))
        final[name], test[name], best_lr[name] = tuned["final"], tuned["metrics"], tuned["best_lr"]
    best = min(BASELINES, key=lambda n: final[n])
    initial = float(np.mean(np.asarray(tasks.final_losses(tasks.theta0), np.float64)))
    learned = {}
    for opt_name, ckpt in optimizers.items():
        losses, theta = lstm_run(ckpt.params, tasks, lstm=ckpt.config.lstm, steps=cell.steps,
                                 reduction=ckpt.config.reduction)
        with np.errstate(invalid="ignore", over="ignore"):
            v = float(np.mean(np.asarray(losses[-1], np.float64)))
        diverged = not math.isfinite(v) or v > initial
        ratio = v / final[best] if math.isfinite(v) else math.inf
        learned[opt_name] = dict(final=v if math.isfinite(v) else None, ratio=ratio if math.isfinite(ratio) else None,
                                 diverged=diverged, verdict=_verdict(ratio, diverged),
                                 **({} if family.is_quadratic else mean_metrics(tasks, theta)))
    return dict(key=cell.key, label=cell.label, task=cell.task, steps=cell.steps,
                dim=cell.dim if family.is_quadratic else None, batch=batch, trained_on=cell.trained_on,
                initial=initial, baselines=final, best_lr=best_lr, best_baseline=best,
                best_baseline_final=final[best], baseline_test=test.get(best) or None,
                learned=learned, seconds=time.perf_counter() - t0)


def generalization_map(*, seed: int = 0, cells=None, optimizers: dict[str, Checkpoint] | None = None,
                       batch: int | None = None, lr_points: int | None = None, callback=None) -> dict:
    """The whole map: ``{"rows": [evaluate_cell(...) per cell], "optimizers": {name: path}, "seconds"}``.

    Args:
      seed: the task seed of every cell (unseen by training: validation uses another key).
      cells: keys of :data:`CELLS` to compute (default all).
      optimizers: learned optimizers by name (default the shipped ones).
      batch, lr_points: override every cell's task count and learning-rate grid (smaller: faster).
      callback: called with each finished row.
    """
    chosen = CELLS if cells is None else tuple(c for c in CELLS if c.key in set(cells))
    if cells is not None and len(chosen) != len(set(cells)):
        unknown = sorted(set(cells) - {c.key for c in CELLS})
        raise ValueError(f"unknown cells {unknown}; choose from {[c.key for c in CELLS]}")
    if optimizers is None:
        optimizers = {name: load_checkpoint(TASK_FAMILIES[name].default_checkpoint) for name in SHIPPED_OPTIMIZERS}
    t0 = time.perf_counter()
    rows = []
    for cell in chosen:
        rows.append(evaluate_cell(cell, optimizers, seed=seed, batch=batch, lr_points=lr_points))
        if callback is not None:
            callback(rows[-1])
    return dict(rows=rows, optimizers={k: str(v.path) for k, v in optimizers.items()}, seed=seed,
                seconds=time.perf_counter() - t0)


def failures(result: dict) -> list[str]:
    """Plain sentences naming every cell where a learned optimizer loses or diverges."""
    out = []
    for row in result["rows"]:
        for name, r in row["learned"].items():
            if r["verdict"] == "diverged":
                out.append(f"the {name} optimizer diverges on {row['label']}")
            elif r["verdict"] == "loses":
                out.append(f"the {name} optimizer loses on {row['label']}: {r['ratio']:.2f}x the best tuned "
                           f"baseline ({row['best_baseline']})")
    return out
