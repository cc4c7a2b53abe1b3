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
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))
import _peers  # noqa: E402

from tests.conftest import CHROMIUM, SCRIPT_DONE_JS, streamlit_server  # noqa: E402
from tests.conftest import CHROMIUM_ARGS as ARGS  # noqa: E402

DONE_JS = SCRIPT_DONE_JS


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--changes", type=int, default=5)
    ap.add_argument("--res", type=int, default=500)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    from playwright.sync_api import sync_playwright

    log = Path("/tmp") / f"bench_display_{os.getpid()}.log"
    times, first_load = [], None
    with streamlit_server(log) as (url, _):
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
            page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
            page.set_default_timeout(120_000)
            t = time.perf_counter()
            page.goto(f"{url}/landscape")
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
