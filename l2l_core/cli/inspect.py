"""``inspect``: one pixel opened. One training run of a task by an optimizer at raw hyperparameter
values, with the top-k Hessian eigenvalues along it against the optimizer's stability threshold and,
with ``--slice N``, the landscape around its end point (:func:`l2l_core.probe.run.inspect_run`).

The NPZ holds ``loss``, ``sharpness_steps``, ``sharpness``, ``params``, ``threshold``; with ``--slice``
``center``, ``dir_a``, ``dir_b``, ``slice_a``, ``slice_b``, ``slice_loss`` (and the PCA slice, the path
on it and the start -> end interpolation); for an MLP task ``task_inputs``, ``task_targets``,
``layer_sizes``; and a JSON ``meta``. ``--json`` prints one object with ``seconds`` per part.
"""

from __future__ import annotations

import argparse
import json
import math

import numpy as np

from l2l_core.cli.args import integer, path, positive, real, refuse, seed
from l2l_core.io.files import check_output_file, write_arrays
from l2l_core.probe.run import inspect_run, resolve

MAX_STEPS = 10_000
MAX_EIGS = 20
MAX_SLICE = 401


def add_inspect_args(p: argparse.ArgumentParser) -> None:
    """The flags of ``python -m l2l_core inspect``."""
    p.add_argument("--problem", required=True, metavar="NAME|FORMULA",
                   help="task: a registry name (log_sin, rosenbrock, tanh_net, ...), digits_mlp, digits_fc_tanh, "
                   "or a formula in x (or x and y)")
    p.add_argument("--optimizer", default="sgd", metavar="NAME",
                   help="inner optimizer: sgd, nesterov, adam, rmsprop, adamw (default sgd)")
    p.add_argument("--set", action="append", default=None, metavar="NAME=VALUE",
                   help="a raw hyperparameter value, e.g. --set lr=0.1 --set momentum=0 (repeatable; the rest keep "
                   "the optimizer's defaults; sgd with momentum=0 is plain gradient descent)")
    p.add_argument("--steps", type=integer(1, MAX_STEPS), default=1000, help="training steps (default 1000)")
    p.add_argument("--seed", type=seed, default=0, help="draws a network's weights and the slice directions")
    p.add_argument("--sharpness-every", type=integer(1, MAX_STEPS), default=100,
                   help="steps between curvature checkpoints (default 100)")
    p.add_argument("--eigs", type=integer(1, MAX_EIGS), default=1,
                   help=f"top Hessian eigenvalues per checkpoint (default 1, max {MAX_EIGS})")
    p.add_argument("--slice", type=integer(0, MAX_SLICE), default=0, metavar="N",
                   help=f"N x N slices around the end point (0: none; 2 to {MAX_SLICE})")
    p.add_argument("--slice-span", type=positive, default=1.0, metavar="S",
                   help="the filter-normalized slice covers [-S, S] on each direction (default 1)")
    p.add_argument("--dtype", default="float32", choices=["float32", "float64"], help="float32 (default) or float64")
    p.add_argument("--x0", type=real, default=None, help="start of a 1-D task (default its own)")
    p.add_argument("--init", type=real, nargs=2, default=None, metavar=("X", "Y"),
                   help="start of a 2-D task (default its own)")
    p.add_argument("--out", type=path, required=True, help=".npz output")
    p.add_argument("--force", action="store_true", help="replace --out if it exists")
    p.add_argument("--json", action="store_true", help="print one JSON object (with seconds per part)")


def parse_set(items) -> dict[str, float]:
    """``--set NAME=VALUE`` items as {name: float}; no evaluation, finite numbers only."""
    out: dict[str, float] = {}
    for item in items or ():
        name, sep, value = str(item).partition("=")
        name = name.strip()
        if not sep or not name:
            raise ValueError(f"--set takes NAME=VALUE, e.g. lr=0.1; got {item!r}")
        if not name.replace("_", "").isalnum():
            raise ValueError(f"--set {name!r}: a hyperparameter name is letters, digits and '_'")
        try:
            v = float(value.strip())
        except ValueError:
            raise ValueError(f"--set {name}: {value!r} is not a number") from None
        if not math.isfinite(v):
            raise ValueError(f"--set {name}: must be a finite number, got {value!r}")
        if name in out:
            raise ValueError(f"--set {name} is given twice")
        out[name] = v
    return out


def run_inspect_cli(args) -> int:
    """Runs ``inspect`` from parsed flags; writes the NPZ atomically; prints a JSON line."""
    if args.out.suffix != ".npz":
        raise ValueError(f"--out must end in .npz, got {str(args.out)!r}")
    check_output_file(args.out, force=args.force)
    hparams = parse_set(args.set)
    task = resolve(args.problem, args.seed)
    dim = int(getattr(task, "dim", 0) or 0)
    is_net = getattr(task, "labels", None) is not None or hasattr(task, "layer_sizes")
    x0 = None
    if args.x0 is not None:
        if is_net or dim != 1:
            refuse("--x0", f"it is the start of 1-D tasks and {args.problem!r} is not one" +
                   ("; give --init X Y" if dim == 2 and not is_net else ""))
        x0 = [args.x0]
    if args.init is not None:
        if is_net or dim != 2:
            refuse("--init", f"it is the start of 2-D tasks and {args.problem!r} is not one")
        x0 = list(args.init)
    result = inspect_run(task, args.optimizer, hparams, steps=args.steps, seed=args.seed,
                         sharpness_every=args.sharpness_every, eigs=args.eigs, slice_n=args.slice,
                         slice_span=args.slice_span, dtype=args.dtype, x0=x0)
    seconds = result.pop("seconds")
    meta = dict(result.pop("meta"), problem=args.problem, seconds=seconds)
    write_arrays(args.out, result, meta)
    sharp = result["sharpness"][:, 0]
    summary = dict(out=str(args.out), problem=args.problem, optimizer=meta["optimizer"], hparams=meta["hparams"],
                   steps=meta["steps"], threshold=_num(result["threshold"]), threshold_of=meta["threshold_of"],
                   final_loss=_num(result["loss"][-1]), sharpness_start=_num(sharp[0]),
                   sharpness_end=_num(sharp[-1]), diverged=bool(not np.isfinite(result["loss"][-1])),
                   seconds=seconds)
    if args.json:
        print(json.dumps(summary))
    else:
        print(f"wrote {args.out}: final loss {summary['final_loss']}, sharpness {summary['sharpness_start']} -> "
              f"{summary['sharpness_end']} (threshold {summary['threshold']} on the {meta['threshold_of']}); "
              f"seconds {json.dumps(seconds)}")
    return 0


def _num(v):
    v = float(v)
    return v if math.isfinite(v) else None
