"""One meta-step (5 x 20 unroll, batch 128, dim 10) of ours against the seed-style
peer (../shared/bench/seed_metatrain.py), measured in the same run.

usage: python bench/bench_metatrain.py [--peer-steps 10] [--steps 30] [--json]

Ours is timed as ``metatrain`` runs it: warm chunks of meta-steps, tasks drawn
inside the jit, meta-updates included; on a CPU with two cores or more each
truncation's two halves side by side (``L2L_META_SPLIT=1``: one jitted scan). The peer is run as a
subprocess before and after ours, and the faster of its two runs is used,
so that a noisy neighbour is never counted in our favour.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
PEER = Path(os.environ.get("L2L_SHARED", ROOT.parent / "shared")) / "bench" / "seed_metatrain.py"


def peer_seconds(steps: int) -> float:
    out = subprocess.run([sys.executable, str(PEER), str(steps)], capture_output=True, text=True, check=True).stdout
    return float(re.search(r"([0-9.]+) s per meta-step", out).group(1))


def ours_seconds(steps: int, chunk: int = 10) -> tuple[float, float]:
    import dataclasses

    import jax

    from l2l_core.learned.config import preset_config
    from l2l_core.learned.lstm import init_meta_params
    from l2l_core.learned.meta_step import TrainState, meta_optimizer, run_chunk, run_chunk_split, split_ways
    from l2l_core.runtime.setup import setup_process

    setup_process()  # as app.py and the CLI do

    cfg = preset_config("full", chunk=chunk)
    structure = dataclasses.replace(cfg, meta_steps=1, seed=0, chunk=1, val_tasks=1, eval_steps=1)
    key = jax.random.PRNGKey(0)
    params = init_meta_params(key, cfg.lstm)
    state = TrainState(params, meta_optimizer(cfg).init(params), key)
    if split_ways(structure) == 2:  # as metatrain runs it on a multi-core CPU
        def run(state):
            return run_chunk_split(state, chunk, cfg=structure, length=chunk).result()
    else:
        def run(state):
            return jax.block_until_ready(run_chunk(state, chunk, cfg=structure, length=chunk))
    t0 = time.perf_counter()
    state = run(state)[0]
    first = time.perf_counter() - t0
    times = []
    for _ in range(max(1, steps // chunk)):
        t0 = time.perf_counter()
        state = run(state)[0]
        times.append((time.perf_counter() - t0) / chunk)
    times.sort()
    return times[len(times) // 2], first


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--peer-steps", type=int, default=10)
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    peer_a = peer_seconds(args.peer_steps)
    ours, first = ours_seconds(args.steps)
    peer_b = peer_seconds(args.peer_steps)
    peer = min(peer_a, peer_b)
    res = dict(ours_seconds_per_meta_step=ours, ours_first_chunk_seconds=first, peer_seconds_per_meta_step=peer,
               peer_runs=[peer_a, peer_b], speedup=peer / ours, load_average=os.getloadavg()[0])
    if args.json:
        print(json.dumps(res))
    else:
        print(f"ours: {ours:.4f} s per meta-step (median of warm chunks; first chunk incl. compile {first:.1f} s)")
        print(f"peer: {peer:.4f} s per meta-step (runs: {peer_a:.3f}, {peer_b:.3f})")
        print(f"speedup: {peer / ours:.1f}x  (load average {res['load_average']:.1f})")


if __name__ == "__main__":
    main()
