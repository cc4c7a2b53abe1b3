"""A link to the trainability fractal that carries a zoom path opens on the zoomed
view: the browser shows that view's depth, axes and precision, not the top view."""

import re

import pytest

pytestmark = pytest.mark.browser

#: Two levels: the top view, then a window 2e-11 wide around (0.4, 0.5) in log10 lr.
ZOOM = "-3,6,-3,6;0.39999999999,0.40000000001,0.49999999999,0.50000000001"


def test_zoom_path_in_the_url_is_replayed_in_the_browser(page):
    page.set_default_timeout(180_000)
    page.goto(f"{page.app_url}/fractal?task=fractal_single&width=4&steps=10&res=64&fzoom={ZOOM}")
    page.get_by_text("Zoom depth 2").first.wait_for()
    caption = page.get_by_text(re.compile("Zoom depth 2: the view is")).first.inner_text()
    assert "2e-11 x 2e-11" in caption and "11.7 decades narrower than the top view" in caption, caption
    chart = page.locator(".st-key-fr_chart .stPlotlyChart")  # not the box-count chart below it
    chart.locator(".xtitle").wait_for()
    # deep in, each axis is drawn as an offset from the window's centre in units of 1e-11
    x_title, y_title = chart.locator(".xtitle").text_content(), chart.locator(".ytitle").text_content()
    assert re.search(r"log10 lr_in − 0\.(4|39999)\d*\s+\(×1e-11\)", x_title), x_title
    assert re.search(r"log10 lr_out − 0\.(5|49999)\d*\s+\(×1e-11\)", y_title), y_title
    assert "float64" in chart.locator(".gtitle").text_content()  # float32 cannot resolve this window
    # the heatmap spans the zoomed window (offsets from its centre, in 1e-11), not the top view's [-3, 6]
    ranges = page.evaluate("() => { const l = document.querySelector('.st-key-fr_chart .js-plotly-plot')._fullLayout;"
                           " return [l.xaxis.range, l.yaxis.range]; }")
    for lo, hi in ranges:  # +-1e-11 around the centre, plus half a pixel
        assert lo == pytest.approx(-1.0, abs=0.05) and hi == pytest.approx(1.0, abs=0.05), ranges
    assert page.locator("[data-testid='stException']").count() == 0
    assert not page.js_errors, page.js_errors
