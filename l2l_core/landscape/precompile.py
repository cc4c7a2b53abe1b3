"""Compiling the post's landscape kernels ahead of the first user (server start)."""

from __future__ import annotations

import threading
from contextlib import nullcontext

import numpy as np

from l2l_core.landscape.grid import CHUNK_SHAPE, SCAN_UNROLL, meta_loss_grid
from l2l_core.landscape.summaries import POST_SUMMARIES
from l2l_core.runtime import sharding
from l2l_core.tasks.problems import DEFAULT_PROBLEM, PROBLEMS

_warmed: set = set()
_warm_lock = threading.Lock()


def warmup(
    problems=None,
    summaries=None,
    dtypes=(np.float32,),
    *,
    background: bool = False,
    slot=nullcontext,
):
    """Compiles the grid kernels for the common shapes (idempotent, cheap when done).

    Runs one tiny grid per (problem, summary, dtype, chunk bucket), so every
    kernel a widget can reach is in jit's in-memory cache, loaded from the
    persistent compilation cache in ``.jax_cache/`` when a previous process
    compiled it (then ~0.1-0.3 s each, mostly tracing). Order: the default view
    (the post's problem, mean summary) first. Call it once at server start.

    Args:
      problems: preset names (default: all of PROBLEMS, the default one first).
      summaries: outer-loss summaries (default: all of POST_SUMMARIES, "mean" first).
      dtypes: float32 by default; add float64 only under jax_enable_x64.
      background: run in a daemon thread and return it instead of waiting.
      slot: a context manager factory each kernel compiles inside (the server
        passes a background job slot, so visitors' jobs go first).

    Returns:
      The number of kernels newly warmed, or the thread if ``background``.
    """
    if background:
        t = threading.Thread(
            target=warmup, args=(problems, summaries, dtypes), kwargs=dict(slot=slot), name="l2l-warmup",
            daemon=True)
        t.start()
        return t
    if problems is None:
        problems = [DEFAULT_PROBLEM] + [n for n in PROBLEMS if n != DEFAULT_PROBLEM]
    if summaries is None:
        summaries = ["mean"] + [r for r in POST_SUMMARIES if r != "mean"]
    n_dev = len(sharding.grid_devices())
    cols = CHUNK_SHAPE[1]
    # One grid per bucket: a single cell (1-row chunks) and just over one row (full chunks).
    shapes = ((1, 1), (1, n_dev * cols + 1))
    done = 0
    for problem in problems:
        for summary in summaries:
            for dtype in dtypes:
                for rows, cols_ in shapes:
                    key = (problem, summary, np.dtype(dtype).name, rows, cols_, n_dev, CHUNK_SHAPE)
                    if key in _warmed:
                        continue
                    with slot(), _warm_lock:
                        if key in _warmed:
                            continue
                        meta_loss_grid(np.zeros(cols_) - 1.0, np.zeros(rows) - 1.0, problem=problem,
                                       summary=summary, dtype=dtype, inner_steps=SCAN_UNROLL + 1)
                        _warmed.add(key)
                        done += 1
    return done


def warmup_general(tasks=None, optimizers=None, *, slot=nullcontext) -> int:
    """Compiles the general landscape's kernel of every (task, optimizer) pair for
    the mean summary (one kernel serves every pair of axes), so a first pick of a
    task, optimizer or axis shows its coarse image without compiling. Idempotent.

    Args:
      tasks: names of :data:`l2l_core.tasks.general.TASKS` (default: all).
      optimizers: names of :data:`l2l_core.inner.optimizers.OPTIMIZERS` (default: all).
      slot: a context manager factory each kernel compiles inside (as for :func:`warmup`).

    Returns:
      The number of kernels newly warmed.
    """
    from l2l_core.landscape import general  # optax and every task: not for the fractal command's start

    done = 0
    for task in general.TASKS if tasks is None else tasks:
        for opt in general.OPTIMIZERS if optimizers is None else optimizers:
            x, y = general.default_axes(task, opt)
            key = ("general", task, opt, x, y)
            if key in _warmed:
                continue
            with slot(), _warm_lock:
                if key in _warmed:
                    continue
                axes = general.task_axes(task, opt)
                # One cell: the chunk shape, hence the kernel, is the one every image uses. The
                # kernel of any axes (coarse passes), then the one of the default axes (larger passes).
                for any_axes in (True, False):
                    general.hyper_grid(task, opt, x, y, [axes[x].default_range[0]], [axes[y].default_range[0]],
                                       inner_steps=1, any_axes=any_axes)
                _warmed.add(key)
                done += 1
    return done
