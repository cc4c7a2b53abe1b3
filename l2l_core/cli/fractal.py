"""``python -m l2l_core fractal``: the trainability-fractal image as an NPZ (or CSV).

The NPZ holds ``loss`` (shape (len(y_values), len(x_values)); the summary
``--reduce``), ``x_values`` and ``y_values`` (log10 lr_in and log10 lr_out, or
the W1 offset and log10 lr for ``fractal_offset``), ``meta`` (JSON) and the
arrays that define the task: ``task_inputs``, ``task_targets``,
``task_init_0``, ``task_init_1``; anyone can re-train a pixel from them.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

import numpy as np

from l2l_core.cli.args import Parser, Range, integer, parse, path, run_guarded, seed
from l2l_core.io.files import check_output_file, write_arrays
from l2l_core.landscape import fractal
from l2l_core.landscape.dimension import box_counting_dimension
from l2l_core.landscape.fractal import MAX_CELLS, MAX_STEPS, SUMMARIES
from l2l_core.runtime.setup import setup_process
from l2l_core.tasks.fractal_networks import DEFAULT_TASK, MAX_WIDTH, SPECS, make_task

HELP = "the trainability fractal of a small network (lr_in x lr_out)"


def add_fractal_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--task", default=DEFAULT_TASK, choices=list(SPECS),
                   help=f"network task (default {DEFAULT_TASK}, the paper's)")
    p.add_argument("--width", type=integer(1, MAX_WIDTH), default=16, help="hidden width (default 16, the paper's)")
    p.add_argument("--seed", type=seed, default=0, help="seed of the data and initial weights (default 0)")
    p.add_argument("--res", type=integer(2, math.isqrt(MAX_CELLS)), default=256,
                   help=f"pixels per axis (default 256, max {math.isqrt(MAX_CELLS)})")
    p.add_argument("--steps", type=integer(1, MAX_STEPS), default=100,
                   help="gradient-descent steps per run (default 100)")
    p.add_argument("--reduce", default="converge", choices=list(SUMMARIES),
                   help="pixel value: converge (the paper's measure) or a loss summary")
    p.add_argument("--x-range", action=Range, default=None, metavar=("LO", "HI"),
                   help="log10 lr_in range (offset range for fractal_offset); default -3 6")
    p.add_argument("--y-range", action=Range, default=None, metavar=("LO", "HI"),
                   help="log10 lr_out range (log10 lr for fractal_offset); default -3 6")
    p.add_argument("--dtype", default="float32", choices=["float32", "float64"],
                   help="float32 (default) or float64 (the paper's; about 2-3x slower)")
    p.add_argument("--dimension", action="store_true", help="also report the boundary's box-counting dimension")
    p.add_argument("--out", type=path, default=Path("fractal.npz"), help=".npz output")
    p.add_argument("--force", action="store_true", help="replace --out if it exists")


def run_fractal_cli(args) -> int:
    import jax

    check_output_file(args.out, force=args.force)
    task = make_task(args.task, width=args.width, seed=args.seed)
    lo, hi, ylo, yhi = fractal.default_window(task)
    window = fractal.check_window((*(args.x_range or (lo, hi)), *(args.y_range or (ylo, yhi))))
    xs, ys = np.linspace(*window[:2], args.res), np.linspace(*window[2:], args.res)
    t0 = time.perf_counter()
    if args.dtype == "float64":
        with jax.enable_x64(True):
            z = fractal.fractal_grid(xs, ys, task=task, inner_steps=args.steps, summary=args.reduce, dtype=np.float64)
    else:
        z = fractal.fractal_grid(xs, ys, task=task, inner_steps=args.steps, summary=args.reduce)
    seconds = time.perf_counter() - t0
    meta = dict(task=args.task, width=args.width, seed=args.seed, steps=args.steps, reduce=args.reduce,
                dtype=args.dtype, window=list(window), axes=list(fractal.AXIS_NAMES[task.spec.phase_space]),
                seconds=seconds, runs_per_second=z.size / seconds, shape=list(z.shape))
    if args.reduce == "converge":
        meta["trained_fraction"] = float((z < 0).mean())
    else:
        meta["diverged"] = int(np.isnan(z).sum())
    if args.dimension:
        try:
            fit = box_counting_dimension(z if args.reduce == "converge" else np.where(np.isnan(z), 1.0, -1.0))
            meta["dimension"] = dict(value=fit.dimension, sizes=fit.sizes.tolist(), counts=fit.counts.tolist(),
                                     residual=fit.residual)
        except ValueError as e:  # the image is still worth writing
            meta["dimension"] = dict(error=str(e))
    write_arrays(args.out, {"loss": z, "x_values": xs, "y_values": ys, **task.task_arrays()}, meta)
    print(json.dumps(dict(meta, out=str(args.out))))
    return 0


def main(argv: list[str]) -> int:
    """``python -m l2l_core fractal ...`` on its own: without the rest of the engine (optax,
    the learned optimizers, the general landscape), about half a second less per process."""
    parser = Parser(prog="python -m l2l_core fractal", description=HELP)
    add_fractal_args(parser)
    args = parse(parser, argv)
    if isinstance(args, int):
        return args
    setup_process()
    return run_guarded(run_fractal_cli, args)
