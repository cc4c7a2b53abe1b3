"""In Chromium: the general landscape says "refining to N² ..." while a finer pass runs over
its coarse image, and says nothing of it once the full resolution is drawn."""

from __future__ import annotations

import pytest

from tests.conftest import SCRIPT_DONE_JS

#: Records the first "Refining to ..." line the page showed, however briefly it was shown
#: (on a busy server the page may first wait in line for a job slot).
WATCH_JS = """() => {
  window.__refining = null;
  new MutationObserver(() => {
    if (window.__refining !== null) return;
    for (const el of document.querySelectorAll('[data-testid="stAlert"]')) {
      if (el.innerText.includes('Refining to')) { window.__refining = el.innerText; return; }
    }
  }).observe(document, {childList: true, subtree: true, characterData: true});
}"""


@pytest.mark.slow
def test_the_general_landscape_says_it_is_refining(page):
    page.add_init_script(f"({WATCH_JS})()")
    page.goto(page.app_url + "/landscape?task=rosenbrock&opt=adam&x=lr&y=b1&res=500&steps=43&methods=es&osteps=5")
    page.wait_for_function("window.__refining !== null", timeout=400_000)
    assert "then 500²" in page.evaluate("window.__refining")
    page.wait_for_function(SCRIPT_DONE_JS, timeout=400_000)
    assert page.get_by_text("Refining to").count() == 0  # gone once the full resolution is drawn
    assert not page.js_errors
