"""CLI command ``generalization``: the shipped learned optimizers on every cell of the map."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from l2l_core.learned.generalization import CELLS, failures, generalization_map


def add_generalization_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--seed", type=int, default=0, help="task seed of every cell (default 0)")
    p.add_argument("--cells", nargs="+", default=None, choices=[c.key for c in CELLS], metavar="CELL",
                   help=f"cells to compute (default all: {' '.join(c.key for c in CELLS)})")
    p.add_argument("--batch", type=int, default=None, help="tasks per cell (default: the family's)")
    p.add_argument("--lr-points", type=int, default=None, help="learning rates per baseline (default: the family's)")
    p.add_argument("--out", type=Path, default=None, help="also write the table as CSV")
    p.add_argument("--json", action="store_true", help="print one JSON object")


def run_generalization_cli(args) -> int:
    from l2l_core.learned.checkpoints import _atomic_write  # the one atomic write
    from l2l_core.viz.generalization import generalization_csv

    def progress(row):
        if not args.json:
            parts = ", ".join(f"{k} {v['verdict']}" + (f" {v['ratio']:.2f}x" if v["ratio"] is not None else "")
                              for k, v in row["learned"].items())
            print(f"{row['label']}: best baseline {row['best_baseline']} {row['best_baseline_final']:.4g}; "
                  f"{parts} ({row['seconds']:.1f} s)", file=sys.stderr)

    res = generalization_map(seed=args.seed, cells=args.cells, batch=args.batch, lr_points=args.lr_points,
                             callback=progress)
    res["failures"] = failures(res)
    if args.out is not None:
        _atomic_write(Path(args.out), generalization_csv(res).encode())
    if args.json:
        print(json.dumps(res))
    else:
        print("where it fails: " + ("; ".join(res["failures"]) or "nowhere on this map"))
    return 0
