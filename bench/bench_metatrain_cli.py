"""Seconds per meta-step as a user sees them: ``metatrain --json`` (validation
included) against the seed-style peer (../shared/bench/seed_metatrain.py), in
the same run.

usage: python bench/bench_metatrain_cli.py [--preset short] [--task quadratic] [--peer-steps 10] [--json]

The peer runs before and after ours and the faster of its two runs is used,
so a noisy neighbour is never counted in our favour.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile

from bench_metatrain import ROOT, peer_seconds


def ours(preset: str, task: str) -> dict:
    with tempfile.TemporaryDirectory() as out:
        cmd = [sys.executable, "-m", "l2l_core", "metatrain", "--task", task, "--preset", preset, "--seed", "1",
               "--out", out, "--json"]
        res = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=True)
        return json.loads(res.stdout)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", default="short")
    ap.add_argument("--task", default="quadratic")
    ap.add_argument("--peer-steps", type=int, default=10)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    peer_a = peer_seconds(args.peer_steps)
    run = ours(args.preset, args.task)
    peer_b = peer_seconds(args.peer_steps)
    peer = min(peer_a, peer_b)
    sps = run["seconds_per_meta_step"]
    res = dict(ours_seconds_per_meta_step=sps, ours_seconds=run["seconds"], ours_compile_seconds=run["compile_seconds"],
               meta_steps=run["meta_steps_done"], peer_seconds_per_meta_step=peer, peer_runs=[peer_a, peer_b],
               speedup=peer / sps, load_average=os.getloadavg()[0])
    if args.json:
        print(json.dumps(res))
    else:
        print(f"metatrain --preset {args.preset} --json: {sps:.4f} s per meta-step, validation included "
              f"({run['meta_steps_done']} meta-steps in {run['seconds']:.1f} s, "
              f"compile {run['compile_seconds']:.1f} s)")
        print(f"peer: {peer:.4f} s per meta-step (runs: {peer_a:.3f}, {peer_b:.3f})")
        print(f"speedup: {peer / sps:.1f}x  (load average {res['load_average']:.1f})")


if __name__ == "__main__":
    main()
