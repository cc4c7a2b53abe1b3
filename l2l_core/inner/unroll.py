"""Inner training: SGD with momentum on a 1-D problem, as ``lax.scan``.

The update is the post's (heavy-ball momentum without dampening)::

    v <- momentum * v + f'(x)
    x <- x - lr * v
"""

from __future__ import annotations

import math
from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from l2l_core.checks import check_int
from l2l_core.expr import problem_from_formula
from l2l_core.tasks.problems import PROBLEMS, InnerProblem, canonical_name, get_problem

MAX_STEPS = 10_000


class Unroll(NamedTuple):
    """One inner run: ``xs`` has steps+1 entries (x0 first), ``losses`` steps."""

    xs: np.ndarray
    losses: np.ndarray


def resolve_problem(problem: str | InnerProblem) -> InnerProblem:
    """Accepts an :class:`InnerProblem`, a registry name, or a formula in x.

    Any string that is not a preset name is compiled by
    :func:`l2l_core.expr.problem_from_formula` (cached: the same text gives the
    same problem object, so jitted kernels are reused).

    Raises:
      ValueError: neither a preset nor a valid formula; the message says both.
    """
    if isinstance(problem, InnerProblem):
        return problem
    if not isinstance(problem, str):
        raise ValueError(
            f"inner problem must be a preset name, a formula in x or an InnerProblem, "
            f"got {type(problem).__name__}"
        )
    problem = canonical_name(problem)
    if problem in PROBLEMS:
        return get_problem(problem)
    try:
        return problem_from_formula(problem)
    except ValueError as e:
        shown = problem if len(problem) <= 60 else problem[:57] + "..."
        raise ValueError(
            f"{shown!r} is not a preset ({', '.join(PROBLEMS)}) and not a valid formula in x: {e}"
        ) from None


def check_steps(steps, *, integral_floats: bool = False) -> int:
    """Inner steps as an int from 1 to :data:`MAX_STEPS`; with ``integral_floats`` a float with an
    integer value (100.0) counts too (the learned optimizer's baselines take those)."""
    if integral_floats and isinstance(steps, (float, np.floating)) and float(steps).is_integer():
        steps = int(steps)
    return check_int("steps", steps, 1, MAX_STEPS)


def check_finite(name: str, value) -> float:
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    return value


def sgd_momentum_step(value_and_grad, x, v, lr, momentum):
    """One step of the post's SGD with momentum; returns (x, v, loss at old x)."""
    loss, g = value_and_grad(x)
    v = momentum * v + g
    return x - lr * v, v, loss


@partial(jax.jit, static_argnames=("value_and_grad", "steps"))
def _unroll(value_and_grad, x0, lr, momentum, steps):
    def body(carry, _):
        x, v = carry
        x_new, v, loss = sgd_momentum_step(value_and_grad, x, v, lr, momentum)
        return (x_new, v), (x_new, loss)

    x0 = jnp.asarray(x0, jnp.float32)
    _, (xs, losses) = jax.lax.scan(body, (x0, jnp.zeros_like(x0)), None, length=steps)
    return jnp.concatenate([x0[None], xs]), losses


def sgd_momentum_unroll(
    problem: str | InnerProblem = "log_sin",
    *,
    x0: float = -4.0,
    lr: float = 0.1,
    momentum: float = 0.9,
    steps: int = 50,
) -> Unroll:
    """Trains ``problem`` from ``x0`` by SGD with momentum for ``steps`` steps.

    Args:
      problem: registry name or InnerProblem.
      x0: initial inner parameter.
      lr: learning rate (any finite value; the post's range is 1e-3..1e2).
      momentum: momentum coefficient (finite).
      steps: number of inner steps, 1..MAX_STEPS.

    Returns:
      Unroll(xs, losses): ``xs[t]`` is x after t steps; ``losses[t]`` is the
      loss at ``xs[t]``. Non-finite values are kept as they came (data).
    """
    p = resolve_problem(problem)
    x0 = check_finite("x0", x0)
    lr = check_finite("learning rate", lr)
    momentum = check_finite("momentum", momentum)
    steps = check_steps(steps)
    xs, losses = _unroll(p.value_and_grad, x0, jnp.float32(lr), jnp.float32(momentum), steps)
    return Unroll(np.asarray(xs), np.asarray(losses))
