"""``tbptt``: truncated backpropagation through time.

The gradient of each truncation's mean inner loss with the inner state at its
start treated as a constant: cheap and low-variance, but biased towards short
horizons (it cannot see what a step does to later truncations). The inner
state ``x`` is the post's number or any task's parameters and optax state.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from l2l_core.outer.base import F32, GRADIENT_DEFAULTS, OuterMethod, tree_f32, tree_finite, tree_where


def init_state(ctx):
    zero = jnp.zeros((), F32)
    return tree_f32(ctx.x0), zero


def estimate(ctx, theta, state, key, t):
    del key
    x, v = state
    reset = (t % ctx.n_truncations) == 0
    x = tree_where(reset | ~tree_finite(x), tree_f32(ctx.x0), x)
    v = jnp.where(reset | ~jnp.isfinite(v), 0.0, v)
    g, (x, v) = jax.grad(lambda th: ctx.truncation(th, x, v), has_aux=True)(theta)
    return g, (x, v), None


METHOD = OuterMethod(
    name="tbptt",
    title="truncated backprop (TBPTT)",
    description="Gradient through the last truncation only: cheap but biased towards short horizons.",
    defaults=dict(GRADIENT_DEFAULTS, truncation_length=10),
    stochastic=False,
    init_state=init_state,
    estimate=estimate,
)
