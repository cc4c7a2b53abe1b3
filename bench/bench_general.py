"""Adam's lr x b1 landscape on Rosenbrock (100 steps) against SGD with momentum and numpy.

Each round runs, one after the other on the same machine: the general kernel
(``hyper_grid``) for Adam lr x b1 on Rosenbrock, the same kernel for SGD with
momentum lr x momentum on Rosenbrock, the seed post's fast kernel
(``meta_loss_grid``, lr x momentum on log_sin, same steps) and a
straightforward numpy loop (vectorized over the grid, one Python iteration per
inner step, the Adam update written out). All warm; the best of the rounds is
reported, with the ratios the targets are stated in (Adam <= 3x the SGD-momentum
grid, >= 5x faster than numpy).

usage: python bench/bench_general.py [--n 1000] [--steps 100] [--rounds 3] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def numpy_adam_rosenbrock(log_lrs, log_omb1, steps, b2=0.999, eps=1e-8, dtype=np.float32):
    """Mean Rosenbrock loss of Adam from (-1.2, 1) at every (lr, b1) cell, numpy over the grid."""
    lr = (10.0 ** log_lrs)[None, :].astype(dtype)
    b1 = (1.0 - 10.0 ** log_omb1)[:, None].astype(dtype)
    shape = (len(log_omb1), len(log_lrs))
    x, y = np.full(shape, -1.2, dtype), np.full(shape, 1.0, dtype)
    mx, my, vx, vy = (np.zeros(shape, dtype) for _ in range(4))
    acc = np.zeros(shape, dtype)
    b1t, b2t = np.ones_like(b1), dtype(1.0)
    with np.errstate(all="ignore"):
        for _ in range(steps):
            r = y - x * x
            acc += (1 - x) ** 2 + 100 * r * r
            gx, gy = -2 * (1 - x) - 400 * x * r, 200 * r
            mx, my = b1 * mx + (1 - b1) * gx, b1 * my + (1 - b1) * gy
            vx, vy = b2 * vx + (1 - b2) * gx * gx, b2 * vy + (1 - b2) * gy * gy
            b1t, b2t = b1t * b1, b2t * dtype(b2)
            c1, c2 = 1 - b1t, 1 - b2t
            x = x - lr * (mx / c1) / (np.sqrt(vx / c2) + eps)
            y = y - lr * (my / c1) / (np.sqrt(vy / c2) + eps)
        out = acc / steps
        return np.where(np.isfinite(out) & np.isfinite(x) & np.isfinite(y), out, np.nan)


def timed(fn):
    t = time.perf_counter()
    z = fn()
    return time.perf_counter() - t, z


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)

    from l2l_core.runtime.setup import setup_process

    setup_process()
    from l2l_core.landscape import meta_loss_grid
    from l2l_core.landscape.general import hyper_grid

    n, T = args.n, args.steps
    lrs, omb = np.linspace(-4, 1, n), np.linspace(-3, 0, n)
    lrs_sgd, omm = np.linspace(-4, 0, n), np.linspace(-3, 0, n)
    runs = {
        "adam_rosenbrock": lambda: hyper_grid("rosenbrock", "adam", "lr", "b1", lrs, omb, inner_steps=T),
        "sgd_rosenbrock": lambda: hyper_grid("rosenbrock", "sgd", "lr", "momentum", lrs_sgd, omm, inner_steps=T),
        "sgd_fast_log_sin": lambda: meta_loss_grid(np.linspace(-3, 2, n), omm, steps=T),
        "numpy_adam_rosenbrock": lambda: numpy_adam_rosenbrock(lrs, omb, T),
        "numpy64_adam_rosenbrock": lambda: numpy_adam_rosenbrock(lrs, omb, T, dtype=np.float64),
    }
    first = {k: timed(fn)[0] for k, fn in runs.items() if not k.startswith("numpy")}  # compile
    best: dict[str, float] = {}
    z = {}
    for _ in range(args.rounds):
        for k, fn in runs.items():
            s, z[k] = timed(fn)
            best[k] = min(best.get(k, np.inf), s)
    ours, peer = z["adam_rosenbrock"], z["numpy_adam_rosenbrock"]
    agree = np.isfinite(ours) & np.isfinite(peer)
    rel = np.abs(ours - peer) / np.maximum(np.abs(peer), 1e-6)
    out = dict(
        n=n, steps=T, rounds=args.rounds, seconds=best, first_call_seconds=first,
        adam_over_sgd_rosenbrock=best["adam_rosenbrock"] / best["sgd_rosenbrock"],
        adam_over_sgd_fast=best["adam_rosenbrock"] / best["sgd_fast_log_sin"],
        numpy_over_adam=best["numpy_adam_rosenbrock"] / best["adam_rosenbrock"],
        numpy64_over_adam=best["numpy64_adam_rosenbrock"] / best["adam_rosenbrock"],
        cells_agreeing_with_numpy_1e_3=float(np.mean(rel[agree] < 1e-3)),
    )
    if args.json:
        print(json.dumps(out))
    else:
        for k, v in best.items():
            print(f"{k:24s} {v:8.3f} s   (first call {first.get(k, v):.2f} s)")
        print(f"Adam / SGD-momentum (same kernel, Rosenbrock): {out['adam_over_sgd_rosenbrock']:.2f}x  (target <= 3)")
        print(f"Adam / SGD-momentum (fast kernel, log_sin):    {out['adam_over_sgd_fast']:.2f}x")
        print(f"numpy (float32) / Adam:                         {out['numpy_over_adam']:.1f}x  (target >= 5)")
        print(f"numpy (float64) / Adam:                         {out['numpy64_over_adam']:.1f}x")
        print(f"cells where Adam matches numpy to 1e-3:         {out['cells_agreeing_with_numpy_1e_3']:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
