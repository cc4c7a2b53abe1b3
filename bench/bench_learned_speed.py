"""The learned page's time estimates, measured: each preset's compile time with the
persistent compile cache cold and warm, and its seconds per meta-step (each stage).

usage: python bench/bench_learned_speed.py [--json] [TASK:PRESET ...]

Each measurement is two fresh processes on one new, empty cache directory: the first
compiles (cold), the second loads the compiled meta-step from disk (warm). Seconds per
meta-step are from the gaps between chunk callbacks after each stage's compiling chunk,
validation included, as ``metatrain`` reports them. The figures go into
``l2l_core/learned/speed.py`` (``MEASURED``) by hand, with the load they were taken at.
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
#: meta-steps run per measurement: a compiling chunk and two timed chunks per stage
STEPS = {("quadratic", "short"): 30, ("digits_mlp", "short"): 25, ("digits_mlp", "full"): 30}

CHILD = r"""
import json, sys, time
from l2l_core.runtime import compile_cache
compile_cache.enable(sys.argv[1])
from l2l_core.learned.config import preset_config
from l2l_core.learned.metatrain import metatrain
task, preset, steps = sys.argv[2], sys.argv[3], int(sys.argv[4])
cfg = preset_config(preset, task=task, meta_steps=steps, max_seconds=0.0)
marks = []
t0 = time.perf_counter()
metatrain(cfg, callback=lambda p: marks.append((p.done, time.perf_counter() - t0)))
print(json.dumps(dict(marks=marks, chunk=cfg.chunk, finish_after=cfg.finish_after)))
"""


def run_child(cache: str, task: str, preset: str, steps: int) -> dict:
    env = dict(os.environ, PYTHONPATH=str(ROOT), L2L_JAX_CACHE=cache)
    out = subprocess.run([sys.executable, "-c", CHILD, cache, task, preset, str(steps)], cwd=ROOT, env=env,
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def stages(res: dict) -> list[dict]:
    """Per stage: its compiling chunk's seconds and the timed chunks' seconds per meta-step."""
    marks, fa = [(0, 0.0)] + [tuple(m) for m in res["marks"]], res["finish_after"]
    chunks = [(d1 - d0, t1 - t0, d0) for (d0, t0), (d1, t1) in zip(marks, marks[1:])]
    out = []
    for lo, hi in ([(0, fa), (fa, 10**9)] if fa else [(0, 10**9)]):
        mine = [c for c in chunks if lo <= c[2] < hi]
        first, rest = mine[0], mine[1:]
        per = sum(c[1] for c in rest) / max(sum(c[0] for c in rest), 1)
        out.append(dict(first_chunk_s=first[1], first_chunk_steps=first[0], per_step_s=per,
                        compile_s=max(first[1] - first[0] * per, 0.0)))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("which", nargs="*", default=[f"{t}:{p}" for t, p in STEPS])
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    results = {}
    for w in args.which:
        task, preset = w.split(":")
        with tempfile.TemporaryDirectory() as cache:
            load0 = os.getloadavg()[0]
            cold = stages(run_child(cache, task, preset, STEPS[(task, preset)]))
            warm = stages(run_child(cache, task, preset, STEPS[(task, preset)]))
        results[w] = dict(cold=cold, warm=warm, load=[load0, os.getloadavg()[0]])
        print(json.dumps({w: results[w]}) if args.json else f"{w}: {results[w]}", flush=True)


if __name__ == "__main__":
    main()
