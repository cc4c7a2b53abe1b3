"""The landscape page's task, optimizer and axis pickers in Chromium: a coarse image first, then the final one."""

import re

import pytest

from tests.conftest import SCRIPT_DONE_JS

pytestmark = pytest.mark.browser

DONE = SCRIPT_DONE_JS
#: Records every heatmap the page shows: its rows and its axes' titles, in order.
WATCH = """() => {
  window.__seen = [];
  const look = () => {
    const p = document.querySelector('[class*="st-key-general_chart"] .js-plotly-plot');  // the heatmap
    if (p && p.data && p.data[0] && p.data[0].z && p.layout && p.layout.yaxis && p.layout.yaxis.title) {
      const z = p.data[0].z;  // an array of rows, or plotly's typed-array record {bdata, shape: "rows,cols"}
      const rows = z.length !== undefined ? z.length : parseInt(String(z.shape).split(',')[0]);
      const s = [rows, p.layout.xaxis.title.text || '', p.layout.yaxis.title.text || ''].join('|');
      if (window.__seen[window.__seen.length - 1] !== s) window.__seen.push(s);
    }
    requestAnimationFrame(look);
  };
  look();
}"""


def settled(page) -> None:
    page.wait_for_timeout(300)  # the rerun has started (the status widget shows it)
    page.wait_for_function(DONE, timeout=120_000)
    page.wait_for_timeout(200)  # stale elements of the previous run are gone


def pick(page, key: str, option: str) -> None:
    """Chooses ``option`` in the sidebar selectbox whose widget key is ``key``."""
    page.locator(f"[data-testid='stSidebar'] .st-key-{key} > [data-testid='stSelectbox']:visible").last.click()
    page.get_by_role("option", name=option, exact=True).click()


def test_pickers_draw_a_coarse_image_then_the_final_one(page):
    page.goto(f"{page.app_url}/landscape?res=100&methods=es&osteps=10&steps=20")
    page.wait_for_selector(".js-plotly-plot .main-svg", state="attached")
    settled(page)
    pick(page, "g_task", "Rosenbrock's valley")
    settled(page)
    pick(page, "g_opt", "Adam")
    settled(page)
    page.evaluate(WATCH)
    pick(page, "g_y", "log10(1 - b2)")  # a new image: coarse (64²) first, then the chosen 100²
    page.wait_for_function("() => window.__seen.some(s => s.startsWith('100|') && s.includes('b2'))",
                           timeout=120_000)
    page.wait_for_function(DONE)
    seen = [s for s in page.evaluate("window.__seen") if "b2" in s]
    rows = [int(s.split("|")[0]) for s in seen]
    assert rows[0] == 64 and rows[-1] == 100, seen
    assert "learning rate" in seen[-1].split("|")[1]
    assert re.search(r"task=rosenbrock", page.url) and "opt=adam" in page.url and "y=b2" in page.url
    assert page.locator("[data-testid='stException']").count() == 0
    assert not page.js_errors
