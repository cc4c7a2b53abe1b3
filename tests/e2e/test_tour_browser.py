"""The tour in headless Chromium: from the first step to the last with the Next button, then a
link into a full page that opens with the tour's settings."""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.test_browser import wait_for_app

pytestmark = pytest.mark.browser

STEPS = ["The inner problem", "Momentum's path", "The learning-rate sweep", "A chaotic landscape",
         "Gradient descent gets stuck", "Evolution Strategies", "Learning an optimizer", "Does it beat Adam?",
         "From one number to a network", "What theory predicts",
         "Inside one pixel: the edge of stability", "What your tuner sees"]


def no_exception(page):
    assert page.locator("[data-testid='stException']").count() == 0
    assert not page.js_errors, page.js_errors


def test_follow_the_tour_from_start_to_end(page):
    page.goto(page.app_url)
    wait_for_app(page)
    for i, title in enumerate(STEPS):
        heading = page.get_by_role("heading", name=f"{i + 1}. {title}")
        heading.wait_for()
        wait_for_app(page)
        no_exception(page)
        if i < 6 or i >= 8:  # the learned-optimizer steps explain themselves instead when no checkpoint is shipped
            assert page.locator(".js-plotly-plot").count() >= 1, title
        else:
            assert page.locator(".js-plotly-plot").count() >= 1 or page.get_by_text("not available").count()
        expect(page).to_have_url(re.compile(rf"[?&]step={i + 1}\b"), timeout=30_000)
        next_button = page.get_by_role("button", name="Next")
        if i < len(STEPS) - 1:
            next_button.click()
        else:
            expect(next_button).to_be_disabled(timeout=60_000)  # once the last step has finished drawing


def test_a_tour_link_opens_the_full_page_with_the_same_settings(page):
    page.goto(f"{page.app_url}/?step=4")
    page.get_by_role("heading", name="4. A chaotic landscape").wait_for()
    wait_for_app(page)
    page.get_by_text("zoom: the chaotic band near lr = 1").click()
    link = page.get_by_role("link", name="Open the landscape page on this view")
    expect(link).to_have_attribute("href", re.compile(r"lr_lo=-0\.5"))  # redrawn with the new view
    wait_for_app(page)
    link.click()
    page.get_by_role("heading", name=re.compile("Meta-loss landscape")).wait_for()
    wait_for_app(page)
    assert "lr_lo=-0.5" in page.url, page.url
    expect(page.get_by_role("spinbutton", name="log10 lr from")).to_have_value(re.compile(r"^-0\.50*$"))
    expect(page.get_by_role("spinbutton", name="log10(1-mom) to")).to_have_value(re.compile(r"^-1(\.0*)?$"))
    no_exception(page)
