"""Small helpers shared by the pages (streamlit side only; the maths lives in l2l_core)."""

from __future__ import annotations

import time

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from l2l_core import expr, jobs
from l2l_core.problems import DEFAULT_PROBLEM, PROBLEMS

CUSTOM = "custom formula"


def problem_picker(key: str = "problem", default: str = "log_sin") -> str:
    """Selectbox over the inner problems plus a typed formula.

    Returns a plain string: a registry name, or the formula in its normal
    form (so cached calls stay keyed on small text). A formula outside the
    grammar shows st.error with the reason and stops the page.
    """
    names = list(PROBLEMS) + [CUSTOM]
    name = st.selectbox(
        "Inner loss",
        names,
        index=names.index(default),
        format_func=lambda n: "Custom formula f(x) = ..." if n == CUSTOM else PROBLEMS[n].title,
        key=key,
        help="The 1-D function that SGD with momentum trains. " + " ".join(
            f"{p.title}: {p.description}" for p in PROBLEMS.values()
        ) + " Or type your own formula in x.",
    )
    if name != CUSTOM:
        st.caption(PROBLEMS[name].description)
        return name
    text = st.text_input(
        "f(x) =",
        value=PROBLEMS[DEFAULT_PROBLEM].formula,
        max_chars=expr.MAX_LENGTH,
        key=f"{key}_formula",
        help="Numbers, x, pi, e, + - * / ** and parentheses, and the functions "
        + ", ".join(sorted(expr.FUNCTIONS)) + f". At most {expr.MAX_LENGTH} characters; "
        f"constant exponents within ±{expr.MAX_EXPONENT:g}.",
    )
    try:
        formula = expr.normalize(text)
    except ValueError as e:
        st.error(f"Formula not accepted: {e}", icon=":material/error:")
        st.stop()
    st.caption(f"f(x) = {formula}, drawn on x in {expr.FORMULA_X_RANGE}")
    return formula


def problem_slug(problem: str) -> str:
    """A file-name-safe label: the preset name, or "formula" for typed text."""
    return problem if problem in PROBLEMS else "formula"


def heavy(fn, *args, **kwargs):
    """Runs a heavy core call inside the server-wide job limit.

    At most ``L2L_MAX_JOBS`` heavy calls run at once across all sessions; the
    rest wait (up to ``L2L_QUEUE_TIMEOUT`` s, then ServerBusy). The session's
    own Stop button (top right while it runs), or any widget change, cancels
    the call while it waits; grids go through :func:`heavy_grid`, which can
    also stop between bands. Use it inside the cached function, so that
    cache hits never queue.
    """
    ctx = get_script_run_ctx(suppress_warning=True)
    token = jobs.CancelToken(getattr(ctx, "yield_check", None))
    with jobs.default_limiter().slot(token, session=getattr(ctx, "session_id", None)):
        token.raise_if_cancelled()
        return fn(*args, **kwargs)


def heavy_grid(log_lrs, log_one_minus_moms, **problem):
    """:func:`l2l_core.landscape.meta_loss_grid` inside the job limit, in bands
    that can be cancelled between them."""
    ctx = get_script_run_ctx(suppress_warning=True)
    token = jobs.CancelToken(getattr(ctx, "yield_check", None))
    with jobs.default_limiter().slot(token, session=getattr(ctx, "session_id", None)):
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
