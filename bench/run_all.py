"""`make bench`: every benchmark of docs/performance.md, peers side by side.

usage: python bench/run_all.py [--with-seed]   (the seed-style peer adds ~2 minutes)
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    grid = [sys.executable, str(HERE / "bench_grid.py"), "--rounds", "3"]
    if "--with-seed" not in sys.argv[1:]:
        grid.append("--skip-seed")
    rc = 0
    for cmd in (grid, [sys.executable, str(HERE / "bench_cold_start.py")],
                [sys.executable, str(HERE / "bench_display.py")],
                [sys.executable, str(HERE / "bench_general.py")]):
        print("$", " ".join(Path(c).name if c.endswith(".py") else c for c in cmd[1:]), flush=True)
        rc |= subprocess.run(cmd).returncode
    return rc


if __name__ == "__main__":
    sys.exit(main())
