"""The landscape page beyond the post: any task, optimizer and pair of axes (AppTest, no browser)."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from l2l_core.inner.optimizers import OPTIMIZERS

PAGE = str(Path(__file__).resolve().parents[2] / "pages" / "landscape.py")
TINY = dict(res="100", steps="5", methods="es", osteps="20", seeds="0")


def _app(**params):
    at = AppTest.from_file(PAGE, default_timeout=300)
    for k, v in params.items():
        at.query_params[k] = v
    return at.run()


def _heatmap_z(at, field="z") -> np.ndarray:
    """The final chart's loss image (the first trace), or its ``field``."""
    z = json.loads(at.get("plotly_chart")[0].proto.spec)["data"][0][field]
    if isinstance(z, dict):  # plotly's typed-array encoding
        shape = [int(n) for n in str(z.get("shape", -1)).split(",")]
        return np.frombuffer(base64.b64decode(z["bdata"]), dtype=z["dtype"]).reshape(shape)
    return np.array(z, dtype=float)


def _metrics(at) -> dict:
    return {m.label: m.value for m in at.metric}


def test_adam_lr_b1_on_rosenbrock_draws_the_heatmap_and_reports_the_best_cell():
    at = _app(task="rosenbrock", opt="adam", x="lr", y="b1", **dict(TINY, steps="20", methods="grad,es,pes"))
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    assert "any optimizer" in at.title[0].value
    assert len(at.get("plotly_chart")) == 1
    m = _metrics(at)
    assert {"best lr", "best b1", "best outer loss", "diverged cells"} <= set(m)
    assert 1e-4 <= float(m["best lr"]) <= 10 and 0 <= float(m["best b1"]) < 1
    assert len(at.dataframe[0].value) == 6  # grad, es and pes (truncations of 10) from the two default starts
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert "b1" in spec["layout"]["yaxis"]["title"]["text"]
    assert "learning rate" in spec["layout"]["xaxis"]["title"]["text"]
    assert {b.proto.label for b in at.get("download_button")} >= {"Download full grid (NPZ)",
                                                                  "Download full grid (CSV)"}


@pytest.mark.parametrize("opt", sorted(OPTIMIZERS))
def test_every_optimizer_renders_at_a_tiny_resolution(opt):
    axes = list(OPTIMIZERS[opt].axes)
    at = _app(task="beale", opt=opt, x=axes[0], y=axes[1], **TINY)
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    assert _heatmap_z(at).shape == (100, 100)


def test_an_axis_change_changes_the_image_and_the_url():
    at = _app(task="himmelblau", opt="adam", x="lr", y="b1", cap="1e6", **TINY)
    before = _heatmap_z(at)
    at.selectbox(key="g_y").set_value("b2").run()
    assert not at.exception, at.exception
    after = _heatmap_z(at)
    assert at.query_params["y"] == "b2"
    assert not np.array_equal(np.nan_to_num(before, nan=-1), np.nan_to_num(after, nan=-1))


def test_url_round_trips_with_fixed_values_and_a_formula():
    q = dict(task="formula_xy", fxy="x ** 2 + 2 * y ** 2", opt="adamw", x="weight_decay", y="lr", set="b1=0.8",
             **TINY)
    at = _app(**q)
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    qp = dict(at.query_params)
    for k, v in q.items():
        assert qp[k] == v, k
    assert at.number_input(key="g_fx_b1").value == pytest.approx(0.8)
    # A value typed off the axes goes to the URL, and a fresh page from that URL shows it.
    at.number_input(key="g_fx_b2").set_value(0.99).run()
    assert not at.exception, at.exception
    assert at.query_params["set"] == "b1=0.8;b2=0.99"
    again = _app(**dict(at.query_params))
    assert again.number_input(key="g_fx_b2").value == pytest.approx(0.99)
    assert np.array_equal(np.nan_to_num(_heatmap_z(again)), np.nan_to_num(_heatmap_z(at)))


def test_the_posts_choice_writes_no_new_url_parameters():
    at = _app(res="100", methods="grad", osteps="50")
    assert not at.exception, at.exception
    assert "learning rate × momentum" in at.title[0].value
    assert not {"task", "opt", "x", "y", "set", "gzoom", "xr", "yr", "nseed", "fxy"} & set(at.query_params)


def test_bad_axes_in_the_url_warn_and_fall_back():
    at = _app(task="rosenbrock", opt="adam", x="nonsense", y="b1", **TINY)
    assert not at.exception, at.exception
    assert any("x" in w.value and "malformed" in w.value for w in at.warning)
    at = _app(task="rosenbrock", opt="sgd", x="lr", y="b1", **TINY)  # b1 is Adam's, not SGD's
    assert not at.exception, at.exception
    assert any("b1 is not an axis" in w.value for w in at.warning)
    assert "y" not in at.query_params and at.selectbox(key="g_y").value == "momentum"
    assert len(at.get("plotly_chart")) == 1


def test_core_validation_errors_are_shown_not_raised():
    at = _app(task="rosenbrock", opt="adam", x="lr", y="b1", set="b2=1.5", **TINY)
    assert not at.exception, at.exception
    assert any("b2" in e.value for e in at.error)
    at = _app(task="formula_xy", fxy="x + import", **TINY)  # a malformed link value: ignored, with a warning
    assert not at.exception, at.exception
    assert any("fxy" in w.value for w in at.warning) and len(at.get("plotly_chart")) == 1
    at.text_input(key="g_fxy").set_value("x + import").run()  # typed: the grammar's reason, no chart
    assert not at.exception, at.exception
    assert any("Formula not accepted" in e.value for e in at.error)


def test_zoom_stack_in_the_url_back_and_reset():
    at = _app(task="rosenbrock", opt="adam", x="lr", y="b1", gzoom="-3.0,-1.0,-2.0,-1.0", **TINY)
    assert not at.exception, at.exception
    assert "Zoom level 1" in " ".join(m.value for m in at.markdown)
    xs = _heatmap_z(at, "x")
    assert xs[0] == pytest.approx(-3.0) and xs[-1] == pytest.approx(-1.0)
    at.button(key="g_zoom_back").click().run()
    assert "Zoom level 0" in " ".join(m.value for m in at.markdown) and "gzoom" not in at.query_params


def test_teacher_mode_hides_the_pickers_and_keeps_the_links_choice():
    at = _app(task="rosenbrock", opt="rmsprop", x="decay", y="eps", hide="opt,x,y", **TINY)
    assert not at.exception, at.exception
    keys = {w.key for w in at.selectbox}
    assert "g_task" in keys and not {"g_opt", "g_x", "g_y"} & keys
    m = _metrics(at)
    assert "best decay" in m and "best eps" in m
    assert at.query_params["hide"] == "opt,x,y"


def test_a_coarse_pass_comes_first_then_the_chosen_resolution_from_the_cache(monkeypatch):
    from ui import general_view as gv

    sizes = []
    real = gv.hyper_grid

    def recording(*args, **kwargs):
        sizes.append(len(args[4]))
        return real(*args, **kwargs)

    monkeypatch.setattr(gv, "hyper_grid", recording)
    at = _app(task="beale", opt="adam", x="lr", y="eps", **dict(TINY, steps="7"))  # steps: no other test's cache
    assert not at.exception, at.exception
    assert sizes == [64, 100]
    at.run()  # a rerun: the final pass from the cache, no coarse pass again
    assert sizes == [64, 100] and len(at.get("plotly_chart")) == 1


def test_typed_ranges_the_convergence_measure_and_the_network_seed():
    at = _app(task="tanh_net", opt="sgd", x="lr_in", y="lr_out", xr="-2.0,0.5", reduce="converge", nseed="1",
              **dict(TINY, steps="10"))
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    xs, z1 = _heatmap_z(at, "x"), _heatmap_z(at)
    assert xs[0] == pytest.approx(-2.0) and xs[-1] == pytest.approx(0.5)
    assert at.number_input(key="g_xr_lo").value == pytest.approx(-2.0)
    assert (z1 < 0).any() and (z1 > 0).any()  # converged (negative) and diverged (positive) runs
    at.number_input(key="g_seed").set_value(2).run()  # another network: another image
    assert not at.exception, at.exception
    assert at.query_params["nseed"] == "2" and not np.allclose(z1, _heatmap_z(at))
    at.number_input(key="g_xr_hi").set_value(-3.0).run()  # below its lower end: refused beside the box
    assert not at.exception, at.exception
    assert any("-3 is not above the other end -2; using 0.5 instead" in e.value for e in at.error)
    assert at.number_input(key="g_xr_hi").value == pytest.approx(0.5)


def test_converge_is_not_offered_for_a_typed_formula():
    at = _app(task="formula_xy", fxy="x ** 2 - y", opt="adam", x="lr", y="b1", **TINY)
    assert not at.exception, at.exception
    offered = at.selectbox(key="reduce").options  # the summaries' short labels
    assert offered == ["mean loss (the post's)", "final loss", "lowest loss"]
    at.selectbox(key="g_task").set_value("beale").run()  # a registry task: offered
    assert "convergence measure" in at.selectbox(key="reduce").options
