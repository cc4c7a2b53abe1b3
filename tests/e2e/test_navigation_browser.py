"""The sidebar walk a teacher does: every page, then every page again, changing
one setting on each; no page may raise, and each must show what was left there."""

import os
import re

import pytest
from playwright.sync_api import expect

from tests.conftest import SCRIPT_DONE_JS, app_pages, drag_box

pytestmark = pytest.mark.browser

#: (sidebar title, URL slug, heading word, spinbutton label, value on walk 1, value on walk 2)
WALK = [
    ("Inner problem", "inner_problem", "Inner problem", "Learning rate", "0.05", "0.2"),
    ("Learning-rate sweep", "lr_sweep", "Learning-rate sweep", "Momentum", "0.5", "0.7"),
    ("Meta-loss landscape", "landscape", "Meta-loss landscape", "log10 lr from", "-2", "-1.5"),
    ("Gradient estimators", "estimators", "Gradient estimators", "log10 lr", "-1", "-0.8"),
    ("Trainability fractal", "fractal", "Trainability fractal", "Seed (data and initial weights)", "1", "2"),
    ("What tuning sees", "tuning", "What tuning sees", "Tuner seed", "1", "2"),
    ("Open a pixel", "inspect", "Open a pixel", "Seed", "1", "2"),
    ("Learned optimizer", "learned_optimizer", "Learned optimizer", "Task seed", "9", "11"),
    ("Tour", "", "Start here", None, "2", "3"),
]


TOUR_STEPS = ["The inner problem", "Momentum's path", "The learning-rate sweep"]


def test_the_walk_visits_every_page_of_the_app():
    assert sorted(title for title, *_ in WALK) == sorted(title for _, title, _ in app_pages())


def settled(page):
    page.wait_for_timeout(300)
    page.wait_for_function(SCRIPT_DONE_JS, timeout=180_000)


def no_exception(page, where):
    assert page.locator("[data-testid='stException']").count() == 0, (
        where, page.locator("[data-testid='stException']").first.inner_text())
    assert not page.js_errors, page.js_errors


def same(value: str):
    return re.compile(rf"^{re.escape(value)}0*$" if "." in value else rf"^{re.escape(value)}(\.0*)?$")


def visit(page, title, heading):
    page.locator("[data-testid='stSidebarNav']").get_by_role("link", name=title).click()
    page.get_by_role("heading", name=re.compile(heading)).first.wait_for(timeout=180_000)
    settled(page)


def test_sidebar_walk_twice_keeps_every_page_setting(page, tmp_path):
    try:
        walk(page)
    except BaseException:
        shot = os.environ.get("L2L_WALK_SCREENSHOT", str(tmp_path / "walk_failure.png"))
        page.screenshot(path=shot, full_page=True)
        print("screenshot:", shot)
        raise


def walk(page):
    page.set_default_timeout(180_000)
    page.goto(f"{page.app_url}/landscape?res=100")
    settled(page)
    for walk in (0, 1):
        for title, _slug, heading, label, first, second in WALK:
            visit(page, title, heading)
            no_exception(page, f"walk {walk + 1}, {title}")
            if label is None:  # the tour: its step
                if walk:
                    page.get_by_role("heading", name=f"{first}. ").first.wait_for()
                n = int(second if walk else first)
                page.locator("[data-testid='stRadio']").first.get_by_text(f"{n}. {TOUR_STEPS[n - 1]}").click()
                settled(page)
                page.get_by_role("heading", name=f"{second if walk else first}. ").first.wait_for()
                continue
            box = page.get_by_role("spinbutton", name=label, exact=True)
            if walk:
                expect(box).to_have_value(same(first))
            box.fill(second if walk else first)
            box.press("Enter")
            settled(page)
            no_exception(page, f"walk {walk + 1}, {title}, after the change")
            expect(box).to_have_value(same(second if walk else first))
    # and a last look at each: the second walk's values stand
    for title, _slug, heading, label, _first, second in WALK[:-1]:
        visit(page, title, heading)
        no_exception(page, f"last look, {title}")
        expect(page.get_by_role("spinbutton", name=label, exact=True)).to_have_value(same(second))


def test_a_box_dragged_right_after_the_heatmap_appears_zooms(page):
    page.set_default_timeout(180_000)
    page.goto(f"{page.app_url}/landscape?res=100&methods=grad,es&osteps=300&seeds=0")
    # The heatmap's drag layer: Plotly draws charts lazily, so the first one drawn may be a
    # chart further down (the runs' loss curves), where a drag zooms nothing.
    layer = page.locator(".st-key-landscape_chart .nsewdrag")

    def drag():
        drag_box(page, layer)

    layer.wait_for()  # no waiting for the page to finish: drag at once
    drag()
    zoomed = page.get_by_text("Zoom level 1").first
    try:
        zoomed.wait_for(timeout=90_000)
    except Exception:
        # Known: on a cold server an early drag is sometimes lost (no zoom, no error);
        # the page must then take a second drag, as a user would make it.
        settled(page)
        no_exception(page, "early box drag")
        drag()
        zoomed.wait_for()
    settled(page)
    no_exception(page, "early box drag")


@pytest.mark.parametrize("width, height", [(1280, 720), (1024, 768)])
def test_projector_sizes_show_the_heatmap_without_scrolling(browser, app_url, width, height):
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.set_default_timeout(180_000)
    try:
        page.goto(f"{app_url}/landscape?res=100&methods=grad&osteps=100")
        page.get_by_text("inner runs computed").first.wait_for()
        settled(page)
        # The heatmap itself: Plotly draws charts lazily, so the first chart drawn may be
        # the local-shift one far down the page.
        heatmap = page.locator(".st-key-landscape_chart .stPlotlyChart")
        heatmap.wait_for()
        chart = heatmap.bounding_box()
        assert chart["y"] >= 0 and chart["y"] + chart["height"] <= height + 1, (chart, height)
        assert chart["width"] >= 0.45 * width, chart  # not a thumbnail beside other charts
        for name in ("Zoom back", "Reset view"):
            clipped = page.get_by_role("button", name=name).evaluate(
                "b => [...b.querySelectorAll('p, span, div')].some(e => e.scrollWidth > e.clientWidth + 1)")
            assert not clipped, f"{name} is cut off at {width}x{height}"
    finally:
        context.close()
