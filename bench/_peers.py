"""Peers from ../shared/bench (the seed-style JAX grid, numpy, numba, fused C),
run as subprocesses so that each gets the machine the way its author meant."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED_BENCH = Path(os.environ.get("L2L_SHARED_BENCH", ROOT.parent / "shared" / "bench"))
_C_BINARY = Path(tempfile.gettempdir()) / "l2l_limit_heatmap"


def build_c_limit() -> Path | None:
    """Builds limit_heatmap.c once (gcc -O3 -ffast-math -march=native -fopenmp)."""
    src = SHARED_BENCH / "limit_heatmap.c"
    if not src.exists() or shutil.which("gcc") is None:
        return None
    if not _C_BINARY.exists() or _C_BINARY.stat().st_mtime < src.stat().st_mtime:
        cmd = ["gcc", "-O3", "-ffast-math", "-march=native", "-fopenmp", str(src), "-o", str(_C_BINARY), "-lm"]
        if subprocess.run(cmd, capture_output=True).returncode != 0:
            return None
    return _C_BINARY


def c_limit(n: int, threads: int | None = None) -> dict | None:
    """{'warm': seconds, 'mean': clipped mean} of the fused SIMD C loop, or None."""
    binary = build_c_limit()
    if binary is None:
        return None
    env = dict(os.environ)
    if threads:
        env["OMP_NUM_THREADS"] = str(threads)
    out = subprocess.run([str(binary), str(n)], capture_output=True, text=True, env=env).stdout
    m = re.search(r"time=([\d.]+)s mean=([\d.naif-]+)", out)
    return {"warm": float(m.group(1)), "mean": float(m.group(2))} if m else None


def seed_peer(n: int, variant: str, timeout: float = 600) -> dict | None:
    """Runs seed_heatmap.py N VARIANT: {'first', 'warm', 'mean'} or None if unavailable."""
    script = SHARED_BENCH / "seed_heatmap.py"
    if not script.exists():
        return None
    if variant == "numba":
        try:
            import numba  # noqa: F401
        except ImportError:
            return None
    env = dict(os.environ, JAX_PLATFORMS="cpu")
    try:
        out = subprocess.run([sys.executable, str(script), str(n), variant], capture_output=True,
                             text=True, env=env, timeout=timeout).stdout
    except subprocess.TimeoutExpired:
        return None
    m = re.search(r"first=([\d.]+)s warm=([\d.]+)s mean=([\d.naif-]+)", out)
    return {"first": float(m.group(1)), "warm": float(m.group(2)), "mean": float(m.group(3))} if m else None
