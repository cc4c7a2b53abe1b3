"""The "Open a pixel" page in headless Chromium: a pixel's URL opens its run, the curvature chart renders
with the threshold line, a reload of the same URL brings the same settings back, and the browser raises
no JavaScript error."""

import time

import pytest

from tests.conftest import SCRIPT_DONE_JS
from ui.pixel_link import pixel_query

pytestmark = pytest.mark.browser

QUERY = pixel_query("tanh_net", "sgd", {"lr_in": 0.5, "lr_out": 0.5, "momentum": 0.0}, steps=300, seed=1)
URL_QUERY = "&".join(f"{k}={v}" for k, v in {**QUERY, "every": "10", "sres": "21"}.items())


def plot_data(page, key: str):
    """The traces Plotly drew in the chart whose Streamlit key is ``key``."""
    return page.evaluate("(k) => { const p = document.querySelector(`.st-key-${k} .js-plotly-plot`);"
                         " return p && p._fullData.map(t => ({type: t.type, name: t.name, n: t._length})); }", key)


def open_pixel(page) -> float:
    """Opens the pixel's URL; seconds until its curvature chart is drawn."""
    tic = time.perf_counter()
    page.goto(f"{page.app_url}/inspect?{URL_QUERY}")
    page.locator(".st-key-insp_curv_chart .js-plotly-plot .main-svg").first.wait_for(state="attached")
    seconds = time.perf_counter() - tic
    page.wait_for_function(SCRIPT_DONE_JS)
    return seconds


def test_a_pixel_url_opens_the_run_and_a_reload_brings_it_back(page):
    page.set_default_timeout(180_000)
    open_pixel(page)  # the first visit compiles
    page.locator("h1", has_text="Open a pixel").wait_for()
    data = plot_data(page, "insp_curv_chart")
    assert data and data[0]["name"] == "sharpness λ1" and data[0]["n"] == 31, data
    assert page.locator(".st-key-insp_curv_chart .shapelayer path").count() >= 1  # the threshold line
    assert plot_data(page, "insp_run_chart")[0]["n"] == 301
    assert plot_data(page, "insp_pca_chart")[0]["type"] == "heatmap"
    steps = page.get_by_role("spinbutton", name="Training steps", exact=True)
    assert steps.input_value() == "300"
    page.reload()
    page.locator(".st-key-insp_curv_chart .js-plotly-plot .main-svg").first.wait_for(state="attached")
    page.wait_for_function(SCRIPT_DONE_JS)
    assert page.get_by_role("spinbutton", name="Training steps", exact=True).input_value() == "300"
    assert page.get_by_role("spinbutton", name="lr_in", exact=True).input_value() == "0.5"
    assert page.get_by_role("spinbutton", name="Seed", exact=True).input_value() == "1"
    assert "lr_in=0.5" in page.url and "steps=300" in page.url
    warm = open_pixel(page)
    print(f"warm: pixel URL to curvature chart drawn in {warm:.2f} s")
    assert warm < 10
    assert page.locator("[data-testid='stException']").count() == 0
    assert not page.js_errors, page.js_errors
