"""Seeds as an axis: 8 seeds of the tanh network's lr_in x lr_out map, vmapped, against one seed.

In one process, one after the other: one seed's map (``hyper_grid``, the page's
kernel), the 8 seeds vmapped in one kernel (``seed_grid``) and 8 separate maps
(``seed_grid(vmap=False)``, one ``hyper_grid`` per seed). All warm; the best of
the rounds is reported with the ratios (target: 8 seeds vmapped <= 4x one seed).
``--task fractal_tanh`` does the same for the trainability-fractal network
(``fractal_grid`` of one seed, ``fractal_seed_grid`` of all, and a loop of
``fractal_grid``), the paper's window, 100 steps.

usage: python bench/bench_seeds.py [--task tanh_net|fractal_tanh] [--n 128] [--seeds 8] [--steps 50]
                                   [--rounds 3] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def timed(fn):
    t = time.perf_counter()
    z = fn()
    return time.perf_counter() - t, z


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--task", default="tanh_net", choices=["tanh_net", "fractal_tanh"])
    ap.add_argument("--n", type=int, default=128)
    ap.add_argument("--seeds", type=int, default=8)
    ap.add_argument("--steps", type=int, default=None, help="default 50 (tanh_net), 100 (fractal_tanh)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)

    from l2l_core.runtime.setup import setup_process

    setup_process()
    import jax

    from l2l_core.landscape.fractal import fractal_grid
    from l2l_core.landscape.general import hyper_grid
    from l2l_core.landscape.seeds import fractal_seed_grid, seed_grid
    from l2l_core.tasks.fractal_networks import make_task

    seeds = list(range(args.seeds))
    if args.task == "tanh_net":
        args.steps = args.steps or 50
        xs = ys = np.linspace(-3.0, 1.0, args.n)
        kw = dict(inner_steps=args.steps)
        runs = {
            "one_seed": lambda: hyper_grid("tanh_net", "sgd", "lr_in", "lr_out", xs, ys, seed=0, **kw),
            "seeds_vmapped": lambda: seed_grid("tanh_net", "sgd", "lr_in", "lr_out", xs, ys, seeds,
                                               **kw)["loss_seeds"],
            "seeds_loop": lambda: seed_grid("tanh_net", "sgd", "lr_in", "lr_out", xs, ys, seeds, vmap=False,
                                            **kw)["loss_seeds"],
        }
    else:
        args.steps = args.steps or 100
        xs = ys = np.linspace(-3.0, 6.0, args.n)
        kw = dict(inner_steps=args.steps)
        tasks = [make_task(args.task, seed=s) for s in seeds]
        runs = {
            "one_seed": lambda: fractal_grid(xs, ys, task=tasks[0], **kw),
            "seeds_vmapped": lambda: fractal_seed_grid(xs, ys, seeds, task=args.task, **kw)["loss_seeds"],
            "seeds_loop": lambda: np.stack([fractal_grid(xs, ys, task=t, **kw) for t in tasks]),
        }
    first = {k: timed(fn)[0] for k, fn in runs.items()}  # compile
    best: dict[str, float] = {}
    z = {}
    for _ in range(args.rounds):
        for k, fn in runs.items():
            s, z[k] = timed(fn)
            best[k] = min(best.get(k, np.inf), s)
    a, b = z["seeds_vmapped"], z["seeds_loop"]
    if args.task != "tanh_net":  # converge: the sign is the phase
        a, b = np.where(a > 0, np.nan, a), np.where(b > 0, np.nan, b)
    both = np.isfinite(a) & np.isfinite(b)
    out = dict(
        task=args.task, n=args.n, seeds=args.seeds, steps=args.steps, rounds=args.rounds, backend=jax.default_backend(),
        devices=len(jax.devices()), seconds=best, first_call_seconds=first,
        vmapped_over_one_seed=best["seeds_vmapped"] / best["one_seed"],
        loop_over_one_seed=best["seeds_loop"] / best["one_seed"],
        loop_over_vmapped=best["seeds_loop"] / best["seeds_vmapped"],
        divergence_flips=int((np.isnan(a) != np.isnan(b)).sum()),
        max_rel_diff=float(np.max(np.abs(a[both] - b[both]) / np.maximum(np.abs(b[both]), 1e-12))),
    )
    if args.json:
        print(json.dumps(out))
    else:
        for k, v in best.items():
            print(f"{k:16s} {v:8.3f} s   (first call {first[k]:.2f} s)")
        print(f"{args.seeds} seeds vmapped / one seed: {out['vmapped_over_one_seed']:.2f}x  (target <= 4)")
        print(f"{args.seeds} separate maps / one seed: {out['loop_over_one_seed']:.2f}x")
        print(f"vmapped vs separate maps: {out['divergence_flips']} cells diverge in one only; finite cells "
              f"agree to {out['max_rel_diff']:.1e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
