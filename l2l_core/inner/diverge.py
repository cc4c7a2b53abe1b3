"""Why runs of SGD with momentum on a 1-D loss diverge: the cause a page names
when a run, or every run of a sweep or a landscape, becomes non-finite."""

from __future__ import annotations

import math

import jax.numpy as jnp
import numpy as np

from l2l_core.inner.unroll import resolve_problem


def start_is_finite(problem, x0: float) -> bool:
    """Whether f and its slope are finite float32 numbers at ``x0`` (a run can start there)."""
    if not math.isfinite(float(x0)) or abs(float(x0)) > float(np.finfo(np.float32).max):
        return False
    value, grad = resolve_problem(problem).value_and_grad(jnp.float32(x0))
    return bool(np.isfinite(float(value)) and np.isfinite(float(grad)))


def divergence_cause(problem, x0: float, lr: float | None = None, momentum: float | None = None) -> str:
    """The most likely cause, in words, of a diverged run from ``x0`` (lr or momentum None: an axis
    of the picture, not one value).

    In order: a start where the loss or its slope is not finite (every run diverges, whatever
    the learning rate or momentum), a momentum of magnitude at least 1 (the velocity grows without
    bound), else the learning rate.
    """
    if not start_is_finite(problem, x0):
        return (f"at the start x0 = {float(x0):g} the loss or its slope is not a finite float32 number, so every "
                "run diverges whatever the learning rate or momentum; start nearer the minimum (the post: x0 = -4)")
    if momentum is not None and abs(float(momentum)) >= 1:
        return (f"momentum {float(momentum):g} has magnitude 1 or more, so the velocity v = momentum·v + f'(x) "
                "grows without bound; use a momentum between 0 and 1")
    if lr is not None:
        return f"the learning rate {float(lr):g} is too large for this loss from x0 = {float(x0):g}; lower it"
    return "the learning rate is too large for this loss; lower it"
