"""In Chromium at 1024x768: no sidebar control label or value, no metric and no button text of
any page is cut off (an element's scroll width beyond its client width: an ellipsis or a clip)."""

from __future__ import annotations

import pytest

from tests.conftest import SCRIPT_DONE_JS, app_pages, browser_page

#: Texts that need more width than they are given.
CUT_JS = """() => {
  const sel = ['[data-testid="stSidebar"] [data-testid="stWidgetLabel"]',
               '[data-testid="stSidebar"] [data-testid="stWidgetLabel"] *',
               '[data-testid="stSidebar"] [data-testid="stSelectbox"] input',
               '[data-testid="stMetricValue"]', '[data-testid="stMetricValue"] *',
               '[data-testid="stMetricLabel"]', '[data-testid="stMetricLabel"] *',
               'button[kind] p', 'button[kind] [data-testid="stMarkdownContainer"]'];
  const out = [];
  for (const el of document.querySelectorAll(sel.join(','))) {
    if (!el.offsetParent || el.clientWidth === 0) continue;
    if (el.scrollWidth > el.clientWidth + 1) out.push((el.innerText || el.value || '').trim());
  }
  return [...new Set(out.filter(t => t))];
}"""

#: Every page at its address; the tour's landscape step (its buttons); the landscape page's
#: general view (axis pickers, its metrics), light enough to draw in seconds.
ADDRESSES = [("" if d else p.removeprefix("pages/").removesuffix(".py")) for p, _, d in app_pages()] + [
    "?step=4&t_ls_res=100",
    "landscape?task=rosenbrock&opt=adam&res=64&methods=es&osteps=5",
    "landscape?task=rosenbrock&opt=sgd&x=lr&y=momentum&res=64&methods=es&osteps=5"]


@pytest.fixture(scope="module")
def small_page(browser, app_url):
    with browser_page(browser, app_url, 1024, 768) as pg:
        yield pg


@pytest.mark.slow
@pytest.mark.parametrize("address", ADDRESSES)
def test_no_label_metric_or_button_is_cut_off_at_1024(small_page, address):
    small_page.goto(small_page.app_url + "/" + address)
    small_page.wait_for_function(SCRIPT_DONE_JS, timeout=240_000)
    small_page.wait_for_timeout(800)  # layout settles after the last element
    assert small_page.evaluate(CUT_JS) == []
    assert not small_page.js_errors


def test_the_check_sees_a_cut_text(small_page):
    """The measure itself: a button squeezed into a narrow box is reported."""
    small_page.set_content('<div style="width:40px"><button kind="secondary" style="width:40px">'
                           '<p style="overflow:hidden;white-space:nowrap;text-overflow:ellipsis">'
                           'Zoom 2x on the edge</p></button></div>')
    assert small_page.evaluate(CUT_JS) == ["Zoom 2x on the edge"]
