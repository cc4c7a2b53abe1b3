"""Cold start: a new process imports the engine and computes the 2000 x 2000 grid.

Runs fresh Python processes, each timing ``import l2l_core.landscape`` and its
first ``meta_loss_grid`` call: once with the persistent compilation cache
switched off (L2L_JAX_CACHE=0: everything compiles), then with a fresh cache
directory (first process fills it), then several times with the filled cache
(what a server restart or a CLI call sees). The fused C limit and the numpy
peer run in the same session for scale.

usage: python bench/bench_cold_start.py [--n 2000] [--repeats 3] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
import _peers  # noqa: E402

CHILD = r"""
import sys, time, json
t0 = time.perf_counter()
import numpy as np
import l2l_core.landscape as L
from l2l_core.runtime.setup import setup_process
setup_process()  # what app.py and the CLI do at start (the persistent compile cache)
t1 = time.perf_counter()
n = int(sys.argv[1])
z = L.meta_loss_grid(np.linspace(-3, 2, n), np.linspace(-3, 0, n))
t2 = time.perf_counter()
z = L.meta_loss_grid(np.linspace(-3, 2, n), np.linspace(-3, 0, n))
t3 = time.perf_counter()
print(json.dumps({"import_s": t1 - t0, "first_grid_s": t2 - t1, "total_s": t2 - t0,
                  "warm_s": t3 - t2, "mean": float(np.nanmean(np.clip(z, None, 10)))}))
"""


def child(n: int, cache: str) -> dict:
    env = dict(os.environ, L2L_JAX_CACHE=cache, JAX_PLATFORMS=os.environ.get("JAX_PLATFORMS", "cpu"),
               PYTHONPATH=str(ROOT))
    t = __import__("time").perf_counter()
    out = subprocess.run([sys.executable, "-c", CHILD, str(n)], capture_output=True, text=True,
                         env=env, cwd=ROOT, check=True).stdout
    wall = __import__("time").perf_counter() - t
    r = json.loads(out.strip().splitlines()[-1])
    r["process_wall_s"] = wall  # interpreter start + import + first grid + one warm grid
    return r


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    rows = {}
    rows["no persistent cache"] = child(args.n, "0")
    with tempfile.TemporaryDirectory() as d:
        rows["empty cache (fills it)"] = child(args.n, d)
        warm = [child(args.n, d) for _ in range(args.repeats)]
    rows["filled cache (best)"] = min(warm, key=lambda r: r["total_s"])
    c = _peers.c_limit(args.n)
    npy = _peers.seed_peer(args.n, "numpy")
    result = {"n": args.n, "rows": rows, "c_limit_warm_s": c and c["warm"],
              "numpy_first_s": npy and npy["first"], "numpy_warm_s": npy and npy["warm"]}
    if args.json:
        print(json.dumps(result, indent=1))
        return 0
    print(f"cold start, {args.n}x{args.n} grid: import + first call in a new process (seconds)")
    print(f"{'case':26s} {'import':>7s} {'1st grid':>9s} {'total':>7s} {'warm':>7s}")
    for name, r in rows.items():
        print(f"{name:26s} {r['import_s']:7.3f} {r['first_grid_s']:9.3f} {r['total_s']:7.3f} {r['warm_s']:7.3f}")
    if c:
        print(f"peer: fused C limit warm {c['warm']:.3f} s (ratio of filled-cache total: "
              f"{rows['filled cache (best)']['total_s'] / c['warm']:.1f}x)")
    if npy:
        print(f"peer: numpy first call {npy['first']:.3f} s, warm {npy['warm']:.3f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
