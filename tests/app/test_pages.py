"""Every landscape page rendered by streamlit.testing: it renders, a widget change
changes the result, and nothing raises."""

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

TIMEOUT = 120
ROOT = Path(__file__).resolve().parents[2]


def run(path):
    at = AppTest.from_file(str(ROOT / path), default_timeout=TIMEOUT).run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    return at


def chart(at, index=0):
    return json.loads(at.get("plotly_chart")[index].proto.spec)


def arr(value):
    """A plotly array from a figure spec, plain or binary-encoded ({"dtype", "bdata"})."""
    if isinstance(value, dict) and "bdata" in value:
        import base64

        import numpy as np

        out = np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"])
        return out.reshape(value["shape"]) if "shape" in value else out
    return value


def metric(at, label):
    return next(m.value for m in at.metric if m.label == label)


def test_app_router_opens_the_default_page():
    at = run("app.py")
    assert "Start here" in at.title[0].value  # the tour is the landing page


def test_inner_problem_page():
    at = run("pages/inner_problem.py")
    assert len(at.get("plotly_chart")) == 2
    final_x = float(metric(at, "final x"))
    assert abs(final_x - 1.5) < 0.5  # the post's run settles in the local minimum
    at.number_input[2].set_value(0.5).run()  # momentum 0.9 -> 0.5
    assert not at.exception
    assert float(metric(at, "final x")) != pytest.approx(final_x)


def test_inner_problem_divergence_is_shown_not_raised():
    at = AppTest.from_file(str(ROOT / "pages/inner_problem.py"), default_timeout=TIMEOUT)
    at.run()
    at.selectbox[0].set_value("parabola")
    at.number_input[1].set_value(10.0).run()
    assert not at.exception
    assert metric(at, "final x") == "diverged"


def test_lr_sweep_page():
    at = run("pages/lr_sweep.py")
    spec = chart(at)
    assert len(arr(spec["data"][0]["x"])) == 5000  # the post's 5000 learning rates
    best = metric(at, "best outer loss")
    at.number_input[0].set_value(0.5).run()  # momentum
    assert not at.exception
    assert metric(at, "best outer loss") != best


def test_landscape_page():
    at = run("pages/landscape.py")
    spec = chart(at)
    heat = spec["data"][0]
    assert heat["type"] == "heatmap" and heat["zmax"] == 10
    assert len(arr(heat["x"])) <= 400 and len(arr(heat["y"])) <= 400
    names = [t.get("name", "") for t in spec["data"]]
    assert any(n.startswith("best cell") for n in names)
    at.select_slider[0].set_value(100).run()
    assert not at.exception
    at.number_input[0].set_value(-2.0).run()  # narrower lr range
    assert not at.exception
    assert arr(chart(at)["data"][0]["x"])[0] == -2.0


def test_landscape_counts_diverged_cells():
    at = AppTest.from_file(str(ROOT / "pages/landscape.py"), default_timeout=TIMEOUT).run()
    at.selectbox[0].set_value("parabola")
    at.select_slider[0].set_value(100).run()
    assert not at.exception
    assert not metric(at, "diverged cells").startswith("0 ")
    names = [t.get("name", "") for t in chart(at)["data"]]
    assert "diverged" in names


def test_landscape_bad_range_is_an_error_message():
    at = AppTest.from_file(str(ROOT / "pages/landscape.py"), default_timeout=TIMEOUT).run()
    at.number_input[0].set_value(3.0).run()  # lr from 3 > lr to 2
    assert not at.exception
    assert any("lower end" in e.value for e in at.error)
