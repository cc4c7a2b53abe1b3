"""The Learned optimizer page's task families and its generalization map (AppTest)."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from l2l_core.tasks.families import TASK_FAMILIES

ROOT = Path(__file__).resolve().parents[2]
PAGE = str(ROOT / "pages" / "learned_optimizer.py")
MAP = ROOT / "checkpoints" / "generalization.json"


def _app(tmp_path, monkeypatch) -> AppTest:
    monkeypatch.setenv("L2L_RUNS_DIR", str(tmp_path))
    return AppTest.from_file(PAGE, default_timeout=240)


def _table(at, column: str):
    """The first table on the page with this column (None: no such table)."""
    return next((d.value for d in at.dataframe if column in d.value.columns), None)


def _text(at) -> str:
    return " ".join([m.value for m in at.markdown] + [c.value for c in at.caption])


def test_family_picker_changes_the_race(tmp_path, monkeypatch):
    # a smaller digits comparison (4 networks, 5 learning rates) keeps the test short; same code path
    small = dataclasses.replace(TASK_FAMILIES["digits_mlp"], eval_batch=4, lr_points=5)
    monkeypatch.setitem(TASK_FAMILIES, "digits_mlp", small)
    at = _app(tmp_path, monkeypatch)
    at.query_params["seed"] = "11"  # a seed no other test caches
    at.run()
    assert not at.exception, at.exception
    assert at.selectbox(key="lo_task").value == "quadratic"
    assert at.selectbox(key="lo_dim").value == 10
    assert "Trained on quadratic" in _text(at)
    assert "Nesterov momentum step" not in _text(at)  # the quadratic optimizer has no base path
    quad_table = _table(at, "LSTM relative to it")
    assert _table(at, "test accuracy") is None
    at.selectbox(key="lo_task").set_value("digits_mlp").run()
    assert not at.exception, at.exception
    assert at.query_params["task"] == "digits_mlp"
    assert "Trained on digits_mlp" in _text(at)  # the family's shipped optimizer
    assert "plus a Nesterov momentum step (momentum 0.9) at a learned learning rate of 1.79" in _text(at)
    assert not [s for s in at.selectbox if s.key == "lo_dim"]  # no dimension for networks
    table = _table(at, "LSTM relative to it")
    assert set(table["optimizer"]) >= {"LSTM (learned)", "Adam", "SGD", "RMSprop", "NAG"}
    assert not table.equals(quad_table)
    test = _table(at, "test accuracy")
    assert list(test.columns) == ["optimizer", "training loss", "test loss", "test accuracy"]
    assert ((test["test accuracy"] > 0) & (test["test accuracy"] <= 1)).all()
    assert "4 fresh tasks" in at.number_input(key="lo_eval_seed").help
    # the training form follows the family: the digits presets' own defaults
    assert at.number_input(key="lo_batch_digits_mlp").value == 4
    assert at.number_input(key="lo_steps_short_digits_mlp").value == 100
    assert at.number_input(key="lo_meta_lr_digits_mlp").value == pytest.approx(1e-2)
    assert at.selectbox(key="lo_base_digits_mlp").value == "nag"  # the digits presets' base path
    assert at.number_input(key="lo_base_lr_digits_mlp").value == pytest.approx(1.0)
    at.radio(key="lo_preset").set_value("full").run()  # each preset keeps its own meta learning rate
    assert at.number_input(key="lo_meta_lr_full_digits_mlp").value == pytest.approx(5e-3)
    assert not [s for s in at.subheader if "What-ifs" in s.value]


def test_generalization_map_renders_from_its_file_and_a_cell_recomputes(tmp_path, monkeypatch):
    stored = json.loads(MAP.read_text())
    at = _app(tmp_path, monkeypatch)
    at.run()
    assert not at.exception, at.exception
    assert [s for s in at.subheader if s.value == "Where it generalizes"]
    text = _text(at)
    assert "python -m l2l_core generalization" in text and stored["created"] in text
    assert "Where it fails, plainly" in text
    for row in stored["rows"]:  # every losing setting is named, with its ratio
        for r in row["learned"].values():
            if r["verdict"] == "loses":
                assert f"{row['label']} ({r['ratio']:.3g}x" in text
    assert "It loses on 8 of 12 settings" in text  # the quadratic-trained optimizer on every network
    home = next(r for r in stored["rows"] if r["key"] == "digits")["learned"]["digits_mlp"]
    assert home["verdict"] == "wins"  # the digits-trained optimizer at home, named as such
    assert f"digits MLP (20 sigmoid, 100 steps) ({home['ratio']:.3g}x, its training setting)" in text
    assert len(_table(at, "tuned Adam")) == len(stored["rows"])
    charts = at.get("plotly_chart")
    assert any("Where the learned optimizers generalize" in c.proto.spec for c in charts)
    # one cell, recomputed now with the file's seed and sizes, gives the file's numbers
    at.selectbox(key="lo_cell").set_value("quadratic_d20").run()
    at.button(key="lo_recompute").click().run()
    assert not at.exception, at.exception
    cell = _table(at, "in the file")
    row = next(r for r in stored["rows"] if r["key"] == "quadratic_d20")
    for name, r in row["learned"].items():
        got = cell[cell["optimizer"].str.contains("quadratics" if name == "quadratic" else "digits")]
        now = float(got["final loss now"].iloc[0])
        if r["final"] is None:  # diverged in the file (stored as null): diverges now too
            assert r["diverged"] and not math.isfinite(now)
        else:
            assert abs(now / r["final"] - 1) < 1e-3
        assert got["vs best baseline now"].iloc[0] == got["in the file"].iloc[0]
    assert at.query_params["cell"] == "quadratic_d20"


def test_bad_family_and_cell_in_the_link_warn(tmp_path, monkeypatch):
    at = _app(tmp_path, monkeypatch)
    at.query_params["task"] = "mnist_cnn"
    at.query_params["cell"] = "nowhere"
    at.run()
    assert not at.exception, at.exception
    warned = " ".join(w.value for w in at.warning)
    assert "task" in warned and "cell" in warned
    assert at.selectbox(key="lo_task").value == "quadratic"
    assert at.selectbox(key="lo_cell").value == "quadratic_d20"


def test_teacher_mode_hides_the_picker_and_keeps_the_linked_family(tmp_path, monkeypatch):
    small = dataclasses.replace(TASK_FAMILIES["digits_mlp"], eval_batch=4, lr_points=5)
    monkeypatch.setitem(TASK_FAMILIES, "digits_mlp", small)
    at = _app(tmp_path, monkeypatch)
    for k, v in {"task": "digits_mlp", "seed": "11", "cell": "wine", "hide": "task,cell"}.items():
        at.query_params[k] = v
    at.run()
    assert not at.exception, at.exception
    assert not [s for s in at.selectbox if s.key in ("lo_task", "lo_cell")]
    assert "Trained on digits_mlp" in _text(at)
    assert _table(at, "test accuracy") is not None
    assert at.button(key="lo_recompute")  # the linked cell can still be recomputed


def test_one_task_of_the_maps_is_raced_and_trained_as_a_family_of_one(tmp_path, monkeypatch):
    """?task=rosenbrock: the race is that one task (no task seed to draw); a run trains on it with the
    short preset and, once finished, races there too."""
    import time

    at = _app(tmp_path, monkeypatch)
    at.query_params["task"] = "rosenbrock"
    at.run()
    assert not at.exception, at.exception
    assert at.selectbox(key="lo_task").value == "rosenbrock"
    assert not [n for n in at.number_input if n.key == "lo_eval_seed"]  # one task: nothing to draw
    table = _table(at, "best learning rate")
    assert set(table["optimizer"]) >= {"LSTM (learned)", "Adam", "SGD", "RMSprop", "NAG"}
    assert "one task of the maps" in _text(at)
    at.button(key="lo_start").click().run()
    assert not at.exception, at.exception
    job = at.session_state["lo_job"]
    assert job.join(180)
    assert job.snapshot()[0] == "done", job.snapshot()[:2]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        at.run()
        if len(at.selectbox(key="lo_run").options) > 1:
            break
    own = [o for o in at.selectbox(key="lo_run").options if o.startswith("rosenbrock-short")]
    assert own, at.selectbox(key="lo_run").options
    at.selectbox(key="lo_run").set_value(own[0]).run()
    assert not at.exception, at.exception
    assert "Trained on rosenbrock" in _text(at)
    assert np.isfinite(_table(at, "best learning rate")["loss after 100 steps"]).all()
