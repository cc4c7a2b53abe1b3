"""Page state and the validation messages a teacher meets, through AppTest:
settings survive page switches, links apply, and every mistake is a message."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import open_page
from ui.shared import CUSTOM

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 180


def page(path, **query):
    return open_page(path, TIMEOUT, **query)


def texts(elements):
    return " ".join(e.value for e in elements)


# -- page switches (the sidebar walk, without a browser) ------------------------------------------------


def test_settings_survive_switching_pages_and_back():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    at.run()
    at.switch_page("pages/landscape.py")
    at.query_params["res"] = "100"
    at.query_params["methods"] = "grad"
    at.query_params["osteps"] = "50"
    at.run()
    assert not at.exception, at.exception
    at.number_input(key="lr_lo").set_value(-2.0).run()
    at.switch_page("pages/inner_problem.py")
    at.query_params.clear()  # as the sidebar's links do
    at.run()
    assert not at.exception, at.exception
    at.number_input(key="ip_lr").set_value(0.05).run()
    at.number_input(key="ip_momentum").set_value(0.5).run()
    at.switch_page("pages/estimators.py")
    at.query_params.clear()
    at.query_params["est_samples"] = "16"
    at.run()
    assert not at.exception, at.exception
    at.number_input(key="est_lr").set_value(-1.0).run()
    at.switch_page("pages/landscape.py")
    at.query_params.clear()  # the sidebar drops the address's parameters
    at.run()
    assert not at.exception, at.exception
    assert at.number_input(key="lr_lo").value == -2.0 and at.select_slider(key="res").value == 100
    at.switch_page("pages/inner_problem.py")
    at.query_params.clear()
    at.run()
    assert not at.exception, at.exception
    assert at.number_input(key="ip_lr").value == 0.05 and at.number_input(key="ip_momentum").value == 0.5
    at.switch_page("pages/estimators.py")
    at.query_params.clear()
    at.run()
    assert not at.exception, at.exception
    assert at.number_input(key="est_lr").value == -1.0
    assert at.number_input(key="est_samples").value == 16


# -- validation messages ---------------------------------------------------------------------------------


def test_an_empty_sweep_range_is_an_error_not_a_blank_chart():
    at = page("pages/lr_sweep.py", points="500")
    at.slider(key="sw_range").set_value((-1.0, -1.0)).run()
    assert not at.exception, at.exception
    assert "range is empty" in texts(at.error), texts(at.error)
    assert not at.get("plotly_chart")


def test_momentum_range_beyond_float64_says_why_without_a_zoom():
    at = page("pages/landscape.py", res="100", methods="grad", osteps="50")
    at.number_input(key="mom_lo").set_value(-20.0).run()
    assert not at.exception, at.exception
    msg = texts(at.error)
    assert "rounds to exactly 1" in msg and "back a level" not in msg, msg


def test_a_typed_range_while_zoomed_leaves_the_zoom_and_says_so():
    from l2l_core.landscape import zoom

    at = page("pages/landscape.py", res="100", methods="grad", osteps="50",
              zoom=zoom.encode_stack([(-2.0, 0.0, -2.0, -0.5)]))
    assert "Zoom level 1" in texts(at.markdown)
    assert "Zoomed in (1 level deep)" in texts(at.sidebar.caption)  # the sidebar says what is on screen
    at.number_input(key="lr_hi").set_value(1.0).run()
    assert not at.exception, at.exception
    assert "Zoom level 0" in texts(at.markdown)
    assert "replaced the zoom" in texts(at.info)
    assert "zoom" not in at.query_params and at.query_params["lr_hi"] == "1.0"


def test_estimators_link_keeps_the_inner_loss_and_flags_bad_values():
    # an earlier name of the problem (problem=quadratic) opens the problem under its present name
    at = page("pages/estimators.py", est_samples="16", problem="quadratic", est_lr="abc")
    assert at.selectbox(key="est_problem").value == "parabola"
    assert at.query_params["problem"] == "parabola"
    assert "est_lr" in texts(at.warning)


def test_estimators_at_a_diverging_point_say_so():
    at = page("pages/estimators.py", est_samples="16", problem="parabola", est_lr="1", est_omm="0")
    assert "diverges" in texts(at.warning), texts(at.warning)
    assert [c.key for c in at.get("plotly_chart")] == ["est_thumbnail"]  # no estimates drawn


@pytest.mark.parametrize("path", ["pages/inner_problem.py", "pages/lr_sweep.py"])
def test_a_rejected_formula_is_said_in_the_main_area_too(path):
    at = page(path, points="500")
    key = "ip_problem" if "inner" in path else "sw_problem"
    at.selectbox(key=key).set_value(CUSTOM).run()
    at.text_input(key=f"{key}_formula").set_value("x^2").run()
    assert not at.exception, at.exception
    assert "Formula not accepted" in texts(at.sidebar.error)
    assert "not accepted" in texts(at.main.error)


def test_teacher_mode_hides_chosen_controls_and_keeps_their_values():
    at = page("pages/inner_problem.py", lr="0.3", hide="lr,sidebar")
    labels = [w.label for w in at.number_input]
    assert "Learning rate" not in labels and "Momentum" in labels
    assert "hide" in at.query_params and at.query_params["lr"] == "0.3"
    assert any("stSidebar" in h.proto.body for h in at.get("html"))  # the sidebar is hidden by a style rule
    assert "lr 0.3" in " ".join(c.value for c in at.caption) or at.get("plotly_chart")
