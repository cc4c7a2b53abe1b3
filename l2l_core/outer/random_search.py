"""``random``: (1+1) random search, a baseline that needs no gradient at all.

Propose ``best + N(0, std^2 I)`` and keep it if its outer loss is lower.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from l2l_core.outer.base import F32, OuterMethod


def run(ctx, theta0, key):
    f, std = ctx.loss, ctx.std

    def step(carry, t):
        best, best_loss = carry
        cand = best + std * jax.random.normal(jax.random.fold_in(key, t), (2,), F32)
        cand_loss = f(cand)
        better = jnp.isfinite(cand_loss) & ~(cand_loss >= best_loss)
        best, best_loss = jnp.where(better, cand, best), jnp.where(better, cand_loss, best_loss)
        return (best, best_loss), (best, best_loss)

    loss0 = f(theta0)
    loss0 = jnp.where(jnp.isfinite(loss0), loss0, jnp.inf)
    (theta, _), (traj, losses) = jax.lax.scan(step, (theta0, loss0), jnp.arange(ctx.outer_steps))
    # Report the incumbent *before* each step, like the other methods.
    traj = jnp.concatenate([theta0[None], traj[:-1]])
    losses = jnp.concatenate([loss0[None], losses[:-1]])
    return traj, theta, losses


METHOD = OuterMethod(
    name="random",
    title="random search (1+1)",
    description="Proposes best + N(0, std^2) and keeps it when lower; no gradients at all.",
    defaults=dict(std=0.1),
    stochastic=True,
    run=run,
)
