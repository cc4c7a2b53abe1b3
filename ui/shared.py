"""Small helpers shared by the pages (streamlit side only; the maths lives in l2l_core)."""

from __future__ import annotations

import contextvars
import logging
import re
import time
from contextlib import contextmanager

import streamlit as st

from l2l_core import expr
from l2l_core.inner.optimizers import OPTIMIZERS
from l2l_core.io.files import columns_csv, npz_bytes  # noqa: F401  (pages' downloads: the one CSV/NPZ writer)
from l2l_core.landscape.grid import banded_meta_loss_grid
from l2l_core.runtime import jobs
from l2l_core.runtime.shared_work import default_shared_work, work_key
from l2l_core.tasks.problems import PROBLEMS
from ui.adapter import script_run, stop_requested
from ui.state import CUSTOM, CUSTOM_XY, OutOfRange, float_in, int_in  # noqa: F401  (the URL-value parsers)

log = logging.getLogger("l2l.jobs")
#: A job that waited or held its slot longer than this is logged (the server log then says
#: what a slow page waited for).
SLOW_JOB_SECONDS = 20.0


def optimizer_label(name: str) -> str:
    """An optimizer's title short enough for a sidebar dropdown (the help text keeps the whole title)."""
    return OPTIMIZERS[name].title.removesuffix(" (the post's)")


def problem_picker(key: str = "problem", show: bool = True) -> str:
    """Selectbox over the inner problems plus a typed formula.

    The page seeds ``key`` (and ``key + "_formula"``) first, through
    :class:`ui.state.PageState`. Returns a plain string: a registry name,
    or the formula in its normal form (so cached calls stay keyed on small
    text). A formula outside the grammar shows st.error with the reason and
    returns None: the page then calls :func:`need_problem`, which says so in
    the main area too and stops. ``show=False`` (teacher mode) draws no
    widget and uses the stored choice.
    """
    names = list(PROBLEMS) + [CUSTOM]
    if show:
        name = st.selectbox(
            "Inner loss",
            names,
            format_func=lambda n: "Custom formula f(x) = ..." if n == CUSTOM else PROBLEMS[n].title,
            key=key,
            help="The 1-D function that SGD with momentum trains. " + " ".join(
                f"{p.title}: {p.description}" for p in PROBLEMS.values()
            ) + " Or type your own formula in x.",
        )
    else:
        name = st.session_state[key]
    if name != CUSTOM:
        if show:
            st.caption(PROBLEMS[name].description)
        return name
    if show:
        text = st.text_input(
            "f(x) =",
            max_chars=expr.MAX_LENGTH,
            key=f"{key}_formula",
            help="Numbers, x, pi, e, + - * / ** and parentheses, and the functions "
            + ", ".join(sorted(expr.FUNCTIONS)) + f". At most {expr.MAX_LENGTH} characters; "
            f"constant exponents within ±{expr.MAX_EXPONENT:g}.",
        )
    else:
        text = st.session_state[f"{key}_formula"]
    try:
        formula = expr.normalize(text)
    except ValueError as e:
        st.error(f"Formula not accepted: {plain(e)}", icon=":material/error:")
        return None
    if show:
        st.caption(f"f(x) = {formula}, drawn on x in {expr.FORMULA_X_RANGE}")
    return formula


def plain(text: str) -> str:
    """``text`` shown as typed in a Streamlit message (no markdown: ``__import__`` stays as it is)."""
    return re.sub(r"([\\`*_~$\[\]<>])", r"\\\1", str(text))


def need_problem(problem: str | None) -> str:
    """Stops the page, with a message in the main area, when the formula was rejected
    (the 1-D inner loss's f(x), or the task's f(x, y))."""
    if problem is None:
        box = "f(x, y) = ..." if st.session_state.get("g_task") == CUSTOM_XY else "f(x) = ..."
        st.error(f"The formula is not accepted; the reason is under {box} in the sidebar.",
                 icon=":material/error:")
        st.stop()
    return problem


def problem_slug(problem: str) -> str:
    """A file-name-safe label: the preset name, or "formula" for typed text."""
    return problem if problem in PROBLEMS else "formula"


#: True inside :func:`background_jobs`: heavy calls yield to users' jobs.
_BACKGROUND = contextvars.ContextVar("l2l_background_jobs", default=False)


@contextmanager
def background_jobs():
    """Heavy calls made inside (the server's warm-up) are background jobs: every
    user job goes before them, so a visitor waits for at most the one running."""
    reset = _BACKGROUND.set(True)
    try:
        yield
    finally:
        _BACKGROUND.reset(reset)


@contextmanager
def _job_slot(name: str = "job"):
    """A slot of the server-wide job limit, and the session's cancel token.

    While the job waits in line the page says so ("2 jobs ahead of you"),
    apart from the compute time the caption reports afterwards. A wait or a
    hold longer than :data:`SLOW_JOB_SECONDS` goes to the server log.
    """
    session, check = script_run()
    background = _BACKGROUND.get()
    t0 = time.monotonic()
    token = jobs.CancelToken(check)
    note = st.empty() if session is not None else None

    def on_wait(waited: float, ahead: int) -> None:
        if note is not None and waited >= 0.5:
            note.info(f"Waiting for a free slot: {ahead} job{'s' * (ahead != 1)} ahead of you "
                      f"({waited:.0f} s in line).", icon=":material/hourglass_top:")

    try:
        with jobs.default_limiter().slot(token, session=session, on_wait=on_wait, background=background):
            started = time.monotonic()
            if started - t0 > SLOW_JOB_SECONDS:
                log.info("%s%s waited %.1f s for a slot", name, " (background)" * background, started - t0)
            if note is not None:
                note.empty()
            try:
                yield token
            finally:
                held = time.monotonic() - started
                if held > SLOW_JOB_SECONDS:
                    log.info("%s%s held a slot for %.1f s", name, " (background)" * background, held)
    finally:
        if note is not None:
            note.empty()


def _shared(fn, args: tuple, kwargs: dict, work):
    """``work(token)`` inside a job slot, shared: sessions asking for the same work at
    once share one run (only its leader holds a slot).

    A background job takes its slot before it becomes the run others follow, so
    no visitor ever follows a job still waiting behind other visitors' jobs.
    """
    key = work_key(fn, args, kwargs)
    name = getattr(fn, "__qualname__", "job")
    if _BACKGROUND.get():
        with _job_slot(name) as token:
            return default_shared_work().run(key, lambda: work(token), follow=False)

    def compute():
        with _job_slot(name) as token:
            return work(token)

    return default_shared_work().run(key, compute, check=script_run()[1])


def heavy(fn, *args, **kwargs):
    """Runs a heavy core call inside the server-wide job limit.

    At most ``L2L_MAX_JOBS`` heavy calls run at once across all sessions; the
    rest wait in line (up to ``L2L_QUEUE_TIMEOUT`` s, then ServerBusy), and an
    identical call already running in another session is joined, not repeated
    (:mod:`l2l_core.runtime.shared_work`). The session's own Stop button, or any widget
    change, cancels the call while it waits; grids go through
    :func:`heavy_grid`, which can also stop between bands. Use it inside the
    cached function, so that cache hits never queue.
    """
    def work(token):
        token.raise_if_cancelled()
        return fn(*args, **kwargs)

    return _shared(fn, args, kwargs, work)


def heavy_stoppable(fn, *args, **kwargs):
    """:func:`heavy` for a core call that takes ``cancel`` (a ``() -> bool`` its worker
    threads check between chunks, e.g. ``hyper_grid``): a widget change or Stop ends it
    after the chunks running, so the next run's first image does not wait for a stale
    grid. A stopped call raises (its partial result is never returned, so never cached)."""
    def work(token):
        asked = stop_requested()

        def cancel() -> bool:
            return token.cancelled or asked()

        token.raise_if_cancelled()
        result = fn(*args, cancel=cancel, **kwargs)
        if cancel():
            token.raise_if_cancelled()  # Streamlit's own rerun or stop, in the script thread
            raise jobs.Cancelled("stopped by a newer change before it finished")
        return result

    return _shared(fn, args, kwargs, work)


def heavy_grid(log_lrs, log_one_minus_moms, **problem):
    """:func:`l2l_core.landscape.meta_loss_grid` inside the job limit, in bands
    that can be cancelled between them (shared like :func:`heavy`)."""
    def work(token):
        return banded_meta_loss_grid(log_lrs, log_one_minus_moms, token=token, **problem)

    return _shared(banded_meta_loss_grid, (log_lrs, log_one_minus_moms), problem, work)


def timing_caption(compute_seconds: float, wall_seconds: float, what: str = "computed") -> None:
    """Says how long the computation took, and when the result came from the cache."""
    cached = wall_seconds < 0.5 * compute_seconds
    note = f" (served from cache in {wall_seconds:.3f} s)" if cached else ""
    st.caption(f"{what} in {compute_seconds:.3f} s{note}")


def timed_call(fn, *args, **kwargs):
    """Calls a cached ``fn`` that returns (result, seconds); returns (result, seconds, wall)."""
    t0 = time.perf_counter()
    result, seconds = fn(*args, **kwargs)
    return result, seconds, time.perf_counter() - t0


def show_error(err: Exception) -> None:
    if isinstance(err, jobs.Cancelled):
        st.info(f"{err}", icon=":material/cancel:")
    elif isinstance(err, jobs.ServerBusy):
        st.warning(f"{err}", icon=":material/hourglass_top:")
    else:
        st.error(f"{err}", icon="⚠️")


# -- exports: every chart as PNG, every chart's data as CSV / NPZ ---------------------------------

#: Default PNG scale of the modebar's camera button (2 = crisp on slides and in print).
PNG_SCALE = 2


def safe_filename(name: str) -> str:
    """Letters, digits, '-', '_' and '.' only (what browsers accept everywhere)."""
    out = "".join(c if c.isalnum() or c in "-_." else "_" for c in str(name)).strip("._")
    return out[:120] or "figure"


def chart_config(filename: str, scale: float = PNG_SCALE) -> dict:
    """Plotly config whose camera button saves ``filename``.png at ``scale``."""
    return {"toImageButtonOptions": {"format": "png", "filename": safe_filename(filename), "scale": scale},
            "displaylogo": False}


def plotly_chart(fig, *, key: str, filename: str, scale: float = PNG_SCALE, **kwargs):
    """``st.plotly_chart`` with a PNG export named ``filename`` (camera icon, top right of the chart)."""
    return st.plotly_chart(fig, key=key, config=chart_config(filename, scale), **kwargs)
