"""A first visit straight to a page's URL, on a server nobody has opened yet,
still goes through app.py's router (sidebar sections, layout, warm-up) and
keeps the link's settings."""

import pytest

from tests.conftest import streamlit_server

pytestmark = pytest.mark.browser


def test_first_visit_by_link_goes_through_the_router(browser, tmp_path):
    with streamlit_server(tmp_path / "server.log", L2L_RUNS_DIR=str(tmp_path)) as (url, _):
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        page = context.new_page()
        page.set_default_timeout(90_000)
        page.goto(f"{url}/lr_sweep?momentum=0.5&points=1000")
        page.wait_for_selector(".js-plotly-plot .main-svg", state="attached")
        nav = page.locator("[data-testid='stSidebarNav']")
        nav.get_by_text("Start here").wait_for()  # the router's sections, not a folder listing
        assert nav.get_by_text("shared").count() == 0
        assert page.get_by_role("spinbutton", name="Momentum").input_value().startswith("0.5")
        page.get_by_text("1,000 inner runs computed").first.wait_for()
        assert page.locator("[data-testid='stException']").count() == 0
        context.close()
