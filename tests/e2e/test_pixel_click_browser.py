"""Clicking a cell of the landscape in Chromium (issue 25): the cell's run and its "Open this pixel" link.

Plotly gives Streamlit no selection for a click on a heatmap (streamlit/streamlit#8760), so
the page takes a tiny box (smaller than ``ui.box_zoom.PICK_FRACTION`` of the view) as the
click; this test makes that tiny drag, as a person does, and checks the link.
"""

from __future__ import annotations

import math
from urllib.parse import parse_qsl, urlparse

import numpy as np
import pytest

from tests.e2e.test_navigation_browser import no_exception, settled

pytestmark = pytest.mark.browser


def test_a_click_on_a_heatmap_cell_links_that_run(page):
    page.set_default_timeout(180_000)
    page.goto(f"{page.app_url}/landscape?problem=parabola&res=100&methods=&steps=20")
    page.get_by_text("inner runs computed").first.wait_for()
    settled(page)
    layer = page.locator(".st-key-landscape_chart .nsewdrag")
    layer.wait_for()
    b = layer.bounding_box()
    fx, fy = 0.6, 0.4  # where the click lands, as fractions of the plot area
    x0, y0 = b["x"] + fx * b["width"], b["y"] + fy * b["height"]
    page.mouse.move(x0 - 7, y0 - 7)
    page.mouse.down()
    page.mouse.move(x0, y0, steps=3)
    page.mouse.move(x0 + 7, y0 + 7, steps=3)
    page.mouse.up()
    link = page.get_by_role("link", name="Open this pixel")
    link.wait_for()
    settled(page)
    no_exception(page, "a click on a cell")
    assert page.get_by_text("Zoom level 0").first.is_visible()  # the click did not zoom
    href = link.get_attribute("href")
    assert urlparse(href).path.rstrip("/").endswith("inspect"), href
    q = dict(parse_qsl(urlparse(href).query))
    assert {k: q[k] for k in ("task", "opt", "steps", "seed", "x0")} == dict(
        task="parabola", opt="sgd", steps="20", seed="0", x0="-4")
    # exactly a cell of the 100 x 100 grid, the one under the click (the axes span the cell centres;
    # the top is momentum 0.999, log10(1 - m) = -3)
    xs, ys = np.linspace(-3.0, 2.0, 100), np.linspace(-3.0, 0.0, 100)
    lx, ly = math.log10(float(q["lr"])), math.log10(1.0 - float(q["momentum"]))
    assert np.min(np.abs(xs - lx)) < 1e-9 and np.min(np.abs(ys - ly)) < 1e-9, (lx, ly)
    step_x, step_y = xs[1] - xs[0], ys[1] - ys[0]
    want_x = xs[0] + fx * (xs[-1] - xs[0])
    want_y = ys[0] + fy * (ys[-1] - ys[0])  # screen y grows downwards, from log10(1 - m) = -3
    assert abs(lx - want_x) <= 1.5 * step_x and abs(ly - want_y) <= 1.5 * step_y, (lx, want_x, ly, want_y)
