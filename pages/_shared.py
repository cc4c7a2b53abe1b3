"""Small helpers shared by the pages (streamlit side only; the maths lives in l2l_core)."""

from __future__ import annotations

import time

import streamlit as st

from l2l_core.problems import PROBLEMS


def problem_picker(key: str = "problem", default: str = "log_sin") -> str:
    """Selectbox over the registry of inner problems; returns the registry name."""
    names = list(PROBLEMS)
    name = st.selectbox(
        "Inner loss",
        names,
        index=names.index(default),
        format_func=lambda n: PROBLEMS[n].title,
        key=key,
        help="The 1-D function that SGD with momentum trains. " + " ".join(
            f"{p.title}: {p.description}" for p in PROBLEMS.values()
        ),
    )
    st.caption(PROBLEMS[name].description)
    return name


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
    st.error(f"{err}", icon="⚠️")
