"""The learned page shows, at its top, that a newly picked task family's race is computing,
and clears the sign once the race is drawn (Chromium)."""

from __future__ import annotations

import pytest

from tests.conftest import SCRIPT_DONE_JS

#: Records where the sign first appeared (its top, px), however briefly it is shown.
WATCH_JS = """() => {
  window.__busy = null;
  new MutationObserver(() => {
    if (window.__busy !== null) return;
    for (const el of document.querySelectorAll('[data-testid="stAlert"]')) {
      if (el.innerText.includes('Computing for')) { window.__busy = el.getBoundingClientRect().top; return; }
    }
  }).observe(document, {childList: true, subtree: true, characterData: true});
}"""


@pytest.mark.slow
def test_a_family_being_computed_says_so_at_the_top(page):
    page.add_init_script(f"({WATCH_JS})()")
    page.goto(page.app_url + "/learned_optimizer?seed=4242")  # a task seed nothing else caches
    page.wait_for_function(SCRIPT_DONE_JS, timeout=240_000)
    page.get_by_text("Race on fresh tasks").first.wait_for()
    top = page.evaluate("window.__busy")
    assert top is not None and top < 1000  # shown, in the first screen (not beside the race further down)
    assert page.get_by_text("Computing for").count() == 0  # gone once the race is drawn
    assert not page.js_errors
