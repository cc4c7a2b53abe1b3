"""``audit``: a real tuner's sparse view held against the dense map; and ``grid --seeds``.

``python -m l2l_core audit --problem P --optimizer O --x AXIS --y AXIS --trials N
--sampler tpe|random|cmaes --seed S [--res R] --out F.npz [--json]`` runs an
Optuna study of N trials on the map's own objective (each trial one run of the
engine) and writes, atomically, ``trial_x``, ``trial_y`` (display units, in the
order taken), ``trial_value`` (the engine's value, NaN where the run diverged),
the dense ``loss`` with ``x_values`` and ``y_values``, ``contour`` (the trials
interpolated onto that grid, as a tuning dashboard draws them) and ``meta``;
``--json`` prints ``best_trial``, ``best_dense`` and what the sparse view gets
wrong (``regret``, ``beaten_by``, ``false_good``, ``false_diverging``).

``grid --seeds S1 S2 ...`` (:func:`add_seeds_arg`, :func:`seed_arrays`): one map
per seed (``loss_seeds``), ``p_diverge``, ``spread``, and ``loss`` the mean over
the seeds that did not diverge.
"""

from __future__ import annotations

import json
import time

import numpy as np

from l2l_core.cli.args import Range, integer, path, positive, seed
from l2l_core.inner.optimizers import DEFAULT_OPTIMIZER, OPTIMIZERS
from l2l_core.inner.unroll import MAX_STEPS
from l2l_core.io.files import check_output_file, write_arrays
from l2l_core.landscape import fractal, general
from l2l_core.landscape.seeds import MAX_SEEDS, fractal_seed_grid, seed_grid
from l2l_core.landscape.summaries import SUMMARIES
from l2l_core.tasks.general import resolve_task
from l2l_core.tuning import audit as tuning

HELP = "a real tuner (Optuna) on the map's objective, held against the dense map"


def add_audit_args(p) -> None:
    p.add_argument("--problem", default="log_sin", metavar="NAME|FORMULA",
                   help="task: a registry name (log_sin, rosenbrock, tanh_net, ...) or a formula (default log_sin)")
    p.add_argument("--optimizer", default=DEFAULT_OPTIMIZER, metavar="NAME",
                   help=f"inner optimizer: {', '.join(OPTIMIZERS)} (default {DEFAULT_OPTIMIZER})")
    p.add_argument("--x", default=None, metavar="AXIS", help="hyperparameter on the x axis (default lr, lr_in "
                   "for a network)")
    p.add_argument("--y", default=None, metavar="AXIS", help="hyperparameter on the y axis (default the "
                   "optimizer's second, lr_out for a network)")
    p.add_argument("--x-range", action=Range, default=None, metavar=("LO", "HI"),
                   help="x range in its display unit (default the axis' own)")
    p.add_argument("--y-range", action=Range, default=None, metavar=("LO", "HI"),
                   help="y range in its display unit (default the axis' own)")
    p.add_argument("--trials", type=integer(1, tuning.MAX_TRIALS), default=50,
                   help="the tuner's trials (default 50; 25, 50 and 100 are the table's)")
    p.add_argument("--sampler", default="tpe", choices=list(tuning.SAMPLERS), help="Optuna sampler (default tpe)")
    p.add_argument("--seed", type=seed, default=0, help="the map's seed (a network's data and weights) and the "
                   "sampler's (default 0)")
    p.add_argument("--tuner-seed", type=seed, default=None, help="the sampler's seed, if not --seed")
    p.add_argument("--res", type=integer(2, 1024), default=64, help="points per axis of the dense map (default 64)")
    p.add_argument("--steps", type=integer(1, MAX_STEPS), default=50, help="inner steps per run (default 50)")
    p.add_argument("--reduce", default="mean", choices=list(SUMMARIES), help="outer-loss summary (default mean)")
    p.add_argument("--penalty", type=positive, default=tuning.DIVERGED_PENALTY,
                   help=f"what the tuner is told for a diverged run (default {tuning.DIVERGED_PENALTY:g})")
    p.add_argument("--out", type=path, default="audit.npz", help=".npz output (default audit.npz)")
    p.add_argument("--force", action="store_true", help="replace --out if it exists")
    p.add_argument("--json", action="store_true", help="print one JSON object")


def _axes(task, optimizer, x, y):
    if x and y:
        return x, y
    dx, dy = general.default_axes(task, optimizer)
    x = x or dx
    return x, y or (dy if dy != x else dx)


def audit_arrays(args) -> tuple[dict, dict, dict]:
    """(arrays, meta, report) of an ``audit`` run from parsed flags."""
    task = resolve_task(args.problem, args.seed)
    x, y = _axes(task, args.optimizer, args.x, args.y)
    t0 = time.perf_counter()
    r = tuning.audit(args.problem, args.optimizer, x, y, trials=args.trials, sampler=args.sampler, seed=args.seed,
                     tuner_seed=args.tuner_seed, res=args.res, x_range=args.x_range, y_range=args.y_range,
                     inner_steps=args.steps, summary=args.reduce, penalty=args.penalty)
    seconds = time.perf_counter() - t0
    arrays = {k: np.asarray(r[k]) for k in ("trial_x", "trial_y", "trial_value", "loss", "x_values", "y_values",
                                           "contour")}
    report = dict(best_trial=r["best_trial"], best_dense=r["best_dense"], regret=r["regret"],
                  beaten_by=r["beaten_by"], false_good=r["false_good"], false_diverging=r["false_diverging"],
                  good_threshold=r["good_threshold"], trials_diverged=r["trials_diverged"],
                  diverging=r["diverging"], penalty=args.penalty, good_quantile=tuning.GOOD_QUANTILE)
    meta = dict(problem=args.problem, optimizer=args.optimizer, x=x, y=y, x_range=list(r["x_range"]),
                y_range=list(r["y_range"]), trials=args.trials, sampler=args.sampler, seed=args.seed,
                tuner_seed=args.seed if args.tuner_seed is None else args.tuner_seed, res=args.res,
                steps=args.steps, reduce=args.reduce, interpolation="linear (Delaunay), nearest outside the hull",
                seconds=dict(r["seconds"], total=seconds), **report)
    return arrays, meta, report


def run_audit_cli(args) -> int:
    check_output_file(args.out, force=args.force)
    arrays, meta, report = audit_arrays(args)
    write_arrays(args.out, arrays, meta)
    if args.json:
        print(json.dumps(dict(report, out=str(args.out), seconds=meta["seconds"])))
    else:
        bt, bd = report["best_trial"], report["best_dense"]
        print(f"{args.trials} {args.sampler} trials on {args.problem} / {args.optimizer} ({meta['x']} x {meta['y']})")
        print(f"best trial: {bt}")
        print(f"dense best: {bd}")
        print(f"regret {report['regret']}; dense cells better than the best trial: {report['beaten_by']}")
        print(f"the interpolated picture calls {100 * report['false_good']:.1f}% of the plane good where runs "
              f"diverge, and {100 * report['false_diverging']:.1f}% diverging where runs are good")
        print(f"wrote {args.out}")
    return 0


# -- grid --seeds -----------------------------------------------------------------


def add_seeds_arg(p) -> None:
    """``--seeds S1 S2 ...`` for ``grid``."""
    p.add_argument("--seeds", type=seed, nargs="+", default=None, metavar="S",
                   help=f"a map per seed (a network's data and weights; at most {MAX_SEEDS}): adds loss_seeds, "
                   "p_diverge and spread, and loss becomes the mean over the seeds that did not diverge")


def seed_arrays(task, optimizer, x_axis, y_axis, x_values, y_values, seeds, *, inner_steps=50, summary="mean",
                fixed=None, dtype=np.float32) -> tuple[dict, dict]:
    """What ``grid --seeds`` adds to its NPZ and its meta: arrays ``loss`` (the mean over
    non-diverged seeds, NaN where all diverged), ``loss_seeds`` (S, ny, nx; each ``grid --seed
    S``), ``p_diverge``, ``spread``, ``seeds``; meta ``seeds``, ``robust_best``,
    ``single_best``, ``seeds_seconds``. ``task``: any task of the maps; a trainability-fractal
    network trained by gradient descent (``optimizer`` ``gd``) runs on its own kernel over its own axes."""
    t0 = time.perf_counter()
    if fractal.is_fast_path(task, optimizer, fixed):  # the paper's gradient descent on its own kernel
        r = fractal_seed_grid(x_values, y_values, seeds, task=task, inner_steps=inner_steps, summary=summary,
                              dtype=dtype)
    else:
        r = seed_grid(task, optimizer, x_axis, y_axis, x_values, y_values, seeds, inner_steps=inner_steps,
                      summary=summary, fixed=fixed, dtype=dtype)
    arrays = {k: r[k] for k in ("loss", "loss_seeds", "p_diverge", "spread", "seeds")}
    meta = dict(seeds=[int(s) for s in r["seeds"]], robust_best=r["robust_best"], single_best=r["single_best"],
                seeds_seconds=time.perf_counter() - t0)
    return arrays, meta


def add_seeds_to_grid_npz(path, seeds, *, force: bool = True) -> dict:
    """Adds the seed arrays to a ``grid`` NPZ already written (read with ``allow_pickle=False``,
    rewritten atomically); its ``meta`` names the task and axes. Returns the new meta."""
    with np.load(path, allow_pickle=False) as f:
        arrays = {k: f[k] for k in f.files}
    meta = json.loads(str(arrays.pop("meta")))
    fixed = meta.get("fixed") or None
    add, extra = seed_arrays(meta["problem"], meta["optimizer"], meta["x"], meta["y"], arrays["x_values"],
                             arrays["y_values"], seeds, inner_steps=meta["steps"], summary=meta["reduce"],
                             fixed=fixed, dtype=meta.get("dtype", "float32"))
    arrays.update(add)
    meta.update(extra)
    write_arrays(path, arrays, meta)
    return meta
