"""In Chromium: an address that names no page says so (it does not silently show the tour)."""

from tests.conftest import SCRIPT_DONE_JS


def test_an_unknown_page_says_page_not_found(page):
    page.goto(page.app_url + "/nonexistent_page")
    page.wait_for_function(SCRIPT_DONE_JS, timeout=120_000)
    page.get_by_text("Page not found").first.wait_for(timeout=60_000)
    assert "nonexistent_page" in page.locator("[data-testid='stAlert']").first.inner_text()
    assert not page.js_errors


def test_a_known_page_says_nothing_of_the_kind(page):
    page.goto(page.app_url + "/inner_problem")
    page.wait_for_function(SCRIPT_DONE_JS, timeout=120_000)
    page.get_by_text("Inner problem").first.wait_for(timeout=60_000)
    assert page.get_by_text("Page not found").count() == 0
