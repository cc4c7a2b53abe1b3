"""Widget change -> first coarse image on screen in Chromium, for new (task, optimizer, axes) choices.

Starts `streamlit run app.py` on a free port, opens the meta-loss landscape page
in headless Chromium (Debian's, driven by Playwright) at the default resolution
(500 x 500: passes of 64², 128², 256², then 500²), and times, for each widget
change, the interval from the option's click (or the Enter key of a typed range)
to the moment the page shows a new 64 x 64 heatmap: the coarse image. The clock
starts at the change itself: the click on the option (the list was opened
before it), or the Enter key. Before the next change it waits for the final
image to be drawn and the page to be still. Two kinds of change:

- ``new choice``: a task, optimizer or axis picked for the first time in this
  server process (a kernel the process has not run yet: it is compiled, or read
  from the persistent compile cache);
- ``new range``: a typed x range on a choice already drawn (the kernel is warm,
  the grid is new).

The peer, in the same run: the post's page (500² in one pass) from a typed
"log10 lr from" to its new heatmap, as bench_display.py measures it.

Like a class's server, the app is given time to finish its warm-up (which compiles
every (task, optimizer) pair's kernel, one per pair for all its axes) before the
timed visit: one visit to the landing page starts it, then the bench waits for the
server's "warm-up done" log line (at most --settle s); L2L_WARMUP_GENERAL=0
measures without that part.

usage: python bench/bench_general_display.py [--settle S] [--json]
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
from tests.conftest import CHROMIUM, SCRIPT_DONE_JS, streamlit_server  # noqa: E402
from tests.conftest import CHROMIUM_ARGS as ARGS  # noqa: E402

DONE_JS = SCRIPT_DONE_JS
#: The heatmap now on screen: (rows, a token that changes with its data).
MARK_JS = """() => { const ps = [...document.querySelectorAll('.js-plotly-plot')].filter(p => p.offsetParent);
  const p = ps.find(q => q.data && q.data[0] && q.data[0].type === 'heatmap'); if (!p) return null;
  const z = p.data[0].z; window.__z = z; return true; }"""
NEW_IMAGE_JS = """(want) => { const ps = [...document.querySelectorAll('.js-plotly-plot')].filter(p => p.offsetParent);
  const p = ps.find(q => q.data && q.data[0] && q.data[0].type === 'heatmap'); if (!p) return false;
  const z = p.data[0].z; if (z === window.__z) return false;
  const rows = z.length !== undefined ? z.length : parseInt(String(z.shape).split(',')[0]);
  return want === null || rows === want; }"""
#: (widget key, option) picked in order: every pick makes a choice the process has not drawn yet.
PICKS = [("g_task", "Rosenbrock's valley"), ("g_opt", "Adam"), ("g_y", "log10(1 - b2)"),
         ("g_task", "Himmelblau's function"), ("g_opt", "RMSprop"), ("g_task", "Beale's function"),
         ("g_opt", "Nesterov momentum"), ("g_task", "two-layer tanh network")]


#: The heatmap's data, unchanged since the last call (the browser has drawn the last image).
STILL_JS = """() => { const ps = [...document.querySelectorAll('.js-plotly-plot')].filter(p => p.offsetParent);
  const p = ps.find(q => q.data && q.data[0] && q.data[0].type === 'heatmap'); const z = p ? p.data[0].z : null;
  const same = z === window.__still; window.__still = z; return same; }"""


def settled(page) -> None:
    """The script run is over and the page has drawn its last image (unchanged for 0.5 s)."""
    page.wait_for_timeout(300)
    page.wait_for_function(DONE_JS, timeout=300_000)
    while not page.evaluate(STILL_JS):
        page.wait_for_timeout(500)
    page.wait_for_timeout(200)


def timed_change(page, act, rows=64, prepare=None) -> float:
    """Seconds from ``act()`` (the change) to a new heatmap of ``rows`` rows (None: any) on screen;
    then waits for the rest of the run. ``prepare()`` (opening a list) runs before the clock."""
    page.evaluate(MARK_JS)
    if prepare is not None:
        prepare()
    t = time.perf_counter()
    act()
    page.wait_for_function(NEW_IMAGE_JS, arg=rows, timeout=300_000, polling="raf")
    dt = time.perf_counter() - t
    settled(page)
    return dt


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ranges", type=int, default=4, help="typed-range changes on a warm choice")
    ap.add_argument("--settle", type=float, default=300.0,
                    help="most seconds to wait for the server's warm-up (its log line) before the first visit")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    from playwright.sync_api import sync_playwright

    log = Path("/tmp") / f"bench_general_display_{os.getpid()}.log"
    picks, ranges, post = [], [], []
    with streamlit_server(log, L2L_WARMUP_GENERAL=os.environ.get("L2L_WARMUP_GENERAL", "1")) as (url, _):
        # As a class meets it: the server started a while before and its warm-up (which the
        # first visitor's run of app.py starts: one visit to the landing page) is done.
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
            primer = browser.new_context().new_page()
            primer.goto(url)
            primer.wait_for_selector("[data-testid='stSidebarNav']", timeout=300_000)
            browser.close()
        t0 = time.perf_counter()
        while "warm-up done" not in log.read_text() and time.perf_counter() - t0 < args.settle:
            time.sleep(1.0)
        warm_s = time.perf_counter() - t0
        warm_done = "warm-up done" in log.read_text()
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
            page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
            page.set_default_timeout(300_000)
            page.goto(f"{url}/landscape?methods=es&osteps=10")  # the default resolution; one short outer run
            page.wait_for_selector(".js-plotly-plot .main-svg", state="attached")
            settled(page)
            lr_lo = page.get_by_role("spinbutton", name="log10 lr from")
            for k in range(args.ranges):
                value = -2.9 + 0.0137 * k + 0.001 * (time.time() % 1)
                lr_lo.fill(f"{value:.6f}")
                post.append(timed_change(page, lambda: lr_lo.press("Enter"), rows=None))
            page.locator("[data-testid='stSidebar'] .st-key-lr_lo input").fill("-3")
            page.locator("[data-testid='stSidebar'] .st-key-lr_lo input").press("Enter")
            settled(page)
            for key, option in PICKS:
                def open_list(key=key, option=option):
                    page.locator(f"[data-testid='stSidebar'] .st-key-{key} > [data-testid='stSelectbox']:visible"
                                 ).last.click()
                    page.get_by_role("option", name=option, exact=True).wait_for()

                def act(option=option):
                    page.get_by_role("option", name=option, exact=True).click()
                picks.append((option, timed_change(page, act, prepare=open_list)))
            box = page.locator("[data-testid='stSidebar'] .st-key-g_xr_lo input:visible").last
            for k in range(args.ranges):
                value = -2.9 + 0.0137 * k + 0.001 * (time.time() % 1)  # never seen before
                box.fill(f"{value:.6f}")
                ranges.append(timed_change(page, lambda: box.press("Enter")))
            browser.close()
    times = [t for _, t in picks]
    result = {"resolution": 500, "new_choice_s": dict(picks), "new_choice_median_s": float(np.median(times)),
              "new_choice_max_s": max(times), "new_range_s": ranges,
              "new_range_median_s": float(np.median(ranges)) if ranges else None,
              "post_page_change_s": post, "post_page_median_s": float(np.median(post)) if post else None,
              "warm_up_wait_s": warm_s, "warm_up_done": warm_done, "load_average": os.getloadavg()}
    if args.json:
        print(json.dumps(result, indent=1))
    else:
        print("landscape page, default resolution: widget change -> first coarse (64²) image in Chromium")
        for option, t in picks:
            print(f"  new choice {option:<28} {t:.3f} s")
        print(f"  new choice: median {result['new_choice_median_s']:.3f} s, max {result['new_choice_max_s']:.3f} s")
        if ranges:
            print(f"  new range (warm kernel): {', '.join(f'{t:.3f}' for t in ranges)} s, "
                  f"median {result['new_range_median_s']:.3f} s")
        if post:
            print(f"  peer, the post's page (500² in one pass): {', '.join(f'{t:.3f}' for t in post)} s, "
                  f"median {result['post_page_median_s']:.3f} s")
        print(f"  (waited {warm_s:.1f} s for the server's warm-up first; "
              f"{'it was done' if warm_done else 'it was NOT done yet'})")
        print(f"  load average: {', '.join(f'{v:.2f}' for v in result['load_average'])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
