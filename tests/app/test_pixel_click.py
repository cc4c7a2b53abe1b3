"""A clicked cell of a map and the theory line (issue 25), AppTest (no browser).

A click reaches a page as a selection event; the chart's callback turns it into a pending
pick (``<chart key>_pick``: the point and the window it was picked in), which these tests
set directly (AppTest cannot send a Plotly selection). The event parsing itself is tested
on event dicts (:func:`ui.box_zoom.picked_point`).
"""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from urllib.parse import parse_qsl

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from l2l_core.landscape import zoom
from l2l_core.landscape.general import default_hyperparameters, task_axes
from l2l_core.probe.thresholds import stability_edge
from l2l_core.viz.stability import NAME
from ui import box_zoom
from ui.pixel_link import pixel_query

ROOT = Path(__file__).resolve().parents[2]
POST = dict(problem="parabola", res="100", methods="", steps="20")
HOME = (-3.0, 2.0, -3.0, 0.0)


def _app(page="pages/landscape.py", **params):
    at = AppTest.from_file(str(ROOT / page), default_timeout=300)
    for k, v in params.items():
        at.query_params[k] = v
    return at.run()


def arr(value) -> np.ndarray:
    """A plotly array from a figure spec, plain or binary-encoded ({"dtype", "bdata", "shape"})."""
    if isinstance(value, dict) and "bdata" in value:
        out = np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"])
        shape = value.get("shape")
        if shape is not None:
            out = out.reshape([int(v) for v in str(shape).split(",")] if isinstance(shape, str) else shape)
        return out.astype(float)
    return np.asarray([np.nan if v is None else v for v in value] if isinstance(value, list) and value
                      and not isinstance(value[0], list) else value, dtype=float)


def _figure(at, key):
    for c in at.get("plotly_chart"):
        if c.proto.id and key in c.proto.id:
            return json.loads(c.proto.spec)
    raise AssertionError(f"no chart {key}")


def _trace(fig, name):
    return next((d for d in fig["data"] if d.get("name") == name), None)


def _axes(fig):
    """The grid's own axis values (display units) from the heatmap's customdata."""
    custom = arr(_trace(fig, "outer loss")["customdata"])
    return np.asarray(custom)[0, :, 0].astype(float), np.asarray(custom)[:, 0, 1].astype(float)


def _links(at):
    """label -> query of every link to the 'Open a pixel' page (plain links on a page run alone)."""
    out = {}
    for m in at.markdown:
        for label, q in re.findall(r"\[([^\]]+)\]\(\./inspect\?([^)]*)\)", m.value):
            out[label] = dict(parse_qsl(q))
    for e in at.get("page_link"):
        out[e.proto.label] = dict(parse_qsl(e.proto.query_string))
    return out


def _pick(at, key, point, window):
    at.session_state[f"{key}_pick"] = (tuple(map(float, point)), tuple(map(float, window)))
    return at.run()


# -- the event -----------------------------------------------------------------------------------


def test_a_click_or_a_tiny_box_picks_a_point_and_a_larger_box_zooms():
    w = HOME
    click = {"selection": {"points": [{"x": 0.5, "y": -1.0}], "box": [], "point_indices": [0], "lasso": []}}
    assert box_zoom.picked_point(click, w) == (0.5, -1.0)
    tiny = {"selection": {"points": [], "box": [{"x": [0.1, 0.15], "y": [-1.0, -1.05]}]}}
    assert box_zoom.picked_point(tiny, w) == pytest.approx((0.125, -1.025))
    big = {"selection": {"points": [], "box": [{"x": [-1.0, 1.0], "y": [-2.0, -1.0]}]}}
    assert box_zoom.picked_point(big, w) is None
    # a deep view's chart shows offsets in a frame: the point comes back in the window's units
    frame = (1.0, 1e-6, -1.0, 1e-6)
    assert box_zoom.picked_point(click, (1 - 1e-5, 1 + 1e-5, -1 - 1e-5, -1 + 1e-5), frame=frame) == pytest.approx(
        (1.0 + 0.5e-6, -1.0 - 1e-6))


# -- the post's landscape ------------------------------------------------------------------------


def _post_query(xs, ys, point, x0=-4.0):
    j, i = int(np.argmin(abs(xs - point[0]))), int(np.argmin(abs(ys - point[1])))
    hp = {"lr": float(10.0 ** float(xs[j])), "momentum": float(1.0 - 10.0 ** float(ys[i]))}
    return pixel_query("parabola", "sgd", hp, steps=20, seed=0, x0=x0)


def test_post_landscape_click_links_that_cell_and_the_theory_line_is_the_closed_form():
    at = _app(**POST)
    assert not at.exception, at.exception
    fig = _figure(at, "landscape_chart")
    xs, ys = _axes(fig)
    line = _trace(fig, NAME)
    assert line is not None, [d.get("name") for d in fig["data"]]
    lx = np.asarray(arr(line["x"]), float)
    edge = stability_edge("parabola", "sgd", "lr", "momentum", xs, ys, x0=-4.0)
    np.testing.assert_allclose(lx, edge, rtol=0, atol=1e-12, equal_nan=True)
    closed = np.log10(2.0 * (1.0 + (1.0 - 10.0 ** ys)))  # f = x^2 / 2: lambda_max = 1
    inside = (closed >= xs[0]) & (closed <= xs[-1])
    np.testing.assert_allclose(lx[inside], closed[inside], rtol=0, atol=1e-9)
    assert np.isnan(lx[~inside]).all()
    assert any("2(1+m)/λmax" in c.value for c in at.caption)

    point = (0.1, -1.0)
    at = _pick(at, "landscape_chart", point, HOME)
    assert not at.exception, at.exception
    assert _links(at)["Open this pixel"] == _post_query(xs, ys, point)

    # a second click: the pair opens with the new one as the second pixel
    second = (-2.0, -0.4)
    at = _pick(at, "landscape_chart", second, HOME)
    links = _links(at)
    assert links["Open this pixel"] == _post_query(xs, ys, second)
    pair = {**_post_query(xs, ys, point), **{k + "_b": v for k, v in _post_query(xs, ys, second).items()}}
    assert links["Open it beside the earlier pixel"] == pair


def test_a_zoomed_post_view_links_its_own_cells_and_the_toggle_hides_the_line():
    box = (-0.6, 0.6, -1.2, -0.2)
    at = _app(**POST, zoom=zoom.encode_stack([box]))
    assert not at.exception, at.exception
    fig = _figure(at, "landscape_chart")
    xs, ys = _axes(fig)
    assert xs[0] == pytest.approx(box[0]) and ys[-1] == pytest.approx(box[3])
    lx = np.asarray(arr(_trace(fig, NAME)["x"]), float)
    np.testing.assert_allclose(lx, stability_edge("parabola", "sgd", "lr", "momentum", xs, ys), atol=1e-12,
                               equal_nan=True)
    point = (0.013, -0.71)
    at = _pick(at, "landscape_chart", point, box)
    assert _links(at)["Open this pixel"] == _post_query(xs, ys, point)

    off = _app(**POST, stab="0")
    assert _trace(_figure(off, "landscape_chart"), NAME) is None
    assert off.toggle(key="stab_line").value is False
    off.toggle(key="stab_line").set_value(True).run()
    assert _trace(_figure(off, "landscape_chart"), NAME) is not None and "stab" not in off.query_params


# -- the general landscape ---------------------------------------------------------------------


def test_general_landscape_click_carries_every_hyperparameter_and_a_network_gets_its_per_layer_line():
    at = _app(task="tanh_net", x="lr_in", y="lr_out", res="100", steps="10", methods="", set="momentum=0.5")
    assert not at.exception, at.exception
    fig = _figure(at, "general_chart")
    xs, ys = _axes(fig)
    lx = np.asarray(arr(_trace(fig, NAME)["x"]), float)
    edge = stability_edge("tanh_net", "sgd", "lr_in", "lr_out", xs, ys, fixed={"momentum": 0.5})
    np.testing.assert_allclose(lx, edge, atol=1e-12, equal_nan=True)
    assert np.isfinite(lx).any()

    window = (xs[0], xs[-1], ys[0], ys[-1])
    point = (xs[5] + 1e-3, ys[17] - 1e-3)
    at = _pick(at, "general_chart", point, window)
    assert not at.exception, at.exception
    axes = task_axes("tanh_net", "sgd")
    hp = dict(default_hyperparameters("tanh_net", "sgd"), momentum=0.5,
              lr_in=float(axes["lr_in"].to_value(float(xs[5]))), lr_out=float(axes["lr_out"].to_value(float(ys[17]))))
    assert _links(at)["Open this pixel"] == pixel_query("tanh_net", "sgd", hp, steps=10, seed=0)


def test_fractal_pixels_open_as_plain_sgd_runs_and_get_the_theory_line():
    from ui.pixel_pick import nearest_cell

    at = _app("pages/fractal.py", res="64", steps="10", seed="2")
    assert not at.exception, at.exception
    window = at.session_state["_fr_frame"][0]
    point = ((window[0] + window[1]) / 2, (window[2] + window[3]) / 2)
    at = _pick(at, "fr_chart", point, window)
    assert not at.exception, at.exception
    xs, ys = np.linspace(window[0], window[1], 64), np.linspace(window[2], window[3], 64)
    i, j = nearest_cell(point, xs, ys)
    hp = {"lr_in": 10.0 ** xs[j], "lr_out": 10.0 ** ys[i], "momentum": 0.0}
    assert _links(at)["Open this pixel"] == pixel_query("fractal_tanh", "sgd", hp, steps=10, seed=2)
    assert any("This pixel:" in m.value and "lr_in" in m.value for m in at.markdown)
    line = _trace(_figure(at, "fr_chart"), NAME)
    assert line is not None and np.isfinite(arr(line["x"])).any()


@pytest.mark.parametrize("params, why", [(dict(task="fractal_minibatch"), "minibatch"),
                                         (dict(width="8"), "width-16")])
def test_fractal_pixels_that_cannot_be_opened_say_why(params, why):
    at = _app("pages/fractal.py", res="64", steps="10", **params)
    assert not at.exception, at.exception
    window = at.session_state["_fr_frame"][0]
    at = _pick(at, "fr_chart", ((window[0] + window[1]) / 2, (window[2] + window[3]) / 2), window)
    assert not at.exception, at.exception
    assert not _links(at)
    assert any("not available" in i.value and why in i.value for i in at.info)
    assert _trace(_figure(at, "fr_chart"), NAME) is None


def test_the_line_leaves_gaps_where_a_row_has_no_edge_and_follows_a_deep_zoom_frame():
    import plotly.graph_objects as go

    from l2l_core.viz.stability import add_stability_line

    fig = add_stability_line(go.Figure(), [0.5, np.nan, 0.7], [-1.0, -0.5, 0.0], frame=(0.5, 0.1, -0.5, 0.5))
    t = fig.data[-1]
    assert t.name == NAME and t.connectgaps is False and t.showlegend is not False
    np.testing.assert_allclose(np.asarray(t.x, float), [0.0, np.nan, 2.0], equal_nan=True)
    np.testing.assert_allclose(np.asarray(t.y, float), [-1.0, 0.0, 1.0])
    with pytest.raises(ValueError, match="one edge value per row"):
        add_stability_line(go.Figure(), [0.5], [-1.0, 0.0])
