"""One inner run, the loss surface it moves on, and a learning-rate sweep, for any
(task, inner optimizer) of :mod:`l2l_core.landscape.general`.

- :func:`inner_run`: the iterates and losses of one run (what the Inner problem
  page draws: a 1-D task's path on its curve, a 2-D task's path on its contour,
  a network's loss against step);
- :func:`loss_surface`: the task's loss over its domain (a curve, or a grid);
- :func:`lr_sweep_general`: the outer loss against the learning rate with every
  other hyperparameter held (a network's per-layer learning rates move together).

Every value is the one :func:`~l2l_core.landscape.general.hyper_grid` computes:
the same optax optimizer, built from the same hyperparameters, the same summary.
"""

from __future__ import annotations

from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from l2l_core.checks import check_seed
from l2l_core.inner.fastpow import with_fast_pow
from l2l_core.inner.optimizers import get_optimizer
from l2l_core.inner.unroll import check_steps
from l2l_core.landscape import general
from l2l_core.landscape import grid as fast
from l2l_core.tasks.general import resolve_task

#: Points per axis of a 2-D task's contour, and of a 1-D task's curve.
SURFACE_2D, SURFACE_1D = 160, 600


class InnerRun(NamedTuple):
    """``params``: (steps+1, dim) iterates of a 1-D or 2-D task (None for a network);
    ``losses``: (steps+1,) the loss at each iterate (NaN once the run diverged)."""

    params: np.ndarray | None
    losses: np.ndarray


@partial(jax.jit, static_argnames=("vg", "build", "labels", "steps"))
def _run(hp, params0, *, vg, build, labels, steps):
    tx = general.labelled_optimizer(build, labels, hp)
    update = with_fast_pow(tx.update)

    def step(carry, _):
        params, state = carry
        loss, g = vg(params)
        updates, state = update(g, state, params)
        return (optax.apply_updates(params, updates), state), (params, loss)

    (params, _), (path, losses) = jax.lax.scan(step, (params0, tx.init(params0)), None, length=steps)
    return path, losses, params, vg(params)[0]


def inner_run(task, optimizer, *, steps: int = 50, fixed: dict | None = None, x0=None, seed: int = 0) -> InnerRun:
    """One inner run of ``task`` by ``optimizer`` (float32).

    Args:
      task, optimizer, fixed, x0, seed: as for :func:`~l2l_core.landscape.general.hyper_grid`;
        ``fixed`` sets any hyperparameter (values, not display units), the rest keep
        the optimizer's defaults.
      steps: inner updates.

    Raises:
      ValueError: an unknown name, a value out of its domain, too many steps.
    """
    seed = check_seed("seed", seed)
    t, o = resolve_task(task, seed), get_optimizer(optimizer)
    hp = general.hyperparameter_values(t, o, fixed)
    steps = check_steps(steps)
    params0 = general._check_x0(t, x0, seed)
    params0 = jax.tree_util.tree_map(lambda p: np.asarray(p, np.float32), params0)
    hp = {k: np.float32(v) for k, v in hp.items()}
    path, losses, last, last_loss = _run(hp, params0, vg=t.value_and_grad, build=o.build, labels=t.labels,
                                         steps=steps)
    losses = np.append(np.asarray(losses, np.float64), float(last_loss))
    params = None
    if t.labels is None:
        cols = path if t.dim == 2 else (path,)
        ends = last if t.dim == 2 else (last,)
        params = np.stack([np.append(np.asarray(c, np.float64), float(e)) for c, e in zip(cols, ends)], axis=1)
        bad = ~np.isfinite(params).all(axis=1)
    else:
        bad = np.zeros(losses.shape, bool)
    bad |= ~np.isfinite(losses)
    if bad.any():  # from the first non-finite iterate on, the run has diverged
        first = int(np.argmax(bad))
        losses[first:] = np.nan
        if params is not None:
            params[first:] = np.nan
    return InnerRun(params, losses)


def loss_surface(task, *, seed: int = 0, resolution: int | None = None):
    """A 1-D task's curve (xs, loss) or a 2-D task's grid (xs, ys, loss (len(ys), len(xs)))
    over the task's domain; ValueError for a network (it has no surface to draw)."""
    t = resolve_task(task, seed)
    if t.labels is not None or t.domain is None:
        raise ValueError(f"task {t.name!r} is a network: its loss is drawn against the step, not as a surface")
    value = jax.jit(jax.vmap(lambda *p: t.value_and_grad(p if t.dim == 2 else p[0])[0]))
    if t.dim == 1:
        xs = np.linspace(*t.domain[0], resolution or SURFACE_1D)
        return xs, np.asarray(value(jnp.asarray(xs, jnp.float32)), np.float64)
    n = resolution or SURFACE_2D
    xs, ys = np.linspace(*t.domain[0], n), np.linspace(*t.domain[1], n)
    gx, gy = np.meshgrid(xs.astype(np.float32), ys.astype(np.float32))
    z = np.asarray(value(jnp.asarray(gx.ravel()), jnp.asarray(gy.ravel())), np.float64).reshape(n, n)
    return xs, ys, z


def lr_sweep_general(task, optimizer, log_lrs, *, inner_steps: int = 50, summary: str = "mean",
                     fixed: dict | None = None, x0=None, seed: int = 0, cancel=None) -> np.ndarray:
    """The outer loss at each log10 learning rate, every other hyperparameter held.

    A network's per-layer learning rates all take the swept value (``fixed`` values
    for them are ignored). Returns float32 (len(log_lrs),); NaN where a run diverged.
    """
    t, o = resolve_task(task, seed), get_optimizer(optimizer)
    lrs = fast.check_axis("log_lrs", log_lrs)
    if lrs.size > fast.MAX_CELLS:
        raise ValueError(f"{lrs.size:,} learning rates exceed the cap of {fast.MAX_CELLS:,}")
    if t.labels is not None:
        x, y = tuple(dict.fromkeys(t.labels))[:2]
        fixed = {k: v for k, v in (fixed or {}).items() if k not in t.axes}
    else:
        x, y = "lr", next(a for a in o.axes if a != "lr")
        fixed = {k: v for k, v in (fixed or {}).items() if k != "lr"}
    if t.labels is None:  # the other axis at its held value: a one-row grid
        held = general.hyperparameter_values(t, o, fixed).pop(y)
        fixed.pop(y, None)
        y_value = o.axes[y].to_display(held)
        return general.hyper_grid(t, o, x, y, lrs, [y_value], inner_steps=inner_steps, summary=summary,
                                  fixed=fixed, x0=x0, seed=seed, cancel=cancel)[0]
    s = general.setup(t, o, x, y, inner_steps=inner_steps, summary=summary, fixed=fixed, x0=x0, seed=seed)
    if lrs.size * s.inner_steps * t.dim > general.MAX_WORK:
        raise ValueError(f"{lrs.size:,} runs x {s.inner_steps} steps x {t.dim} parameters is more work than the "
                         f"cap of {general.MAX_WORK:.3g}; use fewer points or steps")
    values = np.power(10.0, lrs).astype(s.dtype)

    def cells(idx):
        return values[idx], values[idx]  # both layers at the same learning rate

    return fast.evaluate_chunks(cells, lrs.size, s.dtype, general.cell_kernel(s), cancel=cancel)
