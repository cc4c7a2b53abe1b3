"""Shared fixtures and the suite's set-up.

Layout: ``tests/core/<role>/`` mirrors ``l2l_core/``, ``tests/app/`` drives the
pages with streamlit.testing, ``tests/e2e/`` drives the real server in headless
Chromium (Debian's, through Playwright; one server and one browser for all).
Markers: ``browser`` (everything under e2e/, and the few browser cases beside
the AppTests) and ``slow`` (long cases, and every AppTest); ``make quick``
(``pytest -n auto -m "not slow and not browser"``) is the quick developer loop.
Hypothesis profiles: ``ci`` (default, what ``make test`` runs) and ``dev``
(``HYPOTHESIS_PROFILE=dev``, fewer examples).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile("ci", max_examples=1000, deadline=None, derandomize=True, database=None,
                          suppress_health_check=list(HealthCheck))
settings.register_profile("dev", max_examples=200, deadline=None, derandomize=True, database=None,
                          suppress_health_check=list(HealthCheck))
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
#: True once the page's script run is over: Streamlit writes the run's state into the app
#: root's data-test-script-state ("running", "notRunning", ...). (Its status widget is not
#: shown with this app's toolbar setting, so waiting for that widget to go waits for nothing.)
SCRIPT_DONE_JS = ("() => { const a = document.querySelector('[data-testid=\"stApp\"]');"
                  " const s = a && a.getAttribute('data-test-script-state');"
                  " return s === 'notRunning' || s === 'compilationError'; }")
CHROMIUM_ARGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage",
]


def pytest_configure(config):
    # What the app and the CLI do at start: the persistent compilation cache.
    from l2l_core.runtime.setup import setup_process

    setup_process()
    if not hasattr(config, "workerinput"):  # the controlling process (xdist) or the only one
        config._stray_before = stray_files()


#: What a run writes: a test that leaves one of these in the working tree wrote outside its tmp_path.
OUTPUT_SUFFIXES = {".npz", ".csv", ".json", ".png", ".msgpack", ".lock", ".tmp"}


def stray_files() -> set[str]:
    """Untracked, unignored output files in the working tree (empty outside a git checkout)."""
    res = subprocess.run(["git", "ls-files", "--others", "--exclude-standard"], cwd=ROOT,
                         capture_output=True, text=True)
    return {p for p in res.stdout.splitlines() if Path(p).suffix in OUTPUT_SUFFIXES} if res.returncode == 0 else set()


def pytest_sessionfinish(session, exitstatus):
    before = getattr(session.config, "_stray_before", None)
    if before is None:
        return
    new = sorted(stray_files() - before)
    if new:  # the suite fails: a test wrote into the project instead of its own folder
        session.config.get_terminal_writer().line(f"files written outside a test's folder: {new}", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


#: Fixtures of the one shared server and browser: a test that uses any of them runs in the
#: browser group, which pytest-xdist keeps on one worker (``--dist loadgroup``), so the
#: whole suite still starts one server and one browser.
BROWSER_FIXTURES = {"page", "browser", "app_url"}


def pytest_collection_modifyitems(config, items):
    for item in items:
        folder = Path(str(item.fspath)).resolve().relative_to(ROOT).parts[:2]
        if folder == ("tests", "e2e"):
            item.add_marker(pytest.mark.browser)
        if folder == ("tests", "app"):  # each AppTest runs whole page scripts: not for the quick loop
            item.add_marker(pytest.mark.slow)
        if item.get_closest_marker("browser") or BROWSER_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.xdist_group("browser"))


def app_pages() -> list[tuple[str, str, bool]]:
    """Every page of the app as (path, sidebar title, is the default page), read from
    app.py's navigation, so a test over "every page" cannot miss one added later."""
    import ast

    pages = []
    for node in ast.walk(ast.parse((ROOT / "app.py").read_text())):
        if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "Page":
            kw = {k.arg: k.value.value for k in node.keywords}
            pages.append((node.args[0].value, kw["title"], bool(kw.get("default", False))))
    assert pages, "no st.Page found in app.py"
    return pages


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(url: str, proc: subprocess.Popen, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited with code {proc.returncode}")
        try:
            with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.3)
    raise TimeoutError("streamlit server did not become healthy")


def open_page(path: str, timeout: float = 180, **query):
    """An AppTest of the page at ``path`` (from the repository root), run once with
    ``query`` in its URL; fails on an exception."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / path), default_timeout=timeout)
    for k, v in query.items():
        at.query_params[k] = v
    at.run()
    assert not at.exception, at.exception
    return at


def run_on_cpu_devices(code: str, n: int = 4) -> dict:
    """Runs ``code`` in a fresh Python with ``n`` virtual CPU devices; returns the
    JSON object its last output line holds."""
    import json

    env = dict(os.environ, JAX_NUM_CPU_DEVICES=str(n), JAX_PLATFORMS="cpu", PYTHONPATH=str(ROOT))
    env.pop("XLA_FLAGS", None)
    res = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-3000:]
    return json.loads(res.stdout.strip().splitlines()[-1])


def drag_box(page, layer, start=0.3, end=0.6, mid=(0.1, 0.1), steps=5) -> None:
    """Drags a box on a Plotly chart's drag layer, as a person does: press at ``start``,
    move through ``start + mid`` to ``end`` (fractions of the layer's width and height)."""
    b = layer.bounding_box()
    x0, y0 = b["x"] + start * b["width"], b["y"] + start * b["height"]
    page.mouse.move(x0, y0)
    page.mouse.down()
    page.mouse.move(x0 + mid[0] * b["width"], y0 + mid[1] * b["height"], steps=steps)
    page.mouse.move(b["x"] + end * b["width"], b["y"] + end * b["height"], steps=steps)
    page.mouse.up()


@contextmanager
def streamlit_server(log_path, **env):
    """A real `streamlit run app.py` on a free port; yields (url, process)."""
    port = free_port()
    # The test servers leave out the warm-up of every general-landscape kernel (a minute of
    # CPU on a fresh clone, beside the browser tests); tests/core/landscape covers it.
    env = dict(os.environ, JAX_PLATFORMS="cpu", **{"L2L_WARMUP_GENERAL": "0", **env})
    with open(log_path, "w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
             "--server.headless", "true", "--browser.gatherUsageStats", "false"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )
    url = f"http://localhost:{port}"
    try:
        wait_healthy(url, proc)
        yield url, proc
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


#: The session server's log, whose tail a failing browser test's report shows.
_SERVER_LOG: list[Path] = []


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.failed and _SERVER_LOG and "app_url" in getattr(item, "fixturenames", ()):
        try:
            tail = _SERVER_LOG[0].read_text(errors="replace").splitlines()[-60:]
        except OSError as e:
            tail = [f"(the server log could not be read: {e})"]
        report.sections.append(("the test server's log (last 60 lines)", "\n".join(tail)))
    return report


@pytest.fixture(scope="session")
def app_url(tmp_path_factory):
    """One server for the whole session."""
    log = tmp_path_factory.mktemp("server") / "streamlit.log"
    _SERVER_LOG[:] = [log]
    with streamlit_server(log, L2L_RUNS_DIR=str(tmp_path_factory.mktemp("runs"))) as (url, _):
        yield url


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


@contextmanager
def browser_page(browser, app_url, width=1400, height=1000):
    """A page in a context of its own at ``width`` x ``height``, with ``app_url`` and
    the JavaScript errors it raised (``js_errors``) attached."""
    context = browser.new_context(viewport={"width": width, "height": height})
    pg = context.new_page()
    pg.set_default_timeout(60_000)
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.app_url = app_url
    pg.js_errors = errors
    try:
        yield pg
    finally:
        context.close()


@pytest.fixture
def page(browser, app_url):
    """A fresh browser page; fails the test if the app shows an exception."""
    with browser_page(browser, app_url) as pg:
        yield pg
