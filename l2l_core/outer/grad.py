"""``grad``: the exact gradient through the whole unroll (``jax.value_and_grad``).

The post's method: clipped to +-10, plain SGD with outer learning rate 0.01.
On the chaotic landscape it follows every ripple and gets stuck.
"""

from __future__ import annotations

import jax

from l2l_core.outer.base import GRADIENT_DEFAULTS, OuterMethod


def init_state(ctx):
    return ()


def estimate(ctx, theta, state, key, t):
    del key, t
    loss, g = jax.value_and_grad(ctx.loss)(theta)
    return g, state, loss


METHOD = OuterMethod(
    name="grad",
    title="gradient descent (through the unroll)",
    description="jax.grad through all inner steps, clipped to +-clip; gets stuck in the ripples.",
    defaults=dict(GRADIENT_DEFAULTS),
    stochastic=False,
    init_state=init_state,
    estimate=estimate,
)
