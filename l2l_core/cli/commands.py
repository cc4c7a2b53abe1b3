"""Command line: ``python -m l2l_core <command> ...``.

Each command is a pair (add_arguments, run) in :data:`COMMANDS`; ``run``
returns a process exit code. Bad arguments print a one-line error and exit 2.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

import numpy as np

from l2l_core import outer
from l2l_core.cli import args as vocab
from l2l_core.cli import audit as audit_cli
from l2l_core.cli import grid as grid_cli
from l2l_core.cli.args import Parser, Range, integer, path, positive, real, refuse, run_guarded
from l2l_core.cli.fractal import HELP as FRACTAL_HELP
from l2l_core.cli.fractal import add_fractal_args, run_fractal_cli
from l2l_core.cli.generalization import add_generalization_args, run_generalization_cli
from l2l_core.cli.inspect import add_inspect_args, run_inspect_cli
from l2l_core.cli.learned import add_compare_args, add_metatrain_args, run_compare_cli, run_metatrain_cli
from l2l_core.cli.reproduce import add_reproduce_args, run_reproduce_cli
from l2l_core.inner.optimizers import OPTIMIZERS
from l2l_core.inner.unroll import MAX_STEPS
from l2l_core.io.files import check_output_file, write_arrays
from l2l_core.landscape import grid as landscape
from l2l_core.landscape.general import default_axes, task_axes
from l2l_core.landscape.summaries import POST_SUMMARIES, SUMMARIES
from l2l_core.outer.general import run_outer_general
from l2l_core.runtime.setup import setup_process
from l2l_core.tasks.general import resolve_task
from l2l_core.tasks.problems import DEFAULT_PROBLEM, PROBLEMS

MAX_RES = math.isqrt(landscape.MAX_CELLS)  # points per axis of a grid


def _add_problem_args(p: argparse.ArgumentParser, reduce_choices=POST_SUMMARIES) -> None:
    p.add_argument(
        "--problem",
        default=DEFAULT_PROBLEM,
        metavar="NAME|FORMULA",
        help=f"inner loss: a preset ({', '.join(PROBLEMS)}; default {DEFAULT_PROBLEM}) "
        "or a formula in x, e.g. \"log(x**2 + 1 + sin(3*x)) + 1.5\"",
    )
    p.add_argument("--x0", type=real, default=None, help="initial inner parameter of a 1-D problem (default -4)")
    p.add_argument("--steps", type=integer(1, MAX_STEPS), default=50, help="inner steps in the unroll (default 50)")
    p.add_argument("--reduce", default="mean", choices=list(reduce_choices) if reduce_choices else None,
                   help="outer-loss summary: " + ", ".join(reduce_choices or SUMMARIES))


DEFAULT_X0 = -4.0


def _problem_kwargs(args) -> dict:
    return dict(problem=args.problem, x0=_x0(args), inner_steps=args.steps, summary=args.reduce)


def _x0(args) -> float:
    return DEFAULT_X0 if args.x0 is None else args.x0


def _problem_meta(args) -> dict:
    """The problem as the files' ``meta`` records it, under the flags' names."""
    return dict(problem=args.problem, x0=_x0(args), steps=args.steps, reduce=args.reduce)


def _add_out_arg(p: argparse.ArgumentParser, default: str) -> None:
    p.add_argument("--out", type=path, default=Path(default), help=".npz or .csv output")
    p.add_argument("--force", action="store_true", help="replace --out if it exists")


# -- grid ---------------------------------------------------------------------


def _grid_args(p):
    p.add_argument("--res", type=integer(2, MAX_RES), default=500,
                   help=f"points per axis (default 500, max {MAX_RES})")
    p.add_argument("--lr-range", action=Range, default=None, metavar=("LO", "HI"),
                   help="log10 learning-rate range (default -3 2); the lr axis' range")
    p.add_argument("--mom-range", action=Range, default=None, metavar=("LO", "HI"),
                   help="log10(1 - momentum) range (default -3 0); the momentum axis' range")
    _add_problem_args(p, reduce_choices=None)
    _add_out_arg(p, "grid.npz")
    grid_cli.add_general_args(p)


def _grid_run(args) -> int:
    check_output_file(args.out, force=args.force)
    return grid_cli.run(args, write_arrays)


# -- sweep --------------------------------------------------------------------


def _sweep_args(p):
    p.add_argument("--points", type=integer(2, landscape.MAX_CELLS), default=5000,
                   help="learning rates (default 5000, as the post)")
    p.add_argument("--lr-range", action=Range, default=(-3.0, 2.0), metavar=("LO", "HI"),
                   help="log10 learning-rate range (default -3 2)")
    p.add_argument("--momentum", type=real, default=0.9, help="fixed momentum (default 0.9)")
    _add_problem_args(p)
    _add_out_arg(p, "sweep.npz")


def _sweep_run(args) -> int:
    check_output_file(args.out, force=args.force)
    log_lrs = np.linspace(*args.lr_range, args.points)
    t0 = time.perf_counter()
    loss = landscape.lr_sweep(log_lrs, args.momentum, **_problem_kwargs(args))
    seconds = time.perf_counter() - t0
    meta = dict(_problem_meta(args), momentum=args.momentum, seconds=seconds)
    write_arrays(args.out, {"log_lrs": log_lrs, "loss": loss}, meta)
    i = int(np.nanargmin(loss)) if np.isfinite(loss).any() else None
    print(json.dumps(dict(meta, out=str(args.out), diverged=int(np.isnan(loss).sum()),
                          best_log_lr=None if i is None else float(log_lrs[i]),
                          best_loss=None if i is None else float(loss[i]))))
    return 0


# -- outer ----------------------------------------------------------------------


MAX_SEEDS = 64  # seeds of one outer command: each is a whole outer run


def _outer_args(p):
    p.add_argument("--method", default="grad", choices=list(outer.METHODS), help="outer method (default grad)")
    p.add_argument("--init", type=real, nargs=2, default=None, metavar=("X", "Y"),
                   help="start on the two axes, in their display units (default -2 -0.5: log10 lr, "
                        "log10(1-momentum), the post's; other axes: the middle of their ranges)")
    p.add_argument("--steps", type=integer(1, outer.MAX_OUTER_STEPS), default=100, help="outer steps (default 100)")
    p.add_argument("--seeds", type=vocab.seed, nargs="+", default=None, metavar="SEED",
                   help=f"several seeds (at most {MAX_SEEDS}): one summary per seed, instead of --seed")
    p.add_argument("--seed", type=vocab.seed, default=None, help="PRNG seed, and a network task's draw (default 0)")
    p.add_argument("--lr", type=positive, default=None, help="outer learning rate (default 0.01)")
    p.add_argument("--clip", type=positive, default=None, help="clip each gradient entry to +-CLIP (default 10)")
    p.add_argument("--std", type=positive, default=None, help="ES/PES/random perturbation std (default 0.1)")
    p.add_argument("--std-final", type=positive, default=None, help="ES: anneal std geometrically to this")
    p.add_argument("--pairs", type=integer(1, outer.MAX_PAIRS), default=None,
                   help="ES/PES antithetic pairs per step (default 1)")
    p.add_argument("--truncation-length", type=integer(1, MAX_STEPS), default=None,
                   help="PES/TBPTT truncation (default 10)")
    p.add_argument("--problem", default="log_sin", metavar="NAME|FORMULA",
                   help="the task: any task of the maps or a formula (default log_sin, the post's)")
    p.add_argument("--optimizer", default="sgd", metavar="NAME",
                   help=f"inner optimizer: {', '.join(OPTIMIZERS)} (default sgd, with momentum)")
    p.add_argument("--x", default=None, metavar="AXIS", help="first hyperparameter (default lr, or lr_in)")
    p.add_argument("--y", default=None, metavar="AXIS",
                   help="second hyperparameter (default the optimizer's second, or lr_out)")
    p.add_argument("--set", action="append", default=None, metavar="NAME=VALUE",
                   help="a hyperparameter off the axes, e.g. --set eps=1e-6 (repeatable)")
    p.add_argument("--reduce", default="mean", choices=list(SUMMARIES), help="outer-loss summary (default mean)")
    p.add_argument("--x0", type=real, default=None, help="initial inner parameter of a 1-D task (default -4)")
    p.add_argument("--inner-steps", type=integer(1, MAX_STEPS), default=50,
                   help="inner steps in the unroll (default 50)")
    p.add_argument("--json", action="store_true", help="print one JSON object (with the trajectory)")


def _outer_axes(args, task) -> tuple[str, str, dict]:
    """The two axes (default: the first view's) and every axis of (task, optimizer)."""
    axes = task_axes(task, args.optimizer)
    dx, dy = default_axes(task, args.optimizer)
    x = args.x or (dx if args.y != dx else dy)
    y = args.y or next(a for a in (dy, dx, *axes) if a != x)
    for flag, name in (("--x", x), ("--y", y)):
        if name not in axes:
            refuse(flag, f"{name!r} is not a hyperparameter of ({args.problem}, {args.optimizer}); choose from "
                   f"{list(axes)}")
    return x, y, axes


def _outer_run(args) -> int:
    """One path for every task: the seed post's plane (SGD, lr x momentum, a 1-D task) goes
    through its own scan inside ``run_outer_general``, as it always has."""
    opts = {k: v for k, v in dict(lr=args.lr, clip=args.clip, std=args.std, std_final=args.std_final,
                                  pairs=args.pairs, truncation_length=args.truncation_length).items()
            if v is not None}
    if args.seeds is not None and args.seed is not None:
        refuse("--seed", "--seeds gives every seed of the run; give one or the other")
    if args.seeds is not None and len(args.seeds) > MAX_SEEDS:
        raise ValueError(f"--seeds: at most {MAX_SEEDS} seeds, got {len(args.seeds)}")
    seeds = args.seeds if args.seeds else [0 if args.seed is None else args.seed]
    task = resolve_task(args.problem, seeds[0])
    x, y, axes = _outer_axes(args, task)
    if task.dim != 1 and args.x0 is not None:
        refuse("--x0", f"{args.problem!r} is not a 1-D task; it starts from its own point")
    x0 = (DEFAULT_X0 if args.x0 is None else args.x0) if task.dim == 1 else None
    fixed = grid_cli.parse_set(args.set)
    if args.init is not None:
        init = tuple(args.init)
    elif (x, y) == ("lr", "momentum"):
        init = (-2.0, -0.5)
    else:
        init = tuple(sum(axes[a].default_range) / 2 for a in (x, y))
    results = []
    for seed in seeds:
        t0 = time.perf_counter()
        run = run_outer_general(args.method, args.problem, args.optimizer, x, y, init, args.steps, seed=seed,
                                      inner_steps=args.inner_steps, summary=args.reduce, fixed=fixed, x0=x0,
                                      **opts)
        seconds = time.perf_counter() - t0
        end = run.trajectory[-1]
        results.append(dict(seed=seed, seconds=round(seconds, 4), end=[float(end[0]), float(end[1])],
                            **{f"end_{a}": float(axes[a].to_value(float(v))) for a, v in zip((x, y), end)},
                            end_loss=run.final_loss,
                            start_loss=float(run.losses[0]) if np.isfinite(run.losses[0]) else None,
                            trajectory=run.trajectory.tolist() if args.json else None))
    finals = np.array([r["end_loss"] for r in results], dtype=float)
    options = dict(opts, problem=args.problem, x0=x0, inner_steps=args.inner_steps, optimizer=args.optimizer,
                   x=x, y=y, reduce=args.reduce, fixed=fixed)
    summary = dict(method=args.method, init=list(init), steps=args.steps, options=options,
                   end_loss_median=float(np.nanmedian(finals)) if np.isfinite(finals).any() else None,
                   end_loss_mean=float(np.nanmean(finals)) if np.isfinite(finals).any() else None,
                   runs=results)
    if args.json:
        print(json.dumps(summary))
    else:
        for r in results:
            print(f"seed {r['seed']}: end ({axes[x].title}, {axes[y].title}) = ({r['end'][0]:.4f}, "
                  f"{r['end'][1]:.4f}) outer loss {r['end_loss']:.4f}  [{r['seconds']:.3f} s]")
        print(f"median end loss over {len(results)} seed(s): {summary['end_loss_median']}")
    return 0


COMMANDS = {
    "grid": ("the 2-D meta-loss landscape over two hyperparameters (default lr x momentum)", _grid_args,
             _grid_run),
    "sweep": ("outer loss against learning rate at a fixed momentum", _sweep_args, _sweep_run),
    "metatrain": ("meta-train the LSTM optimizer (truncated BPTT)", add_metatrain_args, run_metatrain_cli),
    "compare": ("learned optimizer vs tuned SGD/Adam/RMSprop/NAG", add_compare_args, run_compare_cli),
    "generalization": ("the shipped learned optimizers on every cell of the generalization map",
                       add_generalization_args, run_generalization_cli),
    "outer": ("outer-train two hyperparameters (default lr, momentum) by grad, ES, PES, TBPTT or random "
              "search", _outer_args, _outer_run),
    "reproduce": ("regenerate every figure of both posts as PNG, plus headline.json", add_reproduce_args,
                  run_reproduce_cli),
    "fractal": (FRACTAL_HELP, add_fractal_args, run_fractal_cli),
    "audit": (audit_cli.HELP, audit_cli.add_audit_args, audit_cli.run_audit_cli),
    "inspect": ("one pixel opened: a training run's loss, curvature against its stability threshold and the "
                "parameter-space slice around its end", add_inspect_args, run_inspect_cli),
}


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="python -m l2l_core", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name, (help_text, add_arguments, _) in COMMANDS.items():
        add_arguments(sub.add_parser(name, help=help_text, description=help_text))
    return parser


def main(argv: list[str] | None = None) -> int:
    args = vocab.parse(build_parser(), argv)
    if isinstance(args, int):
        return args
    setup_process()
    return run_guarded(COMMANDS[args.command][2], args)
