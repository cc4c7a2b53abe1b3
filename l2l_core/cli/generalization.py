"""CLI command ``generalization``: the shipped learned optimizers on every cell of the map."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from l2l_core.cli.args import integer, path, seed
from l2l_core.io.files import atomic_write, check_output_file, resolved
from l2l_core.learned.baselines import MAX_LR_POINTS
from l2l_core.learned.generalization import CELLS, failures, generalization_map
from l2l_core.tasks.quadratics import MAX_BATCH


def add_generalization_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--seed", type=seed, default=0, help="task seed of every cell (default 0)")
    p.add_argument("--cells", nargs="+", default=None, choices=[c.key for c in CELLS], metavar="CELL",
                   help=f"cells to compute (default all: {' '.join(c.key for c in CELLS)})")
    p.add_argument("--batch", type=integer(1, MAX_BATCH), default=None, help="tasks per cell (default: the family's)")
    p.add_argument("--lr-points", type=integer(2, MAX_LR_POINTS), default=None,
                   help=f"learning rates per baseline (default: the family's; at most {MAX_LR_POINTS})")
    p.add_argument("--out", type=path, default=None,
                   help="also write the map: .json the whole record (what the page shows), else the table as CSV")
    p.add_argument("--force", action="store_true", help="replace --out if it exists")
    p.add_argument("--json", action="store_true", help="print one JSON object")


def _relative(path: str) -> str:
    """A checkpoint's path relative to the working folder when it lies inside it (a portable record)."""
    p, here = resolved(path, "checkpoint"), resolved(Path.cwd(), "the working folder")
    return str(p.relative_to(here)) if p.is_relative_to(here) else str(p)


def command_line(args) -> str:
    """The command that reproduces this map (recorded in its file and shown by the page)."""
    parts = ["python -m l2l_core generalization", f"--seed {args.seed}"]
    if args.cells:
        parts.append("--cells " + " ".join(args.cells))
    if args.batch is not None:
        parts.append(f"--batch {args.batch}")
    if args.lr_points is not None:
        parts.append(f"--lr-points {args.lr_points}")
    if args.out is not None:
        parts.append(f"--out {args.out}")
    return " ".join(parts)


def run_generalization_cli(args) -> int:
    from l2l_core.viz.generalization import generalization_csv

    def progress(row):
        if not args.json:
            parts = ", ".join(f"{k} {v['verdict']}" + (f" {v['ratio']:.2f}x" if v["ratio"] is not None else "")
                              for k, v in row["learned"].items())
            print(f"{row['label']}: best baseline {row['best_baseline']} {row['best_baseline_final']:.4g}; "
                  f"{parts} ({row['seconds']:.1f} s)", file=sys.stderr)

    if args.out is not None:  # checked before the quarter of an hour of work, not after
        check_output_file(args.out, force=args.force)
    res = generalization_map(seed=args.seed, cells=args.cells, batch=args.batch, lr_points=args.lr_points,
                             callback=progress)
    res["failures"] = failures(res)
    res["optimizers"] = {k: _relative(v) for k, v in res["optimizers"].items()}
    res["command"] = command_line(args)
    res["created"] = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    if args.out is not None:
        out = Path(args.out)
        body = json.dumps(res, indent=1) + "\n" if out.suffix == ".json" else generalization_csv(res)
        atomic_write(out, body)
    if args.json:
        print(json.dumps(res))
    else:
        print("where it fails: " + ("; ".join(res["failures"]) or "nowhere on this map"))
    return 0
