"""Running outer methods: one run, many runs at once, and the landscape at points.

Every gradient-based method runs through one jitted ``lax.scan``
(:func:`_scan`): the method's ``estimate`` gives a gradient, an optax chain
``zero_nans -> clip -> sgd|adam`` applies it. A run is reproducible from its
integer seed (``jax.random.PRNGKey(seed)`` folded with the step). The reported
outer-loss curve is the landscape's own value ``f(theta_t)`` at each iterate
(not the method's noisy estimate), so curves of different methods compare
directly and end points are judged by the landscape itself.
"""

from __future__ import annotations

import math
from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from l2l_core.landscape import grid as landscape
from l2l_core.landscape.summaries import older_names
from l2l_core.outer.base import (
    F32,
    MAX_OUTER_STEPS,
    Context,
    check_int,
    check_point,
    check_positive,
    check_problem_options,
    check_seed,
    loss_fn,
    outer_optimizer,
    to_np_nan,
    truncation_fn,
)
from l2l_core.outer.registry import METHODS, resolve_options
from l2l_core.runtime import sharding

_STATIC = ("method", "vg", "inner_steps", "summary", "steps", "optimizer", "pairs", "k")


@partial(jax.jit, static_argnames=_STATIC)
def _scan(theta0, key, x0, lr, clip, std, std_final, *, method, vg, inner_steps, summary, steps, optimizer,
          pairs, k):
    """One run of ``method``: (iterates (steps, 2), final theta (2,), f at the iterates (steps,))."""
    ctx = Context(loss=loss_fn(vg, x0, inner_steps, summary), truncation=truncation_fn(vg, k), x0=x0,
                  n_truncations=inner_steps // k, pairs=pairs, std=std, std_final=std_final, outer_steps=steps)
    return scan_method(METHODS[method], ctx, theta0, key, lr, clip, optimizer, steps)


def scan_method(m, ctx, theta0, key, lr, clip, optimizer, steps):
    """The traced run of method ``m`` on ``ctx``: (iterates, final theta, f at the iterates)."""
    if m.estimate is None:
        return m.run(ctx, theta0, key)
    opt = outer_optimizer(optimizer, lr, clip)

    def step(carry, t):
        theta, opt_state, est_state = carry
        g, est_state, loss = m.estimate(ctx, theta, est_state, jax.random.fold_in(key, t), t)
        if loss is None:
            loss = ctx.loss(theta)
        upd, opt_state = opt.update(g, opt_state, theta)
        return (optax.apply_updates(theta, upd), opt_state, est_state), (theta, loss)

    carry0 = (theta0, opt.init(theta0), m.init_state(ctx))
    (theta, *_), (traj, losses) = jax.lax.scan(step, carry0, jnp.arange(steps))
    return traj, theta, losses


def _scalars(opts: dict) -> tuple:
    """The traced options (lr, clip, std, std_final), with neutral values where a method has none."""
    std = opts.get("std", 1.0)
    return tuple(F32(v) for v in (opts.get("lr", 0.0), opts.get("clip", 1.0), std, opts.get("std_final", std)))


def _static(method: str, opts: dict, steps: int) -> dict:
    return dict(method=method, vg=opts["problem"].value_and_grad, inner_steps=opts["inner_steps"],
                summary=opts["summary"], steps=steps, optimizer=opts.get("optimizer", "sgd"),
                pairs=opts.get("pairs", 1), k=opts.get("truncation_length", 1))


class OuterRun(NamedTuple):
    """A run: ``trajectory`` (steps+1, 2) in (log10 lr, log10(1-mom)); ``losses``
    (steps,) = f(trajectory[t]) for t < steps (NaN where the unroll diverged)."""

    trajectory: np.ndarray
    losses: np.ndarray
    final_loss: float


def run_outer(method: str, init, steps: int, *, seed: int = 0, **options) -> tuple[np.ndarray, np.ndarray]:
    """Outer-trains (log10 lr, log10(1 - momentum)) from ``init``.

    Args:
      method: a key of :data:`METHODS` ("grad", "es", "pes", "tbptt", "random").
      init: (log10 lr, log10(1 - momentum)) to start from, e.g. the post's (-2, -0.5).
      steps: outer steps, 1..MAX_OUTER_STEPS.
      seed: integer; the same seed gives the same trajectory.
      **options: the method's options (see ``METHODS[method].defaults``: lr, clip,
        optimizer, std, pairs, std_final, truncation_length) and the inner
        problem's (problem, x0, inner_steps, summary; ``reduce`` is summary's older name).

    Returns:
      (trajectory of shape (steps+1, 2), outer losses of shape (steps,)),
      float32 numpy arrays; ``losses[t]`` is the landscape's outer loss at
      ``trajectory[t]`` (NaN where that unroll diverged).

    Raises:
      ValueError: unknown method or option, or an argument out of range.
    """
    run = run_outer_full(method, init, steps, seed=seed, **options)
    return run.trajectory, run.losses


def run_outer_full(method: str, init, steps: int, *, seed: int = 0, **options) -> OuterRun:
    """:func:`run_outer`, also returning the outer loss at the final point."""
    opts = resolve_options(method, options)
    theta0 = jnp.asarray(check_point("init", init), F32)
    steps = check_int("steps (outer)", steps, 1, MAX_OUTER_STEPS)
    key = jax.random.PRNGKey(check_seed(seed))
    out = _scan(theta0, key, F32(opts["x0"]), *_scalars(opts), **_static(method, opts, steps))
    traj, theta, losses = (np.asarray(a) for a in out)
    trajectory = np.concatenate([traj, theta[None]]).astype(np.float32)
    final = float(outer_loss_at([theta], **{k: opts[k] for k in ("problem", "x0", "inner_steps", "summary")})[0])
    return OuterRun(trajectory, to_np_nan(losses), final)


# -- many runs at once, sharded over devices ----------------------------------

#: Most (start, seed) runs one batch may hold.
MAX_BATCH = 4096


class OuterBatch(NamedTuple):
    """Stacked runs: ``trajectories`` (n, steps+1, 2), ``losses`` (n, steps),
    ``final_losses`` (n,); row i is what :func:`run_outer_full` gives for
    ``(inits[i], seeds[i])``."""

    trajectories: np.ndarray
    losses: np.ndarray
    final_losses: np.ndarray


@partial(jax.jit, static_argnames=_STATIC)
def _run_batch(thetas, keys, x0, scalars, **static):
    return jax.vmap(lambda theta, key: _scan(theta, key, x0, *scalars, **static))(thetas, keys)


def _check_inits(inits) -> np.ndarray:
    if isinstance(inits, (str, bytes)):
        raise ValueError(f"inits must be a sequence of (log10 lr, log10(1-momentum)) points, got {inits!r}")
    try:
        points = list(inits)
    except TypeError:
        raise ValueError(f"inits must be a sequence of (log10 lr, log10(1-momentum)) points, got {inits!r}") from None
    if not 1 <= len(points) <= MAX_BATCH:
        raise ValueError(f"inits must hold between 1 and {MAX_BATCH} points, got {len(points)}")
    return np.array([check_point(f"inits[{i}]", p) for i, p in enumerate(points)], np.float32)


def _check_seeds(seeds, n: int) -> list[int]:
    if isinstance(seeds, (int, np.integer)) and not isinstance(seeds, bool):
        return [check_seed(seeds)] * n
    if isinstance(seeds, (str, bytes)):
        raise ValueError(f"seeds must be an integer or a sequence of integers, got {seeds!r}")
    try:
        seeds = list(seeds)
    except TypeError:
        raise ValueError(f"seeds must be an integer or a sequence of integers, got {seeds!r}") from None
    if len(seeds) != n:
        raise ValueError(f"seeds must hold one seed per start: {n} starts but {len(seeds)} seeds")
    return [check_seed(s) for s in seeds]


def _bucket(n: int, n_devices: int) -> int:
    """Batch size for n runs: the next power of two (so a new count of starts or seeds
    rarely recompiles), a multiple of the device count."""
    size = 1 << (n - 1).bit_length()
    return -(-size // n_devices) * n_devices


def run_outer_batch(method: str, inits, steps: int, *, seeds=0, **options) -> OuterBatch:
    """Many outer runs of one method at once: ``(inits[i], seeds[i])`` for each i.

    One jitted ``vmap`` of the method's scan whose batch axis is split over
    every device (:mod:`l2l_core.runtime.sharding`; the batch is padded to a multiple
    of the device count, the padding dropped). The runs are independent, so
    the result is the same as calling :func:`run_outer_full` one by one (to
    float rounding), on one device or many.

    Args:
      method: a key of :data:`METHODS`.
      inits: sequence of n points (log10 lr, log10(1 - momentum)), 1..MAX_BATCH.
      steps: outer steps, 1..MAX_OUTER_STEPS.
      seeds: one integer per start, or one integer for all of them.
      **options: as for :func:`run_outer` (shared by every run).

    Returns:
      :class:`OuterBatch` of float32 arrays (n, steps+1, 2), (n, steps), (n,).

    Raises:
      ValueError: unknown method or option, or an argument out of range.
    """
    opts = resolve_options(method, options)
    thetas = _check_inits(inits)
    n = len(thetas)
    seed_list = _check_seeds(seeds, n)
    steps = check_int("steps (outer)", steps, 1, MAX_OUTER_STEPS)
    keys = np.stack([np.asarray(jax.random.PRNGKey(s)) for s in seed_list])
    devices = sharding.grid_devices()
    pad = _bucket(n, len(devices)) - n
    if pad:  # repeat the last run; its copies are dropped below
        thetas = np.concatenate([thetas, np.repeat(thetas[-1:], pad, axis=0)])
        keys = np.concatenate([keys, np.repeat(keys[-1:], pad, axis=0)])
    out = _run_batch(sharding.shard_rows(thetas, devices), sharding.shard_rows(keys, devices),
                     F32(opts["x0"]), _scalars(opts), **_static(method, opts, steps))
    traj, theta, losses = (sharding.to_host(a)[:n] for a in out)
    trajectories = np.concatenate([traj, theta[:, None]], axis=1).astype(np.float32)
    final = outer_loss_at(theta, **{k: opts[k] for k in ("problem", "x0", "inner_steps", "summary")})
    return OuterBatch(trajectories, to_np_nan(losses), final)


# -- evaluating the landscape at points ---------------------------------------


@partial(jax.jit, static_argnames=("vg", "inner_steps", "summary"))
def _loss_at(thetas, x0, *, vg, inner_steps, summary):
    return jax.vmap(loss_fn(vg, x0, inner_steps, summary))(thetas)


def outer_loss_at(points, *, problem="log_sin", x0=-4.0, inner_steps=None, summary=None, **older) -> np.ndarray:
    """The outer loss f at each of ``points`` (n, 2), float32, as the outer methods see it."""
    inner_steps, summary = older_names(inner_steps, summary, older)
    o = check_problem_options(dict(problem=problem, x0=x0, inner_steps=inner_steps, summary=summary))
    pts = np.asarray(points, dtype=np.float64)
    if pts.ndim != 2 or pts.shape[1] != 2 or pts.shape[0] == 0:
        raise ValueError(f"points must have shape (n, 2), got {pts.shape}")
    if pts.shape[0] > landscape.MAX_CELLS:
        raise ValueError(f"at most {landscape.MAX_CELLS:,} points, got {pts.shape[0]:,}")
    if not np.isfinite(pts).all():
        raise ValueError("points must be finite")
    out = _loss_at(jnp.asarray(pts, F32), F32(o["x0"]), vg=o["problem"].value_and_grad,
                   inner_steps=o["inner_steps"], summary=o["summary"])
    return to_np_nan(out)


def local_shift(point, *, half_width: float = 0.05, n: int = 101, **problem) -> dict[str, np.ndarray]:
    """The post's local-shift curves: f along +-half_width in each axis around ``point``.

    Returns:
      dict with ``shift`` (n,), ``lr_shift`` (f at (lr+shift, mom)) and
      ``mom_shift`` (f at (lr, mom+shift)), float32 arrays.
    """
    p = check_point("point", point)
    half_width = check_positive("half_width", half_width, hi=5.0)
    n = check_int("n (points per curve)", n, 3, 10_001)
    ts = np.linspace(-half_width, half_width, n)
    pts = np.concatenate([
        np.stack([p[0] + ts, np.full(n, p[1])], axis=1),
        np.stack([np.full(n, p[0]), p[1] + ts], axis=1),
    ])
    v = outer_loss_at(pts, **problem)
    return dict(shift=ts.astype(np.float32), lr_shift=v[:n], mom_shift=v[n:])


def landscape_percentile(value: float, grid: np.ndarray) -> float:
    """Percentage of finite cells of ``grid`` whose loss is above ``value`` (100 = best)."""
    finite = grid[np.isfinite(grid)]
    if finite.size == 0 or not math.isfinite(value):
        return float("nan")
    return float(100.0 * np.mean(finite > value))
