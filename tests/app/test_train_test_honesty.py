"""The learned page says plainly where training loss and test loss disagree: on a network
comparison beside its test table, and on the generalization map (AppTest)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from streamlit.testing.v1 import AppTest

from l2l_core.tasks.families import TASK_FAMILIES

PAGE = str(Path(__file__).resolve().parents[2] / "pages" / "learned_optimizer.py")


def _text(at) -> str:
    return " ".join(m.value for m in at.markdown)


def test_the_map_and_a_network_comparison_say_where_test_loss_disagrees(tmp_path, monkeypatch):
    monkeypatch.setenv("L2L_RUNS_DIR", str(tmp_path))
    small = dataclasses.replace(TASK_FAMILIES["digits_mlp"], eval_batch=4, lr_points=5)
    monkeypatch.setitem(TASK_FAMILIES, "digits_mlp", small)
    at = AppTest.from_file(PAGE, default_timeout=240)
    at.query_params["seed"] = "11"
    at.run()
    assert not at.exception, at.exception
    text = _text(at)
    assert "Where training loss and test loss disagree" in text
    assert ("digits MLP (20 sigmoid, 100 steps), LSTM trained on the digits MLP: lower training loss than the "
            "tuned NAG") in text and "it overfits here" in text
    assert "Training loss against test loss" not in text  # quadratics have no test split
    at.selectbox(key="lo_task").set_value("digits_mlp").run()
    assert not at.exception, at.exception
    text = _text(at)
    assert "Training loss against test loss" in text
    assert "LSTM (learned): " in text and ("ranks as training loss does" in text or "test loss (" in text)
