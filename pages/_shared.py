"""Small helpers shared by the pages (streamlit side only; the maths lives in l2l_core)."""

from __future__ import annotations

import gc
import sys
import threading
import time
from contextlib import contextmanager

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager
from streamlit.runtime.scriptrunner import get_script_run_ctx

from l2l_core import expr
from l2l_core.runtime import jobs
from l2l_core.io.files import columns_csv, npz_bytes  # noqa: F401  (pages' downloads: the one CSV/NPZ writer)
from l2l_core.inner.problems import DEFAULT_PROBLEM, PROBLEMS

CUSTOM = "custom formula"

# Streamlit treats a folder named pages/ beside the entry script as its old
# automatic page list until st.navigation first runs in the process: a first
# visit straight to a page's URL (a shared link, the tour's links) would run
# that page alone, without app.py's router, layout and warm-up. Every page
# imports this module first; on that first visit, switch to the router and
# rerun, which resolves the same page through app.py.
if PagesManager.uses_pages_directory and get_script_run_ctx(suppress_warning=True) is not None:
    PagesManager.uses_pages_directory = False
    st.rerun()



def problem_picker(key: str = "problem", show: bool = True) -> str:
    """Selectbox over the inner problems plus a typed formula.

    The page seeds ``key`` (and ``key + "_formula"``) first, through
    :class:`pages._state.PageState`. Returns a plain string: a registry name,
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
        st.error(f"Formula not accepted: {e}", icon=":material/error:")
        return None
    if show:
        st.caption(f"f(x) = {formula}, drawn on x in {expr.FORMULA_X_RANGE}")
    return formula


def need_problem(problem: str | None) -> str:
    """Stops the page, with a message in the main area, when the formula was rejected."""
    if problem is None:
        st.error("The inner loss's formula is not accepted; the reason is under f(x) = ... in the sidebar.",
                 icon=":material/error:")
        st.stop()
    return problem


def problem_slug(problem: str) -> str:
    """A file-name-safe label: the preset name, or "formula" for typed text."""
    return problem if problem in PROBLEMS else "formula"


@contextmanager
def _job_slot():
    """A slot of the server-wide job limit, and the session's cancel token."""
    ctx = get_script_run_ctx(suppress_warning=True)
    token = jobs.CancelToken(getattr(ctx, "yield_check", None))
    with jobs.default_limiter().slot(token, session=getattr(ctx, "session_id", None)):
        yield token


def heavy(fn, *args, **kwargs):
    """Runs a heavy core call inside the server-wide job limit.

    At most ``L2L_MAX_JOBS`` heavy calls run at once across all sessions; the
    rest wait (up to ``L2L_QUEUE_TIMEOUT`` s, then ServerBusy). The session's
    own Stop button (top right while it runs), or any widget change, cancels
    the call while it waits; grids go through :func:`heavy_grid`, which can
    also stop between bands. Use it inside the cached function, so that
    cache hits never queue.
    """
    with _job_slot() as token:
        token.raise_if_cancelled()
        return fn(*args, **kwargs)


def heavy_grid(log_lrs, log_one_minus_moms, **problem):
    """:func:`l2l_core.landscape.meta_loss_grid` inside the job limit, in bands
    that can be cancelled between them."""
    with _job_slot() as token:
        return jobs.banded_meta_loss_grid(log_lrs, log_one_minus_moms, token=token, **problem)


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


# -- settings from the URL (a tour link, a shared address) ---------------------------------------


def init_from_query(spec: dict, *, tag: str) -> list[str]:
    """Seeds widget state from ``st.query_params``, for pages whose widgets use keys.

    Args:
      spec: widget key -> (URL parameter, parse(str) -> value, default). ``parse``
        raises ValueError for a bad value (the default is used instead).
      tag: names this page's memory of the last URL applied.

    A widget's value comes from the URL when the URL changed since this page
    last applied it (a fresh session, or a tour link followed within one), or
    when the widget has no state yet (first visit, or streamlit dropped it on
    a page switch); otherwise the person's own changes stand.

    Returns:
      the URL parameters that were malformed and ignored.
    """
    qp = st.query_params
    relevant = tuple(sorted((param, qp[param]) for param, _, _ in spec.values() if param in qp))
    seen_key = f"_url_applied_{tag}"
    changed = st.session_state.get(seen_key) != relevant
    st.session_state[seen_key] = relevant
    bad = []
    for key, (param, parse, default) in spec.items():
        if not changed and key in st.session_state:
            continue
        value = default
        if param in qp:
            try:
                value = parse(qp[param])
            except (ValueError, TypeError):
                bad.append(param)
        if parse is problem_from_query and value not in PROBLEMS and value != CUSTOM:
            st.session_state[f"{key}_formula"] = value  # problem_picker's text box
            value = CUSTOM
        st.session_state[key] = value
    return bad


def problem_from_query(text: str) -> str:
    """A URL's ``problem``: a preset name, or a formula (normal form); ValueError otherwise."""
    if text in PROBLEMS:
        return text
    return expr.normalize(text)


def float_in(lo: float, hi: float):
    """A parser for a float URL value that must lie in [lo, hi]."""

    def parse(text: str) -> float:
        v = float(text)
        if not lo <= v <= hi:
            raise ValueError(f"{v} outside [{lo}, {hi}]")
        return v

    return parse


def int_in(lo: int, hi: int, choices=None):
    def parse(text: str) -> int:
        v = int(text)
        if not lo <= v <= hi or (choices is not None and v not in choices):
            raise ValueError(f"{v} not allowed")
        return v

    return parse


@st.cache_resource(show_spinner=False)
def warm_engine():
    """Compiles the landscape kernels once per server, in the background, so the
    first heatmap a visitor asks for is already compiled (or loaded from .jax_cache/)."""
    from l2l_core import landscape

    warm = landscape.warmup(background=True)
    threading.Thread(target=freeze_heap, args=(warm,), name="l2l-gc-freeze", daemon=True).start()
    return warm


def freeze_heap(after: threading.Thread | None = None) -> None:
    """Moves the server's long-lived objects (JAX, plotly, streamlit, the engine:
    ~200k tracked objects) out of the garbage collector's reach, once they exist.

    Streamlit runs ``gc.collect(2)`` after every script run (runner.postScriptGC),
    and a full collection is one C call that holds the GIL while it walks every
    tracked object: 0.1-0.3 s on a quiet machine, over 2 s on a loaded one, and
    back to back when several sessions finish together, so the event loop cannot
    answer even /_stcore/health. Frozen objects are skipped: those collections
    then walk only what the sessions made since, and still free it (memory stays
    bounded). Called at import of this module (every page imports it) and again
    after the kernel warm-up; each call freezes what is alive at that point.
    """
    if after is not None:
        after.join()
    # What every page imports anyway: loaded here, so that it is frozen too.
    import plotly.graph_objects  # noqa: F401
    from l2l_core import viz
    from l2l_core import landscape
    from l2l_core import outer  # noqa: F401

    with _FREEZE_LOCK:
        gc.collect()
        gc.freeze()


_FREEZE_LOCK = threading.Lock()
# Hand the GIL over every 1 ms instead of 5: with a dozen busy script and chunk
# threads, the server's event loop then waits far less for its turn.
sys.setswitchinterval(0.001)
threading.Thread(target=freeze_heap, name="l2l-gc-freeze", daemon=True).start()
