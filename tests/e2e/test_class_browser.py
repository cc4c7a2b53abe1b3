"""A class opening links at once, on a server nobody has visited yet: 8 Chromium
sessions load their links together, seven the landscape and one the sweep with
settings in its address. Every one must draw its chart through app.py's router
(sidebar sections, the link's settings kept) and none may show an exception
(before the fix: 6-7 of 8 showed an ImportError from ui.shared, or plotly's
'partially initialized module pandas'). One fresh server serves both checks: a first
visit by link and a class's first visits at once are the same moment for the server."""

import pytest

from tests.conftest import streamlit_server

pytestmark = pytest.mark.browser

SESSIONS = 8
LINKS = ["/lr_sweep?momentum=0.5&points=1000"] + ["/landscape"] * (SESSIONS - 1)


def test_a_class_opens_its_links_at_once_on_a_fresh_server(browser, tmp_path):
    log = tmp_path / "server.log"
    with streamlit_server(log, L2L_RUNS_DIR=str(tmp_path)) as (url, _):
        contexts = [browser.new_context(viewport={"width": 1200, "height": 900}) for _ in range(SESSIONS)]
        pages = [c.new_page() for c in contexts]
        errors: list[str] = []
        for p in pages:
            p.set_default_timeout(240_000)
            p.on("pageerror", lambda e: errors.append(str(e)))
        # Playwright's sync API is single-threaded: start every navigation, then wait on each.
        for p, link in zip(pages, LINKS):
            p.goto(f"{url}{link}", wait_until="commit")
        for p in pages:
            p.locator(".js-plotly-plot .main-svg, [data-testid='stException']").first.wait_for(state="attached")
        shown = [p.locator("[data-testid='stException']").count() for p in pages]
        # The first visit by link went through the router and kept the link's settings.
        sweep = pages[0]
        nav = sweep.locator("[data-testid='stSidebarNav']")
        nav.get_by_text("Start here").wait_for()  # the router's sections, not a folder listing
        assert nav.get_by_text("shared").count() == 0
        assert sweep.get_by_role("spinbutton", name="Momentum").input_value().startswith("0.5")
        sweep.get_by_text("1,000 inner runs computed").first.wait_for()
        for c in contexts:
            c.close()
    text = log.read_text()
    assert shown == [0] * SESSIONS, (shown, text[-3000:])
    assert "Traceback" not in text and "Error" not in text.replace("stError", ""), text[-3000:]
    assert not errors, errors
