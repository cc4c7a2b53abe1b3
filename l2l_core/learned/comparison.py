"""The learned optimizer against tuned SGD, Adam, RMSprop and NAG on fresh tasks.

``compare`` is what ``python -m l2l_core compare`` prints and what the page
draws: for ``batch`` tasks drawn from ``seed`` (``tasks.tasks_for_seed``),
the per-task losses over ``steps`` steps of every optimizer, the baselines at
their best learning rate.
"""

from __future__ import annotations

import time
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from l2l_core.learned.baselines import (
    BASELINES,
    check_steps,
    get_baseline,
    mean_metrics,
    optimizer_losses,
    run_optimizer,
    tune_baseline,
)
from l2l_core.learned.checkpoints import Checkpoint, load_checkpoint
from l2l_core.learned.lstm import lstm_optimizer
from l2l_core.tasks.families import get_family
from l2l_core.tasks.quadratics import check_task_shape, tasks_for_seed

COMPARED = ("lstm", *BASELINES)  # what a comparison scores: the learned optimizer, then the baselines


@partial(jax.jit, static_argnames=("lstm", "steps", "reduction"))
def lstm_run(params, tasks, *, lstm, steps: int, reduction: str = "sum"):
    """(losses (steps+1, B), final optimizee) of the learned optimizer on ``tasks``."""
    return run_optimizer(lstm_optimizer(params, lstm), tasks, steps, reduction)


def compare(checkpoint: Checkpoint | None = None, *, task: str | None = None, seed: int = 0,
            steps: int | None = None, dim: int | None = None, batch: int | None = None, log_lrs=None) -> dict:
    """Returns ``{"initial", "final": {name: mean final loss}, "best_lr": {name: lr},
    "losses": {name: (steps+1, batch) array}, "test": {name: {test_loss, test_accuracy}}
    (network tasks only), "seconds", ...}``.

    ``task`` (a family, or a task of the maps as a family of one) defaults to the family the
    checkpoint was trained on, and the checkpoint to the family's shipped one.
    ``steps``, ``batch`` and the learning-rate grid default to the family's.
    For quadratics ``dim`` defaults to the dimension the optimizer was trained
    on; any other value is a what-if (the LSTM is coordinatewise, so it runs on
    any dim). A network task's final loss is on its whole training split.
    """
    task = task if task is not None else (checkpoint.config.task if checkpoint is not None else "quadratic")
    family = get_family(task)
    ckpt = checkpoint if checkpoint is not None else load_checkpoint(family.default_checkpoint)
    steps = check_steps(family.steps if steps is None else steps)
    if dim is None:
        dim = ckpt.config.dim if get_family(ckpt.config.task).is_quadratic else 10
    batch, dim = check_task_shape(family.eval_batch if batch is None else batch, dim)
    if int(seed) != seed or not 0 <= seed < 2**31:
        raise ValueError(f"seed must be an integer between 0 and 2^31-1, got {seed}")
    log_lrs = family.log_lrs() if log_lrs is None else log_lrs
    t0 = time.perf_counter()
    tasks = family.tasks_for_seed(int(seed), batch, dim)
    lstm_l, theta = lstm_run(ckpt.params, tasks, lstm=ckpt.config.lstm, steps=steps,
                             reduction=ckpt.config.reduction)
    losses = {"lstm": np.asarray(lstm_l)}
    test = {"lstm": mean_metrics(tasks, theta)}
    best_lr = {}
    for name in BASELINES:
        tuned = tune_baseline(name, tasks, steps, log_lrs)
        losses[name], best_lr[name], test[name] = tuned["losses"], tuned["best_lr"], tuned["metrics"]
    with np.errstate(invalid="ignore", over="ignore"):
        final = {k: float(np.mean(v[-1].astype(np.float64))) for k, v in losses.items()}
    out = dict(initial=float(np.mean(losses["lstm"][0])), final=final, best_lr=best_lr,
               losses=losses, task=family.name, seed=int(seed), steps=steps, dim=dim, batch=batch,
               checkpoint=str(ckpt.path), seconds=time.perf_counter() - t0)
    if family.has_data:
        out["test"] = test
    if not family.is_quadratic:
        out.pop("dim")
    return out


@partial(jax.jit, static_argnames=("lstm", "steps", "reduction"))
def _lstm_record(params, tasks, *, lstm, steps, reduction):
    return optimizer_losses(lstm_optimizer(params, lstm), tasks, steps, reduction, record=True)


@partial(jax.jit, static_argnames=("name", "steps"))
def _baseline_record(name, lr, tasks, *, steps):
    return optimizer_losses(get_baseline(name)(lr), tasks, steps, record=True)


def update_records(checkpoint: Checkpoint, best_lr: dict, *, seed: int = 0, steps: int = 100,
                   n_tasks: int = 16, dim: int | None = None, batch: int = 128,
                   names=("sgd", "adam")) -> dict:
    """What each optimizer does with a gradient: for the LSTM and ``names``
    (at their tuned learning rates), every (step, gradient, update) triple on
    ``n_tasks`` of the seed's tasks, flattened. Gradients are per-task ones
    (the LSTM trained with the mean reduction saw them divided by the batch)."""
    steps = check_steps(steps)
    dim = checkpoint.config.dim if dim is None else dim
    tasks = tasks_for_seed(int(seed), batch, dim)  # the compared batch: "mean" scales by it
    out = {}
    runs = {"lstm": lambda: _lstm_record(checkpoint.params, tasks, lstm=checkpoint.config.lstm, steps=steps,
                                         reduction=checkpoint.config.reduction)}
    for name in names:
        runs[name] = partial(lambda n: _baseline_record(n, jnp.float32(best_lr[n]), tasks, steps=steps), name)
    for name, run in runs.items():
        _, grads, updates = run()
        grads, updates = np.asarray(grads)[:, :n_tasks], np.asarray(updates)[:, :n_tasks]
        if name == "lstm" and checkpoint.config.reduction == "mean":
            grads = grads * batch  # report per-task gradients for every optimizer
        step = np.broadcast_to(np.arange(steps)[:, None, None], grads.shape)
        out[name] = dict(grad=grads.reshape(-1), update=updates.reshape(-1), step=step.reshape(-1))
    return out
