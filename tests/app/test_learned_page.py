"""The Learned optimizer page: AppTest (render, start, stop) and one browser run to the end."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from l2l_core.learned.checkpoints import load_checkpoint

PAGE = str(Path(__file__).resolve().parents[2] / "pages" / "learned_optimizer.py")


def _app(tmp_path, monkeypatch) -> AppTest:
    monkeypatch.setenv("L2L_RUNS_DIR", str(tmp_path))
    return AppTest.from_file(PAGE, default_timeout=180)


def _wait(job, cond, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond(job):
            return
        time.sleep(0.2)
    raise TimeoutError(job.snapshot()[:2])


def test_page_renders_the_shipped_comparison(tmp_path, monkeypatch):
    at = _app(tmp_path, monkeypatch)
    at.run()
    assert not at.exception, at.exception
    assert at.title[0].value == "Learned optimizer"
    assert at.selectbox(key="lo_run").value == "default (shipped)"
    table = at.dataframe[0].value
    assert set(table["optimizer"]) >= {"LSTM (learned)", "Adam", "SGD", "RMSprop", "NAG"}
    assert len(at.dataframe) == 3  # final losses, what-ifs, the generalization map
    assert "still wins in every setting" in " ".join(m.value for m in at.markdown)
    assert at.toggle(key="lo_further").value is False
    assert not at.error


def test_start_then_stop_keeps_the_best_parameters(tmp_path, monkeypatch):
    at = _app(tmp_path, monkeypatch)
    at.run()
    at.number_input(key="lo_steps_short").set_value(5000)
    at.number_input(key="lo_batch").set_value(4)
    at.button(key="lo_start").click().run()
    assert not at.exception, at.exception
    job = at.session_state["lo_job"]
    _wait(job, lambda j: j.snapshot()[2] is not None)  # at least one chunk done
    at.run()
    assert at.button(key="lo_stop")
    at.button(key="lo_stop").click().run()
    assert job.join(120)
    at.run()
    assert not at.exception, at.exception
    state, message, progress, summary = job.snapshot()
    assert state == "stopped" and "stopped by request" in message
    ck = load_checkpoint(job.out_dir)
    assert ck.summary["stopped"] and ck.summary["meta_steps_done"] < 5000
    assert ck.summary["best_val_loss"] == pytest.approx(min(ck.curve["val_loss"]))
    assert at.selectbox(key="lo_run").value == job.out_dir.name  # the new run is listed and selected


def test_the_form_trains_an_optimizer_with_a_base_path(tmp_path, monkeypatch):
    at = _app(tmp_path, monkeypatch)
    at.run()
    assert at.selectbox(key="lo_base").value == "none"
    assert at.number_input(key="lo_base_lr").disabled  # no base path: no rate to set
    at.selectbox(key="lo_base").set_value("nag").run()
    assert not at.number_input(key="lo_base_lr").disabled
    assert at.number_input(key="lo_base_lr").value == pytest.approx(0.01)  # quadratics' default
    at.number_input(key="lo_base_lr").set_value(0.02)
    at.number_input(key="lo_steps_short").set_value(3)
    at.number_input(key="lo_batch").set_value(4)
    at.button(key="lo_start").click().run()
    assert not at.exception, at.exception
    job = at.session_state["lo_job"]
    assert job.join(180)
    at.run()
    assert not at.exception, at.exception
    ck = load_checkpoint(job.out_dir)
    assert ck.config.lstm.base == "nag" and ck.config.lstm.base_lr == pytest.approx(0.02)
    assert "base_log_lr" in ck.params["params"]
    assert at.selectbox(key="lo_run").value == job.out_dir.name
    assert "Nesterov momentum step" in " ".join(c.value for c in [*at.caption, *at.markdown])  # the run's caption
    assert at.query_params["base"] == "nag"  # the form's settings are in the link


@pytest.mark.browser
def test_browser_runs_a_tiny_training_to_the_end(page):
    page.goto(page.app_url + "/learned_optimizer")
    page.get_by_text("Race on fresh tasks").wait_for(timeout=120_000)
    steps = page.get_by_role("spinbutton", name="Meta-steps")
    steps.fill("6")
    steps.press("Enter")
    batch = page.get_by_role("spinbutton", name="Tasks per meta-step")
    batch.fill("4")
    batch.press("Enter")
    page.get_by_role("button", name="Start meta-training").click()
    page.get_by_text("finished 6 meta-steps").wait_for(timeout=150_000)
    page.get_by_text("Meta-loss, live").first.wait_for()
    assert not page.js_errors
