"""The one adapter to Streamlit internals: first visits by link go through app.py,
and the current script run's session id, stop check and stop flag for the job limit.

Why: Streamlit treats a folder named ``pages/`` beside the entry script as its
old automatic page list (multipage v1) until ``st.navigation`` first runs in
the process. A first visit straight to a page's URL (a shared link such as
``/landscape`` on a freshly started server) then runs that page file alone,
without ``app.py``'s router, process set-up and layout. Streamlit has no
public setting for this (checked up to 1.67); the folder name is fixed by the
product card. So every page calls :func:`through_router` first thing: when the
run did not come through ``app.py``, it switches the process to the router
(the class attribute ``PagesManager.uses_pages_directory`` that ``st.navigation``
itself sets to False) and reruns, which resolves the same page through app.py.

Safe under concurrency: nothing happens at import; a session whose run
started in the old mode before another session switched also reruns.
``tests/test_adapter.py`` fails if a Streamlit upgrade changes what this
relies on; ``tests/e2e/test_class_browser.py`` checks the behaviour in a browser.
"""

from __future__ import annotations

import threading
from pathlib import Path

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager
from streamlit.runtime.scriptrunner import get_script_run_ctx

_RUN = threading.local()  # a script run lives in one thread: app.py, then the page


def mark_routed() -> None:
    """Called by app.py just before ``st.navigation(...).run()``."""
    _RUN.routed = True


def through_router(page_file: str) -> None:
    """Reruns through app.py unless this run came from it (call first in a page)."""
    routed = getattr(_RUN, "routed", False)
    _RUN.routed = False
    if routed:
        return
    ctx = get_script_run_ctx(suppress_warning=True)
    if ctx is None or Path(ctx.main_script_path).resolve() == Path(page_file).resolve():
        return  # bare mode, or the page itself is the entry script (AppTest of one page)
    PagesManager.uses_pages_directory = False
    st.rerun()


def script_run() -> tuple[str | None, object]:
    """(the session id, a no-argument check that raises when the session's run is
    stopped or superseded) of the script run on this thread; (None, None) outside one.

    Streamlit has no public API for either; the job limit needs them to tell
    sessions apart and to cancel a queued job when its page reruns or stops.
    """
    ctx = get_script_run_ctx(suppress_warning=True)
    return getattr(ctx, "session_id", None), getattr(ctx, "yield_check", None)


def stop_requested():
    """A ``() -> bool`` that any thread may call: whether the script run on this thread
    (when this was called) has since been asked to stop or rerun (a widget change, Stop,
    a closed tab). Always False outside a script run.

    It only reads the request, leaving its handling to the script thread (the check of
    :func:`script_run`); a grid's worker threads use it to skip their remaining chunks.
    Streamlit has no public API for it: this reads ``ScriptRequests._state``, which
    ``request_rerun``/``request_stop`` set (tests/app/test_routing.py checks it).
    """
    ctx = get_script_run_ctx(suppress_warning=True)
    requests = getattr(ctx, "script_requests", None)
    if requests is None or not hasattr(requests, "_state"):
        return lambda: False
    return lambda: getattr(requests._state, "name", "CONTINUE") != "CONTINUE"
