"""What a truncation's meta-loss scores, for minibatch tasks (networks).

* ``meta_loss_on``: after each update, score the task on the minibatch it
  stepped on (``"same"``, the default: it rewards fitting that minibatch),
  on the next one (``"next"``) or on the whole training split (``"train"``);
  the last two are unbiased for the training loss. ``"heldout"`` sets aside
  a quarter of the training split (:data:`HELDOUT_FRACTION`) that the
  meta-training minibatches never draw from and scores each step on it;
  ``"train+heldout"`` scores the geometric mean of the loss on the rest of
  the training split and on that slice (in logs: the mean of the two), so
  that a rule is rewarded for fitting the data and for what the fit predicts
  on data it has not seen; ``"train+heldout_error"`` puts a smooth error
  rate in place of the held-out loss (:func:`smooth_error`: the softmax
  probability of the wrong classes, logits sharpened by
  :data:`ERROR_SHARPNESS`), which, unlike the cross-entropy, does not punish
  confident predictions for being confident. The held-out test split is never
  used. Quadratics have no minibatches: every choice scores the task itself.
* ``meta_weight_power`` p: step t of a T-step run weighs (p + 1)(t / T)^p
  (0: every step alike; larger p: the meta-loss leans on the last steps).

docs/learned_optimizer.md has what each did to the shipped digits optimizer.
"""

from __future__ import annotations

import math
from functools import partial

import jax
import jax.numpy as jnp

from l2l_core.learned.baselines import run_optimizer
from l2l_core.learned.lstm import LSTMConfig, lstm_optimizer

META_LOSS_ON = ("same", "next", "train", "heldout", "train+heldout", "train+heldout_error")
HELDOUT_FRACTION = 0.25  # of the training split, set aside by the held-out objectives
ERROR_SHARPNESS = 3.0  # smooth_error's logit scale: near the 0-1 error, with a gradient near the boundary


def check_objective(meta_loss_on: str, meta_weight_power: float) -> None:
    if meta_loss_on not in META_LOSS_ON:
        raise ValueError(f"meta_loss_on must be one of {META_LOSS_ON}, got {meta_loss_on!r}")
    if not (math.isfinite(meta_weight_power) and 0 <= meta_weight_power <= 20):
        raise ValueError(f"meta_weight_power must be in [0, 20] (0: every step alike), got {meta_weight_power}")


def uses_heldout(meta_loss_on: str, tasks) -> bool:
    return "heldout" in meta_loss_on and hasattr(tasks, "spec")


def smooth_error(tasks, theta: jax.Array) -> jax.Array:
    """Per-task (B,) mean over the held-out examples of 1 - softmax(s z)_y (s:
    :data:`ERROR_SHARPNESS`), computed in logs so that it never rounds to 0, plus 1e-6."""

    def one(t):
        z = ERROR_SHARPNESS * tasks.spec.logits(t, tasks.x_test)
        others = jnp.where(jax.nn.one_hot(tasks.y_test, z.shape[-1]) > 0, -jnp.inf, z)
        return jnp.mean(jnp.exp(jax.nn.logsumexp(others, -1) - jax.nn.logsumexp(z, -1))) + 1e-6

    return jax.vmap(one)(theta)


def meta_training_tasks(tasks, meta_loss_on: str):
    """The tasks a meta-step trains on. For the held-out objectives, the last
    :data:`HELDOUT_FRACTION` of the training split (its rows are in a random
    order) moves out of reach of the minibatches into ``x_test``/``y_test``,
    which :func:`scored_losses` then scores; otherwise ``tasks`` unchanged."""
    if not uses_heldout(meta_loss_on, tasks):
        return tasks
    n = tasks.x.shape[0]
    keep = n - max(1, round(HELDOUT_FRACTION * n))
    return tasks.replace(x=tasks.x[:keep], y=tasks.y[:keep], x_test=tasks.x[keep:], y_test=tasks.y[keep:])


def scored_losses(tasks, theta: jax.Array, step, meta_loss_on: str) -> jax.Array:
    """Per-task losses (B,) of ``theta``, just updated with minibatch ``step``'s gradient
    (for the held-out objectives, ``tasks`` come from :func:`meta_training_tasks`)."""
    if uses_heldout(meta_loss_on, tasks):
        heldout = smooth_error(tasks, theta) if meta_loss_on.endswith("_error") else tasks.metrics(theta)["test_loss"]
        return heldout if meta_loss_on == "heldout" else jnp.sqrt(tasks.final_losses(theta) * heldout)
    if meta_loss_on == "train" and hasattr(tasks, "spec"):
        return tasks.final_losses(theta)
    return tasks.step_losses(theta, step + 1 if meta_loss_on == "next" else step)


@partial(jax.jit, static_argnames=("lstm", "steps", "reduction", "meta_loss_on"))
def validation_losses(params, tasks, *, lstm: LSTMConfig, steps: int, reduction: str, meta_loss_on: str):
    """Per-task validation scores (B,) of the learned optimizer after ``steps`` steps: the
    objective's own score for the held-out objectives (``tasks`` from :func:`meta_training_tasks`),
    else the loss at the end (a network's: on its whole training split)."""
    losses, theta = run_optimizer(lstm_optimizer(params, lstm), tasks, steps, reduction)
    return scored_losses(tasks, theta, steps, meta_loss_on) if uses_heldout(meta_loss_on, tasks) else losses[-1]


def step_weights(power: float, step0, length: int, horizon: int) -> jax.Array:
    """Weights (length,) of the steps step0 + 1 ... step0 + length of a ``horizon``-step run."""
    t = (step0 + 1 + jnp.arange(length)) / horizon
    return (power + 1) * t**power
