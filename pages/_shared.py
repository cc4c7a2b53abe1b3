"""Small helpers shared by the pages (streamlit side only; the maths lives in l2l_core)."""

from __future__ import annotations

import time
from contextlib import contextmanager

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from l2l_core import expr
from l2l_core.runtime import jobs
from l2l_core.runtime.shared_work import default_shared_work, work_key
from l2l_core.inner.problems import DEFAULT_PROBLEM, PROBLEMS

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


@contextmanager
def _job_slot():
    """A slot of the server-wide job limit, and the session's cancel token.

    While the job waits in line the page says so ("2 jobs ahead of you"),
    apart from the compute time the caption reports afterwards.
    """
    ctx = get_script_run_ctx(suppress_warning=True)
    token = jobs.CancelToken(getattr(ctx, "yield_check", None))
    note = st.empty() if ctx is not None else None

    def on_wait(waited: float, ahead: int) -> None:
        if note is not None and waited >= 0.5:
            note.info(f"Waiting for a free slot: {ahead} job{'s' * (ahead != 1)} ahead of you "
                      f"({waited:.0f} s in line).", icon=":material/hourglass_top:")

    try:
        with jobs.default_limiter().slot(token, session=getattr(ctx, "session_id", None),
                                         on_wait=on_wait):
            if note is not None:
                note.empty()
            yield token
    finally:
        if note is not None:
            note.empty()


def _shared(fn, args: tuple, kwargs: dict, compute):
    """Single-flight: sessions asking for the same work at once share one run."""
    ctx = get_script_run_ctx(suppress_warning=True)
    return default_shared_work().run(work_key(fn, args, kwargs), compute,
                                     check=getattr(ctx, "yield_check", None))


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
    def compute():
        with _job_slot() as token:
            token.raise_if_cancelled()
            return fn(*args, **kwargs)

    return _shared(fn, args, kwargs, compute)


def heavy_grid(log_lrs, log_one_minus_moms, **problem):
    """:func:`l2l_core.landscape.meta_loss_grid` inside the job limit, in bands
    that can be cancelled between them (shared like :func:`heavy`)."""
    def compute():
        with _job_slot() as token:
            return jobs.banded_meta_loss_grid(log_lrs, log_one_minus_moms, token=token, **problem)

    return _shared(jobs.banded_meta_loss_grid, (log_lrs, log_one_minus_moms), problem, compute)


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


def npz_bytes(**arrays) -> bytes:
    import io

    import numpy as np

    buf = io.BytesIO()
    np.savez_compressed(buf, **{k: np.asarray(v) for k, v in arrays.items()})
    return buf.getvalue()


def columns_csv(**columns) -> str:
    """Equal-length 1-D columns as CSV text with a header row (NaN kept as 'nan')."""
    import numpy as np

    cols = {k: np.asarray(v).ravel() for k, v in columns.items()}
    lines = [",".join(cols)]
    lines += [",".join(f"{x:.9g}" for x in row) for row in zip(*cols.values())]
    return "\n".join(lines) + "\n"


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
            except OutOfRange as e:
                value = default if e.nearest is None else e.nearest
                used = "the default" if e.nearest is None else e.shown
                st.warning(f"Link value {param}={qp[param]} is outside {e.allowed}; using {used}.",
                           icon=":material/link_off:")
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


class OutOfRange(ValueError):
    """A well-formed URL value outside what the widget allows; ``nearest`` is the
    closest allowed value (None: use the default)."""

    def __init__(self, allowed: str, nearest=None, shown=None):
        super().__init__(f"outside {allowed}")
        self.allowed, self.nearest = allowed, nearest
        self.shown = nearest if shown is None else shown  # the value as the link spells it


def float_in(lo: float, hi: float):
    """A parser for a float URL value that must lie in [lo, hi]."""

    def parse(text: str) -> float:
        v = float(text)
        if not lo <= v <= hi:
            raise OutOfRange(f"[{lo:g}, {hi:g}]", min(max(v, lo), hi) if v == v else None)
        return v

    return parse


def int_in(lo: int, hi: int, choices=None):
    def parse(text: str) -> int:
        v = int(text)
        if choices is not None and v not in choices:
            raise OutOfRange("{" + ", ".join(map(str, choices)) + "}")
        if not lo <= v <= hi:
            raise OutOfRange(f"{lo}-{hi}", min(max(v, lo), hi))
        return v

    return parse
