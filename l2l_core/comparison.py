"""The learned optimizer against tuned SGD, Adam, RMSprop and NAG on fresh tasks.

``compare`` is what ``python -m l2l_core compare`` prints and what the page
draws: for ``batch`` tasks drawn from ``seed`` (``tasks.tasks_for_seed``),
the per-task losses over ``steps`` steps of every optimizer, the baselines at
their best learning rate.
"""

from __future__ import annotations

import time

import numpy as np

from l2l_core.baselines import BASELINES, check_steps, lr_grid, tune_baseline
from l2l_core.checkpoints import DEFAULT_CHECKPOINT, Checkpoint, load_checkpoint
from l2l_core.metatrain import lstm_losses
from l2l_core.tasks import check_task_shape, tasks_for_seed

OPTIMIZERS = ("lstm", *BASELINES)


def compare(checkpoint: Checkpoint | None = None, *, seed: int = 0, steps: int = 100,
            dim: int | None = None, batch: int = 128, log_lrs=None) -> dict:
    """Returns ``{"initial", "final": {name: mean final loss}, "best_lr": {name: lr},
    "losses": {name: (steps+1, batch) array}, "seconds", ...}``.

    ``dim`` defaults to the dimension the optimizer was trained on; any other
    value is a what-if (the LSTM is coordinatewise, so it runs on any dim).
    """
    ckpt = checkpoint if checkpoint is not None else load_checkpoint(DEFAULT_CHECKPOINT)
    steps = check_steps(steps)
    dim = ckpt.config.dim if dim is None else dim
    batch, dim = check_task_shape(batch, dim)
    if int(seed) != seed or not 0 <= seed < 2**31:
        raise ValueError(f"seed must be an integer between 0 and 2^31-1, got {seed}")
    log_lrs = lr_grid() if log_lrs is None else log_lrs
    t0 = time.perf_counter()
    tasks = tasks_for_seed(int(seed), batch, dim)
    losses = {"lstm": np.asarray(lstm_losses(ckpt.params, tasks, lstm=ckpt.config.lstm, steps=steps,
                                             reduction=ckpt.config.reduction))}
    best_lr = {}
    for name in BASELINES:
        tuned = tune_baseline(name, tasks, steps, log_lrs)
        losses[name], best_lr[name] = tuned["losses"], tuned["best_lr"]
    with np.errstate(invalid="ignore", over="ignore"):
        final = {k: float(np.mean(v[-1].astype(np.float64))) for k, v in losses.items()}
    return dict(initial=float(np.mean(losses["lstm"][0])), final=final, best_lr=best_lr,
                losses=losses, seed=int(seed), steps=steps, dim=dim, batch=batch,
                checkpoint=str(ckpt.path), seconds=time.perf_counter() - t0)
