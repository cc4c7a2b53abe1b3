"""``es``: antithetic Evolution Strategies (the post's).

For each pair, ``eps ~ N(0, std^2 I)`` and
``g = eps (f(theta + eps) - f(theta - eps)) / (2 std^2)``; options ``pairs`` per
step and a geometrically annealed std (``std_final``). ES is an unbiased estimate
of the gradient of the *Gaussian-smoothed* loss, which is why it rolls over the
ripples that trap ``grad``.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from l2l_core.outer.base import F32, GRADIENT_DEFAULTS, OuterMethod


def es_grad(f, theta, key, std, pairs):
    """Antithetic ES estimate with ``pairs`` pairs; NaN pairs count as zero."""
    eps = jax.random.normal(key, (pairs, 2), F32) * std
    pos = jax.vmap(f)(theta + eps)
    neg = jax.vmap(f)(theta - eps)
    per_pair = eps * ((pos - neg) / (2.0 * std**2))[:, None]
    per_pair = jnp.where(jnp.isfinite(per_pair), per_pair, 0.0)
    return per_pair.mean(axis=0)


def init_state(ctx):
    return ()


def estimate(ctx, theta, state, key, t):
    ratio = ctx.std_final / ctx.std
    s = ctx.std * ratio ** (jnp.asarray(t, F32) / max(ctx.outer_steps - 1, 1))  # geometric annealing
    return es_grad(ctx.loss, theta, key, s, ctx.pairs), state, None


METHOD = OuterMethod(
    name="es",
    title="Evolution Strategies (antithetic)",
    description="Antithetic Gaussian perturbations; estimates the gradient of the smoothed loss.",
    defaults=dict(GRADIENT_DEFAULTS, std=0.1, pairs=1, std_final=None),
    stochastic=True,
    init_state=init_state,
    estimate=estimate,
)
