"""``grid`` over any two hyperparameters of any (task, optimizer): its flags beyond the seed
post's lr x momentum grid, and the one path that runs them (:func:`run`).

Without these flags and with a 1-D problem, ``grid`` is the seed post's lr x momentum
landscape, on its own kernel and with its files' names (``log_lrs``, ``log_one_minus_moms``).
"""

from __future__ import annotations

import argparse
import json
import math
import time
from functools import partial
from typing import Callable, NamedTuple

import numpy as np

from l2l_core.cli.args import Range, real, refuse, seed
from l2l_core.cli.audit import add_seeds_arg, seed_arrays
from l2l_core.inner.optimizers import DEFAULT_OPTIMIZER, OPTIMIZERS
from l2l_core.landscape import fractal, general
from l2l_core.landscape.grid import best_cell
from l2l_core.probe.thresholds import stability_applies, stability_edge
from l2l_core.tasks import fractal_networks as networks
from l2l_core.tasks.general import resolve_task
from l2l_core.tasks.problems import canonical_name


def add_general_args(p) -> None:
    p.add_argument("--optimizer", default=None, metavar="NAME",
                   help=f"inner optimizer: {', '.join(OPTIMIZERS)} (default {DEFAULT_OPTIMIZER}; a trainability-"
                        "fractal network: the paper's gradient descent, gd, on its own kernel)")
    p.add_argument("--x", default=None, metavar="AXIS", help="hyperparameter on the x axis (default lr, "
                   "or lr_in for a network)")
    p.add_argument("--y", default=None, metavar="AXIS", help="hyperparameter on the y axis (default the "
                   "optimizer's second: momentum, b1, decay; lr_out for a network)")
    p.add_argument("--x-range", action=Range, default=None, metavar=("LO", "HI"),
                   help="x range in its display unit (default the axis' own)")
    p.add_argument("--y-range", action=Range, default=None, metavar=("LO", "HI"),
                   help="y range in its display unit (default the axis' own)")
    p.add_argument("--dtype", default=None, choices=["float32", "float64"], help="float32 (default) or float64")
    p.add_argument("--seed", type=seed, default=None, help="draws a network task's data and weights (default 0)")
    p.add_argument("--set", action="append", default=None, metavar="NAME=VALUE",
                   help="a hyperparameter off the axes, e.g. --set eps=1e-6 (repeatable)")
    p.add_argument("--init", type=real, nargs=2, default=None, metavar=("X", "Y"),
                   help="start of a 2-D task (default its own, e.g. (-1.2, 1) for rosenbrock)")
    add_seeds_arg(p)


def parse_set(items) -> dict:
    out = {}
    for item in items or ():
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise ValueError(f"--set takes NAME=VALUE, e.g. eps=1e-6; got {item!r}")
        try:
            out[name.strip()] = real(value)
        except argparse.ArgumentTypeError as e:
            raise ValueError(f"--set {name.strip()}: {value!r} is not a finite number") from e
    return out


def _check_aliases(args, x: str, y: str) -> None:
    """--lr-range and --mom-range name an axis; refused when no axis is it, or when --x-range or
    --y-range already gives that axis' range."""
    for flag, given, axis in (("--lr-range", args.lr_range, "lr"), ("--mom-range", args.mom_range, "momentum")):
        if given is None:
            continue
        if axis not in (x, y):
            refuse(flag, f"no axis is {axis} (the axes are {x} and {y}); give --x-range or --y-range")
        own = "--x-range" if axis == x else "--y-range"
        if (args.x_range if axis == x else args.y_range) is not None:
            refuse(flag, f"{own} already gives the {axis} axis' range")


def _range(args, axis, given):
    aliases = {"lr": args.lr_range, "momentum": args.mom_range}
    r = given if given is not None else aliases.get(axis.name)
    return tuple(r) if r is not None else axis.default_range


class MapPlan(NamedTuple):
    """A ``grid`` run resolved once: the grid, the kernel's call and what the file records."""

    xs: np.ndarray
    ys: np.ndarray
    x: str
    y: str
    optimizer: str
    steps: int
    summary: str
    dtype: np.dtype
    fixed: dict
    compute: Callable[[], np.ndarray]
    meta: dict
    arrays: dict
    stability: Callable[[], np.ndarray] | None = None


def run(args, save_arrays) -> int:
    """``grid``, one path for every task: the task is resolved once into a :class:`MapPlan` whose
    kernel is chosen by one dispatch (:func:`l2l_core.landscape.fractal.is_fast_path`: a
    trainability-fractal network trained by the paper's gradient descent over its own axes runs on
    its hand-written kernel; everything else on the general one, which routes the seed post's
    SGD-with-momentum grid to its own kernel), then computed, joined by its seeds and written."""
    if args.dtype == "float64":
        import jax

        jax.config.update("jax_enable_x64", True)  # the entry point's choice, made before any array
    name = canonical_name(args.problem)
    fixed = parse_set(args.set)
    plan = (_fractal_plan(args, name) if fractal.is_fast_path(name, args.optimizer, fixed)
            else _general_plan(args, fixed))
    t0 = time.perf_counter()
    z = plan.compute()
    meta = dict(plan.meta, seconds=time.perf_counter() - t0, shape=list(z.shape))
    arrays = {"loss": z, "x_values": plan.xs, "y_values": plan.ys, **plan.arrays}
    if plan.stability is not None:
        arrays["stability_x"] = plan.stability()
    if args.seeds is not None:
        if args.seed is not None:
            refuse("--seed", "--seeds gives the seeds; give one of the two")
        extra, extra_meta = seed_arrays(name, plan.optimizer, plan.x, plan.y, plan.xs, plan.ys, args.seeds,
                                        inner_steps=plan.steps, summary=plan.summary, fixed=plan.fixed,
                                        dtype=plan.dtype)
        arrays.update(extra)
        meta.update(extra_meta)
        z = arrays["loss"]
    save_arrays(args.out, arrays, meta)
    best = best_cell(z, plan.xs, plan.ys)
    shown = None if best is None else dict(zip((plan.x, plan.y, "loss"), best))
    if shown is not None and "log_lrs" in arrays:  # the seed post's names, as its files have them
        shown.update(log_lr=best[0], log_one_minus_mom=best[1])
    out = dict(meta, out=str(args.out), diverged=int(np.isnan(z).sum()), best=shown)
    if plan.summary == "converge":
        out["trained"] = float(np.mean(z < 0))
    print(json.dumps(out))
    return 0


def _general_plan(args, fixed: dict) -> MapPlan:
    """Any task of the maps with any optax optimizer (the general kernel)."""
    optimizer = args.optimizer or DEFAULT_OPTIMIZER
    seed = 0 if args.seed is None else args.seed
    task = resolve_task(args.problem, seed if isinstance(seed, int) and seed >= 0 else 0)
    axes = general.task_axes(task, optimizer)
    own = list(task.axes)
    x = args.x or (own[0] if own else "lr")
    y = args.y or (own[1] if own else [n for n in axes if n != x][0])
    if task.labels is not None:
        x0 = None
        for flag, given in (("--x0", args.x0), ("--init", args.init)):
            if given is not None:
                refuse(flag, f"{args.problem!r} starts from its own network weights (see --seed)")
    elif task.dim == 2:
        x0 = args.init
        if args.x0 is not None:
            refuse("--x0", f"{args.problem!r} is a 2-D task; give its start as --init X Y")
    elif args.init is not None:
        refuse("--init", f"it is the start of 2-D tasks and {args.problem!r} is 1-D; give --x0")
    else:
        x0 = -4.0 if args.x0 is None else args.x0
    _check_aliases(args, x, y)
    s = general.setup(task, optimizer, x, y, inner_steps=args.steps, summary=args.reduce, fixed=fixed, x0=x0,
                      dtype=args.dtype or "float32", seed=seed)
    xr, yr = _range(args, s.x_axis, args.x_range), _range(args, s.y_axis, args.y_range)
    if not (xr[0] < xr[1] and yr[0] < yr[1]):
        raise ValueError("each range needs its lower end below its upper end")
    xs, ys = np.linspace(*xr, args.res), np.linspace(*yr, args.res)
    meta = dict(problem=args.problem, optimizer=optimizer, x=x, y=y, x_unit=s.x_axis.unit, y_unit=s.y_axis.unit,
                x_range=list(xr), y_range=list(yr), steps=s.inner_steps, reduce=s.summary, dtype=s.dtype.name,
                seed=seed, fixed=s.fixed, x0=np.asarray(s.params0, dtype=float).tolist()
                if s.task.labels is None else None)
    arrays = dict(s.task.data or {})
    if s.task.problem is not None and optimizer == "sgd" and (x, y) == ("lr", "momentum"):
        arrays.update(log_lrs=xs, log_one_minus_moms=ys)  # the seed post's names for its axes
    stability = None
    if stability_applies(optimizer, x, y, rate_names=tuple(s.task.axes)):
        stability = partial(stability_edge, task, optimizer, x, y, xs, ys, fixed=s.fixed, seed=seed, x0=x0)
    return MapPlan(xs, ys, x, y, optimizer, s.inner_steps, s.summary, s.dtype, fixed,
                   partial(general.grid_of, s, xs, ys), meta, arrays, stability)


def _fractal_plan(args, name: str) -> MapPlan:
    """A trainability-fractal network (``--problem fractal_tanh``): plain gradient descent
    with one learning rate per layer, as in the paper, on its own fast kernel."""
    spec = networks.SPECS[name]
    names = fractal.AXIS_NAMES[spec.phase_space]
    own = ("lr_in", "lr_out") if spec.phase_space == "lr" else ("offset", "lr")
    if args.optimizer not in fractal.FAST_PATH_OPTIMIZERS or args.set:  # only variants with no general path
        raise ValueError(f"{name} is trained by plain gradient descent (the paper's); --optimizer and --set do "
                         "not apply")
    if (args.x or own[0], args.y or own[1]) != own:
        raise ValueError(f"{name}'s axes are --x {own[0]} --y {own[1]}")
    for flag in ("x0", "init", "lr_range", "mom_range"):
        if getattr(args, flag) is not None:
            refuse("--" + flag.replace("_", "-"), f"{name} starts from its own weights and its axes' "
                   "ranges are --x-range and --y-range")
    cap = math.isqrt(fractal.MAX_CELLS)
    if args.res > cap:
        raise ValueError(f"--res: {name} takes at most {cap} points per axis, got {args.res}")
    seed = 0 if args.seed is None else args.seed
    window = fractal.default_window(name)
    xr = tuple(args.x_range) if args.x_range is not None else window[:2]
    yr = tuple(args.y_range) if args.y_range is not None else window[2:]
    fractal.check_window((*xr, *yr))
    xs, ys = np.linspace(*xr, args.res), np.linspace(*yr, args.res)
    task = networks.make_task(name, seed=seed)
    dtype = np.dtype(np.float64 if args.dtype == "float64" else np.float32)
    meta = dict(problem=name, optimizer="gd", x=own[0], y=own[1], x_label=names[0], y_label=names[1],
                x_range=list(xr), y_range=list(yr), steps=args.steps, reduce=args.reduce,
                dtype=dtype.name, seed=seed)
    compute = partial(fractal.fractal_grid, xs, ys, task=task, inner_steps=args.steps, summary=args.reduce,
                      dtype=dtype)
    return MapPlan(xs, ys, own[0], own[1], "gd", args.steps, args.reduce, dtype, {}, compute, meta,
                   task.task_arrays())
