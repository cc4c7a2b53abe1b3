"""First picture of the trainability-fractal page in Chromium: its 32² preview, then 128².

Starts `streamlit run app.py` on a free port, opens its landing page once (the
server warms up on its first visitor), waits --settle seconds for the warm-up
(which computes the fractal page's default view), then opens the page at the paper
setup (fractal_tanh, width 16, 100 steps, 128²): first the default view (seed 0,
which the warm-up has put in the page's cache), then with seeds never seen
before (so no cached image), and times, from the navigation to each: the
first heatmap on screen (the 32² preview, or the full image if cached) and
the full image's timing caption; and, in the open default page, a new seed
typed into its box: from Enter to its 32² preview on screen.

usage: python bench/bench_fractal_page.py [--visits 3] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tests.conftest import CHROMIUM, CHROMIUM_ARGS, SCRIPT_DONE_JS, streamlit_server  # noqa: E402

DONE_JS = SCRIPT_DONE_JS
PREVIEW_JS = ("() => Array.from(document.querySelectorAll('.stPlotlyChart .gtitle'))"
              ".some(e => /preview/.test(e.textContent))")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--visits", type=int, default=3)
    ap.add_argument("--settle", type=float, default=90.0,
                    help="seconds to let the server's warm-up run before the first visit (default 90)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    from playwright.sync_api import sync_playwright

    log = Path("/tmp") / f"bench_fractal_page_{os.getpid()}.log"
    report: dict = dict(seeds=[], preview_s=[], full_s=[])
    with streamlit_server(log) as (url, _):
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            # The server warms up on its first run of app.py, i.e. its first visitor: one visit to the
            # landing page starts it, as the first person to open the app would.
            primer = browser.new_context().new_page()
            primer.goto(url)
            primer.wait_for_selector("[data-testid='stSidebarNav']", timeout=300_000)
            primer.context.close()
            t0 = time.perf_counter()
            while "warm-up done" not in log.read_text() and time.perf_counter() - t0 < args.settle:
                time.sleep(0.5)
            report["warm_up_waited_s"] = round(time.perf_counter() - t0, 1)
            for seed in [0, *range(101, 101 + args.visits)]:
                page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
                page.set_default_timeout(300_000)
                t = time.perf_counter()
                page.goto(f"{url}/fractal" + (f"?seed={seed}" if seed else ""))
                report["seeds"].append(seed)
                page.wait_for_selector(".stPlotlyChart .js-plotly-plot .main-svg", state="attached")
                report["preview_s"].append(round(time.perf_counter() - t, 2))
                page.get_by_text("training runs of 100 steps computed").first.wait_for()
                report["full_s"].append(round(time.perf_counter() - t, 2))
                if seed == 0:  # in the open page, a new seed: Enter -> its preview on screen
                    for new in range(201, 201 + args.visits):
                        page.wait_for_function(DONE_JS)
                        box = page.get_by_role("spinbutton", name="Seed (data and initial weights)")
                        box.fill(str(new))
                        t = time.perf_counter()
                        box.press("Enter")
                        page.wait_for_function(PREVIEW_JS)
                        report.setdefault("seed_change_preview_s", []).append(round(time.perf_counter() - t, 2))
                page.context.close()
            browser.close()
    if args.json:
        print(json.dumps(report))
    else:
        for k, v in report.items():
            print(f"{k:18s} {v}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
