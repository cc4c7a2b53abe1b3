"""The paper's Table 1 (box-counting dimension of the trainability edge per variant), measured here.

For each variant: the top view at KEY² pixels, then DEPTH key-frame steps (each
halving the view around the edge pixel nearest the centre, ``boundary_window``,
the paper's zoom), then the final frame at RES² pixels, whose edge is box-counted
(boxes of side 1 .. RES/8). Precision "auto": float32 while it resolves the
window, float64 beyond. Prints one JSON line per variant, then a table.

usage: python bench/bench_fractal_table1.py [--res 256] [--key 64] [--depth 12] [--steps 100]
                                           [--tasks fractal_linear ...]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from l2l_core.landscape import fractal  # noqa: E402
from l2l_core.landscape.dimension import box_counting_dimension  # noqa: E402
from l2l_core.runtime.setup import setup_process  # noqa: E402
from l2l_core.tasks.fractal_networks import SPECS  # noqa: E402


def deep_frame(task: str, res: int, key: int, depth: int, steps: int) -> dict:
    t0 = time.perf_counter()
    window = fractal.default_window(task)
    reached = 0
    for _ in range(depth):
        _, _, z, _ = fractal.fractal_zoom(window, key, task=task, inner_steps=steps)
        nxt = fractal.boundary_window(z["converge"], window)
        if nxt is None:
            break
        window, reached = nxt, reached + 1
    _, _, z, precision = fractal.fractal_zoom(window, res, task=task, inner_steps=steps)
    sign = z["converge"]
    fit = box_counting_dimension(sign)
    return dict(task=task, paper=SPECS[task].paper_dimension, dimension=round(fit.dimension, 3),
                residual=round(fit.residual, 3), sizes=fit.sizes.tolist(), counts=fit.counts.tolist(),
                trained=round(float((sign < 0).mean()), 3), depth=reached, width=window[1] - window[0],
                window=list(window), precision=precision, res=res, seconds=round(time.perf_counter() - t0, 1))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--res", type=int, default=256)
    ap.add_argument("--key", type=int, default=64)
    ap.add_argument("--depth", type=int, default=12)
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--tasks", nargs="+", default=["fractal_linear", "fractal_relu", "fractal_single",
                                                   "fractal_minibatch", "fractal_tanh", "fractal_offset"])
    args = ap.parse_args()
    setup_process()
    rows = []
    for task in args.tasks:
        rows.append(deep_frame(task, args.res, args.key, args.depth, args.steps))
        print(json.dumps(rows[-1]), flush=True)
    print(f"{'variant':18s} {'paper':>6s} {'ours':>6s} {'resid':>6s} {'trained':>7s} {'depth':>5s} {'width':>9s} "
          f"{'prec':>7s} {'s':>6s}")
    for r in rows:
        print(f"{r['task']:18s} {r['paper']:6.2f} {r['dimension']:6.3f} {r['residual']:6.3f} {r['trained']:7.3f} "
              f"{r['depth']:5d} {r['width']:9.3g} {r['precision']:>7s} {r['seconds']:6.1f}")


if __name__ == "__main__":
    main()
