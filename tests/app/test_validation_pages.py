"""Every page driven with out-of-range and hostile values through AppTest:
the page shows st.error (or the numbers as data) and never raises."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from ui.shared import CUSTOM

TIMEOUT = 120
ROOT = Path(__file__).resolve().parents[2]
PAGES = ["pages/inner_problem.py", "pages/lr_sweep.py", "pages/landscape.py"]


def page(path):
    at = AppTest.from_file(str(ROOT / path), default_timeout=TIMEOUT)
    at.run()
    assert not at.exception, at.exception
    return at


def by_label(widgets, label):
    for w in widgets:
        if w.label == label:
            return w
    raise AssertionError(f"no widget labelled {label!r} in {[w.label for w in widgets]}")


def errors(at):
    return [e.value for e in at.error]


def small(at):
    """Shrinks the expensive pages so that each rerun is quick."""
    for s in at.select_slider:
        if s.label.startswith("Resolution"):
            s.set_value(100)
        if s.label == "Points":
            s.set_value(500)
    return at


def custom(at, text):
    by_label(at.selectbox, "Inner loss").set_value(CUSTOM).run()
    by_label(at.text_input, "f(x) =").set_value(text).run()
    return at


@pytest.mark.parametrize("path", PAGES)
@pytest.mark.parametrize("text", ["x.__class__", "__import__('os')", "9**9**9", "x^2", "sin(",
                                  "sin(" * 30 + "x" + ")" * 30])
def test_hostile_formula_is_an_error_message(path, text):
    at = small(page(path))
    custom(at, text)
    assert not at.exception, at.exception
    assert any("Formula not accepted" in e for e in errors(at)), errors(at)
    assert not at.get("plotly_chart")  # nothing computed from it


@pytest.mark.parametrize("path", PAGES)
def test_valid_formula_is_drawn(path):
    at = small(page(path))
    custom(at, "0.5 * x**2")
    assert not at.exception, at.exception
    assert not errors(at), errors(at)
    assert at.get("plotly_chart")


def test_inner_problem_formula_uses_its_curve():
    import json

    at = custom(page("pages/inner_problem.py"), "abs(x)")
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    xs_trace = spec["data"][0]
    assert not at.exception and not errors(at)
    assert xs_trace  # a curve is drawn; its range is the formula default
    assert at.caption and any("f(x) = abs(x)" in c.value for c in at.caption)


@pytest.mark.parametrize("label, value", [("Momentum", 1e30), ("Learning rate", 1e30),
                                          ("Initial x0", 1e30), ("Initial x0", -1e38)])
def test_inner_problem_extreme_numbers_are_data(label, value):
    at = page("pages/inner_problem.py")
    by_label(at.number_input, label).set_value(value).run()
    assert not at.exception, at.exception
    assert all("outside" in e for e in errors(at)), errors(at)  # beyond the box's range: refused, the nearest used
    shown = {m.label: m.value for m in at.metric}
    assert errors(at) or "diverged" in shown["final x"] or "diverged" in shown["final loss"] or label == "Initial x0"


def test_inner_problem_formula_that_is_nan_everywhere_is_data():
    at = custom(page("pages/inner_problem.py"), "log(-1 - x**2)")
    assert not at.exception, at.exception
    shown = {m.label: m.value for m in at.metric}
    assert shown["final loss"] == "diverged" and shown["outer loss"] == "NaN"


@pytest.mark.parametrize("label, value", [("Momentum", 1e30), ("Momentum", -1e30), ("Initial x0", 1e35)])
def test_lr_sweep_extreme_numbers_are_data(label, value):
    at = small(page("pages/lr_sweep.py"))
    by_label(at.number_input, label).set_value(value).run()
    assert not at.exception, at.exception
    assert all("outside" in e for e in errors(at)), errors(at)  # beyond the box's range: refused, the nearest used
    shown = {m.label: m.value for m in at.metric}
    assert errors(at) or int(shown["diverged runs"].replace(",", "")) > 0


def test_lr_sweep_formula_that_overflows_is_counted_as_diverged():
    at = small(page("pages/lr_sweep.py"))
    custom(at, "exp(x**2)")
    assert not at.exception, at.exception
    shown = {m.label: m.value for m in at.metric}
    assert int(shown["diverged runs"].replace(",", "")) == 500


@pytest.mark.parametrize("changes, message", [
    ({"log10 lr from": 3.0}, "lower end below"),
    ({"log10(1-mom) from": 1.0}, "lower end below"),
    ({"log10 lr from": -1e300, "log10 lr to": 1e300}, "either"),
    ({"Initial x0": 1e30}, None),
])
def test_landscape_out_of_range_values(changes, message):
    at = small(page("pages/landscape.py"))
    for label, value in changes.items():
        by_label(at.number_input, label).set_value(value)
    at.run()
    assert not at.exception, at.exception
    if message == "either":  # refused with a message, or computed as data
        assert errors(at) or at.get("plotly_chart")
    elif message:
        assert any(message in e for e in errors(at)), errors(at)
    else:  # beyond the box's range: refused beside it, the nearest value used, the grid drawn
        assert all("outside" in e for e in errors(at)), errors(at)
        assert at.get("plotly_chart")
        shown = {m.label: m.value for m in at.metric}
        assert errors(at) or shown["diverged cells"].split()[0] != "0"
