"""Screenshots of every page at a projector's size, taken with Chromium.

    .venv/bin/python docs/screenshots/take.py [--size 1280x720] [--out docs/screenshots]

Starts its own server (as the browser tests do), opens each page in a fresh
tab, waits until it has finished running, and saves the visible window (what
a class sees without scrolling) as PNG.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

from conftest import CHROMIUM, CHROMIUM_ARGS, SCRIPT_DONE_JS, streamlit_server  # noqa: E402

#: (file name, path and query): the pages with the settings a class starts from.
PAGES = [
    ("tour", "/?step=4"),
    ("inner_problem", "/inner_problem"),
    ("lr_sweep", "/lr_sweep"),
    ("landscape", "/landscape?res=250"),
    ("estimators", "/estimators"),
    ("learned_optimizer", "/learned_optimizer"),
]
DONE = SCRIPT_DONE_JS


def settle(page) -> None:
    page.wait_for_selector(".js-plotly-plot .main-svg", state="attached", timeout=300_000)
    page.wait_for_timeout(500)
    page.wait_for_function(DONE, timeout=300_000)
    page.wait_for_timeout(1500)  # plotly's last relayout


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", default="1280x720")
    ap.add_argument("--out", default=str(ROOT / "docs" / "screenshots"))
    ap.add_argument("--pages", default=",".join(n for n, _ in PAGES))
    args = ap.parse_args()
    w, h = (int(v) for v in args.size.split("x"))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    from playwright.sync_api import sync_playwright

    wanted = args.pages.split(",")
    with streamlit_server(out / "server.log") as (url, _), sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        for name, path in PAGES:
            if name not in wanted:
                continue
            ctx = browser.new_context(viewport={"width": w, "height": h})
            page = ctx.new_page()
            t0 = time.perf_counter()
            page.goto(url + path)
            settle(page)
            suffix = "" if (w, h) == (1280, 720) else f"_{w}x{h}"
            file = out / f"{name}{suffix}.png"
            page.screenshot(path=str(file))
            print(f"{file.name}: {file.stat().st_size / 1024:.0f} KB, {time.perf_counter() - t0:.1f} s")
            ctx.close()
        browser.close()
    (out / "server.log").unlink(missing_ok=True)


if __name__ == "__main__":
    main()
