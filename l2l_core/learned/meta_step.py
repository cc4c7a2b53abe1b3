"""One meta-step of the LSTM optimizer, and chunks of them (what :mod:`metatrain` runs).

A meta-step draws ``batch`` tasks, runs the learned optimizer on them for
``truncations`` x ``truncation_length`` steps, and after every truncation
updates phi with Adam on the gradient of that truncation's meta-loss.

Two ways to run a chunk of meta-steps, with the same results:

* :func:`run_chunk`: the whole chunk is one jitted ``lax.scan`` (one host
  sync per chunk). On an accelerator, and on one CPU core, this is it.
* :func:`run_chunk_split`: each truncation's batch is split in two halves
  whose meta-gradients are computed at once on two threads, then averaged
  (the meta-loss is a mean over tasks, so that is the whole batch's
  gradient) for one meta-update. XLA's CPU kernels keep one core busy but
  barely two at these sizes (a meta-step: 0.134 s on one core, 0.117 s on
  two); two halves side by side use both (a truncation: 0.0137 s against
  0.0181 s). :func:`split_ways` picks it on a CPU with two cores or more.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from functools import partial
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from l2l_core.learned.config import MetaTrainConfig
from l2l_core.learned.lstm import make_module, zero_carry
from l2l_core.learned.objective import meta_training_tasks, scored_losses, step_weights
from l2l_core.runtime import sharding
from l2l_core.tasks.families import get_family

INNER_UNROLL = 1  # XLA CPU loop overhead vs compile time; see bench/bench_metatrain.py


class TrainState(NamedTuple):
    params: Any
    opt_state: Any
    key: jax.Array


def _meta_lr(cfg: MetaTrainConfig):
    if not cfg.meta_lr_final:
        return cfg.meta_lr
    return optax.cosine_decay_schedule(cfg.meta_lr, cfg.meta_steps * cfg.truncations, cfg.meta_lr_final / cfg.meta_lr)


def meta_optimizer(cfg: MetaTrainConfig) -> optax.GradientTransformation:
    # The NaN guard: a non-finite meta-gradient updates nothing (optax.apply_if_finite
    # keeps parameters and Adam's moments) and is reported in ``last_finite``; the
    # meta-step then stops the run (see _meta_step), keeping the best parameters.
    return optax.apply_if_finite(
        optax.chain(optax.clip_by_global_norm(cfg.clip_norm), optax.adam(_meta_lr(cfg))),
        max_consecutive_errors=2**30,
    )


def _draw_tasks(key, cfg: MetaTrainConfig):
    """(next key, the meta-step's ``batch`` tasks), as the meta-step draws them."""
    key, sub = jax.random.split(key)
    return key, meta_training_tasks(get_family(cfg.task).sample(sub, cfg.batch, cfg.dim, cfg.dims), cfg.meta_loss_on)


def truncation_loss(params, theta, carry, tasks, step0, *, cfg: MetaTrainConfig):
    """Meta-loss of one truncation: sum over its steps of the mean over tasks of
    ``tasks.meta_transform`` of each task's loss after the update (an MLP's: the log
    of its loss on the data ``cfg.meta_loss_on`` names), each step weighted by
    ``cfg.meta_weight_power``; the plain losses come back for the curve."""
    module = make_module(cfg.lstm)

    def step(c, i):
        theta, carry = c
        _, grads = tasks.losses_and_grads(theta, step0 + i, cfg.reduction)
        upd, carry = module.apply(params, grads.reshape(-1), carry)
        theta = theta + upd.reshape(theta.shape)
        return (theta, carry), scored_losses(tasks, theta, step0 + i, cfg.meta_loss_on)

    # Rematerializing each step (keeping only matmul outputs) is ~3x faster than
    # letting scan stack every residual: XLA CPU handles those stacks poorly.
    step = jax.checkpoint(step, policy=jax.checkpoint_policies.dots_saveable)
    (theta, carry), losses = jax.lax.scan(step, (theta, carry), jnp.arange(cfg.truncation_length),
                                          unroll=INNER_UNROLL)
    per_step = jnp.mean(tasks.meta_transform(losses), axis=1)
    if cfg.meta_weight_power:
        per_step = per_step * step_weights(cfg.meta_weight_power, step0, cfg.truncation_length,
                                           cfg.truncations * cfg.truncation_length)
    return jnp.sum(per_step), (theta, carry, losses)


def _apply_meta_gradient(meta_opt, params, opt_state, ok, loss, g):
    """One meta-update; a non-finite loss or gradient (or an earlier one: ``ok`` False)
    keeps the parameters and the meta-optimizer's state as they were."""
    updates, new_opt_state = meta_opt.update(g, opt_state, params)
    ok = ok & new_opt_state.last_finite & jnp.isfinite(loss)
    new_params = optax.apply_updates(params, updates)
    keep = lambda new, old: jax.tree.map(lambda a, b: jnp.where(ok, a, b), new, old)  # noqa: E731
    return keep(new_params, params), keep(new_opt_state, opt_state), ok


def _meta_step(state: TrainState, frozen, cfg: MetaTrainConfig):
    """One meta-step; returns the new state, (mean loss over steps and tasks,
    mean final loss, all finite)."""
    meta_opt = meta_optimizer(cfg)
    key, t = _draw_tasks(state.key, cfg)
    grad_fn = jax.value_and_grad(partial(truncation_loss, cfg=cfg), has_aux=True)

    def truncation(c, k):
        params, opt_state, theta, carry, ok = c
        (loss, (theta, carry, losses)), g = grad_fn(params, theta, carry, t, k * cfg.truncation_length)
        params, opt_state, ok = _apply_meta_gradient(meta_opt, params, opt_state, ok, loss, g)
        return (params, opt_state, theta, carry, ok), losses

    carry = zero_carry(t.theta0.size, cfg.lstm.hidden, cfg.lstm.base)
    init = (state.params, state.opt_state, t.theta0, carry, ~frozen)
    (params, opt_state, _, _, ok), losses = jax.lax.scan(truncation, init, jnp.arange(cfg.truncations))
    losses = losses.reshape(-1, cfg.batch)  # (truncations * length, batch)
    summary = (jnp.mean(losses), jnp.mean(losses[-1]), ok)
    return TrainState(params, opt_state, key), summary


@partial(jax.jit, static_argnames=("cfg", "length"))
def run_chunk(state: TrainState, n_active, *, cfg: MetaTrainConfig, length: int):
    """``length`` meta-steps in one scan; those with index >= n_active are
    skipped, as is everything after a non-finite meta-step."""

    def body(c, i):
        state, bad = c

        def do(state):
            state, (mean_loss, final_loss, ok) = _meta_step(state, bad, cfg)
            return state, mean_loss, final_loss, ok

        def skip(state):
            nan = jnp.float32(jnp.nan)
            return state, nan, nan, jnp.bool_(True)

        state, mean_loss, final_loss, ok = jax.lax.cond((i < n_active) & ~bad, do, skip, state)
        return (state, bad | ~ok), (mean_loss, final_loss, ok)

    (state, bad), (mean_loss, final_loss, ok) = jax.lax.scan(body, (state, jnp.bool_(False)), jnp.arange(length))
    return state, bad, mean_loss, final_loss, ok


# -- the split path ------------------------------------------------------------------------

_pools: dict[str, ThreadPoolExecutor] = {}
_pools_lock = threading.Lock()


def _pool(name: str) -> ThreadPoolExecutor:
    # two pools: a chunk's driver waits on its halves, which never wait on a driver
    with _pools_lock:
        if name not in _pools:
            _pools[name] = ThreadPoolExecutor(8, thread_name_prefix=f"l2l-meta-{name}")
        return _pools[name]


def split_ways(cfg: MetaTrainConfig) -> int:
    """2 where :func:`run_chunk_split` applies (a CPU with two usable cores or more, an
    even batch, per-task gradients), else 1; ``L2L_META_SPLIT=1`` forces 1."""
    if os.environ.get("L2L_META_SPLIT", "") == "1" or jax.default_backend() != "cpu":
        return 1
    cores = sharding.workers()  # usable cores (1 across several processes)
    return 2 if cores >= 2 and cfg.batch >= 2 and cfg.batch % 2 == 0 and cfg.reduction == "sum" else 1


@partial(jax.jit, static_argnames=("cfg",))
def _draw_halves(key, *, cfg: MetaTrainConfig):
    """The meta-step's tasks (those :func:`_meta_step` draws), as two halves."""
    key, t = _draw_tasks(key, cfg)
    h = cfg.batch // 2
    return key, (t.take(0, h), t.take(h, cfg.batch))


@partial(jax.jit, static_argnames=("cfg",))
def _half_truncation(params, theta, carry, tasks, step0, *, cfg: MetaTrainConfig):
    (loss, (theta, carry, losses)), g = jax.value_and_grad(partial(truncation_loss, cfg=cfg), has_aux=True)(
        params, theta, carry, tasks, step0)
    return loss, g, theta, carry, losses


@partial(jax.jit, static_argnames=("cfg",))
def _halves_update(params, opt_state, ok, losses, grads, *, cfg: MetaTrainConfig):
    loss = (losses[0] + losses[1]) / 2  # each half's meta-loss is a mean over its tasks
    g = jax.tree.map(lambda a, b: (a + b) / 2, *grads)
    return _apply_meta_gradient(meta_optimizer(cfg), params, opt_state, ok, loss, g)


def _meta_step_split(state: TrainState, cfg: MetaTrainConfig):
    """:func:`_meta_step` with each truncation's two halves on two threads."""
    key, halves = _draw_halves(state.key, cfg=cfg)
    params, opt_state, ok = state.params, state.opt_state, jnp.bool_(True)
    theta = [h.theta0 for h in halves]
    carry = [zero_carry(h.theta0.size, cfg.lstm.hidden, cfg.lstm.base) for h in halves]
    losses = ([], [])
    for k in range(cfg.truncations):
        step0 = jnp.int32(k * cfg.truncation_length)

        def half(i, params=params, step0=step0):
            return jax.block_until_ready(_half_truncation(params, theta[i], carry[i], halves[i], step0, cfg=cfg))

        other = _pool("half").submit(half, 1)
        out = (half(0), other.result())
        params, opt_state, ok = _halves_update(params, opt_state, ok, (out[0][0], out[1][0]),
                                               (out[0][1], out[1][1]), cfg=cfg)
        for i in range(2):
            theta[i], carry[i] = out[i][2], out[i][3]
            losses[i].append(np.asarray(out[i][4]))
    all_losses = np.concatenate([np.concatenate(losses[0]), np.concatenate(losses[1])], axis=1)  # (steps, batch)
    return TrainState(params, opt_state, key), (all_losses.mean(), all_losses[-1].mean(), bool(ok))


def run_chunk_split(state: TrainState, n_active, *, cfg: MetaTrainConfig, length: int) -> Future:
    """:func:`run_chunk`'s results (as numpy), computed by :func:`_meta_step_split` on a
    driver thread; returns at once with a Future, as a jitted chunk is dispatched."""

    def drive():
        s, bad = state, False
        ml, fl, ok = np.full(length, np.nan, np.float32), np.full(length, np.nan, np.float32), np.ones(length, bool)
        for i in range(min(int(n_active), length)):
            s, (ml[i], fl[i], ok[i]) = _meta_step_split(s, cfg)
            if not ok[i]:  # as the scan does: the rest of the chunk is skipped, phi kept
                bad = True
                break
        return s, np.bool_(bad), ml, fl, ok

    return _pool("driver").submit(drive)
