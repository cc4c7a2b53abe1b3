"""The inner-problem and sweep pages follow the landscape page's task and optimizer (AppTest):
one shared selection, in every page's URL; the post's pages unchanged by default."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from l2l_core.landscape import general
from tests.conftest import open_page

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 240
SELECTION_URL = {"task", "opt", "set", "nseed", "fxy"}


def page(path, **query):
    at = open_page(path, TIMEOUT, **query)
    assert not at.error, [e.value for e in at.error]
    return at


def traces(at, i=0) -> list[dict]:
    return json.loads(at.get("plotly_chart")[i].proto.spec)["data"]


def arr(trace: dict, field: str) -> np.ndarray:
    """A trace's array, also from plotly's typed-array encoding."""
    v = trace[field]
    if isinstance(v, dict):
        return np.frombuffer(base64.b64decode(v["bdata"]), dtype=v["dtype"]).astype(float)
    return np.array(v, dtype=float)


def switch(at, path, **query):
    at.switch_page(path)
    at.query_params.clear()  # as the sidebar's links do
    for k, v in query.items():
        at.query_params[k] = v
    at.run()
    assert not at.exception, at.exception
    return at


@pytest.mark.slow  # four pages, each compiling its kernels
def test_a_choice_on_the_landscape_page_is_what_the_other_pages_show():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    at.run()
    switch(at, "pages/landscape.py", res="100", methods="es", osteps="10", steps="10")
    at.selectbox(key="g_task").set_value("himmelblau").run()
    at.selectbox(key="g_opt").set_value("adam").run()
    assert not at.exception, at.exception
    switch(at, "pages/inner_problem.py")
    assert "Adam on Himmelblau" in at.title[0].value
    assert traces(at)[0]["type"] == "contour" and at.query_params["task"] == "himmelblau"
    switch(at, "pages/lr_sweep.py")  # no link: the shared choice (a link would set its own)
    assert "Adam on Himmelblau" in at.title[0].value and at.query_params["opt"] == "adam"
    at.selectbox(key="sw_opt").set_value("rmsprop").run()  # chosen here: the landscape page follows
    at.number_input(key="sw_hp_decay").set_value(0.8).run()
    assert at.query_params["set"] == "decay=0.8"
    switch(at, "pages/landscape.py")  # its own settings (res 100, ...) from its memory, the choice shared
    assert at.selectbox(key="g_opt").value == "rmsprop" and at.selectbox(key="g_task").value == "himmelblau"
    assert (at.selectbox(key="g_x").value, at.selectbox(key="g_y").value) == ("lr", "decay")  # quietly its axes
    assert not at.warning and len(at.get("plotly_chart")) == 1


@pytest.mark.parametrize("query, kind", [
    (dict(task="rosenbrock", opt="adam"), "contour"),
    (dict(task="formula_xy", fxy="x**2 + 3*y**2 - x*y", opt="nesterov"), "contour"),
    (dict(task="tanh_net", opt="rmsprop", nseed="3"), "network"),
    (dict(opt="adamw", problem="double_well"), "curve"),
])
def test_the_inner_problem_page_draws_every_task_family(query, kind):
    at = page("pages/inner_problem.py", **query)
    charts = at.get("plotly_chart")
    if kind == "network":  # the loss against step, full width; the seed is the network's draw
        assert len(charts) == 1 and "tanh network" in at.title[0].value
        y = arr(traces(at)[0], "y")
        assert y.shape == (51,) and y[-1] < y[0]
        assert at.number_input(key="ip_seed").value == 3
    else:
        assert len(charts) == 2
        data = traces(at)
        assert data[0]["type"] == ("contour" if kind == "contour" else "scatter")
        start = (arr(data[1], "x")[0], arr(data[1], "y")[0])
        want = (1.0, 1.0) if "fxy" in query else (-1.2, 1.0) if kind == "contour" else (-4.0, start[1])
        assert start == pytest.approx(want, rel=1e-6)  # where each task starts
    assert SELECTION_URL & set(at.query_params)


def test_a_link_sets_the_hyperparameters_and_the_run_uses_them():
    at = page("pages/inner_problem.py", task="beale", opt="adam", set="lr=0.05;b1=0.5", steps="30")
    assert at.number_input(key="ip_hp_lr").value == pytest.approx(0.05)
    end = traces(at)[1]
    from l2l_core.landscape import paths

    ref = paths.inner_run("beale", "adam", steps=30, fixed=dict(lr=0.05, b1=0.5))
    np.testing.assert_allclose([arr(end, "x")[-1], arr(end, "y")[-1]], ref.params[-1], rtol=1e-5)


@pytest.mark.parametrize("query", [
    dict(task="rosenbrock", opt="adam", reduce="final"),
    dict(task="tanh_net", opt="sgd", reduce="converge", steps="20"),
    dict(task="formula_xy", opt="rmsprop"),
    dict(opt="adam", set="b1=0.5"),
])
def test_the_sweep_page_sweeps_the_chosen_learning_rate(query):
    at = page("pages/lr_sweep.py", points="500", lr_range="-3,0", **query)
    data = traces(at)[0]
    lrs, loss = arr(data, "x"), arr(data, "customdata")  # the true values (y is drawn capped)
    assert lrs.shape == (500,) and lrs[0] == pytest.approx(1e-3)
    task = {"formula_xy": "x ** 2 + 3 * y ** 2"}.get(query.get("task"), query.get("task", "log_sin"))
    held = 0.5 if "set" in query else 0.9  # b1 (or RMSprop's decay) off the swept axis
    if task == "tanh_net":  # both layers' learning rates move together
        x, y, at_y = "lr_in", "lr_out", None
    else:
        x, y, at_y = "lr", "decay" if query["opt"] == "rmsprop" else "b1", np.log10(1 - held)
    lv = np.log10(lrs[7])
    ref = general.hyper_grid(task, query["opt"], x, y, [lv], [lv if at_y is None else at_y],
                             inner_steps=int(query.get("steps", 50)), summary=query.get("reduce", "mean"))
    assert loss[7] == pytest.approx(float(ref[0, 0]), rel=1e-4)
    assert query.get("reduce", "mean") in data["name"]


def test_the_posts_pages_write_no_selection_to_the_url():
    for path in ("pages/inner_problem.py", "pages/lr_sweep.py"):
        at = page(path, points="500") if "sweep" in path else page(path)
        assert not SELECTION_URL & set(at.query_params), path
        assert "SGD with momentum" in at.title[0].value or "step size" in at.title[0].value
