"""Seeds as an axis of the map: one map per seed, and what a practitioner should pick from.

A network task's landscape depends on the seed that draws its data and initial
weights. :func:`seed_grid` computes the map of every seed and summarises them
per cell: the probability of divergence over the seeds, the mean and the
spread over the seeds whose run did not diverge, and the cell a practitioner
should pick (the best mean among cells that never diverge) beside the
single-seed best cell.

The seeds are vmapped like the grid: the data and initial weights of every
seed are arguments of one compiled kernel whose output is (seeds, rows, cols),
so the compile, the dispatch and the per-chunk work of S seeds are shared
(``bench/bench_seeds.py`` measures the ratio to one seed's map). Each seed's
map is the map of ``hyper_grid(..., seed=s)`` (the same cells, the same
optimizer program; the data are arguments instead of compiled-in constants, so
the last bits may differ and a run on the edge of divergence may fall either
way).

Tasks with a seed: ``tanh_net`` (general kernel, any optax optimizer), and the
trainability-fractal networks (``fractal_tanh``, ...: :func:`fractal_seed_grid`,
the paper's gradient descent on its own kernel, vmapped the same way). Tasks
without randomness (1-D and 2-D functions, typed formulas) give the same map
for every seed and are refused.
"""

from __future__ import annotations

from functools import partial

import jax
import numpy as np

from l2l_core.checks import check_int, check_seed
from l2l_core.landscape import fractal, general
from l2l_core.landscape import grid as fast
from l2l_core.landscape.summaries import check_summary
from l2l_core.runtime import sharding
from l2l_core.tasks import fractal_networks
from l2l_core.tasks.base import Task
from l2l_core.tasks.general import NETWORK_TASKS, net_loss

#: Most seeds one call may take.
MAX_SEEDS = 64
#: Work one interactive view of maps over seeds may take (cells x seeds x steps x parameters x
#: examples): 8 seeds of tanh_net's 128² map of 50 steps (7.5e9) fit; 4 seeds of the digits MLP's 16²
#: map (1.0e11, 15 s warm on 2 cores) fit; its 48² maps (9.4e11, several minutes of a 2-core server's
#: only job slot) do not.
MAX_VIEW_WORK = 1.2e11


def check_view_work(task, cells: int, n_seeds: int, steps: int) -> float:
    """The work of ``n_seeds`` maps of ``cells`` cells and ``steps`` steps of ``task`` (a general task's
    name); ValueError past :data:`MAX_VIEW_WORK`, saying what to lower (the command line has no such cap)."""
    t = general.resolve_task(task)
    examples = len((t.data or {}).get("task_inputs", ())) or 1
    work = float(cells) * n_seeds * steps * t.dim * examples
    if work > MAX_VIEW_WORK:
        raise ValueError(f"{cells:,} cells x {n_seeds} seeds x {steps} steps of {t.name} ({t.dim:,} parameters, "
                         f"{examples:,} examples) is more than this server computes for one view (about "
                         f"{work / MAX_VIEW_WORK:.0f}x the cap); lower the resolution, the seeds or the steps, or "
                         f"use the command line: python -m l2l_core grid --problem {t.name} --seeds ...")
    return work
#: Cells per chunk across all seeds on a CPU (a single seed's chunk is 4096 cells; 2048 measured
#: best of 2048-65536 for 8 seeds): the states of all seeds stay in the core's cache.
CPU_CHUNK_CELLS = 2048


def check_seeds(seeds) -> tuple[int, ...]:
    """Distinct non-negative integers below 2**31, at least one and at most MAX_SEEDS."""
    if isinstance(seeds, (int, np.integer, str, bytes)) or seeds is None:
        raise ValueError(f"seeds must be a list of integers, e.g. [0, 1, 2], got {seeds!r}")
    try:
        items = list(seeds)
    except TypeError:
        raise ValueError(f"seeds must be a list of integers, e.g. [0, 1, 2], got {seeds!r}") from None
    if not items:
        raise ValueError("seeds must hold at least one seed")
    if len(items) > MAX_SEEDS:
        raise ValueError(f"at most {MAX_SEEDS} seeds, got {len(items)}")
    out = []
    for s in items:
        out.append(check_seed("each seed", s))
    if len(set(out)) != len(out):
        dup = sorted({s for s in out if out.count(s) > 1})
        raise ValueError(f"seeds must be distinct; repeated: {dup}")
    return tuple(out)


def seeded_task_name(task) -> str | None:
    """The registry name of a task drawn from a seed (a network of the maps), else None."""
    name = task.name if isinstance(task, Task) else task
    if not isinstance(name, str):
        return None
    if name in NETWORK_TASKS or (name in fractal_networks.SPECS and fractal_networks.supported(name) is None):
        return name
    return None


def diverged(z: np.ndarray, summary: str) -> np.ndarray:
    """Where a run diverged: NaN, or for ``converge`` a positive value (the paper's sign)."""
    z = np.asarray(z)
    if summary == "converge":
        return ~(z <= 0)  # NaN counts as diverged
    return ~np.isfinite(z)


def summarize_seeds(loss_seeds: np.ndarray, summary: str = "mean") -> dict[str, np.ndarray]:
    """``p_diverge``, ``loss`` (mean over the seeds that did not diverge, NaN where all
    did) and ``spread`` (their standard deviation, ddof 0) of (S, ny, nx) maps."""
    z = np.asarray(loss_seeds, dtype=np.float64)
    bad = diverged(z, summary)
    ok = ~bad
    n_ok = ok.sum(axis=0)
    kept = np.where(ok, z, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = kept.sum(axis=0) / n_ok
        var = np.where(ok, (z - mean) ** 2, 0.0).sum(axis=0) / n_ok
    mean = np.where(n_ok > 0, mean, np.nan)
    spread = np.where(n_ok > 0, np.sqrt(np.maximum(var, 0.0)), np.nan)
    return dict(p_diverge=bad.mean(axis=0), loss=mean, spread=spread)


def pick_cells(loss_seeds, x_values, y_values, summary: str = "mean") -> dict:
    """The cell to pick (lowest mean among cells no seed diverged at) and each seed's
    own best cell: {"robust": (x, y, mean, spread) or None, "single": [(x, y, loss) or None per seed]}."""
    s = summarize_seeds(loss_seeds, summary)
    xs, ys = np.asarray(x_values, float), np.asarray(y_values, float)
    never = s["p_diverge"] == 0
    robust = None
    if never.any():
        masked = np.where(never, s["loss"], np.inf)
        i, j = np.unravel_index(np.argmin(masked), masked.shape)
        robust = (float(xs[j]), float(ys[i]), float(s["loss"][i, j]), float(s["spread"][i, j]))
    single = []
    for z in np.asarray(loss_seeds, dtype=np.float64):
        zz = np.where(diverged(z, summary), np.nan, z)
        single.append(fast.best_cell(zz, xs, ys))
    return dict(robust=robust, single=single)


# -- the vmapped kernel -----------------------------------------------------------


@partial(jax.jit, static_argnames=("names", "loss", "build", "labels", "summary", "unroll"))
def _seed_chunk_kernel(a, b, values, ia, ib, params0, inputs, targets, steps, *, names, loss, build, labels,
                       summary, unroll=general.UNROLL):
    # general._chunk_kernel_any_axes with the task's data and initial weights as arguments,
    # vmapped over the seeds (leading axis of params0, inputs, targets): (S, rows, cols).
    def per_seed(p0, x, y):
        vg = jax.value_and_grad(lambda p: loss(p, x, y))

        def one(ha, hb):
            v = values.at[ia].set(ha).at[ib].set(hb)
            hp = {name: v[i] for i, name in enumerate(names)}
            return general.run_cell(hp, p0, steps, vg=vg, build=build, labels=labels, summary=summary,
                                 unroll=unroll)

        return jax.vmap(jax.vmap(one))(a, b)

    return jax.vmap(per_seed)(params0, inputs, targets)


def _stack_seeds(name: str, seeds, dtype):
    tasks = [NETWORK_TASKS[name](s) for s in seeds]
    params0 = tuple(np.stack([np.asarray(t.init(0)[k], dtype) for t in tasks]) for k in range(2))
    inputs = np.stack([np.asarray(t.data["task_inputs"], dtype) for t in tasks])
    targets = np.stack([np.asarray(t.data["task_targets"], dtype) for t in tasks])
    return params0, inputs, targets


def _vmapped(s: general.Setup, name: str, xs, ys, seeds, cancel=None) -> np.ndarray:
    dt = s.dtype
    params0, inputs, targets = _stack_seeds(name, seeds, dt)
    names = tuple(sorted({s.x_axis.name, s.y_axis.name, *s.fixed}))
    values = np.array([s.fixed.get(n, 0.0) for n in names], dt)
    ia, ib = (np.int32(names.index(a.name)) for a in (s.x_axis, s.y_axis))
    kernel = partial(_seed_chunk_kernel, values=values, ia=ia, ib=ib, params0=params0, inputs=inputs,
                     targets=targets, steps=np.int32(s.inner_steps), names=names, loss=net_loss,
                     build=s.optimizer.build, labels=s.task.labels, summary=s.summary)
    a_axis, b_axis = s.x_axis.to_value(xs).astype(dt), s.y_axis.to_value(ys).astype(dt)
    n, n_cols, n_seeds = xs.size * ys.size, xs.size, len(seeds)

    def cells(idx):
        return a_axis[idx % n_cols], b_axis[idx // n_cols]

    if jax.default_backend() == "cpu":
        rows, cols = 1, max(256, CPU_CHUNK_CELLS // n_seeds)
    else:
        rows, cols = None, fast.CHUNK_SHAPE[1]
    per_device = rows or fast.chunk_rows(n, len(sharding.grid_devices()))
    cols = min(cols, 1 << max(0, int(np.ceil(np.log2(max(1, -(-n // per_device)))))))  # small grids: one chunk
    with np.errstate(over="ignore"):
        out = fast.evaluate_chunks(cells, n, dt, kernel, cancel=cancel, rows_per_device=rows, cols=cols,
                                   lead=n_seeds)
    return out.reshape(n_seeds, ys.size, xs.size)


# -- the map over seeds -----------------------------------------------------------


def seed_grid(task, optimizer, x_axis: str, y_axis: str, x_values, y_values, seeds, *, inner_steps: int = 50,
              summary: str = "mean", fixed: dict | None = None, x0=None, dtype=np.float32, cancel=None,
              vmap: bool = True, any_axes: bool | None = None) -> dict:
    """The map of every seed and its per-cell summary over the seeds.

    Args:
      task, optimizer, x_axis, y_axis, x_values, y_values, inner_steps, summary, fixed,
        x0, dtype, cancel: as :func:`l2l_core.landscape.general.hyper_grid`; the task
        must draw something from its seed (``tanh_net``, the digits networks, the
        trainability-fractal networks' full-batch lr variants).
      seeds: distinct integers in [0, 2**31), at most :data:`MAX_SEEDS`.
      vmap: one vmapped kernel over the seeds (default); False: one ``hyper_grid``
        per seed (the reference, and what ``any_axes`` applies to).

    Returns:
      dict with ``loss_seeds`` (S, ny, nx), each ``hyper_grid(..., seed=s)``;
      ``p_diverge`` (ny, nx), the fraction of seeds whose run diverged (NaN, or a
      positive ``converge``); ``loss``, the mean over the seeds that did not
      diverge (NaN where all did); ``spread``, their standard deviation;
      ``seeds``; ``robust_best`` (x, y, mean, spread) of the lowest mean among
      cells no seed diverged at, or None; ``single_best``, each seed's own best
      (x, y, loss) or None.

    Raises:
      ValueError: a task without a seed, bad seeds, or anything hyper_grid refuses.
    """
    seeds = check_seeds(seeds)
    name = seeded_task_name(task)
    if name is None:
        shown = task.name if isinstance(task, Task) else task
        if shown in fractal_networks.SPECS:
            raise ValueError(f"{shown!r} is a trainability-fractal network with no general path: its seeds' maps "
                             "are fractal_seed_grid's")
        raise ValueError(f"task {shown!r} draws nothing from a seed (its map is the same for every seed); "
                         f"seeds apply to {', '.join(NETWORK_TASKS)} and {', '.join(fractal_networks.SPECS)}")
    if x0 is not None:
        raise ValueError(f"task {name!r} draws its initial weights from the seed; x0 cannot be set")
    s = general.setup(name, optimizer, x_axis, y_axis, inner_steps=inner_steps, summary=summary, fixed=fixed,
                      dtype=dtype, seed=seeds[0])
    xs = fast.check_axis(f"x_values ({x_axis})", x_values)
    ys = fast.check_axis(f"y_values ({y_axis})", y_values)
    n = xs.size * ys.size
    if n > fast.MAX_CELLS:
        raise ValueError(f"grid of {ys.size} x {xs.size} = {n:,} cells exceeds the cap of {fast.MAX_CELLS:,}")
    if n * len(seeds) * s.inner_steps * s.task.dim > general.MAX_WORK:
        raise ValueError(f"{n:,} cells x {len(seeds)} seeds x {s.inner_steps} steps x {s.task.dim} parameters is "
                         f"more work than the cap of {general.MAX_WORK:.3g}; use fewer cells, seeds or steps")
    if vmap and name == "tanh_net":  # its data and weights stack; the digits networks loop over seeds
        z = _vmapped(s, name, xs, ys, seeds, cancel)
    else:
        z = np.stack([general.hyper_grid(name, optimizer, x_axis, y_axis, xs, ys, inner_steps=inner_steps,
                                         summary=summary, fixed=fixed, dtype=dtype, seed=sd, cancel=cancel,
                                         any_axes=any_axes) for sd in seeds])
    stats = summarize_seeds(z, s.summary)
    picks = pick_cells(z, xs, ys, s.summary)
    return dict(loss_seeds=z, p_diverge=stats["p_diverge"], loss=stats["loss"].astype(z.dtype),
                spread=stats["spread"].astype(z.dtype), seeds=np.asarray(seeds), robust_best=picks["robust"],
                single_best=picks["single"])


# -- the trainability-fractal networks ----------------------------------------------


@partial(jax.jit, static_argnames=("activation", "batch_size", "kernel"))
def _fractal_seed_kernel(lr_in, lr_out, offset, x, y, w1, w2, steps, *, activation, batch_size, kernel):
    # fractal.train_cells (every summary of B runs) vmapped over the seeds' data and
    # initial weights (leading axis of x, y, w1, w2): (S, len(SUMMARIES), B).
    def per_seed(xx, yy, a, b):
        return fractal.train_cells(lr_in, lr_out, offset, xx, yy, a, b, steps, activation=activation,
                                    batch_size=batch_size, kernel=kernel)

    return jax.vmap(per_seed)(x, y, w1, w2)


def fractal_seed_summaries(x_values, y_values, seeds, *, task: str = fractal_networks.DEFAULT_TASK, width: int = 16,
                           inner_steps: int = 100, dtype=np.float32) -> dict[str, np.ndarray]:
    """Every summary of a trainability-fractal network's image for every seed, vmapped:
    {summary: (S, ny, nx)}; seed s's maps are ``fractal_summaries(..., task=make_task(task,
    width=width, seed=s))``'s (the paper's plain gradient descent, the same kernel)."""
    seeds = check_seeds(seeds)
    if not isinstance(task, str) or task not in fractal_networks.SPECS:
        raise ValueError(f"task must be one of {list(fractal_networks.SPECS)}, got {task!r}")
    tasks = [fractal_networks.make_task(task, width=width, seed=s) for s in seeds]
    t = tasks[0]
    xs = fractal.check_axis_range("x_values", x_values, -30.0 if t.spec.phase_space == "lr" else -100.0, 30.0)
    ys = fractal.check_axis_range("y_values", y_values, -30.0, 30.0)
    n, n_cols, n_seeds = xs.size * ys.size, xs.size, len(seeds)
    if n * n_seeds > fractal.MAX_CELLS:
        raise ValueError(f"{ys.size} x {xs.size} cells x {n_seeds} seeds exceed the cap of {fractal.MAX_CELLS:,} runs")
    steps = check_int("steps", inner_steps, 1, fractal.MAX_STEPS)
    dtype = fast.check_dtype(dtype)
    cols_in, rows_out, cols_off = fractal.phase_columns(t, xs, ys)
    devices = sharding.grid_devices()
    n_dev = len(devices)
    kernel = fractal.pick_kernel(t)
    b = fractal.chunk_cells(t, -(-n // n_dev), dtype.itemsize, sharding.workers(), kernel)
    per_chunk = b * n_dev
    n_chunks = -(-n // per_chunk)
    n_sum = len(fractal.SUMMARIES)
    out = np.empty((n_sum, n_seeds, n_chunks, per_chunk), dtype)
    scale = fractal.input_scale(t.spec.activation, t.width)
    consts = [np.stack([np.asarray(a, dtype) for a in arrays]) for arrays in zip(
        *[(k.inputs * scale, k.targets[:, 0], k.init[0], k.init[1]) for k in tasks])]
    steps = np.int32(steps)
    x64 = dtype == np.float64

    def run_chunk(c: int) -> None:
        with jax.enable_x64(x64):
            idx = np.minimum(np.arange(c * per_chunk, (c + 1) * per_chunk), n - 1)
            col, row = idx % n_cols, idx // n_cols
            lr_out = rows_out[row]
            lr_in = lr_out if cols_in is None else cols_in[col]
            cells = [sharding.shard_rows(np.asarray(a, dtype), devices) for a in (lr_in, lr_out, cols_off[col])]
            z = _fractal_seed_kernel(*cells, *consts, steps, activation=t.spec.activation, batch_size=t.batch_size,
                                     kernel=kernel)
            out[:, :, c] = np.moveaxis(sharding.to_host(z), 1, 0).reshape(n_sum, n_seeds, -1)

    with np.errstate(over="ignore"):
        sharding.run_parallel(run_chunk, n_chunks)
    flat = out.reshape(n_sum, n_seeds, -1)[:, :, :n]
    return {k: flat[i].reshape(n_seeds, ys.size, xs.size) for i, k in enumerate(fractal.SUMMARIES)}


def fractal_seed_grid(x_values, y_values, seeds, *, task: str = fractal_networks.DEFAULT_TASK, width: int = 16,
                      inner_steps: int = 100, summary: str = "converge", dtype=np.float32) -> dict:
    """:func:`seed_grid` for a trainability-fractal network (``fractal_tanh``, ...): the same
    dict (``loss_seeds``, ``p_diverge``, ``loss``, ``spread``, ``seeds``, ``robust_best``,
    ``single_best``); with ``converge`` a positive value counts as diverged."""
    check_summary(summary, fractal.SUMMARIES)
    z = fractal_seed_summaries(x_values, y_values, seeds, task=task, width=width, inner_steps=inner_steps,
                               dtype=dtype)[summary]
    xs, ys = np.asarray(x_values, float), np.asarray(y_values, float)
    stats = summarize_seeds(z, summary)
    picks = pick_cells(z, xs, ys, summary)
    return dict(loss_seeds=z, p_diverge=stats["p_diverge"], loss=stats["loss"].astype(z.dtype),
                spread=stats["spread"].astype(z.dtype), seeds=np.asarray(check_seeds(seeds)),
                robust_best=picks["robust"], single_best=picks["single"])
