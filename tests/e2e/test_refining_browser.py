"""In Chromium: the general landscape says "refining to N² ..." while a finer pass runs over
its coarse image, and says nothing of it once the full resolution is drawn."""

from __future__ import annotations

import pytest

from tests.conftest import SCRIPT_DONE_JS


@pytest.mark.slow
def test_the_general_landscape_says_it_is_refining(page):
    page.goto(page.app_url + "/landscape?task=rosenbrock&opt=adam&x=lr&y=b1&res=500&steps=43&methods=es&osteps=5")
    page.get_by_text("Refining to").first.wait_for(timeout=240_000)
    page.wait_for_function(SCRIPT_DONE_JS, timeout=240_000)
    assert page.get_by_text("Refining to").count() == 0  # gone once the full resolution is drawn
    assert not page.js_errors
