"""Screenshots of every page at a projector's size, taken with Chromium.

    make screenshots    # = .venv/bin/python docs/screenshots/take.py
    .venv/bin/python docs/screenshots/take.py [--sizes 1280x720,1024x768] [--pages tour,...]

Starts its own server (as the browser tests do), opens every page of app.py's
navigation in a fresh tab at each size, waits until it has finished running,
and saves the visible window (what a class sees without scrolling) as PNG:
NAME.png at 1280x720, NAME_WxH.png at the other sizes.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

from conftest import CHROMIUM, CHROMIUM_ARGS, SCRIPT_DONE_JS, app_pages, streamlit_server  # noqa: E402

#: The settings a class starts from, where they differ from the page's defaults.
QUERY = {"tour": "?step=4", "landscape": "?res=250"}
#: (file name, path and query): every page of the app, the default page at the root.
PAGES = [(Path(path).stem, ("/" if default else "/" + Path(path).stem) + QUERY.get(Path(path).stem, ""))
         for path, _, default in app_pages()]
DONE = SCRIPT_DONE_JS


def settle(page) -> None:
    page.wait_for_selector(".js-plotly-plot .main-svg", state="attached", timeout=300_000)
    page.wait_for_timeout(500)
    page.wait_for_function(DONE, timeout=300_000)
    page.wait_for_timeout(1500)  # plotly's last relayout


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1280x720,1024x768", help="comma-separated WxH")
    ap.add_argument("--out", default=str(ROOT / "docs" / "screenshots"))
    ap.add_argument("--pages", default=",".join(n for n, _ in PAGES))
    args = ap.parse_args()
    sizes = [tuple(int(v) for v in size.split("x")) for size in args.sizes.split(",")]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    from playwright.sync_api import sync_playwright

    wanted = args.pages.split(",")
    with streamlit_server(out / "server.log") as (url, _), sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        for (name, path), (w, h) in ((p, size) for p in PAGES for size in sizes):
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
