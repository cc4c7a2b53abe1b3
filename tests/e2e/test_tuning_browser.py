"""The "What tuning sees" page in headless Chromium: the maps over seeds and the tuner's numbered
trials render on the dense map, and the browser raises no JavaScript error."""

import pytest

from tests.conftest import SCRIPT_DONE_JS

pytestmark = pytest.mark.browser

QUERY = "?task=tanh_net&res=16&nseeds=2&trials=25&sampler=tpe&tseed=0"


def plot_data(page, key: str):
    """The traces Plotly drew in the chart whose Streamlit key is ``key``."""
    return page.evaluate("(k) => { const p = document.querySelector(`.st-key-${k} .js-plotly-plot`);"
                         " return p && p._fullData.map(t => ({type: t.type, name: t.name, n: t._length,"
                         " text: t.text ? Array.from(t.text).slice(0, 3) : null})); }", key)


def test_the_page_draws_the_seed_maps_and_the_tuners_trials(page):
    page.set_default_timeout(180_000)
    page.goto(f"{page.app_url}/tuning{QUERY}")
    page.locator("h1", has_text="What tuning sees").wait_for()
    page.locator(".st-key-tn_trials_chart .js-plotly-plot .main-svg").first.wait_for(state="attached")
    page.wait_for_function(SCRIPT_DONE_JS)
    for key in ("tn_mean", "tn_spread", "tn_pdiv", "tn_trials_chart", "tn_picture_chart"):
        data = plot_data(page, key)
        assert data and data[0]["type"] == "heatmap", (key, data)
    trials = next(t for t in plot_data(page, "tn_trials_chart") if t["name"] == "trials (in order)")
    assert trials["n"] == 25 and trials["text"] == ["0", "1", "2"], trials
    names = {t["name"] for t in plot_data(page, "tn_trials_chart")}
    assert {"tuner's best", "dense best"} <= names, names
    assert page.locator(".st-key-tn_trials_chart .scatterlayer .point").count() >= 25  # the points are drawn
    assert page.get_by_text("regret", exact=True).count() >= 1
    assert page.locator("[data-testid='stException']").count() == 0
    assert not page.js_errors, page.js_errors
