"""Meta-training the LSTM optimizer by truncated backpropagation through time.

One *meta-step* (as in the post): draw ``batch`` fresh quadratic tasks, run
the learned optimizer on them for ``truncations`` x ``truncation_length``
steps (5 x 20), and after every truncation update phi with Adam (1e-2) on the
gradient of that truncation's meta-loss (sum over its steps of the mean task
loss after each update); :mod:`~l2l_core.learned.meta_step` runs meta-steps in
chunks of ``chunk`` (one jitted ``lax.scan``, or on a multi-core CPU two
halves of the batch side by side), and Python is visited between chunks: there the progress
callback runs, a stop request is honoured, and phi is scored on fixed
validation tasks (loss after ``eval_steps`` steps) to keep the best phi.

For networks, which data scores a step and how steps are weighted is
``meta_loss_on`` / ``meta_weight_power`` (:mod:`~l2l_core.learned.objective`).

With ``finish_after`` > 0 the run has a second stage: from that meta-step
on, each meta-step is one truncation through the whole run, scored on the
training split (see :func:`~l2l_core.learned.config.chunk_structure`). Chunk k + 1 is dispatched before
chunk k's parameters are validated, so the validation runs beside it.

Reliability: the meta-gradient is clipped by global norm; a non-finite
meta-loss or meta-gradient freezes phi for the rest of the chunk and stops the
run with the reason, keeping the best (finite) parameters seen so far.
"""

from __future__ import annotations

import contextlib
import math
import time
from concurrent.futures import Future
from functools import partial
from typing import Callable, ContextManager

import jax
import jax.numpy as jnp
import numpy as np

from l2l_core.learned.baselines import optimizer_losses
from l2l_core.learned.compiled import mark_compiled
from l2l_core.learned.config import MetaTrainConfig, chunk_structure
from l2l_core.learned.lstm import LSTMConfig, init_meta_params, lstm_optimizer
from l2l_core.learned.meta_step import TrainState, meta_optimizer, run_chunk, run_chunk_split, split_ways
from l2l_core.learned.objective import meta_training_tasks, validation_losses
from l2l_core.learned.run_record import MetaTrainResult, Progress, RunRecord, Snapshot
from l2l_core.tasks.families import get_family


@partial(jax.jit, static_argnames=("lstm", "steps", "reduction"))
def lstm_losses(params, tasks, *, lstm: LSTMConfig, steps: int, reduction: str = "sum"):
    """Per-task losses (steps + 1, B) of the learned optimizer on ``tasks``."""
    return optimizer_losses(lstm_optimizer(params, lstm), tasks, steps, reduction)


def validation_tasks(cfg: MetaTrainConfig):
    """Fixed tasks for picking the best phi; drawn from a key that ``compare``
    seeds never produce (fold_in of the training seed)."""
    return get_family(cfg.task).sample(jax.random.fold_in(jax.random.PRNGKey(cfg.seed), 10**6 + 7),
                                       cfg.val_tasks, cfg.dim, cfg.dims)


def _validation_score(cfg: MetaTrainConfig) -> Callable:
    """p -> the mean validation loss as a device scalar: dispatched, not waited for
    (:func:`_finite` waits), so that it runs beside the next chunk."""
    val = meta_training_tasks(validation_tasks(cfg), cfg.meta_loss_on)  # held-out objectives: scored alike

    def score(p) -> jax.Array:
        losses = validation_losses(p, val, lstm=cfg.lstm, steps=cfg.eval_steps, reduction=cfg.reduction,
                                   meta_loss_on=cfg.meta_loss_on)
        if getattr(val, "dims", None) is not None:  # mixed dimensions: weigh each alike
            losses = losses * (10.0 / val.dims)
        return jnp.mean(losses)

    return score


def _finite(v) -> float:
    v = float(v)
    return v if math.isfinite(v) else math.inf


def _why_stop(cfg: MetaTrainConfig, done: int, t_start: float, should_stop, next_chunk: float) -> str | None:
    """``next_chunk``: what the last chunk took (validation included), to predict the next."""
    if should_stop is not None and should_stop():
        return f"stopped by request after {done} meta-steps"
    if cfg.max_seconds and time.perf_counter() - t_start + next_chunk > cfg.max_seconds:
        return f"time budget of {cfg.max_seconds:g} s reached after {done} meta-steps"
    return None


class _Chunk:
    """A dispatched chunk of meta-steps, inside the caller's job slot until waited for."""

    def __init__(self, slot: Callable[[], ContextManager] | None, n: int, compiles: bool, run: Callable):
        self.n, self.compiles, self.t0 = n, compiles, time.perf_counter()
        self._slot = slot() if slot is not None else contextlib.nullcontext()
        self._slot.__enter__()
        try:
            self._out = run()
        except BaseException:
            self._slot.__exit__(None, None, None)
            raise

    def wait(self):
        """(state, bad, mean losses, final losses, ok, seconds since dispatch), on the host;
        leaves the job slot (idempotent: a later call returns the same)."""
        if self._slot is not None:
            try:
                out = self._out.result() if isinstance(self._out, Future) else self._out
                new_state, bad, ml, fl, ok = out
                ml, fl, ok = np.asarray(ml)[: self.n], np.asarray(fl)[: self.n], np.asarray(ok)[: self.n]
                self._out = (jax.block_until_ready(new_state), bad, ml, fl, ok, time.perf_counter() - self.t0)
            finally:
                slot, self._slot = self._slot, None
                slot.__exit__(None, None, None)
        return self._out


def metatrain(cfg: MetaTrainConfig, *, init_params=None,
              callback: Callable[[Progress], None] | None = None,
              should_stop: Callable[[], bool] | None = None,
              resume: Snapshot | None = None,
              on_chunk: Callable[[Snapshot], None] | None = None,
              chunk_slot: Callable[[], ContextManager] | None = None) -> MetaTrainResult:
    """Meta-trains the LSTM optimizer; see the module docstring.

    Args:
      cfg: the run's settings (validated here).
      init_params: start from these meta-parameters instead of a fresh init.
      callback: called with a :class:`Progress` after every chunk.
      should_stop: polled between chunks; True stops the run, keeping the best phi.
      resume: continue from this snapshot (same settings): the chunks that follow
        are the ones the interrupted run would have made, so the result is the same.
      on_chunk: called with a :class:`Snapshot` after every chunk (to save it).
      chunk_slot: a context manager entered around every chunk (the server's job
        limit, so that a training shares the slots with every other heavy job).

    Returns:
      A :class:`MetaTrainResult`; ``params`` are the best by validation loss.
    """
    cfg.validate()
    t_start = time.perf_counter()
    k_init, k_train = jax.random.split(jax.random.PRNGKey(cfg.seed))
    params = init_meta_params(k_init, cfg.lstm) if init_params is None else init_params
    state = TrainState(params, meta_optimizer(cfg).init(params), k_train)
    score = _validation_score(cfg)
    rec = RunRecord(params, _finite(score(params)) if resume is None else math.inf, resume)
    if resume is not None:
        state = resume.state
    stopped, length, last_chunk = None, min(cfg.chunk, cfg.meta_steps), [0.0]

    def launch(state) -> _Chunk | None:
        nonlocal stopped
        stopped = _why_stop(cfg, rec.done, t_start, should_stop, last_chunk[0])
        if stopped or rec.done >= cfg.meta_steps:
            return None
        finishing = 0 < cfg.finish_after <= rec.done
        structure = chunk_structure(cfg, finishing)
        if finishing and rec.done == cfg.finish_after:  # the whole-run stage: the best phi, a fresh Adam
            state = TrainState(rec.best_params, meta_optimizer(structure).init(rec.best_params), state.key)
        n = min(length, (cfg.meta_steps if finishing or not cfg.finish_after else cfg.finish_after) - rec.done)
        compiles = rec.done == rec.first_done or (finishing and rec.done == cfg.finish_after)
        run = run_chunk_split if split_ways(structure) == 2 else run_chunk
        chunk = _Chunk(chunk_slot, n, compiles, lambda: run(state, n, cfg=structure, length=length))
        chunk.structure = structure
        return chunk

    # Pipelined: chunk k + 1 is dispatched before chunk k's parameters are validated, so
    # that the validation runs beside it; the results are those of one chunk after another.
    chunk = launch(state)
    try:
        while chunk is not None:
            new_state, bad, ml, fl, ok, seconds = chunk.wait()
            first = rec.done == rec.first_done
            rec.chunk_time(seconds, chunk.n, length, chunk.compiles)
            if chunk.compiles:  # what the page's time estimate asks (learned/estimates.py)
                mark_compiled(chunk.structure)
            if not first:  # the next one's estimate (after the next stage's compiling one: on the safe side)
                last_chunk[0] = seconds
            state = new_state
            if bool(bad):
                first_bad = int(np.argmin(ok))
                rec.add(ml[:first_bad], fl[:first_bad])
                stopped = (f"meta-loss or meta-gradient became non-finite at meta-step {rec.done + 1}; "
                           f"kept the best parameters from before it (meta-step {rec.best_step})")
                break
            rec.add(ml, fl)
            t_val = time.perf_counter()
            val = score(state.params)
            # the next stage starts from the best phi, which needs this validation first
            chunk = None if 0 < cfg.finish_after == rec.done else launch(state)
            rec.validated(state.params, _finite(val), 0.0 if chunk is not None else time.perf_counter() - t_val)
            if callback is not None:
                callback(rec.progress(cfg.meta_steps, time.perf_counter() - t_start))
            if on_chunk is not None:
                on_chunk(Snapshot(rec.done, state, rec.best_params, rec.best_val, rec.best_step, rec.curve()))
            if chunk is None and 0 < cfg.finish_after == rec.done:
                chunk = launch(state)
            elif chunk is not None and should_stop is not None and should_stop():  # asked for during this chunk
                chunk.wait()  # inside its job slot; then dropped
                chunk, stopped = None, f"stopped by request after {rec.done} meta-steps"
    finally:  # an error in a callback: the chunk in flight still leaves its job slot
        if chunk is not None:
            chunk.wait()
    return MetaTrainResult(cfg, rec.best_params, state.params, rec.curve(), rec.best_step, rec.best_val,
                           rec.done, stopped, time.perf_counter() - t_start, rec.compile_seconds,
                           rec.seconds_per_step())
