"""The 2000 x 2000 lr x momentum landscape: the project against its peers, side by side.

Each round runs, one after the other on the same (shared, noisy) machine: the
fused SIMD C loop (the practical limit), the numpy peer, optionally numba, and
the project's ``meta_loss_grid`` warm; the best of the rounds is reported with
ratios to the project. The seed-style grid (a Python loop traced in jit, ~1
minute) and its lax.scan rewrite run once unless --skip-seed.

usage: python bench/bench_grid.py [--n 2000] [--rounds 3] [--skip-seed] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import _peers  # noqa: E402


def project_grid(n: int, problem: str = "log_sin"):
    from l2l_core.landscape import meta_loss_grid

    lrs, omm = np.linspace(-3, 2, n), np.linspace(-3, 0, n)
    t = time.perf_counter()
    z = meta_loss_grid(lrs, omm, problem=problem)
    return time.perf_counter() - t, z


def clipped_mean(z) -> float:
    return float(np.nanmean(np.clip(z, None, 10)))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--skip-seed", action="store_true", help="skip the ~1 minute seed-style peer")
    ap.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    args = ap.parse_args(argv)

    t0 = time.perf_counter()
    import l2l_core.landscape  # noqa: F401
    from l2l_core.runtime.setup import setup_process

    setup_process()  # as app.py and the CLI do
    import_s = time.perf_counter() - t0
    first_s, z = project_grid(args.n)
    rows = {"project": {"first": first_s, "warm": [], "mean": clipped_mean(z), "import": import_s}}
    for name in ("c_limit_2threads", "c_limit_1thread", "numpy", "numba"):
        rows[name] = {"warm": [], "first": None, "mean": None}
    for _ in range(args.rounds):
        for name, threads in (("c_limit_2threads", None), ("c_limit_1thread", 1)):
            r = _peers.c_limit(args.n, threads)
            if r:
                rows[name]["warm"].append(r["warm"])
                rows[name]["mean"] = r["mean"]
        for name in ("numpy", "numba"):
            r = _peers.seed_peer(args.n, name)
            if r:
                rows[name]["warm"].append(r["warm"])
                rows[name]["first"] = min(r["first"], rows[name]["first"] or np.inf)
                rows[name]["mean"] = r["mean"]
        for _ in range(2):
            rows["project"]["warm"].append(project_grid(args.n)[0])
    if not args.skip_seed:
        for name in ("scan", "seed"):
            r = _peers.seed_peer(args.n, name)
            if r:
                rows[name] = {"first": r["first"], "warm": [r["warm"]], "mean": r["mean"]}

    result = {"n": args.n, "rounds": args.rounds, "rows": {}}
    best_project = min(rows["project"]["warm"])
    for name, r in rows.items():
        if not r["warm"]:
            continue
        best = min(r["warm"])
        result["rows"][name] = {
            "first_s": r["first"], "warm_best_s": best, "warm_all_s": r["warm"],
            "mean_clipped": r["mean"], "ratio_to_project": best / best_project,
        }
    result["rows"]["project"]["import_s"] = rows["project"]["import"]
    if args.json:
        print(json.dumps(result, indent=1))
        return 0
    print(f"{args.n}x{args.n} grid, 50 steps; best of {args.rounds} rounds (warm) ; "
          f"ratio = peer time / project time")
    print(f"{'variant':18s} {'first s':>9s} {'warm s':>9s} {'ratio':>7s} {'mean(clip 10)':>14s}")
    for name, r in result["rows"].items():
        first = f"{r['first_s']:.3f}" if r["first_s"] is not None else "-"
        print(f"{name:18s} {first:>9s} {r['warm_best_s']:9.3f} {r['ratio_to_project']:7.2f} "
              f"{r['mean_clipped']:14.6f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
