"""The contract pages/_adapter.py relies on (Streamlit internals, no public API):
fails when a Streamlit upgrade changes it, so the adapter is revisited."""

import inspect

import streamlit
from streamlit.commands import navigation
from streamlit.runtime import pages_manager
from streamlit.runtime.scriptrunner import script_runner

from pages import _adapter


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
    assert (major, minor) <= (1, 67), "re-check pages/_adapter.py (and test_direct_links) on this Streamlit"
