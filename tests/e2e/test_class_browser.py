"""A class opening one link at once: 8 Chromium sessions load /landscape together
on a server nobody has visited yet; every one must draw its chart, none may show
an exception (before the fix: 6-7 of 8 showed an ImportError from pages._shared,
or plotly's 'partially initialized module pandas')."""


import pytest

from tests.conftest import streamlit_server

pytestmark = pytest.mark.browser

SESSIONS = 8


def test_eight_first_visits_at_once_on_a_fresh_server(browser, tmp_path):
    log = tmp_path / "server.log"
    with streamlit_server(log, L2L_RUNS_DIR=str(tmp_path)) as (url, _):
        contexts = [browser.new_context(viewport={"width": 1200, "height": 900}) for _ in range(SESSIONS)]
        pages = [c.new_page() for c in contexts]
        errors: list[str] = []
        for p in pages:
            p.set_default_timeout(240_000)
            p.on("pageerror", lambda e: errors.append(str(e)))
        # Playwright's sync API is single-threaded: start every navigation, then wait on each.
        for p in pages:
            p.goto(f"{url}/landscape", wait_until="commit")
        for p in pages:
            p.locator(".js-plotly-plot .main-svg, [data-testid='stException']").first.wait_for(state="attached")
        shown = [p.locator("[data-testid='stException']").count() for p in pages]
        for c in contexts:
            c.close()
    text = log.read_text()
    assert shown == [0] * SESSIONS, (shown, text[-3000:])
    assert "Traceback" not in text and "Error" not in text.replace("stError", ""), text[-3000:]
    assert not errors, errors
