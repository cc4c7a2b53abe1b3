"""The landscape page's outer-optimization, zoom and URL features: AppTest
(fast, no browser) and one real-browser test (box drag, back, URL reload)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from l2l_core.landscape import zoom
from tests.conftest import drag_box

PAGE = str(Path(__file__).resolve().parents[2] / "pages" / "landscape.py")
SMALL = dict(res="100", methods="grad,es", osteps="300", seeds="0")


def _app(**params):
    at = AppTest.from_file(PAGE, default_timeout=120)
    for k, v in params.items():
        at.query_params[k] = v
    return at.run()


def _text(at):
    return " ".join(m.value for m in at.markdown)


def test_defaults_draw_trajectories_curves_and_write_the_url():
    at = _app(**SMALL)
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    assert "Zoom level 0" in _text(at) and "precision: float32" in _text(at)
    # heatmap + outer-loss curves + local shifts
    assert len(at.get("plotly_chart")) == 3
    table = at.dataframe[0].value
    assert len(table) == 4  # grad x 2 starts, es x 2 starts x 1 seed
    qp = dict(at.query_params)
    assert qp["methods"] == "grad,es" and qp["starts"] == "-2,-0.5; 0,-1.5" and qp["res"] == "100"


def test_url_restores_a_deep_zoom_in_float64_and_back_works():
    home = (-3.0, 2.0, -3.0, 0.0)
    deep = (-1.2, -1.2 + 1e-7, -0.7, -0.7 + 1e-7)
    at = _app(**dict(SMALL, methods="grad", zoom=zoom.encode_stack([(-2.0, 0.0, -2.0, -0.5), deep])))
    assert not at.exception, at.exception
    txt = _text(at)
    assert "Zoom level 2" in txt and "precision: float64" in txt
    assert zoom.decode_stack(at.query_params["zoom"])[-1] == deep  # full precision round trip
    at.button(key="zoom_back").click().run()
    txt = _text(at)
    assert "Zoom level 1" in txt and "precision: float32" in txt
    at.button(key="zoom_reset").click().run()
    assert "Zoom level 0" in _text(at) and "zoom" not in at.query_params
    assert home  # the sidebar ranges are the home view


def test_bad_inputs_show_errors_not_tracebacks():
    at = _app(**dict(SMALL, starts="1,2,3"))
    assert not at.exception
    assert any("two numbers" in e.value for e in at.error)
    at = _app(**dict(SMALL, methods="pes", trunc="7"))
    assert not at.exception
    assert any("must divide" in e.value for e in at.error)
    at = _app(**dict(SMALL, res="abc", zoom="1,2"))
    assert not at.exception
    assert any("res" in w.value and "zoom" in w.value for w in at.warning)


@pytest.mark.browser
def test_browser_box_zoom_three_levels_back_and_url_reload(page):
    query = "res=100&methods=grad&osteps=100&seeds=0"
    # A fresh server computes its default views in the background first, in the same job
    # line as everyone's grids: on a busy machine a zoom may wait its turn a minute or more.
    page.set_default_timeout(180_000)
    page.goto(f"{page.app_url}/landscape?{query}")
    page.get_by_text("Zoom level 0").wait_for()

    def drag():
        page.wait_for_timeout(500)
        # the heatmap, not a chart below it; while a rerun redraws it, its old drag layer can linger
        layer = page.locator(".st-key-landscape_chart .nsewdrag").first
        layer.wait_for()
        drag_box(page, layer, start=0.35, end=0.65, mid=(0.15, 0.1), steps=8)

    for level in (1, 2, 3):
        drag()
        page.get_by_text(f"Zoom level {level}").wait_for()
    url_level3 = page.url
    assert "zoom=" in url_level3
    stack = zoom.decode_stack(re.search(r"zoom=([^&]+)", url_level3).group(1).replace("%3B", ";")
                              .replace("%2C", ",").replace("%2B", "+"))
    assert len(stack) == 3
    widths = [w[1] - w[0] for w in stack]
    assert widths[0] > widths[1] > widths[2]

    for level in (2, 1):
        page.get_by_role("button", name="Zoom back").click()
        page.get_by_text(f"Zoom level {level}").wait_for()

    # A fresh page from the copied level-3 link shows the same view.
    other = page.context.new_page()
    other.set_default_timeout(60_000)
    other.goto(url_level3)
    other.get_by_text("Zoom level 3").wait_for()
    other.close()
    page.get_by_role("button", name="Zoom back").click()
    page.get_by_text("Zoom level 0").wait_for()
    assert not page.js_errors, page.js_errors


def test_estimator_page_shows_estimates_and_errors():
    est = str(Path(PAGE).with_name("estimators.py"))
    at = AppTest.from_file(est, default_timeout=120)
    at.query_params["est_samples"] = "64"
    at.run()
    assert not at.exception, at.exception
    # the estimates' chart, beside the sidebar's thumbnail of where the point lies
    assert sorted(c.key for c in at.get("plotly_chart")) == ["est_thumbnail", "estimator_chart"]
    assert len(at.dataframe[0].value) == 3
    at.number_input(key="est_trunc").set_value(7).run()
    assert not at.exception
    assert any("must divide" in e.value for e in at.error)
