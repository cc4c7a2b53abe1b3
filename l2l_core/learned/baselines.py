"""Hand-designed baselines as optax optimizers, each tuned over its learning rate.

:data:`BASELINES` is the one registry (name -> (label, factory(lr))) that the
CLI, the page and the tests iterate over. A baseline always sees per-task
gradients; Adam and RMSprop are invariant to the gradient's scale, and for SGD
and NAG a 1/128 scale would only move the best learning rate by 128x, so the
tuned result does not depend on the task reduction.

Learning rates are searched over a log-spaced grid on the very tasks they are
scored on (as in the post): a generous setting for the baselines.
"""

from __future__ import annotations

from functools import partial
from typing import Callable

import jax
import jax.numpy as jnp
import numpy as np
import optax

from l2l_core.inner.optimizers import OPTIMIZERS
from l2l_core.inner.unroll import MAX_STEPS as MAX_STEPS  # the steps bound, re-exported for the CLI
from l2l_core.inner.unroll import check_steps
from l2l_core.tasks.quadratics import QuadraticTasks


def _inner(name: str, **fixed) -> Callable[[jax.Array], optax.GradientTransformation]:
    """lr -> the inner optimizer ``name`` of :data:`~l2l_core.inner.optimizers.OPTIMIZERS` (its
    one definition) with the other hyperparameters at their defaults or at ``fixed``."""
    opt = OPTIMIZERS[name]
    return lambda lr: opt.build(**dict(opt.defaults, **fixed, lr=lr))


#: name -> (label, lr -> optax optimizer), each built from the inner-optimizer registry. ``nag``
#: is that registry's ``nesterov`` at momentum 0.9, under the name the learned optimizer's
#: records and checkpoints have always used for it (``base="nag"``, the comparison's keys).
BASELINES: dict[str, tuple[str, Callable[[jax.Array], optax.GradientTransformation]]] = {
    "sgd": ("SGD", _inner("sgd", momentum=0.0)),
    "adam": ("Adam", _inner("adam")),
    "rmsprop": ("RMSprop", _inner("rmsprop")),
    "nag": ("NAG (momentum 0.9)", _inner("nesterov", momentum=0.9)),
}

DEFAULT_LOG_LR_RANGE = (-4.0, 1.0)
DEFAULT_LR_POINTS = 51  # 10 per decade
MAX_LR_POINTS = 200


def get_baseline(name: str) -> Callable[[jax.Array], optax.GradientTransformation]:
    if name not in BASELINES:
        raise ValueError(f"unknown baseline {name!r}; choose from {sorted(BASELINES)}")
    return BASELINES[name][1]


def run_optimizer(opt: optax.GradientTransformation, tasks, steps: int,
                  reduction: str = "sum", record: bool = False):
    """Runs ``opt`` on every task of a batch for ``steps`` steps (traceable; no jit here).

    ``tasks`` is any batch with the task interface (``losses_and_grads``,
    ``final_losses``): quadratics or MLPs. Returns ``(losses, theta)``: per-task
    losses of shape (steps + 1, B), row t < steps the loss the optimizer saw at
    step t (an MLP's minibatch loss), the last row ``tasks.final_losses`` at the
    final point (an MLP's whole training split), and the final optimizee (B, P);
    with ``record``, ``losses`` is (losses, gradients, updates), the last two (steps, B, P).
    """

    def step(carry, _):
        theta, state, i = carry
        losses, grads = tasks.losses_and_grads(theta, i, reduction)
        updates, state = opt.update(grads, state, theta)
        theta = optax.apply_updates(theta, updates)
        return (theta, state, i + 1), ((losses, grads, updates) if record else losses)

    init = (tasks.theta0, opt.init(tasks.theta0), jnp.int32(0))
    (theta, _, _), out = jax.lax.scan(step, init, None, length=steps)
    losses = out[0] if record else out
    all_losses = jnp.concatenate([losses, tasks.final_losses(theta)[None]], axis=0)
    return ((all_losses, out[1], out[2]) if record else all_losses), theta


def optimizer_losses(opt: optax.GradientTransformation, tasks, steps: int,
                     reduction: str = "sum", record: bool = False):
    """Per-task losses (steps + 1, B) of ``opt`` on ``tasks`` (see :func:`run_optimizer`);
    with ``record``, also the gradients and updates, each (steps, B, P)."""
    return run_optimizer(opt, tasks, steps, reduction, record)[0]


def mean_metrics(tasks, theta) -> dict[str, float]:
    """``tasks.metrics`` at the final optimizee, averaged over tasks (empty for quadratics)."""
    with np.errstate(invalid="ignore", over="ignore"):
        return {k: float(np.mean(np.asarray(v, np.float64))) for k, v in tasks.metrics(theta).items()}


@partial(jax.jit, static_argnames=("name", "steps"))
def _final_point(name, lr, tasks, steps):
    return run_optimizer(get_baseline(name)(lr), tasks, steps)[1]


@partial(jax.jit, static_argnames=("name", "steps"))
def _lr_grid_losses(name, log_lrs, tasks, steps):
    factory = get_baseline(name)
    return jax.vmap(lambda lr: optimizer_losses(factory(lr), tasks, steps))(10.0**log_lrs)


def lr_grid(log_lr_range=DEFAULT_LOG_LR_RANGE, points=DEFAULT_LR_POINTS) -> np.ndarray:
    lo, hi = map(float, log_lr_range)
    if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi and -10 <= lo and hi <= 5):
        raise ValueError(f"log10 learning-rate range must satisfy -10 <= lo < hi <= 5, got {log_lr_range}")
    if int(points) != points or not 2 <= points <= MAX_LR_POINTS:
        raise ValueError(f"learning-rate points must be between 2 and {MAX_LR_POINTS}, got {points}")
    return np.linspace(lo, hi, int(points), dtype=np.float32)


def tune_baseline(name: str, tasks, steps: int = 100,
                  log_lrs: np.ndarray | None = None) -> dict:
    """Picks the learning rate with the lowest mean final loss over ``tasks``.

    Returns ``{"best_lr", "final", "losses" (steps+1, B) at the best lr,
    "log_lrs", "final_by_lr", "metrics" (held-out test loss and accuracy of a
    network task at the best lr; empty for quadratics)}``; a learning rate whose final loss is not finite
    on any task counts as diverged (its mean final loss is NaN).
    """
    get_baseline(name)
    steps = check_steps(steps, integral_floats=True)
    log_lrs = lr_grid() if log_lrs is None else np.asarray(log_lrs, np.float32)
    losses = np.asarray(_lr_grid_losses(name, jnp.asarray(log_lrs), tasks, steps))
    with np.errstate(invalid="ignore", over="ignore"):
        final_by_lr = losses[:, -1, :].astype(np.float64).mean(axis=1)
    final_by_lr[~np.isfinite(final_by_lr)] = np.nan
    if np.isnan(final_by_lr).all():
        raise ValueError(f"{name}: every learning rate in the grid diverged")
    i = int(np.nanargmin(final_by_lr))
    best_lr = float(10.0 ** log_lrs[i])
    metrics = {}
    if not isinstance(tasks, QuadraticTasks):  # held-out metrics at the chosen learning rate
        metrics = mean_metrics(tasks, _final_point(name, jnp.float32(best_lr), tasks, steps))
    return dict(best_lr=best_lr, final=float(final_by_lr[i]), losses=losses[i],
                log_lrs=log_lrs, final_by_lr=final_by_lr, metrics=metrics)
