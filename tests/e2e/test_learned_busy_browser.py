"""The learned page shows, at its top, that a newly picked task family's race is computing,
and clears the sign once the race is drawn (Chromium)."""

from __future__ import annotations

import pytest

from tests.conftest import SCRIPT_DONE_JS


@pytest.mark.slow
def test_a_family_being_computed_says_so_at_the_top(page):
    page.goto(page.app_url + "/learned_optimizer?seed=4242")  # a task seed nothing else caches
    sign = page.get_by_text("Computing for")
    sign.first.wait_for(timeout=120_000)
    box, title = sign.first.bounding_box(), page.get_by_text("Race on fresh tasks").first
    assert box["y"] < 1000  # in the first screen, not beside the race further down
    page.wait_for_function(SCRIPT_DONE_JS, timeout=240_000)
    title.wait_for()
    assert sign.count() == 0  # gone once the race is drawn
    assert not page.js_errors
