"""``pes``: Persistent Evolution Strategies (Vicol, Metz and Sohl-Dickstein, 2021).

The unroll is cut into truncations of ``truncation_length`` inner steps; each
particle keeps its inner state and the sum ``xi`` of every perturbation it has
received since the episode began, and ``g = xi (L+ - L-) / (2 std^2)`` per
pair, where ``L`` is the mean inner loss over the truncation. Over an episode
it is unbiased for the gradient of the smoothed full-unroll loss; each outer
step costs only one truncation.

The inner state ``x`` is whatever ``ctx.truncation`` carries: the post's
number (with its velocity ``v``), or any task's parameters and optax state
(:mod:`l2l_core.outer.general`).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from l2l_core.outer.base import F32, GRADIENT_DEFAULTS, OuterMethod, tree_finite, tree_repeat, tree_where


def init_state(ctx):
    zeros = jnp.zeros((2 * ctx.pairs,), F32)
    return tree_repeat(ctx.x0, 2 * ctx.pairs), zeros, jnp.zeros((2 * ctx.pairs, 2), F32)


def estimate(ctx, theta, state, key, t):
    x, v, xi = state
    pairs, std = ctx.pairs, ctx.std
    reset = (t % ctx.n_truncations) == 0  # a new episode
    x0 = tree_repeat(ctx.x0, 2 * pairs)
    x = tree_where(reset, x0, x)
    v = jnp.where(reset, 0.0, v)
    xi = jnp.where(reset, 0.0, xi)
    eps = jax.random.normal(key, (pairs, 2), F32) * std
    eps2 = jnp.concatenate([eps, -eps])
    xi = xi + eps2
    losses, (x, v) = jax.vmap(ctx.truncation)(theta + eps2, x, v)
    diff = losses[:pairs] - losses[pairs:]
    per_pair = xi[:pairs] * (diff / (2.0 * std**2))[:, None]
    per_pair = jnp.where(jnp.isfinite(per_pair), per_pair, 0.0)
    # A diverged particle would poison its whole episode; restart it.
    bad = ~(tree_finite(x, batch=1) & jnp.isfinite(v))
    x, v = tree_where(bad, x0, x), jnp.where(bad, 0.0, v)
    return per_pair.mean(axis=0), (x, v, xi), None


METHOD = OuterMethod(
    name="pes",
    title="Persistent ES (truncated unrolls)",
    description="ES over truncations that keeps each particle's accumulated perturbation: unbiased.",
    defaults=dict(GRADIENT_DEFAULTS, std=0.1, pairs=1, truncation_length=10),
    stochastic=True,
    init_state=init_state,
    estimate=estimate,
)
