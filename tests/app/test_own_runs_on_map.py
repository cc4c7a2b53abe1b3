"""The class's own runs on the generalization map: an optimizer trained on the Learned optimizer page
(a finished run in the session's runs folder) runs on a recomputed cell beside the shipped ones."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]
PAGE = str(ROOT / "pages" / "learned_optimizer.py")

pytestmark = pytest.mark.slow


def _table(at, column: str):
    return next((d.value for d in at.dataframe if column in d.value.columns), None)


def test_a_finished_run_of_this_session_runs_on_a_cell_beside_the_shipped_optimizers(tmp_path, monkeypatch):
    monkeypatch.setenv("L2L_RUNS_DIR", str(tmp_path))
    # a finished run of this session: the shipped quadratic optimizer's weights under another name
    shutil.copytree(ROOT / "checkpoints" / "default", tmp_path / "private" / "class-uid" / "our_run")
    at = AppTest.from_file(PAGE, default_timeout=300)
    at.session_state["lo_uid"] = "class-uid"
    at.run()
    assert not at.exception, at.exception
    at.selectbox(key="lo_cell").set_value("quadratic_d20").run()
    assert at.multiselect(key="lo_cell_own").options == ["our_run"]
    at.multiselect(key="lo_cell_own").select("our_run").run()
    at.button(key="lo_recompute").click().run()
    assert not at.exception, at.exception
    cell = _table(at, "in the file")
    ours = cell[cell["optimizer"] == "your run our_run"]
    shipped = cell[cell["optimizer"].str.contains("quadratics")]
    assert len(ours) == 1 and len(shipped) == 1
    assert float(ours["final loss now"].iloc[0]) == pytest.approx(float(shipped["final loss now"].iloc[0]))
    assert ours["in the file"].iloc[0] == "-"  # computed now; the file has no such optimizer


def test_without_runs_of_its_own_the_page_says_how_to_get_one(tmp_path, monkeypatch):
    monkeypatch.setenv("L2L_RUNS_DIR", str(tmp_path))
    at = AppTest.from_file(PAGE, default_timeout=300).run()
    assert not at.exception, at.exception
    assert not [m for m in at.multiselect if m.key == "lo_cell_own"]
    assert any("An optimizer you train above can be run here too" in c.value for c in at.caption)
