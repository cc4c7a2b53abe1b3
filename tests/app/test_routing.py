"""The contract ui/adapter.py relies on (Streamlit internals, no public API):
fails when a Streamlit upgrade changes it, so the adapter is revisited."""

import inspect

import streamlit
from streamlit.commands import navigation
from streamlit.runtime import pages_manager
from streamlit.runtime.scriptrunner import script_runner

from ui import adapter as _adapter


def test_a_pages_folder_beside_the_entry_script_still_means_multipage_v1(tmp_path):
    (tmp_path / "pages").mkdir()
    (tmp_path / "app.py").write_text("")
    saved = pages_manager.PagesManager.uses_pages_directory
    try:
        pages_manager.PagesManager.uses_pages_directory = None
        pages_manager.PagesManager(str(tmp_path / "app.py"))
        assert pages_manager.PagesManager.uses_pages_directory is True
    finally:
        pages_manager.PagesManager.uses_pages_directory = saved


def test_the_script_runner_and_st_navigation_read_and_clear_the_same_flag():
    assert "PagesManager.uses_pages_directory" in inspect.getsource(script_runner.ScriptRunner)
    assert "_mpa_v1" in inspect.getsource(script_runner.ScriptRunner)
    assert "PagesManager.uses_pages_directory = False" in inspect.getsource(navigation)


def test_the_adapter_does_nothing_outside_a_script_run():
    flag = pages_manager.PagesManager.uses_pages_directory
    _adapter.through_router(__file__)  # no script run context: no rerun, no flag change
    assert pages_manager.PagesManager.uses_pages_directory == flag
    _adapter.mark_routed()
    _adapter.through_router(__file__)
    assert not _adapter._RUN.routed


def test_streamlit_version_is_one_the_adapter_was_checked_against():
    major, minor = (int(v) for v in streamlit.__version__.split(".")[:2])
    assert (major, minor) <= (1, 67), "re-check ui/adapter.py (and tests/e2e/test_class_browser.py)"


def test_every_page_goes_through_the_router_first():
    """A page that imports anything before through_router() can break concurrent first visits by link."""
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "pages"
    for path in sorted(root.glob("[a-z]*.py")):
        body = ast.parse(path.read_text()).body
        body = body[1:] if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) else body
        body = [s for s in body if not (isinstance(s, ast.ImportFrom) and s.module == "__future__")]
        first, second = body[0], body[1]
        assert isinstance(first, ast.ImportFrom) and first.module == "ui.adapter", path.name
        assert isinstance(second, ast.Expr) and ast.unparse(second) == "through_router(__file__)", path.name


def test_the_stop_flag_reads_what_a_rerun_request_sets(monkeypatch):
    from streamlit.runtime.scriptrunner_utils import script_requests as sr
    from streamlit.runtime.scriptrunner_utils.script_run_context import ScriptRunContext

    assert _adapter.stop_requested()() is False  # outside a script run
    requests = sr.ScriptRequests()

    class Ctx:  # the one attribute the adapter reads from a ScriptRunContext
        script_requests = requests

    assert "script_requests" in ScriptRunContext.__dataclass_fields__
    monkeypatch.setattr(_adapter, "get_script_run_ctx", lambda suppress_warning=True: Ctx())
    asked = _adapter.stop_requested()
    assert asked() is False
    requests.request_rerun(sr.RerunData())
    assert asked() is True
    requests.on_scriptrunner_yield()  # the script thread takes the request
    assert asked() is False
    requests.request_stop()
    assert asked() is True
