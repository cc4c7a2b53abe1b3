"""Outer methods on any two hyperparameter axes of any (task, inner optimizer).

``theta`` is the point (x, y) in the two axes' display units (log10 v or
log10(1 - v)); the outer loss is the one :func:`l2l_core.landscape.general.hyper_grid`
draws at that cell, so trajectories land on the heatmap they are drawn over.
Every method runs on any pair: ``grad``, ``es`` and ``random`` on the whole
unroll; ``pes`` and ``tbptt`` on truncations of it, each carrying the task's
parameters and the optax state from one truncation to the next (so they need
the summary ``mean``, the mean of the truncations' means). On the seed post's
plane (sgd, lr x momentum, a 1-D task) every method goes through
:func:`l2l_core.outer.runner.run_outer_full` unchanged.
"""

from __future__ import annotations

import math
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
import optax

from l2l_core.inner.fastpow import with_fast_pow
from l2l_core.landscape import general as landscape
from l2l_core.landscape.grid import MAX_LOG10
from l2l_core.outer.base import F32, MAX_OUTER_STEPS, Context, check_int, check_seed, to_np_nan
from l2l_core.outer.registry import METHODS, resolve_options
from l2l_core.outer.runner import OuterRun, run_outer_full, scan_method

#: Methods that run on any pair of axes.
GENERAL_METHODS = ("grad", "es", "pes", "tbptt", "random")
#: Methods that follow a gradient of the summary itself (the others only evaluate it).
GRADIENT_METHODS = ("grad", "tbptt")
#: Methods that cut the unroll into truncations (their loss is the truncations' mean).
TRUNCATED_METHODS = ("pes", "tbptt")

_STATIC = ("method", "names", "units", "vg", "build", "labels", "summary", "inner_steps", "steps", "optimizer",
           "pairs", "k")


def _hparams(theta, names, units, consts):
    hp = {}
    for i, (name, unit) in enumerate(zip(names[:2], units)):
        p = jnp.power(10.0, theta[i])
        hp[name] = p if unit == "log10" else 1.0 - p
    hp.update(zip(names[2:], consts))
    return hp


def _truncation(vg, build, labels, names, units, consts, k):
    """(theta, (params, optax state), v) -> (mean inner loss over k steps, ((params, state), v))."""

    def run(theta, inner, v):
        tx = landscape.labelled_optimizer(build, labels, _hparams(theta, names, units, consts))
        update = with_fast_pow(tx.update)

        def body(carry, _):
            params, state, acc = carry
            loss, g = vg(params)
            updates, state = update(g, state, params)
            return (optax.apply_updates(params, updates), state, acc + loss), None

        (params, state, acc), _ = jax.lax.scan(body, (*inner, jnp.zeros((), F32)), None, length=k)
        return acc / k, ((params, state), v)

    return run


@partial(jax.jit, static_argnames=_STATIC)
def _scan(theta0, key, consts, params0, lr, clip, std, std_final, *, method, names, units, vg, build, labels,
          summary, inner_steps, steps, optimizer, pairs, k):
    def loss(theta):
        hp = _hparams(theta, names, units, consts)
        return landscape.run_cell(hp, params0, inner_steps, vg=vg, build=build, labels=labels, summary=summary,
                               unroll=1)

    # An episode starts from the task's parameters and a fresh optax state (its structure
    # does not depend on the hyperparameters' values).
    optimizer0 = landscape.labelled_optimizer(build, labels, _hparams(theta0, names, units, consts))
    inner0 = (params0, optimizer0.init(params0))
    ctx = Context(loss=loss, truncation=_truncation(vg, build, labels, names, units, consts, k), x0=inner0,
                  n_truncations=inner_steps // k, pairs=pairs, std=std, std_final=std_final, outer_steps=steps)
    traj, theta, losses = scan_method(METHODS[method], ctx, theta0, key, lr, clip, optimizer, steps)
    return traj, theta, losses, loss(theta)


def _check_init(init) -> tuple[float, float]:
    try:
        values = [float(v) for v in init]
    except (TypeError, ValueError):
        raise ValueError(f"init must be two numbers (x, y) in the axes' display units, got {init!r}") from None
    if len(values) != 2 or not all(math.isfinite(v) and abs(v) <= MAX_LOG10 for v in values):
        raise ValueError(f"init must be two finite numbers within +-{MAX_LOG10:g}, got {init!r}")
    return values[0], values[1]


def run_outer_general(method: str, task, optimizer, x_axis: str, y_axis: str, init, steps: int, *,
                      seed: int = 0, inner_steps: int = 50, summary: str = "mean", fixed: dict | None = None,
                      x0=None, task_seed: int | None = None, **options) -> OuterRun:
    """Outer-trains two hyperparameters of a (task, optimizer) pair from ``init``.

    Args:
      method: a key of :data:`l2l_core.outer.METHODS`; every one runs on any pair
        of axes (``pes`` and ``tbptt`` with the summary ``mean``).
      task, optimizer, x_axis, y_axis, inner_steps, summary, fixed, x0: as for
        :func:`l2l_core.landscape.general.hyper_grid`.
      init: (x, y) in the axes' display units.
      steps: outer steps.
      seed: PRNG seed (and a network task's draw, unless ``task_seed`` is given).
      task_seed: draws a network task's data and weights (the grid's ``seed``).
      **options: the method's options (lr, clip, optimizer, std, pairs, std_final, ...).

    Returns:
      :class:`~l2l_core.outer.runner.OuterRun`: trajectory (steps+1, 2), the outer
      loss at each iterate (steps,), and at the end.

    Raises:
      ValueError: an unknown name or option; a gradient method on a summary that
        has no gradient (``converge``); ``pes``/``tbptt`` with a summary other than
        ``mean``, or a truncation length that does not divide ``inner_steps``.
    """
    if method not in METHODS:
        raise ValueError(f"unknown outer method {method!r}; choose one of {list(METHODS)}")
    s = landscape.setup(task, optimizer, x_axis, y_axis, inner_steps=inner_steps, summary=summary,
                        fixed=fixed, x0=x0, seed=check_seed(seed if task_seed is None else task_seed))
    if method in GRADIENT_METHODS and not landscape.SUMMARIES[summary].differentiable:
        raise ValueError(f"method {method!r} follows the gradient of the outer loss, and the summary "
                         f"{summary!r} has none (it is piecewise constant in sign); use es or random, "
                         f"or the summary mean, final or min")
    if method in TRUNCATED_METHODS and summary != "mean":
        raise ValueError(f"method {method!r} estimates from truncations of the unroll, whose loss is the mean "
                         f"inner loss; choose the summary mean (got {summary!r}), or es or random")
    theta0 = _check_init(init)
    if landscape.routes_to_fast_kernel(s) and s.x_axis.name == "lr":
        return run_outer_full(method, theta0, steps, seed=seed, problem=s.task.problem, x0=float(s.params0),
                              inner_steps=s.inner_steps, summary=s.summary, **options)
    opts = resolve_options(method, dict(options, inner_steps=s.inner_steps))
    steps = check_int("steps (outer)", steps, 1, MAX_OUTER_STEPS)
    std = opts.get("std", 1.0)
    scalars = tuple(F32(v) for v in (opts.get("lr", 0.0), opts.get("clip", 1.0), std, opts.get("std_final", std)))
    params0 = jax.tree_util.tree_map(lambda p: np.asarray(p, np.float32), s.params0)
    out = _scan(jnp.asarray(theta0, F32), jax.random.PRNGKey(seed), tuple(F32(v) for v in s.fixed.values()),
                params0, *scalars, method=method, names=(s.x_axis.name, s.y_axis.name) + tuple(s.fixed),
                units=(s.x_axis.unit, s.y_axis.unit), vg=s.task.value_and_grad, build=s.optimizer.build,
                labels=s.task.labels, summary=s.summary, inner_steps=s.inner_steps, steps=steps,
                optimizer=opts.get("optimizer", "sgd"), pairs=opts.get("pairs", 1),
                k=opts.get("truncation_length", s.inner_steps))
    traj, theta, losses, final = (np.asarray(a) for a in out)
    trajectory = np.concatenate([traj, theta[None]]).astype(np.float32)
    final = float(final) if np.isfinite(final) else float("nan")
    return OuterRun(trajectory, to_np_nan(losses), final)
