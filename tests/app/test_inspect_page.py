"""The "Open a pixel" page driven by streamlit.testing: the defaults (the edge of stability), each kind of
task, a link written by ui.pixel_link reopening its run, a second pixel, a wrong number and an unknown task."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import numpy as np
from streamlit.testing.v1 import AppTest

from ui.pixel_link import pixel_query

ROOT = Path(__file__).resolve().parents[2]


def page(query: dict | None = None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "pages/inspect.py"), default_timeout=300)
    for k, v in (query or {}).items():
        at.query_params[k] = v
    return at.run()


def charts(at) -> dict[str, dict]:
    """Chart specs by the start of their PNG export's name."""
    out = {}
    for c in at.get("plotly_chart"):
        out[json.loads(c.proto.config)["toImageButtonOptions"]["filename"]] = json.loads(c.proto.spec)
    return out


def names(at) -> list[str]:
    return list(charts(at))


def values(a) -> np.ndarray:
    """A plotly array from a chart's spec (a list, or plotly's typed-array {"dtype", "bdata"})."""
    if isinstance(a, dict):
        return np.frombuffer(base64.b64decode(a["bdata"]), dtype=np.dtype(a["dtype"])).astype(float)
    return np.asarray(a, float)


def qp(at) -> dict[str, str]:
    """The page's URL query, one text per key."""
    return {k: v[0] if isinstance(v, list) else v for k, v in dict(at.query_params).items()}


def ok(at) -> None:
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]


def test_defaults_show_the_edge_of_stability():
    at = page()
    ok(at)
    assert at.title[0].value == "Open a pixel"
    got = names(at)
    for part in ("_run", "_curvature", "_slice", "_pca", "_interpolation"):
        assert any(n.endswith(part) for n in got), (part, got)
    assert any("edge of stability" in i.value for i in at.info), [i.value for i in at.info]
    spec = charts(at)[next(n for n in got if n.endswith("_curvature"))]
    line = spec["layout"]["shapes"][0]
    assert abs(line["y0"] - 2 / 0.13) < 1e-6  # the threshold 2/lr drawn as a horizontal line
    q = qp(at)
    assert q["task"] == "digits_fc_tanh" and q["lr_in"] == "0.13" and q["momentum"] == "0"
    assert any("Computed in" in c.value for c in at.caption)


def test_one_d_task_draws_the_iterate_and_its_curvature():
    q = pixel_query("log_sin", "sgd", {"lr": 0.1, "momentum": 0.0}, steps=60, x0=1.5)
    at = page({**q, "every": "5"})
    ok(at)
    got = names(at)
    assert any(n.endswith("_run") for n in got) and any(n.endswith("_curvature") for n in got)
    assert not any(n.endswith("_slice") for n in got)  # a 1-D task's plot is its landscape
    assert at.number_input(key="px_x0").value == 1.5
    assert at.number_input(key="px_hp_lr").value == 0.1


def test_two_d_task_draws_the_path_on_its_contour():
    at = page(pixel_query("rosenbrock", "sgd", {"lr": 0.001, "momentum": 0.5}, steps=80, x0=(-1.0, 1.5)))
    ok(at)
    spec = charts(at)[next(n for n in names(at) if n.endswith("_run"))]
    assert spec["data"][0]["type"] == "contour"
    assert any(t.get("name") == "path" for t in spec["data"])
    assert at.number_input(key="px_y0").value == 1.5


def test_network_task_draws_loss_curvature_and_slices():
    q = pixel_query("tanh_net", "sgd", {"lr_in": 0.5, "lr_out": 0.5, "momentum": 0.0}, steps=200)
    at = page({**q, "every": "20", "sres": "11", "k": "2"})
    ok(at)
    got = names(at)
    for part in ("_run", "_curvature", "_slice", "_pca", "_interpolation"):
        assert any(n.endswith(part) for n in got), (part, got)
    curv = charts(at)[next(n for n in got if n.endswith("_curvature"))]
    assert sum(t.get("name", "").startswith(("sharpness", "λ")) for t in curv["data"]) == 2  # top-2 eigenvalues


def test_a_pixel_link_reopens_its_settings_and_survives_the_rerun():
    q = pixel_query("digits_fc_tanh", "nesterov", {"lr_in": 0.05, "lr_out": 0.05, "momentum": 0.5}, steps=120,
                    seed=3)
    at = page({**q, "every": "40", "sres": "0"})
    ok(at)
    assert at.selectbox(key="px_task").value == "digits_fc_tanh"
    assert at.selectbox(key="px_opt").value == "nesterov"
    assert at.number_input(key="px_hp_momentum").value == 0.5
    assert at.number_input(key="px_steps").value == 120 and at.number_input(key="px_seed").value == 3
    back = qp(at)
    for k, v in q.items():
        assert back[k] == v, (k, back[k], v)
    curv = charts(at)[next(n for n in names(at) if n.endswith("_curvature"))]
    thr = (2 + 2 * 0.5) / ((1 + 2 * 0.5) * 0.05)  # Nesterov's threshold
    assert abs(curv["layout"]["shapes"][0]["y0"] - thr) < 1e-6


def test_second_pixel_beside_the_first_a_trained_and_a_diverged_run():
    a = pixel_query("tanh_net", "sgd", {"lr_in": 0.5, "lr_out": 0.5, "momentum": 0.0}, steps=100)
    b = pixel_query("tanh_net", "sgd", {"lr_in": 3.0, "lr_out": 3.0, "momentum": 0.0}, steps=100, suffix="_b")
    at = page({**a, **b, "every": "20", "sres": "0"})
    ok(at)
    assert at.toggle(key="px_compare").value is True
    assert at.number_input(key="px_b_hp_lr_in").value == 3.0
    curv = [n for n in names(at) if n.endswith("_curvature")]
    assert len(curv) == 2, curv
    assert any(m.value == "diverged" for m in at.metric)
    assert any("diverged at step" in i.value for i in at.info)
    # switched off and on: the second pixel starts as the first with the learning rates doubled
    at.toggle(key="px_compare").set_value(False).run()
    assert "lr_in_b" not in qp(at)
    at.toggle(key="px_compare").set_value(True).run()
    ok(at)
    assert at.number_input(key="px_b_hp_lr_in").value == 1.0
    assert qp(at)["lr_out_b"] == "1"


def test_a_wrong_number_is_said_and_loses_nothing():
    q = pixel_query("tanh_net", "sgd", {"lr_in": 0.5, "lr_out": 0.5, "momentum": 0.0}, steps=100)
    at = page({**q, "every": "50", "sres": "0"})
    ok(at)
    at.number_input(key="px_hp_momentum").set_value(1.5).run()
    assert not at.exception
    said = [e.value for e in at.error]
    assert any("momentum" in e and "outside" in e for e in said), said
    assert at.number_input(key="px_hp_momentum").value < 1.0
    assert at.number_input(key="px_hp_lr_in").value == 0.5 and at.number_input(key="px_steps").value == 100


def test_core_refusal_is_shown_as_an_error():
    q = pixel_query("log_sin", "sgd", {"lr": 0.1, "momentum": 0.0}, steps=20)
    at = page({**q, "k": "5"})  # five eigenvalues of a 1-D task
    assert not at.exception
    assert any("eigs" in e.value for e in at.error), [e.value for e in at.error]


def test_unknown_task_or_malformed_value_in_the_url_is_said():
    at = page({"task": "no_such_task", "opt": "sgd", "lr": "0.1", "steps": "50", "sres": "0", "every": "25"})
    assert not at.exception
    warned = [w.value for w in at.warning]
    assert any("Unknown task 'no_such_task'" in w for w in warned), warned
    assert at.selectbox(key="px_task").value == "digits_fc_tanh"
    at = page({"task": "tanh_net", "opt": "sgd", "lr_in": "abc", "steps": "50"})
    assert not at.exception
    assert any("lr_in" in w.value and "not a number" in w.value for w in at.warning)


def test_downloads_hold_the_run():
    q = pixel_query("log_sin", "sgd", {"lr": 0.1, "momentum": 0.0}, steps=30)
    at = page({**q, "every": "10"})
    ok(at)
    labels = [b.proto.label for b in at.get("download_button")]
    assert labels == ["Run (NPZ)", "Curves (CSV)"], labels
    assert np.isfinite(2 / 0.1)


def test_the_tours_claim_holds_on_the_page_it_links_to():
    from ui.inspect_state import TOUR_DIVERGED, TOUR_TRAINED, tour_query

    at = page(tour_query())
    ok(at)
    specs = charts(at)
    first = specs[next(n for n in specs if n.startswith("pixel_digits") and n.endswith("_curvature"))]
    sharp = next(t for t in first["data"] if t.get("name") == "sharpness λ1")
    ys = values(sharp["y"])
    lr = TOUR_TRAINED["hparams"]["lr_in"]
    info = [i.value for i in at.info]
    assert any("edge of stability" in i for i in info), info
    tail = ys[len(ys) // 2:] / (2 / lr) - 1  # over the second half of the run: settles at 2/lr, hovers just above
    assert tail.size >= 10 and abs(tail.mean()) < 0.05 and np.all(np.abs(tail) < 0.1), tail
    assert any("diverged at step" in i for i in info), info
    assert at.number_input(key="px_b_hp_lr_in").value == TOUR_DIVERGED["hparams"]["lr_in"]


def test_the_sentence_tells_the_edge_of_stability_from_a_run_put_there():
    from l2l_core.viz.probe import curvature_sentence

    def run(sharp, loss_end=0.1, thr=10.0):
        n = len(sharp)
        return {"loss": np.r_[np.linspace(1, 0.2, 99), loss_end], "sharpness": np.asarray(sharp, float)[:, None],
                "sharpness_steps": np.arange(n) * 10, "threshold": np.float64(thr),
                "meta": {"optimizer": "sgd", "hparams": {"lr": 0.2, "momentum": 0.0}, "threshold_of": "sharpness"}}

    assert "edge of stability" in curvature_sentence(run([4, 7, 9.5, 10.2, 9.9, 10.1, 10.0]))
    assert "from the start" in curvature_sentence(run([9.6] * 7))  # a quadratic at lr near 2/curvature
    assert "stayed below" in curvature_sentence(run([2, 3, 3, 3]))
    assert "catapult" in curvature_sentence(run([20, 12, 6, 5, 5]))
    assert "diverged at step 99" in curvature_sentence(run([20, np.nan], loss_end=np.nan))
    adam = run([1, 2])
    adam["meta"] = {"optimizer": "adam", "hparams": {"lr": 0.01, "b1": 0.9}, "threshold_of": "precond_sharpness"}
    adam["precond_sharpness"] = np.array([[100.0], [3700.0], [3800.0], [3790.0]])
    adam["threshold"] = np.float64(3800.0)
    assert "preconditioned sharpness rose" in curvature_sentence(adam)
