"""Outer optimization: descending the meta-loss landscape itself.

The outer parameters are ``theta = (log10 lr, log10(1 - momentum))``, the
plane of the landscape heatmap; the outer loss ``f(theta)`` is
:func:`l2l_core.landscape.grid.outer_loss` (mean inner loss over a 50-step unroll
of SGD with momentum from x0 = -4, by default). Methods, one registry:

- ``"grad"``: the exact gradient through the whole unroll (``jax.grad``),
  clipped to +-10, plain SGD with outer learning rate 0.01 (the post's).
- ``"es"``: antithetic Evolution Strategies (the post's): for each pair,
  ``eps ~ N(0, std^2 I)``, ``g = eps (f(theta+eps) - f(theta-eps)) / (2 std^2)``;
  options ``pairs`` per step and an annealed std (``std_final``). ES is an
  unbiased estimate of the gradient of the *Gaussian-smoothed* loss, which is
  why it rolls over the ripples that trap ``"grad"``.
- ``"pes"``: Persistent Evolution Strategies (Vicol, Metz and Sohl-Dickstein,
  2021): the unroll is cut into truncations of ``truncation_length`` steps;
  each particle keeps its inner state and the sum ``xi`` of all perturbations
  it has received since the episode began, and
  ``g = xi (L+ - L-) / (2 std^2)`` per pair, where ``L`` is the mean inner
  loss over the truncation. Over an episode it is unbiased for the gradient
  of the smoothed full-unroll loss; each step costs only a truncation.
- ``"tbptt"``: the gradient of each truncation's loss with the inner state
  treated as a constant (truncated backprop): cheap, low variance, biased.
- ``"random"``: (1+1) random search: propose ``best + N(0, std^2 I)`` and keep
  it if its outer loss is lower. A baseline that needs no gradient at all.

Every method's loop is one jitted ``lax.scan``; outer updates go through an
optax chain ``zero_nans -> clip(+-clip) -> sgd|adam``. A run is reproducible
from its integer seed (``jax.random.PRNGKey(seed)`` folded with the step).

The reported outer-loss curve is the landscape's own value ``f(theta_t)`` at
each iterate (not the method's noisy estimate), so curves of different
methods compare directly and end points are judged by the landscape itself.

References:
  Metz, "Meta-loss landscapes with JAX" (the seed post).
  Vicol, Metz, Sohl-Dickstein, "Unbiased Gradient Estimation in Unrolled
  Computation Graphs with Persistent Evolution Strategies", ICML 2021.
"""

from __future__ import annotations

import math
from functools import partial
from typing import Any, Callable, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from l2l_core.landscape import grid as landscape
from l2l_core.runtime import sharding
from l2l_core.inner.problems import InnerProblem
from l2l_core.inner.unroll import check_finite, check_steps, resolve_problem

#: Most outer steps one run may take.
MAX_OUTER_STEPS = 20_000
#: Most antithetic pairs per step (ES / PES) and samples per diagnostic.
MAX_PAIRS = 1024
MAX_SAMPLES = 4096
#: Outer parameters must stay in this box: beyond it 10**x over/underflows float32.
PARAM_LIMIT = 30.0

F32 = jnp.float32


class Method(NamedTuple):
    """One outer method: a description and its default options."""

    title: str
    description: str
    defaults: dict


_COMMON = dict(lr=0.01, clip=10.0, optimizer="sgd")

METHODS: dict[str, Method] = {
    "grad": Method(
        "gradient descent (through the unroll)",
        "jax.grad through all inner steps, clipped to +-clip; gets stuck in the ripples.",
        dict(_COMMON),
    ),
    "es": Method(
        "Evolution Strategies (antithetic)",
        "Antithetic Gaussian perturbations; estimates the gradient of the smoothed loss.",
        dict(_COMMON, std=0.1, pairs=1, std_final=None),
    ),
    "pes": Method(
        "Persistent ES (truncated unrolls)",
        "ES over truncations that keeps each particle's accumulated perturbation: unbiased.",
        dict(_COMMON, std=0.1, pairs=1, truncation_length=10),
    ),
    "tbptt": Method(
        "truncated backprop (TBPTT)",
        "Gradient through the last truncation only: cheap but biased towards short horizons.",
        dict(_COMMON, truncation_length=10),
    ),
    "random": Method(
        "random search (1+1)",
        "Proposes best + N(0, std^2) and keeps it when lower; no gradients at all.",
        dict(std=0.1),
    ),
}

#: Options about the inner problem, shared by every method.
PROBLEM_DEFAULTS = dict(problem="log_sin", x0=-4.0, inner_steps=50, reduce="mean")

OPTIMIZERS = ("sgd", "adam")


# -- validation ---------------------------------------------------------------


def _check_int(name, value, lo, hi) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    if not lo <= value <= hi:
        raise ValueError(f"{name} must be between {lo} and {hi}, got {value}")
    return int(value)


def _check_positive(name, value, hi=None) -> float:
    value = check_finite(name, value)
    if value <= 0:
        raise ValueError(f"{name} must be positive, got {value}")
    if hi is not None and value > hi:
        raise ValueError(f"{name} must be at most {hi}, got {value}")
    return value


def check_point(name, point) -> tuple[float, float]:
    """A point (log10 lr, log10(1 - momentum)) of two finite numbers in range."""
    try:
        values = [float(v) for v in point]
    except (TypeError, ValueError):
        raise ValueError(
            f"{name} must be two numbers (log10 lr, log10(1-momentum)), got {point!r}"
        ) from None
    if len(values) != 2:
        raise ValueError(
            f"{name} must be two numbers (log10 lr, log10(1-momentum)), got {len(values)}"
        )
    for v in values:
        if not math.isfinite(v) or abs(v) > PARAM_LIMIT:
            raise ValueError(f"{name} entries must be finite and within +-{PARAM_LIMIT:g}, got {values}")
    if values[1] > 0.5:
        # 1 - momentum > ~3 means momentum < -2: legal maths but no longer momentum.
        raise ValueError(f"{name}: log10(1-momentum) must be at most 0.5 (momentum > -2.2), got {values[1]}")
    return values[0], values[1]


def check_seed(seed) -> int:
    return _check_int("seed", seed, 0, 2**31 - 1)


def _check_problem_options(opts: dict) -> dict:
    out = {}
    out["problem"] = resolve_problem(opts["problem"])
    out["x0"] = check_finite("x0", opts["x0"])
    out["inner_steps"] = check_steps(opts["inner_steps"])
    if opts["reduce"] not in landscape.REDUCTIONS:
        raise ValueError(
            f"unknown outer-loss summary {opts['reduce']!r}; choose one of {list(landscape.REDUCTIONS)}"
        )
    out["reduce"] = opts["reduce"]
    return out


def resolve_options(method: str, options: dict) -> dict:
    """Defaults filled in and every option checked; ValueError names the culprit."""
    if method not in METHODS:
        raise ValueError(f"unknown outer method {method!r}; choose one of {list(METHODS)}")
    defaults = dict(PROBLEM_DEFAULTS, **METHODS[method].defaults)
    unknown = sorted(set(options) - set(defaults))
    if unknown:
        raise ValueError(
            f"unknown option(s) {unknown} for method {method!r}; it takes {sorted(defaults)}"
        )
    opts = dict(defaults, **options)
    out = _check_problem_options(opts)
    if "lr" in opts:
        out["lr"] = _check_positive("outer learning rate lr", opts["lr"], hi=100.0)
        out["clip"] = _check_positive("clip", opts["clip"], hi=1e6)
        if opts["optimizer"] not in OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {list(OPTIMIZERS)}, got {opts['optimizer']!r}")
        out["optimizer"] = opts["optimizer"]
    if "std" in opts:
        out["std"] = _check_positive("std", opts["std"], hi=10.0)
    if "pairs" in opts:
        out["pairs"] = _check_int("pairs", opts["pairs"], 1, MAX_PAIRS)
    if "std_final" in opts:
        out["std_final"] = (
            out["std"] if opts["std_final"] is None else _check_positive("std_final", opts["std_final"], hi=10.0)
        )
    if "truncation_length" in opts:
        k = _check_int("truncation_length", opts["truncation_length"], 1, out["inner_steps"])
        if out["inner_steps"] % k:
            divisors = [d for d in range(1, out["inner_steps"] + 1) if out["inner_steps"] % d == 0]
            raise ValueError(
                f"truncation_length {k} must divide the {out['inner_steps']} inner steps; "
                f"choose one of {divisors}"
            )
        if opts["reduce"] != "mean":
            raise ValueError(f"method {method!r} truncates the unroll and needs reduce='mean'")
        out["truncation_length"] = k
    return out


def parse_points(text: str, max_points: int = 8) -> list[tuple[float, float]]:
    """Starts typed as "lr,omm; lr,omm" (e.g. "-2,-0.5; 0,-1.5") -> list of points."""
    if not isinstance(text, str) or not text.strip():
        raise ValueError('give at least one start as "log10 lr, log10(1-momentum)", e.g. "-2,-0.5; 0,-1.5"')
    parts = [p for p in text.split(";") if p.strip()]
    if len(parts) > max_points:
        raise ValueError(f"at most {max_points} starts, got {len(parts)}")
    return [check_point(f"start {i + 1} ({p.strip()!r})", p.split(",")) for i, p in enumerate(parts)]


def parse_seeds(text: str, max_seeds: int = 16) -> list[int]:
    """Seeds typed as "0" or "0,1,2" or a range "0-4" -> list of distinct ints."""
    if not isinstance(text, str) or not text.strip():
        raise ValueError('give at least one seed, e.g. "0" or "0,1,2" or "0-4"')
    parts = text.split(",")
    if len(parts) > max_seeds:
        raise ValueError(f"at most {max_seeds} seeds, got {len(parts)}")
    seeds: list[int] = []
    for part in parts:
        part = part.strip()
        try:
            if "-" in part[1:]:
                a, b = (int(v) for v in part.split("-", 1))
                if b - a + 1 > max_seeds - len(seeds):  # checked before the range is built
                    raise OverflowError
                seeds.extend(range(a, b + 1))
            else:
                seeds.append(int(part))
        except OverflowError:
            raise ValueError(f"at most {max_seeds} seeds, got more in {part!r}") from None
        except ValueError:
            raise ValueError(f"seed {part!r} is not an integer (or a range like 0-4)") from None
    seeds = list(dict.fromkeys(check_seed(s) for s in seeds))
    if len(seeds) > max_seeds:
        raise ValueError(f"at most {max_seeds} seeds, got {len(seeds)}")
    return seeds


# -- the outer loss as a traced function --------------------------------------


def _loss_fn(vg, x0, inner_steps, reduce) -> Callable:
    """theta (2,) -> outer loss, traced; dtype follows theta."""

    def f(theta):
        lr = jnp.power(10.0, theta[0])
        mom = 1.0 - jnp.power(10.0, theta[1])
        return landscape.outer_loss_from_hparams(
            lr, mom, value_and_grad=vg, x0=x0, steps=inner_steps, reduce=reduce
        )

    return f


def _truncation_fn(vg, k):
    """(theta, x, v) -> (mean inner loss over k steps, (x, v)) from a given inner state."""

    def run(theta, x, v):
        lr = jnp.power(10.0, theta[0])
        mom = 1.0 - jnp.power(10.0, theta[1])

        def body(carry, _):
            x, v, acc = carry
            loss, g = vg(x)
            v = mom * v + g
            return (x - lr * v, v, acc + loss), None

        (x, v, acc), _ = jax.lax.scan(body, (x, v, jnp.zeros_like(x)), None, length=k)
        return acc / k, (x, v)

    return run


def _finite_or_nan(x):
    return jnp.where(jnp.isfinite(x), x, jnp.nan)


def _optimizer(name, lr, clip):
    base = optax.sgd(lr) if name == "sgd" else optax.adam(lr)
    return optax.chain(optax.zero_nans(), optax.clip(clip), base)


def _es_grad(f, theta, key, std, pairs):
    """Antithetic ES estimate with ``pairs`` pairs; NaN pairs count as zero."""
    eps = jax.random.normal(key, (pairs, 2), F32) * std
    pos = jax.vmap(f)(theta + eps)
    neg = jax.vmap(f)(theta - eps)
    per_pair = eps * ((pos - neg) / (2.0 * std**2))[:, None]
    per_pair = jnp.where(jnp.isfinite(per_pair), per_pair, 0.0)
    return per_pair.mean(axis=0)


# -- the scanned loops ---------------------------------------------------------

_STATIC = ("vg", "inner_steps", "reduce", "steps", "optimizer", "pairs", "k")


@partial(jax.jit, static_argnames=_STATIC)
def _run_grad(theta0, key, x0, lr, clip, *, vg, inner_steps, reduce, steps, optimizer, pairs, k):
    del key, pairs, k
    f = _loss_fn(vg, x0, inner_steps, reduce)
    opt = _optimizer(optimizer, lr, clip)

    def step(carry, _):
        theta, state = carry
        loss, g = jax.value_and_grad(f)(theta)
        upd, state = opt.update(g, state, theta)
        return (optax.apply_updates(theta, upd), state), (theta, loss)

    (theta, _), (traj, losses) = jax.lax.scan(step, (theta0, opt.init(theta0)), None, length=steps)
    return traj, theta, losses


@partial(jax.jit, static_argnames=_STATIC)
def _run_es(theta0, key, x0, lr, clip, std, std_final, *, vg, inner_steps, reduce, steps, optimizer,
            pairs, k):
    del k
    f = _loss_fn(vg, x0, inner_steps, reduce)
    opt = _optimizer(optimizer, lr, clip)
    ratio = std_final / std

    def step(carry, t):
        theta, state = carry
        s = std * ratio ** (t / jnp.maximum(steps - 1, 1))  # geometric annealing
        g = _es_grad(f, theta, jax.random.fold_in(key, t), s, pairs)
        upd, state = opt.update(g, state, theta)
        return (optax.apply_updates(theta, upd), state), (theta, f(theta))

    ts = jnp.arange(steps, dtype=F32)
    (theta, _), (traj, losses) = jax.lax.scan(step, (theta0, opt.init(theta0)), ts)
    return traj, theta, losses


@partial(jax.jit, static_argnames=_STATIC)
def _run_pes(theta0, key, x0, lr, clip, std, *, vg, inner_steps, reduce, steps, optimizer, pairs, k):
    f = _loss_fn(vg, x0, inner_steps, reduce)
    trunc = jax.vmap(_truncation_fn(vg, k))
    opt = _optimizer(optimizer, lr, clip)
    n_trunc = inner_steps // k
    zeros = jnp.zeros((2 * pairs,), F32)

    def step(carry, t):
        theta, state, x, v, xi = carry
        reset = (t % n_trunc) == 0
        x = jnp.where(reset, jnp.asarray(x0, F32), x)
        v = jnp.where(reset, 0.0, v)
        xi = jnp.where(reset, 0.0, xi)
        eps = jax.random.normal(jax.random.fold_in(key, t), (pairs, 2), F32) * std
        eps2 = jnp.concatenate([eps, -eps])
        xi = xi + eps2
        losses, (x, v) = trunc(theta + eps2, x, v)
        diff = losses[:pairs] - losses[pairs:]
        per_pair = xi[:pairs] * (diff / (2.0 * std**2))[:, None]
        per_pair = jnp.where(jnp.isfinite(per_pair), per_pair, 0.0)
        # A diverged particle would poison its whole episode; restart it.
        bad = ~(jnp.isfinite(x) & jnp.isfinite(v))
        x, v = jnp.where(bad, jnp.asarray(x0, F32), x), jnp.where(bad, 0.0, v)
        upd, state = opt.update(per_pair.mean(axis=0), state, theta)
        return (optax.apply_updates(theta, upd), state, x, v, xi), (theta, f(theta))

    carry0 = (theta0, opt.init(theta0), zeros, zeros, jnp.zeros((2 * pairs, 2), F32))
    (theta, *_), (traj, losses) = jax.lax.scan(step, carry0, jnp.arange(steps))
    return traj, theta, losses


@partial(jax.jit, static_argnames=_STATIC)
def _run_tbptt(theta0, key, x0, lr, clip, *, vg, inner_steps, reduce, steps, optimizer, pairs, k):
    del key, pairs
    f = _loss_fn(vg, x0, inner_steps, reduce)
    trunc = _truncation_fn(vg, k)
    opt = _optimizer(optimizer, lr, clip)
    n_trunc = inner_steps // k

    def step(carry, t):
        theta, state, x, v = carry
        reset = (t % n_trunc) == 0
        x = jnp.where(reset | ~jnp.isfinite(x), jnp.asarray(x0, F32), x)
        v = jnp.where(reset | ~jnp.isfinite(v), 0.0, v)
        g, (x, v) = jax.grad(lambda th: trunc(th, x, v), has_aux=True)(theta)
        upd, state = opt.update(g, state, theta)
        return (optax.apply_updates(theta, upd), state, x, v), (theta, f(theta))

    zero = jnp.zeros((), F32)
    (theta, *_), (traj, losses) = jax.lax.scan(step, (theta0, opt.init(theta0), zero, zero), jnp.arange(steps))
    return traj, theta, losses


@partial(jax.jit, static_argnames=_STATIC)
def _run_random(theta0, key, x0, std, *, vg, inner_steps, reduce, steps, optimizer, pairs, k):
    del optimizer, pairs, k
    f = _loss_fn(vg, x0, inner_steps, reduce)

    def step(carry, t):
        best, best_loss = carry
        cand = best + std * jax.random.normal(jax.random.fold_in(key, t), (2,), F32)
        cand_loss = f(cand)
        better = jnp.isfinite(cand_loss) & ~(cand_loss >= best_loss)
        best, best_loss = jnp.where(better, cand, best), jnp.where(better, cand_loss, best_loss)
        return (best, best_loss), (best, best_loss)

    loss0 = f(theta0)
    loss0 = jnp.where(jnp.isfinite(loss0), loss0, jnp.inf)
    (theta, _), (traj, losses) = jax.lax.scan(step, (theta0, loss0), jnp.arange(steps))
    # Report the incumbent *before* each step, like the other methods.
    traj = jnp.concatenate([theta0[None], traj[:-1]])
    losses = jnp.concatenate([loss0[None], losses[:-1]])
    return traj, theta, losses


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
        problem's (problem, x0, inner_steps, reduce).

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
    steps = _check_int("steps (outer)", steps, 1, MAX_OUTER_STEPS)
    key = jax.random.PRNGKey(check_seed(seed))
    out = _RUNNERS[method](theta0, key, F32(opts["x0"]), *_scalars(method, opts), **_static(opts, steps))
    traj, theta, losses = (np.asarray(a) for a in out)
    trajectory = np.concatenate([traj, theta[None]]).astype(np.float32)
    final = float(outer_loss_at([theta], **{k: opts[k] for k in ("problem", "x0", "inner_steps", "reduce")})[0])
    return OuterRun(trajectory, _to_np_nan(losses), final)


def _static(opts: dict, steps: int) -> dict:
    p: InnerProblem = opts["problem"]
    return dict(vg=p.value_and_grad, inner_steps=opts["inner_steps"], reduce=opts["reduce"], steps=steps,
                optimizer=opts.get("optimizer", "sgd"), pairs=opts.get("pairs", 1),
                k=opts.get("truncation_length", 1))


#: Each method's scan and the float options it takes after (theta0, key, x0).
_RUNNERS = {"grad": _run_grad, "es": _run_es, "pes": _run_pes, "tbptt": _run_tbptt, "random": _run_random}
_SCALARS = {"grad": ("lr", "clip"), "es": ("lr", "clip", "std", "std_final"), "pes": ("lr", "clip", "std"),
            "tbptt": ("lr", "clip"), "random": ("std",)}


def _scalars(method: str, opts: dict) -> tuple:
    return tuple(F32(opts[name]) for name in _SCALARS[method])


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


@partial(jax.jit, static_argnames=("method",) + _STATIC)
def _run_batch(thetas, keys, x0, scalars, *, method, **static):
    run = _RUNNERS[method]
    return jax.vmap(lambda theta, key: run(theta, key, x0, *scalars, **static))(thetas, keys)


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
    steps = _check_int("steps (outer)", steps, 1, MAX_OUTER_STEPS)
    keys = np.stack([np.asarray(jax.random.PRNGKey(s)) for s in seed_list])
    devices = sharding.grid_devices()
    pad = -n % len(devices)
    if pad:  # repeat the last run; its copies are dropped below
        thetas = np.concatenate([thetas, np.repeat(thetas[-1:], pad, axis=0)])
        keys = np.concatenate([keys, np.repeat(keys[-1:], pad, axis=0)])
    out = _run_batch(sharding.shard_rows(thetas, devices), sharding.shard_rows(keys, devices),
                     F32(opts["x0"]), _scalars(method, opts), method=method, **_static(opts, steps))
    traj, theta, losses = (sharding.to_host(a)[:n] for a in out)
    trajectories = np.concatenate([traj, theta[:, None]], axis=1).astype(np.float32)
    final = outer_loss_at(theta, **{k: opts[k] for k in ("problem", "x0", "inner_steps", "reduce")})
    return OuterBatch(trajectories, _to_np_nan(losses), final)


# -- evaluating the landscape at points ---------------------------------------


@partial(jax.jit, static_argnames=("vg", "inner_steps", "reduce"))
def _loss_at(thetas, x0, *, vg, inner_steps, reduce):
    return jax.vmap(_loss_fn(vg, x0, inner_steps, reduce))(thetas)


def outer_loss_at(points, *, problem="log_sin", x0=-4.0, inner_steps=50, reduce="mean") -> np.ndarray:
    """The outer loss f at each of ``points`` (n, 2), float32, as the outer methods see it."""
    o = _check_problem_options(dict(problem=problem, x0=x0, inner_steps=inner_steps, reduce=reduce))
    pts = np.asarray(points, dtype=np.float64)
    if pts.ndim != 2 or pts.shape[1] != 2 or pts.shape[0] == 0:
        raise ValueError(f"points must have shape (n, 2), got {pts.shape}")
    if pts.shape[0] > landscape.MAX_CELLS:
        raise ValueError(f"at most {landscape.MAX_CELLS:,} points, got {pts.shape[0]:,}")
    if not np.isfinite(pts).all():
        raise ValueError("points must be finite")
    out = _loss_at(jnp.asarray(pts, F32), F32(o["x0"]), vg=o["problem"].value_and_grad,
                   inner_steps=o["inner_steps"], reduce=o["reduce"])
    return _to_np_nan(out)


def _to_np_nan(a) -> np.ndarray:
    a = np.asarray(a, dtype=np.float32)
    return np.where(np.isfinite(a), a, np.nan).astype(np.float32)


def local_shift(point, *, half_width: float = 0.05, n: int = 101, **problem) -> dict[str, np.ndarray]:
    """The post's local-shift curves: f along +-half_width in each axis around ``point``.

    Returns:
      dict with ``shift`` (n,), ``lr_shift`` (f at (lr+shift, mom)) and
      ``mom_shift`` (f at (lr, mom+shift)), float32 arrays.
    """
    p = check_point("point", point)
    half_width = _check_positive("half_width", half_width, hi=5.0)
    n = _check_int("n (points per curve)", n, 3, 10_001)
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


# -- estimator diagnostic -----------------------------------------------------

ESTIMATORS = {
    "es": "ES, antithetic, `pairs` pairs",
    "pes": "PES over one full episode of truncations",
    "tbptt": "truncated gradient, averaged over one episode",
    "es_smoothed": "ES with many pairs: the smoothed loss's gradient",
}


@partial(jax.jit, static_argnames=("vg", "inner_steps", "samples", "pairs", "k"))
def _estimates(theta, key, x0, std, *, vg, inner_steps, samples, pairs, k):
    f = _loss_fn(vg, x0, inner_steps, "mean")
    keys = jax.random.split(key, 3)
    true_loss, true_grad = jax.value_and_grad(f)(theta)
    es = jax.vmap(lambda kk: _es_grad(f, theta, kk, std, pairs))(jax.random.split(keys[0], samples))
    n_trunc = inner_steps // k
    trunc = _truncation_fn(vg, k)

    def pes_episode(kk):
        def body(carry, t):
            x, v, xi, acc = carry
            eps = jax.random.normal(jax.random.fold_in(kk, t), (pairs, 2), F32) * std
            eps2 = jnp.concatenate([eps, -eps])
            xi = xi + eps2
            losses, (x, v) = jax.vmap(trunc)(theta + eps2, x, v)
            per = xi[:pairs] * ((losses[:pairs] - losses[pairs:]) / (2.0 * std**2))[:, None]
            return (x, v, xi, acc + per.mean(axis=0)), None

        z = jnp.zeros((2 * pairs,), F32)
        init = (z + x0, z, jnp.zeros((2 * pairs, 2), F32), jnp.zeros((2,), F32))
        (_, _, _, acc), _ = jax.lax.scan(body, init, jnp.arange(n_trunc))
        return acc / n_trunc

    pes = jax.vmap(pes_episode)(jax.random.split(keys[1], samples))

    def tbptt_body(carry, _):
        x, v, acc = carry
        g, (x, v) = jax.grad(lambda th: trunc(th, x, v), has_aux=True)(theta)
        return (x, v, acc + g), None

    zero = jnp.zeros((), F32)
    (_, _, tb), _ = jax.lax.scan(tbptt_body, (zero + x0, zero, jnp.zeros((2,), F32)), None, length=n_trunc)
    smooth = _es_grad(f, theta, keys[2], std, 4096).reshape(1, 2)
    return true_loss, true_grad, es, pes, (tb / n_trunc)[None], smooth


class EstimatorStats(NamedTuple):
    """Per-estimator samples (m, 2) and their mean, bias and variance."""

    samples: np.ndarray
    mean: np.ndarray
    bias: np.ndarray  # mean - true gradient
    variance: float  # trace of the covariance (0 for deterministic estimators)


def estimator_diagnostic(point, *, samples: int = 256, pairs: int = 1, std: float = 0.1,
                         truncation_length: int = 10, seed: int = 0, problem="log_sin", x0: float = -4.0,
                         inner_steps: int = 50) -> dict[str, Any]:
    """Many gradient estimates of each method at ``point`` against the true gradient.

    The true gradient is ``jax.grad`` of the full unroll (what ``"grad"``
    follows). ES and PES estimate the gradient of the loss smoothed by
    N(0, std^2): unbiased for *that*, so their bias against the raw gradient is
    the smoothing itself; TBPTT's is truncation bias.

    Returns:
      dict: ``true_loss``, ``true_grad`` (2,), ``smoothed_grad`` (2,) (ES with
      4096 pairs) and ``estimators``: name -> :class:`EstimatorStats`.
    """
    theta = check_point("point", point)
    opts = resolve_options("pes", dict(problem=problem, x0=x0, inner_steps=inner_steps, std=std, pairs=pairs,
                                       truncation_length=truncation_length))
    samples = _check_int("samples", samples, 2, MAX_SAMPLES)
    key = jax.random.PRNGKey(check_seed(seed))
    out = _estimates(jnp.asarray(theta, F32), key, F32(opts["x0"]), F32(opts["std"]),
                     vg=opts["problem"].value_and_grad, inner_steps=opts["inner_steps"], samples=samples,
                     pairs=opts["pairs"], k=opts["truncation_length"])
    true_loss, true_grad, es, pes, tb, smooth = (np.asarray(a, dtype=np.float64) for a in out)

    def stats(s):
        s = s[np.isfinite(s).all(axis=1)]
        if s.size == 0:
            nan2 = np.full(2, np.nan)
            return EstimatorStats(s, nan2, nan2, float("nan"))
        mean = s.mean(axis=0)
        var = float(np.trace(np.atleast_2d(np.cov(s.T)))) if len(s) > 1 else 0.0
        return EstimatorStats(s, mean, mean - true_grad, var)

    return dict(
        true_loss=float(true_loss), true_grad=true_grad, smoothed_grad=smooth[0],
        estimators={f"es ({opts['pairs']} pair{'s' if opts['pairs'] > 1 else ''})": stats(es),
                    f"pes (K={opts['truncation_length']})": stats(pes),
                    f"tbptt (K={opts['truncation_length']})": stats(tb)},
    )
