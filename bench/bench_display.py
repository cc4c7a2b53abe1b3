"""Widget change -> new heatmap visible in Chromium, on the landscape page.

Starts `streamlit run app.py` on a free port, opens the meta-loss landscape
page in headless Chromium (Debian's, driven by Playwright), waits for the
first heatmap, then changes "log10 lr from" to values never seen before (so
no cache hit) and times each change from the Enter key to the moment the
plotly chart in the page shows the new x range. The default view is 500 x 500
cells; --res picks another resolution from the page's slider first.
The engine's own time for the same grid and the fused C limit at that size
are measured in the same run for scale.

usage: python bench/bench_display.py [--changes 5] [--res 500] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))
import _peers  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]
DONE_JS = ("() => !document.querySelector('[data-testid=\"stStatusWidget\"] "
           "[data-testid=\"stStatusWidgetRunningIcon\"]')")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(port: int, log_path: Path) -> subprocess.Popen:
    env = dict(os.environ, JAX_PLATFORMS="cpu")
    out = open(log_path, "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
         "--server.headless", "true", "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited; see {log_path}")
        try:
            with urllib.request.urlopen(f"http://localhost:{port}/_stcore/health", timeout=2):
                return proc
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise TimeoutError("streamlit did not become healthy")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--changes", type=int, default=5)
    ap.add_argument("--res", type=int, default=500)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    from playwright.sync_api import sync_playwright

    port = _free_port()
    log = Path("/tmp") / f"bench_display_{port}.log"
    proc = _serve(port, log)
    times, first_load = [], None
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
            page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
            page.set_default_timeout(120_000)
            t = time.perf_counter()
            page.goto(f"http://localhost:{port}/landscape")
            page.wait_for_selector(".js-plotly-plot .main-svg", state="attached")
            page.wait_for_function(DONE_JS)
            first_load = time.perf_counter() - t
            if args.res != 500:
                slider = page.get_by_role("slider").first
                slider.focus()
                for _ in range(8):  # walk to the wanted resolution
                    now = int(slider.get_attribute("aria-valuenow") or 0)
                    if now == args.res:
                        break
                    slider.press("ArrowRight" if now < args.res else "ArrowLeft")
                    page.wait_for_function(DONE_JS)
            box = page.get_by_role("spinbutton", name="log10 lr from")
            for k in range(args.changes + 1):
                value = -2.9 + 0.0137 * k + 0.001 * (time.time() % 1)  # never seen before
                box.fill(f"{value:.6f}")
                t = time.perf_counter()
                box.press("Enter")
                page.wait_for_function(
                    "(v) => { const p = document.querySelector('.js-plotly-plot');"
                    " return p && p.layout && p.layout.xaxis && p.layout.xaxis.range &&"
                    " Math.abs(p.layout.xaxis.range[0] - v) < 1e-5; }", arg=float(f"{value:.6f}"))
                if k:  # the first change also pays for anything lazy on the page
                    times.append(time.perf_counter() - t)
                page.wait_for_function(DONE_JS)
            browser.close()
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()

    from l2l_core.landscape import meta_loss_grid

    lrs, omm = np.linspace(-2.9, 2, args.res), np.linspace(-3, 0, args.res)
    meta_loss_grid(lrs, omm)
    engine = min(_timed(lambda: meta_loss_grid(lrs, omm)) for _ in range(3))
    c = _peers.c_limit(args.res)
    result = {"res": args.res, "first_page_load_s": first_load, "change_to_visible_s": times,
              "best_s": min(times), "median_s": float(np.median(times)), "engine_grid_s": engine,
              "c_limit_grid_s": c and c["warm"]}
    if args.json:
        print(json.dumps(result, indent=1))
    else:
        print(f"landscape page, {args.res}x{args.res}: widget change -> heatmap visible in Chromium")
        print(f"  changes: {', '.join(f'{t:.3f}' for t in times)} s")
        print(f"  best {result['best_s']:.3f} s, median {result['median_s']:.3f} s "
              f"(first page load {first_load:.2f} s)")
        print(f"  engine alone for that grid: {engine:.3f} s; fused C limit: "
              f"{c['warm'] if c else float('nan'):.3f} s")
    return 0


def _timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


if __name__ == "__main__":
    sys.exit(main())
