"""The "What tuning sees" page driven by streamlit.testing: maps over seeds, a real tuner against the
dense map, an uploaded Optuna study, refusals of bad input, and a link that reopens the view."""

from __future__ import annotations

import base64
import glob
import json
import os
import sqlite3
import tempfile
import threading
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]
SMALL = dict(res="16", nseeds="3", trials="25")


def page(**query) -> AppTest:
    at = AppTest.from_file(str(ROOT / "pages/tuning.py"), default_timeout=300)
    for k, v in query.items():
        at.query_params[k] = v
    return at.run()


def chart(at, name: str) -> dict:
    """The spec of the chart whose PNG export's name starts with ``name``."""
    for c in at.get("plotly_chart"):
        if json.loads(c.proto.config)["toImageButtonOptions"]["filename"].startswith(name):
            return json.loads(c.proto.spec)
    raise AssertionError(f"no chart {name}")


def values(a) -> np.ndarray:
    """A plotly array from a chart's spec (a list, or plotly's typed-array {"dtype", "bdata"})."""
    if isinstance(a, dict):
        return np.frombuffer(base64.b64decode(a["bdata"]), dtype=np.dtype(a["dtype"]))
    return np.asarray(a, float)


def metric_values(at) -> dict:
    return {m.label: m.value for m in at.metric}


def ok(at) -> None:
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]


def test_defaults_draw_every_section():
    at = page()
    ok(at)
    assert at.title[0].value == "What tuning sees"
    names = [json.loads(c.proto.config)["toImageButtonOptions"]["filename"] for c in at.get("plotly_chart")]
    for prefix in ("seeds_mean", "seeds_spread", "seeds_pdiverge", "tuner_trials", "tuner_picture"):
        assert any(n.startswith(prefix) for n in names), (prefix, names)
    m = metric_values(at)
    for label in ("regret", "beaten by", "false good", "false diverging"):
        assert label in m, m
    assert any(k.startswith("robust pick") for k in m), m
    assert len(at.get("download_button")) >= 4
    assert at.query_params["res"] in (["48"], "48") and at.query_params["nseeds"] in (["4"], "4")
    captions = " ".join(c.value for c in at.caption)
    assert "4 seeds computed in" in captions and "vmapped run took" in captions, captions
    assert at.get("file_uploader")  # section 3 waits for a file


def test_seed_maps_are_the_cores_and_picks_are_marked():
    from l2l_core.landscape.seeds import seed_grid

    at = page(**SMALL)
    ok(at)
    spec = chart(at, "seeds_mean")
    heat = np.array([[np.nan if v is None else v for v in row] for row in spec["data"][0]["z"]], float)
    xs = np.linspace(-3, 1, 16)
    ref = seed_grid("tanh_net", "sgd", "lr_in", "lr_out", xs, xs, [0, 1, 2])
    np.testing.assert_allclose(heat, ref["loss"], rtol=1e-6, equal_nan=True)
    names = [t.get("name") for t in spec["data"]]
    assert "robust pick (never diverges)" in names and "one seed's best" in names


def test_tuner_section_draws_numbered_trials_and_its_picture():
    at = page(**SMALL, sampler="random", tseed="3")
    ok(at)
    figs = {json.loads(c.proto.config)["toImageButtonOptions"]["filename"].split("_tanh")[0]: json.loads(c.proto.spec)
            for c in at.get("plotly_chart")}
    trials = next(t for t in figs["tuner_trials"]["data"] if t.get("name") == "trials (in order)")
    assert trials["text"][:3] == ["0", "1", "2"] and len(trials["text"]) == 25
    names = [t.get("name") for t in figs["tuner_trials"]["data"]]
    assert "tuner's best" in names and "dense best" in names
    assert figs["tuner_picture"]["data"][0]["type"] == "heatmap"
    assert "sampler random" in " ".join(c.value for c in at.caption)


def test_the_table_button_fills_the_table():
    at = page(res="16", nseeds="1")
    ok(at)
    from ui import tuning_compute as tc

    calls = []
    real = tc.table_rows

    def fake(*args):  # the core's audit_table, with fewer trials and seeds: the button's wiring is what is tested
        calls.append(args[-3])
        return real(*args[:-2], (5, 10), (0,))

    tc.table_rows = fake
    try:
        at.button(key="tn_table_btn").click().run()
    finally:
        tc.table_rows = real
    ok(at)
    assert calls == ["tpe", "random", "cmaes"]
    table = at.dataframe[0].value
    assert set(table["sampler"]) == {"tpe", "random", "cmaes"} and set(table["trials"]) == {5, 10}
    assert at.download_button(key="tn_dl_table")


def test_a_wrong_number_is_refused_beside_its_box():
    at = page(**SMALL)
    ok(at)
    at.number_input(key="tn_nseeds").set_value(1000).run()
    assert not at.exception, at.exception
    errors = [e.value for e in at.error]
    assert any("1000 is outside 1 to 64; using 64 instead" in e for e in errors), errors
    assert at.number_input(key="tn_nseeds").value == 64
    at.number_input(key="tn_seed").set_value(-5).run()
    assert any("-5 is outside 0 to 10000; using 0 instead" in e.value for e in at.error)


def test_a_link_reopens_the_settings():
    query = dict(task="tanh_net", opt="adam", x="lr_out", y="lr_in", res="16", seed="7", nseeds="2", steps="20",
                 sampler="cmaes", trials="50", tseed="4")
    at = page(**query)
    ok(at)
    s = at.session_state
    assert (s["tn_opt"], s["tn_x"], s["tn_y"], s["tn_res"], s["tn_seed"], s["tn_nseeds"], s["tn_steps"],
            s["tn_sampler"], s["tn_trials"], s["tn_tseed"]) == ("adam", "lr_out", "lr_in", 16, 7, 2, 20, "cmaes",
                                                                 50, 4)
    for k, v in query.items():
        assert at.query_params[k] in ([v], v), (k, at.query_params[k])
    assert "2 seeds (7..8)" in " ".join(c.value for c in at.caption)


def test_a_malformed_link_is_reported_and_an_unknown_axis_falls_back():
    at = page(**SMALL, sampler="nonsense", x="momentum_of_nothing")
    ok(at)
    assert any("sampler" in w.value for w in at.warning)
    assert at.session_state["tn_sampler"] == "tpe" and at.session_state["tn_x"] == "lr_in"


def test_a_fractal_network_draws_the_seed_maps_and_says_the_tuner_needs_a_general_one():
    at = page(task="fractal_single", res="16", nseeds="2", steps="20")
    ok(at)
    names = [json.loads(c.proto.config)["toImageButtonOptions"]["filename"] for c in at.get("plotly_chart")]
    assert len(names) == 3 and all(n.startswith("seeds_") for n in names), names
    assert any("general networks" in i.value for i in at.info)


def _study_file(path: Path) -> bytes:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(storage=f"sqlite:///{path}", study_name="mine",
                                sampler=optuna.samplers.RandomSampler(seed=0))
    study.optimize(lambda t: t.suggest_float("lr_in", 1e-3, 10, log=True) + t.suggest_float("lr_out", 1e-3, 10,
                                                                                          log=True), n_trials=6)
    return path.read_bytes()


def _temporaries() -> set:
    return set(glob.glob(os.path.join(tempfile.gettempdir(), "l2l_study_*")))


def test_an_uploaded_study_is_drawn_over_the_map_and_its_temporary_file_is_gone(tmp_path):
    data = _study_file(tmp_path / "s.db")
    before = _temporaries()
    at = page(**SMALL)
    at.file_uploader(key="tn_upload").upload("s.db", data).run()
    ok(at)
    at.selectbox(key="tn_px").set_value("lr_in")
    at.selectbox(key="tn_py").set_value("lr_out").run()
    ok(at)
    spec = chart(at, "study_")
    mine = next(t for t in spec["data"] if t.get("name") == "your trials")
    x = values(mine["x"])
    assert len(x) == 6
    assert all(-3.0 <= v <= 1.0 for v in x)  # raw values 1e-3..10 drawn in log10 units
    assert _temporaries() == before
    assert not list(ROOT.glob("l2l_study_*"))


@pytest.mark.parametrize("content, says", [
    (b"this is not a database at all" * 10, "not an SQLite database"),
    (None, "not an Optuna study"),
])
def test_a_bad_or_foreign_file_shows_an_error_and_nothing_else(tmp_path, content, says):
    if content is None:  # a real SQLite database with someone else's tables
        con = sqlite3.connect(tmp_path / "other.db")
        con.execute("CREATE TABLE people (name TEXT)")
        con.commit()
        con.close()
        content = (tmp_path / "other.db").read_bytes()
    before = _temporaries()
    at = page(**SMALL)
    n_charts = len(at.get("plotly_chart"))
    at.file_uploader(key="tn_upload").upload("x.db", content).run()
    assert not at.exception, at.exception
    errors = [e.value for e in at.error]
    assert len(errors) == 1 and says in errors[0] and "the uploaded file" in errors[0], errors
    assert "/tmp" not in errors[0] and "l2l_study_" not in errors[0]
    assert len(at.get("plotly_chart")) == n_charts  # no study chart, nothing else drawn
    assert not at.get("selectbox") or all(s.key != "tn_study" for s in at.selectbox)
    assert _temporaries() == before


def test_several_sessions_at_once():
    results, errors = [], []

    def one(i):
        try:
            at = page(res="16", nseeds="2", tseed=str(i % 2))
            said = [m.value for m in (*at.error, *at.warning, *at.info)]
            results.append((not at.exception, len(at.get("plotly_chart")), said))
        except Exception as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert [r[:2] for r in results] == [(True, 5)] * 3, results


def test_a_view_too_costly_for_the_server_is_refused_before_any_work():
    """The digits MLP's 48² maps over 4 seeds would hold the server's job slot for minutes."""
    at = page(task="digits_mlp", res="48", nseeds="4")
    assert not at.exception, at.exception
    assert any("more than this server computes for one view" in e.value for e in at.error), at.error
    assert len(at.get("plotly_chart")) == 0
