"""The interface every outer method implements, and what they share.

An outer method searches the landscape's plane ``theta = (log10 lr,
log10(1 - momentum))`` for a low outer loss ``f(theta)``. Gradient-based
methods are *gradient estimators* (as in learned_optimization's
``outer_trainers``): ``init_state(ctx)`` and
``estimate(ctx, theta, state, key, t) -> (gradient, state, loss at theta or None)``;
the runner feeds the estimate to an optax chain ``zero_nans -> clip -> sgd|adam``,
and the estimator diagnostic calls the same ``estimate``. A method without
gradients (random search) supplies its whole scan as ``run`` instead.
"""

from __future__ import annotations

import math
from typing import Any, Callable, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from l2l_core.checks import check_int
from l2l_core.inner.hyperparams import lr_momentum
from l2l_core.inner.unroll import check_finite, check_steps, resolve_problem, sgd_momentum_step
from l2l_core.landscape import grid as landscape
from l2l_core.landscape.summaries import POST_SUMMARIES, check_summary

#: Most outer steps one run may take.
MAX_OUTER_STEPS = 20_000
#: Most antithetic pairs per step (ES / PES) and samples per diagnostic.
MAX_PAIRS = 1024
MAX_SAMPLES = 4096
#: Outer parameters must stay in this box: beyond it 10**x over/underflows float32.
PARAM_LIMIT = 30.0

F32 = jnp.float32

#: Options about the inner problem, shared by every method.
PROBLEM_DEFAULTS = dict(problem="log_sin", x0=-4.0, inner_steps=50, summary="mean")
#: Options of every gradient-based method (the post's: SGD, outer lr 0.01, clip +-10).
GRADIENT_DEFAULTS = dict(lr=0.01, clip=10.0, optimizer="sgd")
OUTER_INNER_OPTIMIZERS = ("sgd", "adam")  # the inner optimizers the post's outer loop trains through


class Context(NamedTuple):
    """What an estimator sees inside the traced loop (built by the runner)."""

    loss: Callable  # theta -> outer loss f(theta)
    truncation: Callable  # (theta, x, v) -> (mean inner loss over k steps, (x, v))
    x0: Any  # the inner state x at the start of an episode (a number; params and optax state)
    n_truncations: int  # inner_steps // truncation_length
    pairs: int
    std: jax.Array
    std_final: jax.Array
    outer_steps: int


class OuterMethod(NamedTuple):
    """One outer method: the registry's record.

    Attributes:
      name: the key in :data:`l2l_core.outer.METHODS` and on the command line.
      title, description: what the pages and ``--help`` show.
      defaults: its options and their defaults (the inner problem's come on top).
      stochastic: whether its result depends on the seed.
      init_state: ctx -> the estimator's state at the start (a pytree).
      estimate: (ctx, theta, state, key, t) -> (gradient, state, loss at theta or None);
        None for a method that is not a gradient estimator.
      run: (ctx, theta0, key) -> (trajectory (T, 2), final theta, losses (T,)) for a
        method with no ``estimate``.
    """

    name: str
    title: str
    description: str
    defaults: dict
    stochastic: bool
    init_state: Callable[[Context], Any] | None = None
    estimate: Callable | None = None
    run: Callable | None = None


# -- validation ---------------------------------------------------------------


def check_positive(name, value, hi=None) -> float:
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
    return check_int("seed", seed, 0, 2**31 - 1)


def check_problem_options(opts: dict) -> dict:
    out = {}
    out["problem"] = resolve_problem(opts["problem"])
    out["x0"] = check_finite("x0", opts["x0"])
    out["inner_steps"] = check_steps(opts["inner_steps"])
    out["summary"] = check_summary(opts["summary"], POST_SUMMARIES)
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
    """Seeds typed as "0" or "0,1,2" or a range "0-4" -> list of distinct ints.

    The count is checked before any range is built, so "0-20000000" costs nothing.
    """
    if not isinstance(text, str) or not text.strip():
        raise ValueError('give at least one seed, e.g. "0" or "0,1,2" or "0-4"')
    seeds: list[int] = []
    for part in text.split(","):
        part = part.strip()
        try:
            if "-" in part[1:]:
                a, b = (int(v) for v in part.split("-", 1))
                if b - a + 1 > max_seeds or b < a:
                    raise OverflowError
                seeds.extend(range(a, b + 1))
            else:
                seeds.append(int(part))
        except OverflowError:
            raise ValueError(f"seed range {part!r} must go upwards and hold at most {max_seeds} seeds") from None
        except ValueError:
            raise ValueError(f"seed {part!r} is not an integer (or a range like 0-4)") from None
        if len(seeds) > max_seeds:
            raise ValueError(f"at most {max_seeds} seeds, got more")
    seeds = list(dict.fromkeys(check_seed(s) for s in seeds))
    return seeds


# -- traced pieces every method builds on ---------------------------------------


def loss_fn(vg, x0, inner_steps, summary) -> Callable:
    """theta (2,) -> outer loss, traced; dtype follows theta."""

    def f(theta):
        lr, mom = lr_momentum(theta[0], theta[1], jnp)
        return landscape.outer_loss_from_hparams(
            lr, mom, value_and_grad=vg, x0=x0, inner_steps=inner_steps, summary=summary
        )

    return f


def truncation_fn(vg, k):
    """(theta, x, v) -> (mean inner loss over k steps, (x, v)) from a given inner state."""

    def run(theta, x, v):
        lr, mom = lr_momentum(theta[0], theta[1], jnp)

        def body(carry, _):
            x, v, acc = carry
            x, v, loss = sgd_momentum_step(vg, x, v, lr, mom)
            return (x, v, acc + loss), None

        (x, v, acc), _ = jax.lax.scan(body, (x, v, jnp.zeros_like(x)), None, length=k)
        return acc / k, (x, v)

    return run


def _rows(cond, leaf):
    """``cond`` (a scalar, or one flag per particle) shaped to broadcast over ``leaf``."""
    cond = jnp.asarray(cond)
    return cond.reshape(cond.shape + (1,) * (jnp.ndim(leaf) - cond.ndim))


def tree_where(cond, a, b):
    """``jnp.where(cond, a, b)`` leaf by leaf over an inner state (a number, or params and an
    optax state); ``cond`` is a scalar or one flag per particle (the leading axis)."""
    return jax.tree_util.tree_map(lambda x, y: jnp.where(_rows(cond, y), x, y), a, b)


def tree_finite(tree, batch: int = 0):
    """Whether every entry of an inner state is finite: a scalar, or (with ``batch``
    leading particles) one flag per particle."""
    flags = [jnp.all(jnp.isfinite(leaf).reshape(leaf.shape[:batch] + (-1,)), axis=-1)
             for leaf in jax.tree_util.tree_leaves(tree)]
    return jnp.all(jnp.stack(flags), axis=0)


def tree_f32(tree):
    """An inner state with its floating leaves in float32 (integer leaves, an optax step count, kept)."""
    return jax.tree_util.tree_map(
        lambda a: jnp.asarray(a, F32) if jnp.issubdtype(jnp.result_type(a), jnp.floating) else jnp.asarray(a), tree)


def tree_repeat(tree, n: int):
    """The inner state repeated for ``n`` particles (a new leading axis)."""
    return jax.tree_util.tree_map(lambda a: jnp.broadcast_to(a, (n,) + jnp.shape(a)), tree_f32(tree))


def outer_optimizer(name, lr, clip) -> optax.GradientTransformation:
    """The update rule applied to every gradient estimate."""
    base = optax.sgd(lr) if name == "sgd" else optax.adam(lr)
    return optax.chain(optax.zero_nans(), optax.clip(clip), base)


def to_np_nan(a) -> np.ndarray:
    a = np.asarray(a, dtype=np.float32)
    return np.where(np.isfinite(a), a, np.nan).astype(np.float32)
