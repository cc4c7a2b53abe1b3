"""The outer loss of SGD with momentum, and its 1-D sweep and 2-D landscape.

The outer (meta-) loss of hyperparameters (lr, momentum) is a summary of the
inner losses over an unroll of ``inner_steps`` steps from ``x0``: their mean (the
post's choice), the final loss, or the minimum. Hyperparameters are traced
values, so a whole grid is one jitted, double-vmapped computation; only the
problem, the step count, the summary and the chunk shape are static.

Grids are evaluated in fixed-shape chunks, so memory stays bounded at any
resolution and a new resolution never recompiles.
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from l2l_core.checks import check_dtype, check_int
from l2l_core.inner.hyperparams import lr_momentum
from l2l_core.inner.unroll import check_finite, check_steps, resolve_problem, sgd_momentum_step
from l2l_core.landscape.summaries import POST_SUMMARIES, SUMMARIES, check_summary, older_names
from l2l_core.runtime import sharding
from l2l_core.runtime.jobs import CancelToken
from l2l_core.tasks.problems import InnerProblem

#: The summaries this kernel computes (keys of summaries.SUMMARIES) and what they mean;
#: the name predates the summaries registry and is kept for callers that use it.
REDUCTIONS = {k: SUMMARIES[k].description for k in POST_SUMMARIES}

#: Largest |log10 lr| or |log10(1 - momentum)| accepted (10**30 is far past divergence).
MAX_LOG10 = 30.0
#: Most cells one grid or sweep may have (4096 x 4096): 64 MiB of float32 output.
MAX_CELLS = 4096 * 4096
#: Chunk shape (rows, columns) per device of the double vmap; cells fill it in
#: order. Grids of at most one row's worth of cells per device use 1 row.
CHUNK_SHAPE = (16, 4096)


def running_min(acc, loss):
    # An infinite loss marks the run as diverged: turn it into NaN, which min keeps.
    return jnp.minimum(acc, jnp.where(loss < jnp.inf, loss, jnp.nan))


def _summarize(losses_acc, x_final, v_final, value_and_grad, steps, reduce):
    """The outer loss from the run's accumulator and final state.

    A run counts as diverged (NaN) if the summary or the final state is
    non-finite: non-finite values propagate, so the final state tells whether
    the run ever left the finite numbers, even on its last update.
    """
    if reduce == "mean":
        out = losses_acc / steps
    elif reduce == "min":
        out = losses_acc
    else:  # "final"
        out = value_and_grad(x_final)[0]
    finite = jnp.isfinite(out) & jnp.isfinite(x_final) & jnp.isfinite(v_final)
    return jnp.where(finite, out, jnp.nan)


def outer_loss_from_hparams(lr, momentum, *, value_and_grad, x0, inner_steps, summary):
    """Outer loss of one (lr, momentum) pair; scalar in, scalar out, traceable.

    Diverged (non-finite) runs give NaN.
    """
    steps, reduce = inner_steps, summary
    dtype = jnp.result_type(lr)
    x = jnp.asarray(x0, dtype)
    init_acc = jnp.asarray(jnp.inf if reduce == "min" else 0.0, dtype)

    def body(carry, _):
        x, v, acc = carry
        x, v, loss = sgd_momentum_step(value_and_grad, x, v, lr, momentum)
        acc = running_min(acc, loss) if reduce == "min" else acc + loss
        return (x, v, acc), None

    (x, v, acc), _ = jax.lax.scan(
        body, (x, jnp.zeros_like(x), init_acc), None, length=steps
    )
    return _summarize(acc, x, v, value_and_grad, steps, reduce)


def outer_loss(
    outer_params,
    *,
    problem: str | InnerProblem = "log_sin",
    x0: float = -4.0,
    inner_steps: int | None = None,
    summary: str | None = None,
    **older,
):
    """Outer loss at ``outer_params = (log10 lr, log10(1 - momentum))``.

    Differentiable with ``jax.grad`` (the gradient through the whole unroll)
    and vmappable; this is the function the outer optimizers descend.
    ``inner_steps`` (default 50) and ``summary`` (default "mean") may also be
    given by their older names ``steps`` and ``reduce``.
    """
    steps, reduce = older_names(inner_steps, summary, older)
    p = resolve_problem(problem)
    log_lr, log_omm = outer_params[0], outer_params[1]
    lr, momentum = lr_momentum(log_lr, log_omm, jnp)
    return outer_loss_from_hparams(
        lr, momentum, value_and_grad=p.value_and_grad, x0=x0, inner_steps=steps, summary=reduce
    )


# -- the grid kernel ------------------------------------------------------------
#
# Speed notes (2-core AVX-512 CPU; bench/bench_grid.py measures them):
# - XLA's CPU sin/cos cost ~4.4 ns an element, 80% of the old grid's time; the
#   presets' float32 fast path uses l2l_core.inner.fastmath.sincos (one shared range
#   reduction + polynomials in jnp) instead: 2.2 s -> ~0.3 s at 2000 x 2000.
# - Several steps are unrolled into one loop body so XLA fuses them into one
#   pass over the chunk (fewer loads/stores of x, v, acc and fewer loop trips).
# - Chunks of 16 x 4096 cells (256 KiB per state array) are dispatched from one
#   thread per core; jax releases the GIL while a chunk runs.
# - steps and x0 are traced (a while loop), so the steps slider never recompiles;
#   chunk shapes come in two buckets, so no resolution ever recompiles.


#: Steps fused into one loop body of the grid kernel.
SCAN_UNROLL = 5


def _kernel_value_and_grad(p: InnerProblem, dtype):
    if np.dtype(dtype) == np.float32 and p.fast_value_and_grad is not None:
        return p.fast_value_and_grad
    return p.value_and_grad


def _cell_loss(lr, momentum, x0, steps, *, value_and_grad, reduce, unroll):
    """outer_loss_from_hparams with a traced step count (forward only)."""
    dtype = jnp.result_type(lr)
    x = x0.astype(dtype)
    init_acc = jnp.asarray(jnp.inf if reduce == "min" else 0.0, dtype)

    def step(carry):
        x, v, acc = carry
        x, v, loss = sgd_momentum_step(value_and_grad, x, v, lr, momentum)
        acc = running_min(acc, loss) if reduce == "min" else acc + loss
        return x, v, acc

    def block(_, carry):
        for _ in range(unroll):
            carry = step(carry)
        return carry

    carry = (x, jnp.zeros_like(x), init_acc)
    carry = jax.lax.fori_loop(0, steps % unroll, lambda _, c: step(c), carry)
    x, v, acc = jax.lax.fori_loop(0, steps // unroll, block, carry)
    return _summarize(acc, x, v, value_and_grad, steps.astype(dtype), reduce)


@partial(jax.jit, static_argnames=("value_and_grad", "reduce", "unroll"))
def _chunk_kernel(lr, momentum, x0, steps, *, value_and_grad, reduce, unroll=SCAN_UNROLL):
    fn = partial(_cell_loss, x0=x0, steps=steps, value_and_grad=value_and_grad, reduce=reduce, unroll=unroll)
    return jax.vmap(jax.vmap(fn))(lr, momentum)


def check_axis(name: str, values) -> np.ndarray:
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a 1-D array of numbers") from None
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name} is empty; give at least one value")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains non-finite values (NaN or infinity)")
    if np.abs(arr).max() > MAX_LOG10:
        raise ValueError(f"{name} holds log10 values beyond +-{MAX_LOG10:g}; use a range inside it")
    return arr


def _check_common(problem, x0, steps, reduce, dtype):
    p = resolve_problem(problem)
    x0 = check_finite("x0", x0)
    steps = check_steps(steps)
    check_summary(reduce, POST_SUMMARIES)
    return p, x0, steps, check_dtype(dtype)


#: Rows per device of a full chunk on a GPU/TPU (1M cells: enough to fill one).
ACCELERATOR_CHUNK_ROWS = 256


def chunk_rows(n_cells: int, n_devices: int) -> int:
    """Rows per device of the chunk: two buckets, so resolutions never recompile."""
    rows, cols = CHUNK_SHAPE
    if n_cells <= n_devices * cols:
        return 1
    if jax.default_backend() != "cpu" and CHUNK_SHAPE == (16, 4096):
        return ACCELERATOR_CHUNK_ROWS
    return rows


def evaluate_chunks(cells, n, dtype, kernel, cancel=None, rows_per_device=None, cols=None,
                    lead: int = 0) -> np.ndarray:
    """``kernel`` over n cells in fixed-shape chunks, sharded over all devices.

    ``cells(flat_indices)`` gives the two hyperparameter arrays, in ``dtype``,
    of those cells (indices past n are clipped: padding cells are computed and
    dropped); ``kernel(a, b)`` maps two (rows, cols) arrays to the outer loss.
    Chunks are dispatched from a thread pool, one thread per core. A chunk not
    yet started is skipped once ``cancel()`` is true (its cells stay NaN).
    ``rows_per_device`` overrides the chunk's rows (default: the two buckets), ``cols``
    its columns (default 4096; a costly cell, such as a network's run on real data,
    takes fewer, so that a small grid does not compute thousands of padding cells).
    ``lead``: the kernel returns (lead, rows, cols) (one map per seed, say); the result is
    then (lead, n).
    """
    devices = sharding.grid_devices()
    n_dev = len(devices)
    rows = (rows_per_device or chunk_rows(n, n_dev)) * n_dev
    cols = int(cols or CHUNK_SHAPE[1])
    per_chunk = rows * cols
    n_chunks = -(-n // per_chunk)
    out = np.full((n_chunks, lead or 1, per_chunk), np.nan, dtype)

    x64 = bool(jax.config.jax_enable_x64)

    def run_chunk(c: int) -> None:
        if cancel is not None and cancel():
            return
        # jax.enable_x64 is thread-local: a pool thread must switch it on again, or a
        # float64 grid (deep zoom) would silently compute in float32 on that thread.
        with jax.enable_x64(x64):
            idx = np.minimum(np.arange(c * per_chunk, (c + 1) * per_chunk), n - 1)
            a, b = (v.reshape(rows, cols) for v in cells(idx))
            z = kernel(sharding.shard_rows(a, devices), sharding.shard_rows(b, devices))
            out[c] = sharding.to_host(z).reshape(lead or 1, -1)

    # The first chunk in this thread: the kernel is traced and compiled once here, not by every pool
    # thread at once (concurrent first traces of one kernel have failed inside JAX on a fresh server).
    run_chunk(0)
    sharding.run_parallel(lambda c: run_chunk(c + 1), n_chunks - 1)
    out = out.transpose(1, 0, 2).reshape(lead or 1, -1)[:, :n]
    return out if lead else out[0]


def _evaluate_cells(cells, n, p, x0, steps, reduce, dtype) -> np.ndarray:
    """Outer loss of SGD with momentum at n (lr, momentum) cells (see evaluate_chunks)."""
    kernel = partial(_chunk_kernel, x0=dtype.type(x0), steps=np.int32(steps),
                     value_and_grad=_kernel_value_and_grad(p, dtype), reduce=reduce, unroll=SCAN_UNROLL)
    return evaluate_chunks(cells, n, dtype, kernel)


def meta_loss_grid(
    log_lrs,
    log_one_minus_moms,
    *,
    problem: str | InnerProblem = "log_sin",
    x0: float = -4.0,
    inner_steps: int | None = None,
    summary: str | None = None,
    dtype=np.float32,
    **older,
) -> np.ndarray:
    """The 2-D meta-loss landscape over (learning rate, momentum).

    Args:
      log_lrs: 1-D, log10 of the learning rates (columns).
      log_one_minus_moms: 1-D, log10(1 - momentum) (rows).
      problem: inner problem, a registry name or InnerProblem.
      x0: initial inner parameter.
      inner_steps: T, the inner updates of each run (default 50).
      summary: "mean" (default, the post's), "final" or "min"; see POST_SUMMARIES.
        ``steps`` and ``reduce``, the older names of these two, are still accepted.
      dtype: float32 (default) or float64 (needs jax_enable_x64).

    Returns:
      Array of shape (len(log_one_minus_moms), len(log_lrs)) and dtype
      ``dtype``; NaN where a run became non-finite.

    Raises:
      ValueError: an axis is empty, not 1-D or not finite, the grid has more
        than MAX_CELLS cells, or another argument is out of range.
    """
    log_lrs = check_axis("log_lrs", log_lrs)
    log_omm = check_axis("log_one_minus_moms", log_one_minus_moms)
    n_cells = log_lrs.size * log_omm.size
    if n_cells > MAX_CELLS:
        raise ValueError(
            f"grid of {log_omm.size} x {log_lrs.size} = {n_cells:,} cells exceeds the cap of "
            f"{MAX_CELLS:,} (4096 x 4096); zoom into a window instead"
        )
    steps, reduce = older_names(inner_steps, summary, older)
    p, x0, steps, dtype = _check_common(problem, x0, steps, reduce, dtype)
    lr_axis, mom_axis = (a.astype(dtype) for a in lr_momentum(log_lrs, log_omm))
    n_cols = log_lrs.size

    def cells(idx):
        return lr_axis[idx % n_cols], mom_axis[idx // n_cols]

    flat = _evaluate_cells(cells, n_cells, p, x0, steps, reduce, dtype)
    return flat.reshape(log_omm.size, log_lrs.size)


def lr_sweep(
    log_lrs,
    momentum: float = 0.9,
    *,
    problem: str | InnerProblem = "log_sin",
    x0: float = -4.0,
    inner_steps: int | None = None,
    summary: str | None = None,
    dtype=np.float32,
    **older,
) -> np.ndarray:
    """Outer loss against learning rate at a fixed momentum (the post's sweep).

    Args:
      log_lrs: 1-D, log10 of the learning rates.
      momentum: the fixed momentum coefficient (finite).
      Other arguments as in :func:`meta_loss_grid`.

    Returns:
      Array of shape (len(log_lrs),); NaN where a run became non-finite.
    """
    log_lrs = check_axis("log_lrs", log_lrs)
    if log_lrs.size > MAX_CELLS:
        raise ValueError(f"{log_lrs.size:,} learning rates exceed the cap of {MAX_CELLS:,}")
    momentum = check_finite("momentum", momentum)
    steps, reduce = older_names(inner_steps, summary, older)
    p, x0, steps, dtype = _check_common(problem, x0, steps, reduce, dtype)
    lr_axis = lr_momentum(log_lrs, 0.0)[0].astype(dtype)
    mom = dtype.type(momentum)

    def cells(idx):
        return lr_axis[idx], np.full(idx.shape, mom, dtype)

    return _evaluate_cells(cells, log_lrs.size, p, x0, steps, reduce, dtype)


def sweep_axis(lr_range=(-3.0, 2.0), points: int = 5000) -> np.ndarray:
    """Evenly spaced log10 learning rates for :func:`lr_sweep`; ValueError for an empty range."""
    lo, hi = (check_finite("log10 lr range", v) for v in lr_range)
    if not lo < hi:
        raise ValueError(f"the learning-rate range is empty (log10 lr from {lo:g} to {hi:g}): "
                         "move the two ends of the range apart")
    points = check_int("points", points, 2, MAX_CELLS)
    return np.linspace(lo, hi, points)


def axes(lr_range=(-3.0, 2.0), omm_range=(-3.0, 0.0), resolution=500):
    """Evenly spaced (log_lrs, log_one_minus_moms) for a square grid."""
    lo, hi = (check_finite("log10 lr range", v) for v in lr_range)
    mlo, mhi = (check_finite("log10(1-momentum) range", v) for v in omm_range)
    if not lo < hi or not mlo < mhi:
        raise ValueError("each range needs its lower end below its upper end")
    resolution = check_int("resolution", resolution, 2, 4096)
    return np.linspace(lo, hi, resolution), np.linspace(mlo, mhi, resolution)


def best_cell(grid: np.ndarray, log_lrs, log_omm):
    """(log_lr, log_omm, loss) of the lowest finite cell, or None if all diverged."""
    if not np.isfinite(grid).any():
        return None
    i, j = np.unravel_index(np.nanargmin(grid), grid.shape)
    return float(log_lrs[j]), float(log_omm[i]), float(grid[i, j])


#: Cells per band of a banded grid: the unit between two cancellation checks.
BAND_CELLS = 1 << 19


def banded_meta_loss_grid(log_lrs, log_one_minus_moms, *, token: CancelToken | None = None,
                          band_cells: int = BAND_CELLS, **problem) -> np.ndarray:
    """:func:`meta_loss_grid` in bands of rows, checking
    ``token`` between bands so a cancel takes effect mid-grid.

    Same arguments, result and errors as meta_loss_grid (a band is just a
    smaller grid, so the numbers are identical).
    """
    try:
        log_lrs = np.asarray(log_lrs, dtype=np.float64)
        log_omm = np.asarray(log_one_minus_moms, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError("log_lrs and log_one_minus_moms must be 1-D arrays of numbers") from None
    n_cells = log_lrs.size * log_omm.size
    if (log_lrs.ndim != 1 or log_omm.ndim != 1 or n_cells <= band_cells
            or n_cells > MAX_CELLS):
        # Small, malformed or over the cap: one call, which validates everything.
        if token is not None:
            token.raise_if_cancelled()
        return meta_loss_grid(log_lrs, log_omm, **problem)
    rows = max(1, band_cells // max(1, log_lrs.size))
    bands = []
    for start in range(0, log_omm.size, rows):
        if token is not None:
            token.raise_if_cancelled()
        bands.append(meta_loss_grid(log_lrs, log_omm[start:start + rows], **problem))
    return np.concatenate(bands, axis=0)
