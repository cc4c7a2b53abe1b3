"""The real app in headless Chromium: every page shows a chart and no exception."""

from pathlib import Path

import pytest

from tests.conftest import SCRIPT_DONE_JS, app_pages

pytestmark = pytest.mark.browser

#: Every page of app.py's navigation: its URL (the default page at the root) and its title.
PAGES = [("" if default else Path(path).stem, title) for path, title, default in app_pages()]
#: Light settings for pages whose defaults are heavy; what is tested is that the page draws.
QUICK = {"fractal": "?res=64&steps=50", "estimators": "?est_samples=16"}
#: The heading's first word where it is not the sidebar title's.
HEADINGS = {"Tour": "Start"}


def wait_for_app(page):
    page.wait_for_selector(".js-plotly-plot .main-svg", state="attached")
    page.wait_for_function(SCRIPT_DONE_JS)


@pytest.mark.parametrize("path, title", PAGES)
def test_every_page_shows_a_chart_and_no_exception(page, path, title):
    page.goto(f"{page.app_url}/{path}{QUICK.get(path, '')}")
    wait_for_app(page)
    assert HEADINGS.get(title, title.split()[0]) in page.locator("h1").first.inner_text()
    assert page.locator(".js-plotly-plot").count() >= 1
    assert page.locator("[data-testid='stException']").count() == 0
    assert not page.js_errors


def test_landscape_heatmap_redraws_after_a_widget_change(page):
    page.goto(f"{page.app_url}/landscape")
    wait_for_app(page)
    caption = page.get_by_text("inner runs computed").first.inner_text()
    assert "250,000" in caption
    box = page.get_by_role("spinbutton", name="log10 lr from")
    box.fill("-2")
    box.press("Enter")
    page.get_by_text("inner runs computed").first.wait_for()
    page.wait_for_function(
        "() => { const p = document.querySelector('.st-key-landscape_chart .js-plotly-plot');"
        " return p && p.layout && Math.abs(p.layout.xaxis.range[0] + 2) < 1e-9; }"
    )
    assert page.locator("[data-testid='stException']").count() == 0
