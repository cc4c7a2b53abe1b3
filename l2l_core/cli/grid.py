"""``grid`` over any two hyperparameters of any (task, optimizer): the flags beyond
today's lr x momentum grid, and the run that uses them.

Without these flags (and with a 1-D problem) ``grid`` is the seed post's
lr x momentum landscape, computed and saved as before.
"""

from __future__ import annotations

import argparse
import json
import math
import time

import numpy as np

from l2l_core.cli.args import Range, real, refuse, seed
from l2l_core.cli.audit import add_seeds_arg, seed_arrays
from l2l_core.expr import formula_variables
from l2l_core.inner.optimizers import DEFAULT_OPTIMIZER, OPTIMIZERS
from l2l_core.landscape import fractal, general
from l2l_core.landscape.grid import best_cell
from l2l_core.probe.thresholds import stability_applies, stability_edge
from l2l_core.tasks import fractal_networks as networks
from l2l_core.tasks.general import NETWORK_TASKS, TASKS, resolve_task
from l2l_core.tasks.problems import canonical_name

NEW_FLAGS = ("optimizer", "x", "y", "x_range", "y_range", "dtype", "seed", "set", "init", "seeds")


def add_general_args(p) -> None:
    p.add_argument("--optimizer", default=None, metavar="NAME",
                   help=f"inner optimizer: {', '.join(OPTIMIZERS)} (default {DEFAULT_OPTIMIZER})")
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


def _is_1d(problem: str) -> bool:
    problem = canonical_name(problem)
    if problem in networks.SPECS or problem in NETWORK_TASKS:
        return False
    if problem in TASKS:
        return TASKS[problem].problem is not None
    try:
        return "y" not in formula_variables(problem)
    except ValueError:
        return True  # let today's path say what is wrong with it


def uses_general(args) -> bool:
    return any(getattr(args, f) is not None for f in NEW_FLAGS) or not _is_1d(args.problem)


def _parse_set(items) -> dict:
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


def run_general(args, save_arrays) -> int:
    if args.dtype == "float64":
        import jax

        jax.config.update("jax_enable_x64", True)  # the entry point's choice, made before any array
    if args.problem in networks.SPECS:
        return _run_network(args, save_arrays)
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
    fixed = _parse_set(args.set)
    s = general.setup(task, optimizer, x, y, inner_steps=args.steps, summary=args.reduce, fixed=fixed, x0=x0,
                      dtype=args.dtype or "float32", seed=seed)
    xr, yr = _range(args, s.x_axis, args.x_range), _range(args, s.y_axis, args.y_range)
    if not (xr[0] < xr[1] and yr[0] < yr[1]):
        raise ValueError("each range needs its lower end below its upper end")
    xs, ys = np.linspace(*xr, args.res), np.linspace(*yr, args.res)
    t0 = time.perf_counter()
    z = general.grid_of(s, xs, ys)
    seconds = time.perf_counter() - t0
    meta = dict(problem=args.problem, optimizer=optimizer, x=x, y=y, x_unit=s.x_axis.unit, y_unit=s.y_axis.unit,
                x_range=list(xr), y_range=list(yr), steps=s.inner_steps, reduce=s.summary, dtype=s.dtype.name,
                seed=seed, fixed=s.fixed, x0=np.asarray(s.params0, dtype=float).tolist()
                if s.task.labels is None else None, seconds=seconds, shape=list(z.shape))
    arrays = {"loss": z, "x_values": xs, "y_values": ys}
    arrays.update(s.task.data or {})
    if stability_applies(optimizer, x, y, rate_names=tuple(s.task.axes)):
        arrays["stability_x"] = stability_edge(task, optimizer, x, y, xs, ys, fixed=s.fixed, seed=seed, x0=x0)
    if args.seeds is not None:
        if args.seed is not None:
            refuse("--seed", "--seeds gives the seeds; give one of the two")
        extra, extra_meta = seed_arrays(args.problem, optimizer, x, y, xs, ys, args.seeds, inner_steps=s.inner_steps,
                                        summary=s.summary, fixed=fixed, dtype=s.dtype)
        arrays.update(extra)
        meta.update(extra_meta)
        z = arrays["loss"]
    save_arrays(args.out, arrays, meta)
    best = best_cell(z, xs, ys)
    print(json.dumps(dict(meta, out=str(args.out), diverged=int(np.isnan(z).sum()),
                          best=None if best is None else dict(zip((x, y, "loss"), best)))))
    return 0


def _run_network(args, save_arrays) -> int:
    """A trainability-fractal network (``--problem fractal_tanh``): plain gradient descent
    with one learning rate per layer, as in the paper, on its own fast kernel."""
    spec = networks.SPECS[args.problem]
    names = fractal.AXIS_NAMES[spec.phase_space]
    own = ("lr_in", "lr_out") if spec.phase_space == "lr" else ("offset", "lr")
    if args.optimizer not in (None, "sgd") or args.set:
        raise ValueError(f"{args.problem} is trained by plain gradient descent (the paper's); "
                         "--optimizer and --set do not apply")
    if (args.x or own[0], args.y or own[1]) != own:
        raise ValueError(f"{args.problem}'s axes are --x {own[0]} --y {own[1]}")
    for flag in ("x0", "init", "lr_range", "mom_range"):
        if getattr(args, flag) is not None:
            refuse("--" + flag.replace("_", "-"), f"{args.problem} starts from its own weights and its axes' "
                   "ranges are --x-range and --y-range")
    cap = math.isqrt(fractal.MAX_CELLS)
    if args.res > cap:
        raise ValueError(f"--res: {args.problem} takes at most {cap} points per axis, got {args.res}")
    seed = 0 if args.seed is None else args.seed
    window = fractal.default_window(args.problem)
    xr = tuple(args.x_range) if args.x_range is not None else window[:2]
    yr = tuple(args.y_range) if args.y_range is not None else window[2:]
    fractal.check_window((*xr, *yr))
    xs, ys = np.linspace(*xr, args.res), np.linspace(*yr, args.res)
    task = networks.make_task(args.problem, seed=seed)
    t0 = time.perf_counter()
    z = fractal.fractal_grid(xs, ys, task=task, inner_steps=args.steps, summary=args.reduce,
                             dtype=np.float64 if args.dtype == "float64" else np.float32)
    seconds = time.perf_counter() - t0
    meta = dict(problem=args.problem, optimizer="gd", x=own[0], y=own[1], x_label=names[0], y_label=names[1],
                x_range=list(xr), y_range=list(yr), steps=args.steps, reduce=args.reduce,
                dtype=args.dtype or "float32", seed=seed, seconds=seconds, shape=list(z.shape))
    arrays = {"loss": z, "x_values": xs, "y_values": ys, **task.task_arrays()}
    if args.seeds is not None:
        if args.seed is not None:
            refuse("--seed", "--seeds gives the seeds; give one of the two")
        extra, extra_meta = seed_arrays(args.problem, "sgd", own[0], own[1], xs, ys, args.seeds,
                                        inner_steps=args.steps, summary=args.reduce,
                                        dtype=np.float64 if args.dtype == "float64" else np.float32)
        arrays.update(extra)
        meta.update(extra_meta)
        z = arrays["loss"]
    save_arrays(args.out, arrays, meta)
    print(json.dumps(dict(meta, out=str(args.out), diverged=int(np.isnan(z).sum()),
                          trained=float(np.mean(z < 0)) if args.reduce == "converge" else None)))
    return 0
