"""Messages that say what happened: the formula boxes name their own variables and box, a name
with underscores is refused as such, the fractal page's zoom text holds at the top view and on a
linear axis, and a result served from the cache says so."""

from __future__ import annotations

import pytest

from l2l_core import expr
from tests.conftest import open_page


def test_a_dunder_name_is_refused_as_a_name_with_underscores():
    for text in ("__import__('os')", "__import__", "x + __builtins__"):
        with pytest.raises(ValueError) as e:
            expr.normalize(text, ("x", "y"))
        assert "underscores" in str(e.value) and "unknown function" not in str(e.value), str(e.value)


def test_the_empty_xy_formula_asks_for_x_and_y():
    with pytest.raises(ValueError, match="in x and y"):
        expr.normalize("  ", ("x", "y"))


def test_the_xy_formula_box_speaks_of_itself():
    at = open_page("pages/landscape.py", task="formula_xy", methods="")
    at.text_input(key="g_fxy").set_value("__import__('os')").run()
    assert not at.exception, at.exception
    text = " ".join(e.value for e in at.error)
    assert "underscores" in text and "f(x, y) = ..." in text, text
    assert "under f(x) = ..." not in text and "unknown function" not in text, text


def test_the_fractal_offset_top_view_is_not_below_itself():
    at = open_page("pages/fractal.py", task="fractal_offset", res="64", steps="10")
    text = " ".join(c.value for c in at.caption)
    assert "Zoom depth 0: the top view" in text, text
    assert "decades" not in text.split("Zoom depth 0")[1].split(".")[0] and "log10 units" not in text, text


@pytest.mark.slow
def test_the_tour_says_when_its_image_came_from_the_cache():
    from streamlit.testing.v1 import AppTest

    from tests.app.test_truthful_demo import ROOT

    for _ in range(2):
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
        at.query_params["step"] = "9"
        at.run()
    text = " ".join(c.value for c in at.caption)
    assert "served from cache" in text, text
