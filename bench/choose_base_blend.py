"""Picks the starting blend of a base-less learned optimizer and a Nesterov base path
(``LSTMConfig(base="nag")``) on validation networks, before fine-tuning it.

usage: python bench/choose_base_blend.py --checkpoint DIR [--weights 0.1 0.175 0.25 0.35]
       [--lrs 1.4 1.6 1.8] [--on heldout] [--seed 4] [--val-tasks 64] [--json]

For every (LSTM weight w, base learning rate lr) the optimizer's update is
w * (the LSTM's update) + NAG(lr, momentum 0.9). Each pair is scored as
``metatrain`` scores validation (``--on``: the meta-objective's own measure,
``heldout`` = the loss on the quarter of the training split the minibatches
never draw from), on the validation networks of ``metatrain --seed S
--val-tasks N`` (a key no ``compare`` seed produces). The test split is not
looked at. Prints every pair's score and the best, which
``metatrain --init-from DIR --base nag --base-lr LR --init-lstm-weight W`` then
fine-tunes (docs/learned_optimizer.md, "A base path").
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--checkpoint", type=Path, required=True, help="a digits_mlp checkpoint without a base path")
    ap.add_argument("--weights", type=float, nargs="+", default=[0.1, 0.175, 0.25, 0.35])
    ap.add_argument("--lrs", type=float, nargs="+", default=[1.4, 1.6, 1.8])
    ap.add_argument("--on", default="heldout", help="validation measure (a --meta-loss-on value)")
    ap.add_argument("--seed", type=int, default=4, help="metatrain --seed whose validation networks score")
    ap.add_argument("--val-tasks", type=int, default=64)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    import jax.numpy as jnp

    from l2l_core.learned.checkpoints import load_checkpoint
    from l2l_core.learned.config import preset_config
    from l2l_core.learned.lstm import with_base
    from l2l_core.learned.metatrain import validation_tasks
    from l2l_core.learned.objective import meta_training_tasks, validation_losses
    from l2l_core.runtime.setup import setup_process

    setup_process()
    start = load_checkpoint(args.checkpoint)
    if start.config.lstm.base != "none":
        raise SystemExit(f"{args.checkpoint} already has a base path")
    cfg = preset_config("full", task=start.config.task, val_tasks=args.val_tasks, meta_loss_on=args.on,
                           seed=args.seed)
    val = meta_training_tasks(validation_tasks(cfg), cfg.meta_loss_on)
    t0 = time.perf_counter()
    rows = []
    for w, lr in itertools.product(args.weights, args.lrs):
        lstm = dataclasses.replace(start.config.lstm, base="nag", base_lr=lr)
        score = validation_losses(with_base(start.params, lstm, w), val, lstm=lstm, steps=cfg.eval_steps,
                                  reduction=start.config.reduction, meta_loss_on=cfg.meta_loss_on)
        rows.append(dict(lstm_weight=w, base_lr=lr, score=float(jnp.mean(score))))
        if not args.json:
            print(f"w {w:<6g} lr {lr:<6g} {args.on} {rows[-1]['score']:.5f}", flush=True)
    best = min(rows, key=lambda r: r["score"])
    res = dict(rows=rows, best=best, on=args.on, seed=args.seed, val_tasks=args.val_tasks,
               seconds=time.perf_counter() - t0)
    if args.json:
        print(json.dumps(res))
    else:
        print(f"best: --init-lstm-weight {best['lstm_weight']:g} --base-lr {best['base_lr']:g} "
              f"({args.on} {best['score']:.5f}; {res['seconds']:.0f} s)")


if __name__ == "__main__":
    main()
