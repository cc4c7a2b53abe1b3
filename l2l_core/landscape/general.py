"""The landscape in general: any two hyperparameters of any optax optimizer on any task.

:func:`hyper_grid` evaluates the outer loss over a grid of two hyperparameter
axes of a (task, inner optimizer) pair. Each cell builds the optax optimizer
from its traced hyperparameters inside one jitted, double-vmapped kernel and
trains the task for ``inner_steps`` steps (a ``fori_loop``, several steps fused
per trip); cells run in the fixed-shape chunks of
:func:`l2l_core.landscape.grid.evaluate_chunks`, sharded over devices. The seed
post's case (SGD with momentum, lr x momentum, a 1-D task) goes to
:func:`l2l_core.landscape.grid.meta_loss_grid`, the fast kernel, unchanged.

Outer summaries (:data:`SUMMARIES`) of the T inner losses, each taken at the
iterate before its update: ``mean`` (default, the post's), ``final`` (the
loss after the last update), ``min``, and ``converge``, the trainability-fractal
paper's convergence measure (negative: converged, positive: diverged).
"""

from __future__ import annotations

import math
from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from l2l_core.checks import check_seed
from l2l_core.inner.fastpow import with_fast_pow
from l2l_core.inner.optimizers import (
    LOG10,
    OPTIMIZERS,  # noqa: F401  (every optimizer: precompile's list)
    Axis,
    InnerOptimizer,
    check_fixed,
    get_optimizer,
)
from l2l_core.inner.unroll import check_finite, check_steps
from l2l_core.landscape import grid as fast
from l2l_core.landscape.summaries import POST_SUMMARIES, SUMMARIES, check_summary
from l2l_core.tasks.base import Task
from l2l_core.tasks.general import TASKS, resolve_task

#: Most cells x inner steps x task parameters one grid may cost (a 4096^2 grid of
#: a 1-D task at the most steps).
MAX_WORK = fast.MAX_CELLS * 10_000
#: Losses replaced (non-finite) and clipped at this value by ``converge``; its last
#: CONVERGE_WINDOW losses decide whether the run converged.
CONVERGE_CAP, CONVERGE_WINDOW = 1e6, 20
#: Steps fused into one loop trip.
UNROLL = 5
#: Rows (of 4096 cells) per chunk on a CPU: an optimizer's state (Adam: 3 arrays a
#: parameter) stays in the core's cache; 16 rows run ~1.4x slower (bench_general).
CPU_CHUNK_ROWS = 1
#: Grids of at most this many cells (a page's coarse passes) use the kernel that serves
#: every pair of axes: a first look at a new axis draws at once. Larger grids use the
#: kernel specialized to their axes (Adam: ~1.3x faster), compiled on their first use.
ANY_AXES_MAX_CELLS = 128 * 128
#: Highest log10(1 - m) of a momentum-like axis (m > -2.2, as the post's momentum axis).
MAX_ONE_MINUS = 0.5


def task_axes(task, optimizer) -> dict[str, Axis]:
    """Every axis of a (task, optimizer) pair: the optimizer's, then the task's own."""
    t, o = resolve_task(task), get_optimizer(optimizer)
    return dict(o.axes, **t.axes)


def default_axes(task, optimizer) -> tuple[str, str]:
    """The two axes a first view of (task, optimizer) shows: a network's per-layer
    learning rates, else the optimizer's first two hyperparameters."""
    if resolve_task(task).labels is not None:
        return "lr_in", "lr_out"
    names = list(task_axes(task, optimizer))
    return names[0], names[1]


def _check_axis_name(name, axes: dict, which: str) -> Axis:
    if name not in axes:
        raise ValueError(f"{which} {name!r} is not a hyperparameter of this task and optimizer; "
                         f"choose one of {list(axes)}")
    return axes[name]


# -- the kernel -------------------------------------------------------------------


def labelled_optimizer(build, labels, hp: dict):
    """The optax optimizer of one cell; a network gets one copy per learning-rate group."""
    if labels is None:
        return build(**hp)
    base = {k: v for k, v in hp.items() if k not in labels}
    groups = {name: build(**dict(base, lr=hp[name])) for name in dict.fromkeys(labels)}
    return optax.multi_transform(groups, labels)


def _all_finite(tree):
    return jnp.all(jnp.stack([jnp.all(jnp.isfinite(leaf)) for leaf in jax.tree_util.tree_leaves(tree)]))


def run_cell(hp, params0, steps, *, vg, build, labels, summary, unroll):
    dtype = jnp.result_type(next(iter(hp.values())))
    params = jax.tree_util.tree_map(lambda p: p.astype(dtype), params0)
    tx = labelled_optimizer(build, labels, hp)
    update = with_fast_pow(tx.update)  # XLA's CPU pow is slow: see l2l_core.inner.fastpow
    zero = jnp.zeros((), dtype)
    # acc: sum (mean), running min (min); converge: (first loss, sum v, sum 1/v, sum of the last v's)
    acc = (jnp.asarray(jnp.inf if summary == "min" else 0.0, dtype), zero, zero, zero, zero)
    cap = jnp.asarray(CONVERGE_CAP, dtype)

    def step(carry):
        params, state, t, acc = carry
        loss, g = vg(params)
        updates, state = update(g, state, params)
        params = optax.apply_updates(params, updates)
        if summary == "min":
            acc = (fast.running_min(acc[0], loss),) + acc[1:]
        elif summary == "converge":
            raw = jnp.where(jnp.isfinite(loss), loss, cap)
            first = jnp.where(t == 0, raw, acc[1])
            v = jnp.minimum(raw / first, cap)
            last = jnp.where(t >= steps - CONVERGE_WINDOW, v, 0.0)
            acc = (acc[0], first, acc[2] + v, acc[3] + 1.0 / v, acc[4] + last)
        else:
            acc = (acc[0] + loss,) + acc[1:]
        return params, state, t + 1, acc

    def block(_, carry):
        for _ in range(unroll):
            carry = step(carry)
        return carry

    carry = (params, tx.init(params), jnp.int32(0), acc)
    carry = jax.lax.fori_loop(0, steps % unroll, lambda _, c: step(c), carry)
    params, _, _, acc = jax.lax.fori_loop(0, steps // unroll, block, carry)
    if summary == "converge":
        window = jnp.minimum(steps, CONVERGE_WINDOW).astype(dtype)
        return jnp.where(acc[4] / window < 1.0, -acc[2], acc[3])
    if summary == "mean":
        out = acc[0] / jnp.asarray(steps, dtype)
    elif summary == "min":
        out = acc[0]
    else:
        out = vg(params)[0]
    return jnp.where(jnp.isfinite(out) & _all_finite(params), out, jnp.nan)


@partial(jax.jit, static_argnames=("names", "vg", "build", "labels", "summary", "unroll"))
def _chunk_kernel(a, b, consts, params0, steps, *, names, vg, build, labels, summary, unroll=UNROLL):
    # Specialized to the axes (``names``: the two axes first, then the fixed values):
    # the values off the axes stay scalars across the chunk, the fastest program.
    def one(ha, hb):
        hp = dict(zip(names, (ha, hb, *consts)))
        return run_cell(hp, params0, steps, vg=vg, build=build, labels=labels, summary=summary, unroll=unroll)

    return jax.vmap(jax.vmap(one))(a, b)


@partial(jax.jit, static_argnames=("names", "vg", "build", "labels", "summary", "unroll"))
def _chunk_kernel_any_axes(a, b, values, ia, ib, params0, steps, *, names, vg, build, labels, summary,
                           unroll=UNROLL):
    # Which hyperparameters are on the axes (positions ia, ib of ``values``) is data, not
    # part of the program: one compiled kernel per (task, optimizer, summary) serves every
    # pair of axes, at the price of every hyperparameter being per-cell (Adam: ~1.3x).
    def one(ha, hb):
        v = values.at[ia].set(ha).at[ib].set(hb)
        hp = {name: v[i] for i, name in enumerate(names)}
        return run_cell(hp, params0, steps, vg=vg, build=build, labels=labels, summary=summary, unroll=unroll)

    return jax.vmap(jax.vmap(one))(a, b)


# -- validation -------------------------------------------------------------------


class Setup(NamedTuple):
    """A checked (task, optimizer, axes) choice, shared by the grid and the outer methods."""

    task: Task
    optimizer: InnerOptimizer
    x_axis: Axis
    y_axis: Axis
    fixed: dict  # every hyperparameter off the two axes -> value
    params0: object
    inner_steps: int
    summary: str
    dtype: np.dtype


def _check_x0(task: Task, x0, seed: int):
    if x0 is None:
        return task.init(seed)
    if task.dim == 1 and task.labels is None:
        return np.float64(check_finite("x0", x0))
    if task.dim == 2 and task.labels is None:
        try:
            pair = [check_finite("x0", v) for v in x0]
        except TypeError:
            raise ValueError(f"x0 of the 2-D task {task.name!r} must be two numbers (x, y)") from None
        if len(pair) != 2:
            raise ValueError(f"x0 of the 2-D task {task.name!r} must be two numbers (x, y), got {len(pair)}")
        return tuple(np.float64(v) for v in pair)
    raise ValueError(f"task {task.name!r} draws its initial weights from the seed; x0 cannot be set")


def default_hyperparameters(task, optimizer) -> dict[str, float]:
    """Every hyperparameter of one run of (task, optimizer) -> its default: the optimizer's,
    and a network's per-layer learning rates (at the shared one's default) instead of the
    shared one. The pages' inputs and the CLI's ``--set`` start from these."""
    return hyperparameter_values(resolve_task(task), get_optimizer(optimizer))


def hyperparameter_values(task: Task, optimizer: InnerOptimizer, fixed: dict | None = None) -> dict:
    """Every hyperparameter's value for one run: the optimizer's defaults, the task's
    per-layer learning rates (default: the shared one, which a network then drops),
    ``fixed`` on top; each checked."""
    values = check_fixed(optimizer, fixed, tuple(task.axes))
    for name in task.axes:
        values.setdefault(name, values["lr"])
    if task.labels is not None:
        values.pop("lr")
    return values


def display_limits(axis: Axis) -> tuple[float, float]:
    """The lowest and highest display value a typed range of ``axis`` may reach."""
    return -fast.MAX_LOG10, fast.MAX_LOG10 if axis.unit == LOG10 else MAX_ONE_MINUS


def value_limits(axis: Axis) -> tuple[float, float]:
    """The smallest and largest value of ``axis``' hyperparameter when it is on no axis
    (:func:`l2l_core.inner.optimizers.check_fixed` takes them; 1 - 1e-12 for a momentum-like one)."""
    if axis.unit == LOG10:
        return 10.0 ** -fast.MAX_LOG10, 10.0 ** fast.MAX_LOG10
    return 0.0, 1.0 - 1e-12


def check_range(axis: Axis, lo, hi) -> tuple[float, float]:
    """A typed range (display units) of ``axis``; ValueError says what to type instead."""
    try:
        lo, hi = float(lo), float(hi)
    except (TypeError, ValueError):
        raise ValueError(f"the {axis.name} range must be two numbers, got {lo!r} and {hi!r}") from None
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise ValueError(f"the {axis.name} range must be finite, got {lo} to {hi}")
    if not lo < hi:
        raise ValueError(f"the {axis.name} range needs its lower end below its upper end, got {lo:g} to {hi:g}")
    bottom, top = display_limits(axis)
    if lo < bottom or hi > top:
        what = "log10 values" if axis.unit == LOG10 else f"log10(1 - {axis.name}) values"
        raise ValueError(f"the {axis.name} range ({axis.title}) takes {what} from {-fast.MAX_LOG10:g} to {top:g}, "
                         f"got {lo:g} to {hi:g}; its default is {axis.default_range[0]:g} to "
                         f"{axis.default_range[1]:g}")
    return lo, hi


def supports_converge(task) -> bool:
    """Whether the convergence measure means something for ``task``: its loss is known
    to be positive or zero (a registry task); a typed formula may go negative, where
    the ratio to the first loss flips its sign."""
    t = resolve_task(task) if isinstance(task, str) else task
    return t.name in TASKS or t.labels is not None


def summaries_for(task) -> list[str]:
    """The outer summaries a page offers for ``task``."""
    return [k for k in SUMMARIES if k != "converge" or supports_converge(task)]


def setup(task, optimizer, x_axis: str, y_axis: str, *, inner_steps: int = 50, summary: str = "mean",
          fixed: dict | None = None, x0=None, dtype=np.float32, seed: int = 0) -> Setup:
    """Checks every argument of :func:`hyper_grid`; ValueError with what to change."""
    seed = check_seed("seed", seed)
    t, o = resolve_task(task, seed), get_optimizer(optimizer)
    axes = dict(o.axes, **t.axes)
    xa = _check_axis_name(x_axis, axes, "x axis")
    ya = _check_axis_name(y_axis, axes, "y axis")
    if x_axis == y_axis:
        raise ValueError(f"the two axes must differ, got {x_axis!r} twice")
    on_axes = sorted(set(fixed or {}) & {x_axis, y_axis})
    if on_axes:
        raise ValueError(f"{on_axes} on an axis cannot also be fixed; drop it from the fixed values")
    values = hyperparameter_values(t, o, fixed)
    if t.labels is not None and "lr" in (x_axis, y_axis):
        raise ValueError(f"task {t.name!r} has one learning rate per layer; use the axes {list(t.axes)}")
    for name in (x_axis, y_axis):
        values.pop(name, None)
    steps = check_steps(inner_steps)
    check_summary(summary)
    dt = fast.check_dtype(dtype)
    return Setup(t, o, xa, ya, values, _check_x0(t, x0, seed), steps, summary, dt)


def routes_to_fast_kernel(s: Setup) -> bool:
    return (s.task.problem is not None and s.optimizer.name == "sgd" and s.summary in POST_SUMMARIES
            and {s.x_axis.name, s.y_axis.name} == {"lr", "momentum"})


# -- the grid ---------------------------------------------------------------------


def hyper_grid(task, optimizer, x_axis: str, y_axis: str, x_values, y_values, *, inner_steps: int = 50,
               summary: str = "mean", fixed: dict | None = None, x0=None, dtype=np.float32, seed: int = 0,
               cancel=None, any_axes: bool | None = None) -> np.ndarray:
    """The outer loss over two hyperparameter axes of a (task, inner optimizer) pair.

    Args:
      task: a name of :data:`l2l_core.tasks.general.TASKS`, a formula in x (or x and y), or a Task.
      optimizer: a name of :data:`l2l_core.inner.optimizers.OPTIMIZERS`.
      x_axis, y_axis: two distinct names of :func:`task_axes` (``lr``, ``momentum``, ``b1``,
        ``lr_in``, ...).
      x_values, y_values: 1-D, each in its axis' display unit (log10 v or log10(1 - v)).
      inner_steps: T, the inner updates per run.
      summary: a key of :data:`SUMMARIES`.
      fixed: values (not display units) of hyperparameters off the axes; the rest keep
        the optimizer's defaults.
      x0: initial parameters of a 1-D (number) or 2-D (pair) task; default the task's.
      dtype: float32 (default) or float64 (needs jax_enable_x64).
      seed: draws a network task's data and initial weights.
      cancel: optional () -> bool; chunks not started once it is true are skipped (NaN).
      any_axes: run the kernel that serves every pair of axes (True) or the one
        specialized to these axes (False); default: the first for grids of at most
        :data:`ANY_AXES_MAX_CELLS` cells. Same numbers either way.

    Returns:
      Array (len(y_values), len(x_values)) of ``dtype``; NaN where a run diverged
      (except for ``converge``, whose sign says it).

    Raises:
      ValueError: an unknown name, an axis out of range, too many cells, and so on.
    """
    s = setup(task, optimizer, x_axis, y_axis, inner_steps=inner_steps, summary=summary, fixed=fixed, x0=x0,
              dtype=dtype, seed=seed)
    return grid_of(s, x_values, y_values, cancel=cancel, any_axes=any_axes)


def grid_of(s: Setup, x_values, y_values, *, cancel=None, any_axes: bool | None = None) -> np.ndarray:
    """:func:`hyper_grid` of a choice :func:`setup` already checked (a caller that resolved its
    task and optimizer once passes that one frozen :class:`Setup` down)."""
    x_axis, y_axis = s.x_axis.name, s.y_axis.name
    xs = fast.check_axis(f"x_values ({x_axis})", x_values)
    ys = fast.check_axis(f"y_values ({y_axis})", y_values)
    n = xs.size * ys.size
    if n > fast.MAX_CELLS:
        raise ValueError(f"grid of {ys.size} x {xs.size} = {n:,} cells exceeds the cap of "
                         f"{fast.MAX_CELLS:,} (4096 x 4096); zoom into a window instead")
    if n * s.inner_steps * s.task.dim > MAX_WORK:
        raise ValueError(f"{n:,} cells x {s.inner_steps} steps x {s.task.dim} parameters is more work than "
                         f"the cap of {MAX_WORK:.3g}; use fewer cells or steps")
    if routes_to_fast_kernel(s):
        kw = dict(problem=s.task.problem, x0=float(s.params0), inner_steps=s.inner_steps, summary=s.summary,
                  dtype=s.dtype)
        if s.x_axis.name == "lr":
            return fast.meta_loss_grid(xs, ys, **kw)
        return fast.meta_loss_grid(ys, xs, **kw).T.copy()
    dt = s.dtype
    a_axis = s.x_axis.to_value(xs).astype(dt)
    b_axis = s.y_axis.to_value(ys).astype(dt)
    kernel = cell_kernel(s, any_axes=n <= ANY_AXES_MAX_CELLS if any_axes is None else bool(any_axes))
    n_cols = xs.size

    def cells(idx):
        return a_axis[idx % n_cols], b_axis[idx // n_cols]

    rows = CPU_CHUNK_ROWS if jax.default_backend() == "cpu" else None
    return fast.evaluate_chunks(cells, n, dt, kernel, cancel=cancel, rows_per_device=rows,
                                cols=chunk_cols(s.task, n)).reshape(ys.size, xs.size)


#: Cells x parameters x examples one chunk of a costly task may hold: 32 cells of the digits MLP
#: (each chunk then runs in a fraction of a second, so a change cancels it quickly).
CHUNK_WORK = 2**26


def chunk_cols(task: Task, n: int) -> int:
    """Columns of a chunk: 4096 for cheap cells; for a costly task (a network on real data)
    a power of two that holds at most :data:`CHUNK_WORK` and no more cells than the grid needs,
    so that few shapes compile and small grids compute little padding."""
    examples = len((task.data or {}).get("task_inputs", ())) or 1
    per_cell = max(1, task.dim * examples)
    cols = fast.CHUNK_SHAPE[1]
    while cols > 8 and (cols * per_cell > CHUNK_WORK or cols // 2 >= n):
        cols //= 2
    return cols if per_cell * fast.CHUNK_SHAPE[1] > CHUNK_WORK else fast.CHUNK_SHAPE[1]


def cell_kernel(s: Setup, any_axes: bool = True):
    """(a, b) -> outer loss of the cells whose x- and y-axis values are a and b (chunk arrays).

    ``any_axes``: the kernel compiled once per (task, optimizer, summary) for every pair
    of axes (no compile when a user picks a new axis); False: the one specialized to
    these axes, faster on large grids and compiled once per pair.
    """
    dt = s.dtype
    params0 = jax.tree_util.tree_map(lambda p: np.asarray(p, dt), s.params0)
    common = dict(params0=params0, steps=np.int32(s.inner_steps), vg=s.task.value_and_grad,
                  build=s.optimizer.build, labels=s.task.labels, summary=s.summary)
    if not any_axes:
        return partial(_chunk_kernel, consts=tuple(dt.type(v) for v in s.fixed.values()),
                       names=(s.x_axis.name, s.y_axis.name) + tuple(s.fixed), **common)
    names = tuple(sorted({s.x_axis.name, s.y_axis.name, *s.fixed}))  # the same whichever are on the axes
    values = np.array([s.fixed.get(n, 0.0) for n in names], dt)
    ia, ib = (np.int32(names.index(a.name)) for a in (s.x_axis, s.y_axis))
    return partial(_chunk_kernel_any_axes, values=values, ia=ia, ib=ib, names=names, **common)
