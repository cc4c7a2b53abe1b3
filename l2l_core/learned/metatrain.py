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
training split (see :func:`_structure`). Chunk k + 1 is dispatched before
chunk k's parameters are validated, so the validation runs beside it.

Reliability: the meta-gradient is clipped by global norm; a non-finite
meta-loss or meta-gradient freezes phi for the rest of the chunk and stops the
run with the reason, keeping the best (finite) parameters seen so far.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import time
from concurrent.futures import Future
from functools import partial
from typing import Callable, ContextManager

import jax
import jax.numpy as jnp
import numpy as np

from l2l_core.learned import tasks as tasks_mod
from l2l_core.learned.baselines import optimizer_losses
from l2l_core.learned.compiled import mark_compiled
from l2l_core.learned.families import get_family
from l2l_core.learned.lstm import LSTMConfig, init_meta_params, lstm_optimizer
from l2l_core.learned.meta_step import (  # noqa: F401 (re-exported)
    INNER_UNROLL,
    TrainState,
    _meta_optimizer,
    _meta_step,
    _run_chunk,
    _run_chunk_split,
    _truncation_loss,
    split_ways,
)
from l2l_core.learned.objective import check_objective, meta_training_tasks, validation_losses
from l2l_core.learned.run_record import MetaTrainResult, Progress, RunRecord, Snapshot, _curve  # noqa: F401 (re-exported)

MAX_META_STEPS = 100_000
#: the count settings' ranges, checked by ``validate`` and by the command line's flags alike
COUNT_LIMITS = {"meta_steps": (1, MAX_META_STEPS), "truncations": (1, 100), "truncation_length": (1, 1000),
                "chunk": (1, 10_000), "val_tasks": (1, tasks_mod.MAX_BATCH), "eval_steps": (1, 10_000),
                "seed": (0, 2**31 - 1)}
DIGITS_SHORT_STEPS = 100
DIGITS_FULL_STEPS = 1000


@dataclasses.dataclass(frozen=True)
class MetaTrainConfig:
    """Everything that defines a meta-training run (the post's defaults)."""

    meta_steps: int = 1000
    batch: int = 128
    dim: int = 10
    truncations: int = 5
    truncation_length: int = 20
    meta_lr: float = 1e-2
    clip_norm: float = 100.0
    reduction: str = "sum"
    seed: int = 0
    chunk: int = 10
    val_tasks: int = 256
    eval_steps: int = 100
    lstm: LSTMConfig = LSTMConfig()
    task: str = "quadratic"  # a name in families.TASK_FAMILIES
    dims: tuple[int, ...] = ()  # quadratics only: train on these dimensions mixed (dim: compare's default)
    meta_lr_final: float = 0.0  # > 0: cosine decay of the meta learning rate to this over the run
    max_seconds: float = 0.0  # > 0: stop (keeping the best phi) before a chunk that would end after this wall time
    meta_loss_on: str = "same"  # networks: which data scores a step (see objective.py)
    meta_weight_power: float = 0.0  # step t of T weighs (p + 1) (t / T)^p in the meta-loss (0: all alike)
    finish_after: int = 0  # > 0: after this many meta-steps, whole-run meta-steps (see _structure)
    finish_meta_lr: float = 1e-3  # their (constant) meta learning rate

    def validate(self) -> "MetaTrainConfig":
        def integer(name, lo, hi):
            v = getattr(self, name)
            if isinstance(v, bool) or int(v) != v or not lo <= v <= hi:
                raise ValueError(f"{name} must be an integer between {lo} and {hi}, got {v}")

        for name, (lo, hi) in COUNT_LIMITS.items():
            integer(name, lo, hi)
        tasks_mod.check_task_shape(self.batch, self.dim)
        tasks_mod.check_reduction(self.reduction)
        if not (math.isfinite(self.meta_lr) and 0 < self.meta_lr <= 1):
            raise ValueError(f"meta_lr must be in (0, 1], got {self.meta_lr}")
        if not (math.isfinite(self.meta_lr_final) and 0 <= self.meta_lr_final <= self.meta_lr):
            raise ValueError(f"meta_lr_final must be in [0, meta_lr] (0: constant), got {self.meta_lr_final}")
        if not (math.isfinite(self.max_seconds) and self.max_seconds >= 0):
            raise ValueError(f"max_seconds must be a number >= 0 (0: no limit), got {self.max_seconds}")
        check_objective(self.meta_loss_on, self.meta_weight_power)
        integer("finish_after", 0, self.meta_steps)
        if not (math.isfinite(self.finish_meta_lr) and 0 < self.finish_meta_lr <= 1):
            raise ValueError(f"finish_meta_lr must be in (0, 1], got {self.finish_meta_lr}")
        if not (math.isfinite(self.clip_norm) and self.clip_norm > 0):
            raise ValueError(f"clip_norm must be a positive number, got {self.clip_norm}")
        self.lstm.validate()
        family = get_family(self.task)
        if self.dims and (not family.is_quadratic or not all(
                isinstance(d, int) and 1 <= d <= tasks_mod.MAX_DIM for d in self.dims)):
            raise ValueError(f"dims must be quadratic dimensions between 1 and {tasks_mod.MAX_DIM}, got {self.dims}")
        return self

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "MetaTrainConfig":
        d = dict(d)
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(d) - known
        if unknown:
            raise ValueError(f"unknown meta-training settings: {sorted(unknown)}")
        lstm = LSTMConfig(**d.pop("lstm", {}))
        d["dims"] = tuple(d.get("dims", ()))  # JSON gives a list; the config must stay hashable
        return cls(lstm=lstm, **d)


PRESETS: dict[str, dict] = {
    "full": dict(meta_steps=1000),  # the post's schedule
    "short": dict(meta_steps=150),  # ~90 s on a 2-core CPU (~22 s compiling); already beats tuned Adam
    "tiny": dict(meta_steps=6, batch=8, val_tasks=16, chunk=2, eval_steps=20),  # tests
}
# Presets of the other trainable families (same names); see docs/learned_optimizer.md.
TASK_PRESETS: dict[str, dict[str, dict]] = {
    "quadratic": PRESETS,
    "digits_mlp": {
        # 4 networks (6040 coordinates) per meta-step; a wall-clock cap keeps the presets'
        # promise (full <= 10 min, short <= 90 s, compilation included) on a busy machine.
        # Both train the LSTM with a NAG base path, as the shipped digits optimizer has: from
        # scratch it beats tuned Adam after 15 meta-steps; the LSTM alone needed 25 or more
        # (docs/learned_optimizer.md, "A base path").
        "full": dict(task="digits_mlp", meta_steps=DIGITS_FULL_STEPS, batch=4, val_tasks=16, meta_lr=5e-3,
                     max_seconds=570.0, lstm=LSTMConfig(base="nag")),
        # short: 10 meta-steps of ten 10-step truncations (ten meta-updates each: a fast start),
        # then whole-run meta-steps from the best phi (docs/learned_optimizer.md, "short preset")
        "short": dict(task="digits_mlp", meta_steps=DIGITS_SHORT_STEPS, batch=4, val_tasks=16, meta_lr=1e-2,
                      truncations=10, truncation_length=10, finish_after=10, finish_meta_lr=1e-3, chunk=5,
                      max_seconds=82.0, lstm=LSTMConfig(base="nag")),
        "tiny": dict(task="digits_mlp", meta_steps=4, batch=2, val_tasks=4, chunk=2, eval_steps=10,
                     truncation_length=5, truncations=2),
    },
}


def preset_config(name: str, task: str = "quadratic", **overrides) -> MetaTrainConfig:
    presets = TASK_PRESETS.get(get_family(task).name)
    if presets is None:
        raise ValueError(f"task {task!r} has no meta-training presets; choose from {sorted(TASK_PRESETS)}")
    if name not in presets:
        raise ValueError(f"unknown preset {name!r}; choose from {sorted(presets)}")
    return MetaTrainConfig(**{**presets[name], **overrides}).validate()


def preset_lstm(task: str, preset: str, **given) -> LSTMConfig | None:
    """A run's LSTM settings: those given (None: not given) over the preset's own (the digits
    presets have a base path); a base path given without a rate starts at its family's.
    None when nothing is given (the preset's, or a fine-tuned checkpoint's, then apply)."""
    given = {k: v for k, v in given.items() if v is not None}
    if not given:
        return None
    if given.get("base", "none") != "none" and "base_lr" not in given:
        given["base_lr"] = get_family(task).base_lr
    own = TASK_PRESETS.get(task, {}).get(preset, {}).get("lstm", LSTMConfig())
    return dataclasses.replace(own, **given).validate()


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


def _structure(cfg: MetaTrainConfig, finishing: bool = False) -> MetaTrainConfig:
    """The static part of a chunk: runs that differ only in length, seed, validation
    or time budget share one compilation (a decaying meta learning rate makes the
    length part of it). ``finishing``: the stage after ``cfg.finish_after`` meta-steps,
    the shipped digits optimizer's fine-tuning (docs/learned_optimizer.md) inside the
    run: each meta-step is one truncation through the whole run, scored on the
    training split with later steps weighted more (p = 1), at ``cfg.finish_meta_lr``."""
    s = dataclasses.replace(cfg, meta_steps=cfg.meta_steps if cfg.meta_lr_final else 1, seed=0, chunk=1,
                            val_tasks=1, eval_steps=1, max_seconds=0.0, finish_after=0, finish_meta_lr=1e-3)
    if not finishing:
        return s
    return dataclasses.replace(s, truncations=1, truncation_length=cfg.truncations * cfg.truncation_length,
                               meta_loss_on="train", meta_weight_power=1.0, meta_lr=cfg.finish_meta_lr,
                               meta_lr_final=0.0, meta_steps=1)


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
    state = TrainState(params, _meta_optimizer(cfg).init(params), k_train)
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
        structure = _structure(cfg, finishing)
        if finishing and rec.done == cfg.finish_after:  # the whole-run stage: the best phi, a fresh Adam
            state = TrainState(rec.best_params, _meta_optimizer(structure).init(rec.best_params), state.key)
        n = min(length, (cfg.meta_steps if finishing or not cfg.finish_after else cfg.finish_after) - rec.done)
        compiles = rec.done == rec.first_done or (finishing and rec.done == cfg.finish_after)
        run = _run_chunk_split if split_ways(structure) == 2 else _run_chunk
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
