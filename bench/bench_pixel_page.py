"""Opening a pixel in Chromium: from the navigation to a pixel's URL to its run on screen, at the page's
default settings (digits_fc_tanh, gradient descent at lr = 0.13, 1000 steps, sharpness every 50 steps,
a 21² slice).

Starts `streamlit run app.py` on a free port, opens the landing page once (the server warms up on its
first visitor), then opens /inspect at the defaults: the first visit (compiles the task's kernels), then
--visits visits with seeds never seen before (compiled, but no cached result: the run, its curvature and
its slices are computed), then the same URL again (served from the page's cache), all in one browser tab
as a visitor clicking links would. Each time is from page.goto to the curvature chart drawn (the run on
screen) and to the page's script done (the slices too).

usage: python bench/bench_pixel_page.py [--visits 3] [--json]
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
from ui.inspect_state import DEFAULT, VIEW  # noqa: E402
from ui.pixel_link import pixel_query  # noqa: E402

CHART = ".st-key-insp_curv_chart .js-plotly-plot .main-svg"


def url_of(base: str, seed: int) -> str:
    q = pixel_query(DEFAULT["task"], DEFAULT["optimizer"], DEFAULT["hparams"], steps=DEFAULT["steps"], seed=seed)
    q.update({name: str(default) for name, (_, default) in VIEW.items()})
    return f"{base}/inspect?" + "&".join(f"{k}={v}" for k, v in q.items())


def visit(page, url: str) -> tuple[float, float, float]:
    """(seconds to the curvature chart drawn, to the page's script done (the slices too), to the page's title
    on screen (the app's own frame: what any page costs))."""
    tic = time.perf_counter()
    page.goto(url)
    page.locator("h1", has_text="Open a pixel").wait_for()
    title = time.perf_counter() - tic
    page.locator(CHART).first.wait_for(state="attached")
    drawn = time.perf_counter() - tic
    page.wait_for_function(SCRIPT_DONE_JS)
    return drawn, time.perf_counter() - tic, title


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--visits", type=int, default=3)
    ap.add_argument("--settle", type=float, default=20.0, help="seconds for the server's warm-up (default 20)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    from playwright.sync_api import sync_playwright

    log = Path("/tmp") / f"bench_pixel_page_{os.getpid()}.log"
    report: dict = {}
    with streamlit_server(log) as (url, _):
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            primer = browser.new_context().new_page()
            primer.goto(url)
            primer.wait_for_function(SCRIPT_DONE_JS, timeout=300_000)
            primer.context.close()
            time.sleep(args.settle)
            page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
            page.set_default_timeout(300_000)
            report["first_visit_s"] = visit(page, url_of(url, 0))
            report["new_seed_s"] = [visit(page, url_of(url, 100 + i)) for i in range(args.visits)]
            report["cached_s"] = visit(page, url_of(url, 0))
            browser.close()
    if args.json:
        print(json.dumps(report))
    else:
        def said(pair):
            return f"run drawn {pair[0]:.2f} s, all done {pair[1]:.2f} s (title {pair[2]:.2f} s)"

        print(f"first visit (compiles): {said(report['first_visit_s'])}")
        print("warm, new seed (computed): " + "; ".join(said(p) for p in report["new_seed_s"]))
        print(f"warm, same URL again (cache): {said(report['cached_s'])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
