"""A/B: the same benchmarks on an earlier commit (A) and on this tree (B), interleaved on one machine.

Each benchmark runs as a whole process in A's checkout (a git worktree in a temporary
folder, sharing this tree's .venv) and in this tree, alternately, ``--rounds`` times; the
report gives each one's figures side by side, the best of the rounds (the machine is shared
and noisy: the best is the least disturbed). A refactor must not be slower.

usage: python bench/ab.py [--base REV] [--rounds 2] [--only grid,cold_start,...] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: name -> the benchmark's script and flags (each prints one JSON object; every number in it is reported)
BENCHES = {
    "grid": ["bench/bench_grid.py", "--rounds", "2", "--skip-seed", "--json"],
    "cold_start": ["bench/bench_cold_start.py", "--repeats", "2", "--json"],
    "display": ["bench/bench_display.py", "--changes", "3", "--json"],
    "general": ["bench/bench_general.py", "--rounds", "2", "--json"],
    "meta_step": ["bench/bench_metatrain.py", "--peer-steps", "3", "--steps", "10", "--json"],
    "fractal": ["bench/bench_fractal.py", "--skip-peer", "--json"],
    "load": ["bench/bench_load.py", "--sessions", "4", "--res", "200", "--json"],
}


def _numbers(obj, prefix=""):
    """Every number in a JSON object, by its dotted path."""
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _numbers(v, f"{prefix}{k}.")
    elif isinstance(obj, (int, float)) and not isinstance(obj, bool):
        yield prefix.rstrip("."), float(obj)


def _run(tree: Path, args: list[str], timeout: float) -> dict:
    env = dict(os.environ, PYTHONPATH=str(tree))
    t0 = time.perf_counter()
    p = subprocess.run([sys.executable, *args], cwd=tree, env=env, capture_output=True, text=True, timeout=timeout)
    wall = time.perf_counter() - t0
    out = {"process_s": wall}
    text = p.stdout.strip()
    starts = [i for i in range(len(text)) if text[i] == "{" and (i == 0 or text[i - 1] == "\n")]
    for i in reversed(starts):  # the last JSON object printed, on one line or indented over several
        try:
            out.update(dict(_numbers(json.loads(text[i:]))))
            break
        except ValueError:
            continue
    if p.returncode != 0:
        out["error"] = (p.stderr.strip().splitlines() or ["exit %d" % p.returncode])[-1]
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--base", default="HEAD~1", help="the commit A (default HEAD~1)")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--only", default=",".join(BENCHES), help=f"comma-separated, of {', '.join(BENCHES)}")
    ap.add_argument("--timeout", type=float, default=600.0, help="seconds one benchmark process may take")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    names = [n for n in args.only.split(",") if n]
    unknown = sorted(set(names) - set(BENCHES))
    if unknown:
        ap.error(f"unknown benchmarks {unknown}; choose from {list(BENCHES)}")
    base = subprocess.run(["git", "rev-parse", "--short", args.base], cwd=ROOT, capture_output=True, text=True,
                          check=True).stdout.strip()
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                          check=True).stdout.strip()
    report = {"base": base, "head": head, "rounds": args.rounds, "benches": {}}
    with tempfile.TemporaryDirectory(prefix="l2l_ab_") as tmp:
        tree_a = Path(tmp) / "a"
        subprocess.run(["git", "worktree", "add", "--detach", str(tree_a), base], cwd=ROOT, check=True,
                       capture_output=True)
        try:
            (tree_a / ".venv").symlink_to(ROOT / ".venv")
            if (ROOT.parent / "shared").is_dir():  # the peers the benchmarks time beside the project
                (tree_a.parent / "shared").symlink_to(ROOT.parent / "shared")
            for name in names:
                script = BENCHES[name]
                runs = {"A": [], "B": []}
                for _ in range(args.rounds):
                    for label, tree in (("A", tree_a), ("B", ROOT)):
                        if not (tree / script[0]).is_file():
                            runs[label].append({"error": f"{script[0]} is not in this commit"})
                            continue
                        runs[label].append(_run(tree, script, args.timeout))
                best = {}
                for label, rs in runs.items():
                    keys = sorted({k for r in rs for k in r if k != "error"})
                    best[label] = {k: min(r[k] for r in rs if k in r) for k in keys}
                    errors = [r["error"] for r in rs if "error" in r]
                    if errors:
                        best[label]["error"] = errors[-1]
                report["benches"][name] = best
                if not args.json:
                    print(f"== {name}  (A = {base}, B = {head}, best of {args.rounds})", flush=True)
                    for k in sorted(set(best["A"]) | set(best["B"])):
                        a, b = best["A"].get(k), best["B"].get(k)
                        ratio = f"{b / a:6.2f}x" if isinstance(a, float) and isinstance(b, float) and a else ""
                        print(f"  {k:48s} A {a!s:>14.14}  B {b!s:>14.14}  {ratio}")
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(tree_a)], cwd=ROOT, capture_output=True)
    if args.json:
        print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
