"""What a truncation's meta-loss scores, for minibatch tasks (networks).

* ``meta_loss_on``: after each update, score the task on the minibatch it
  stepped on (``"same"``, the default: it rewards fitting that minibatch),
  on the next one (``"next"``) or on the whole training split (``"train"``);
  the last two are unbiased for the training loss. Quadratics have no
  minibatches: every choice scores the task itself.
* ``meta_weight_power`` p: step t of a T-step run weighs (p + 1)(t / T)^p
  (0: every step alike; larger p: the meta-loss leans on the last steps).

docs/learned_optimizer.md has what each did to the shipped digits optimizer.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp

META_LOSS_ON = ("same", "next", "train")


def check_objective(meta_loss_on: str, meta_weight_power: float) -> None:
    if meta_loss_on not in META_LOSS_ON:
        raise ValueError(f"meta_loss_on must be one of {META_LOSS_ON}, got {meta_loss_on!r}")
    if not (math.isfinite(meta_weight_power) and 0 <= meta_weight_power <= 20):
        raise ValueError(f"meta_weight_power must be in [0, 20] (0: every step alike), got {meta_weight_power}")


def scored_losses(tasks, theta: jax.Array, step, meta_loss_on: str) -> jax.Array:
    """Per-task losses (B,) of ``theta``, just updated with minibatch ``step``'s gradient."""
    if meta_loss_on == "train" and hasattr(tasks, "spec"):
        return tasks.final_losses(theta)
    return tasks.step_losses(theta, step + 1 if meta_loss_on == "next" else step)


def step_weights(power: float, step0, length: int, horizon: int) -> jax.Array:
    """Weights (length,) of the steps step0 + 1 ... step0 + length of a ``horizon``-step run."""
    t = (step0 + 1 + jnp.arange(length)) / horizon
    return (power + 1) * t**power
