"""CLI command ``reproduce`` (registered in ``cli.COMMANDS``); the work is in
:mod:`l2l_core.cli.figures`, imported only when the command runs (plotly and the learned
optimizers are slow to import, and no other command needs them)."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys

from l2l_core.cli.args import path, positive
from l2l_core.io.files import check_output_dir


def add_reproduce_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", type=path, required=True, help="folder for the PNGs, data/*.npz and headline.json")
    p.add_argument("--small", action="store_true",
                   help="shrink every experiment (400-point sweep, 160x160 grid, 300 ES steps, 16 tasks): for tests")
    p.add_argument("--checkpoint", type=path, default=None,
                   help="learned-optimizer checkpoint (default: the shipped checkpoints/default)")
    p.add_argument("--scale", type=positive, default=None, help="PNG scale factor (default 2; 1 with --small)")
    p.add_argument("--docs", type=path, default=None, metavar="DIR",
                   help="also write shrunk copies (0.6x, 256 colours) of every PNG and headline.json to DIR, "
                        "e.g. docs/figures")
    p.add_argument("--json", action="store_true", help="print headline.json to stdout when done")


def run_reproduce_cli(args) -> int:
    check_output_dir(args.out)
    if args.docs is not None:
        check_output_dir(args.docs, what="--docs")
    from l2l_core.cli import figures as reproduce

    if args.checkpoint is not None:  # asked for by name: a checkpoint that cannot be used is an error, before any work
        reproduce.load_checkpoint(args.checkpoint)

    config = reproduce.SMALL if args.small else reproduce.FULL
    if args.scale is not None:
        config = dataclasses.replace(config, scale=args.scale)
    log = (lambda s: print(s, file=sys.stderr)) if args.json else print
    head = reproduce.reproduce(args.out, config, checkpoint=args.checkpoint, log=log)
    if args.docs is not None:
        reproduce.write_docs_copies(args.out, args.docs, head)
    skipped = head.get("skipped", {})
    if args.json:
        print(json.dumps(head))
    else:
        print(f"wrote {len(head['figures'])} figures and headline.json to {args.out} "
              f"in {head['seconds']['total']:.1f} s")
        for name, why in skipped.items():
            print(f"skipped {name}: {why}")
    return 0

