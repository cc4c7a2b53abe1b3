"""The trainability fractal: the project's CLI against peer_fractal.py, both as whole processes.

In one run, one after the other on the same machine:
1. the paper setup (fractal_tanh, width 16, 272 points), RES^2 pixels, STEPS steps,
   float32: ``python -m l2l_core fractal`` and ``peer_fractal.py --npz`` on the very
   task the CLI wrote (so both train the same networks), each timed as a whole
   process (start-up, imports, compile, compute, exit); the sign images are compared;
2. in-process, warm (second call): the single-datapoint width-8 variant at 512^2, and
   the paper setup's first coarse image at 32^2 and 64^2.

usage: python bench/bench_fractal.py [--res 128] [--steps 100] [--skip-peer] [--json]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _peers import SHARED_BENCH  # noqa: E402


def timed(cmd: list[str]) -> tuple[float, str]:
    t0 = time.perf_counter()
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    took = time.perf_counter() - t0
    if out.returncode != 0:
        raise RuntimeError(f"{cmd[:3]} failed: {out.stderr[-2000:]}")
    return took, out.stdout


def warm(fn, *args, **kwargs) -> float:
    fn(*args, **kwargs)
    t0 = time.perf_counter()
    fn(*args, **kwargs)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--res", type=int, default=128)
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--skip-peer", action="store_true")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    report: dict = dict(res=args.res, steps=args.steps)
    with tempfile.TemporaryDirectory() as tmp:
        npz = Path(tmp) / "fractal.npz"
        ours, _ = timed([sys.executable, "-m", "l2l_core", "fractal", "--task", "fractal_tanh", "--res", str(args.res),
                         "--steps", str(args.steps), "--reduce", "converge", "--out", str(npz)])
        report["ours_process_s"] = ours
        if not args.skip_peer:
            peer, text = timed([sys.executable, str(SHARED_BENCH / "peer_fractal.py"), str(args.res),
                                str(args.steps), "--npz", str(npz)])
            report["peer_process_s"] = peer
            report["speedup"] = peer / ours
            report["peer_trained_fraction"] = float(text.split("converged fraction ")[1].split()[0])
        report["ours_trained_fraction"] = float((np.load(npz)["loss"] < 0).mean())

    from l2l_core.landscape import fractal
    from l2l_core.runtime.setup import setup_process

    setup_process()
    x512 = np.linspace(-3, 6, 512)
    report["single_w8_512_warm_s"] = warm(fractal.fractal_summaries, x512, x512, task="fractal_single", width=8,
                                          steps=args.steps)
    for n in (32, 64):
        xs = np.linspace(-3, 6, n)
        report[f"paper_{n}_warm_s"] = warm(fractal.fractal_summaries, xs, xs, steps=args.steps)
    if args.json:
        print(json.dumps(report))
    else:
        for k, v in report.items():
            print(f"{k:28s} {v:.3f}" if isinstance(v, float) else f"{k:28s} {v}")


if __name__ == "__main__":
    main()
