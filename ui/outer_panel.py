"""Landscape-page panels for outer optimization, deep zoom and shareable URLs.

Streamlit side only. Every setting of the landscape page is a
:class:`ui.state.PageState` parameter (:data:`PARAMS`): kept across page
switches, read from and written to the URL, zoom history included, so a
copied link reopens the same picture.
"""

from __future__ import annotations

import streamlit as st

from l2l_core import outer
from l2l_core.landscape import zoom
from ui import box_zoom, pixel_pick
from ui import general_view as gv
from ui import landscape_compute as lc
from ui.general_runs import POST_STARTS
from ui.shared import float_in, int_in
from ui.state import PageState, Param, choice_in, problem_param

RESOLUTIONS = [100, 250, 500, 1000, 2000]
ZOOM_KEY = "zoom_stack"


def _methods(text: str) -> list[str]:
    value = [m for m in text.split(",") if m]
    if any(m not in outer.METHODS for m in value):
        raise ValueError(text)
    return value


#: widget key -> Param (URL name, default, parser).
PARAMS = {
    "problem": problem_param(),
    "res": Param("res", 500, int_in(2, 4096, RESOLUTIONS)),
    "lr_lo": Param("lr_lo", -3.0, float_in(-30, 30)),
    "lr_hi": Param("lr_hi", 2.0, float_in(-30, 30)),
    "mom_lo": Param("mom_lo", -3.0, float_in(-30, 0.5)),
    "mom_hi": Param("mom_hi", 0.0, float_in(-30, 0.5)),
    "cap": Param("cap", 10.0, float_in(0.01, 1e12)),
    "x0": Param("x0", -4.0, float_in(-1e6, 1e6)),
    "steps": Param("steps", 50, int_in(1, 500)),
    "reduce": Param("reduce", "mean", choice_in(gv.SUMMARIES)),
    "stab_line": Param("stab", True, lambda t: {"1": True, "0": False}[t], lambda v: None if v else "0"),
    "o_methods": Param("methods", ["grad", "es"], _methods, ",".join),
    "o_starts": Param("starts", POST_STARTS),
    "o_seeds": Param("seeds", "0"),
    "o_steps": Param("osteps", 2000, int_in(1, outer.MAX_OUTER_STEPS)),
    "o_lr": Param("olr", 0.01, float_in(1e-5, 10.0)),
    "o_std": Param("std", 0.1, float_in(1e-4, 5.0)),
    "o_pairs": Param("pairs", 1, int_in(1, outer.MAX_PAIRS)),
    "o_trunc": Param("trunc", 10, int_in(1, 500)),
    ZOOM_KEY: Param("zoom", [], zoom.decode_stack, lambda s: zoom.encode_stack(s) if s else None),
    **gv.PARAMS,  # task, optimizer, axes, values off the axes, the general view's zoom
}


def page_state() -> PageState:
    return PageState("landscape", PARAMS).load()


def home_window() -> tuple[float, float, float, float]:
    s = st.session_state
    return float(s["lr_lo"]), float(s["lr_hi"]), float(s["mom_lo"]), float(s["mom_hi"])


def leave_zoom() -> None:
    """A typed range replaces the zoom: the view goes to the typed ranges."""
    if st.session_state.get(ZOOM_KEY):
        st.session_state[ZOOM_KEY] = []
        st.session_state["_zoom_left"] = True


def current_window(home):
    stack = st.session_state.get(ZOOM_KEY, [])
    return stack[-1] if stack else home


def on_box_select() -> None:
    """Chart callback: the dragged box becomes the next zoom level."""
    # The window the chart shows: the zoom level's, else the typed ranges (also when the
    # drag comes before the page finished its first run).
    window = current_window(home_window())
    try:
        if pixel_pick.on_pick("landscape_chart", window, frame=zoom.display_frame(window)):
            return  # a click on a cell (or a tiny box) opens it, it does not zoom
        new = box_zoom.boxed_window("landscape_chart", window, frame=zoom.display_frame(window))
        if new is not None:
            box_zoom.push_window(ZOOM_KEY, new)
    except ValueError as e:
        st.session_state["_zoom_error"] = str(e)


def zoom_back() -> None:
    stack = list(st.session_state.get(ZOOM_KEY, []))
    st.session_state[ZOOM_KEY] = stack[:-1]


def zoom_reset() -> None:
    st.session_state[ZOOM_KEY] = []


def zoom_controls(precision: str, window) -> None:
    stack = st.session_state.get(ZOOM_KEY, [])
    c1, c2, c3 = st.columns([1, 1, 2.4], vertical_alignment="center")
    c1.button("Zoom back", icon=":material/zoom_out:", on_click=zoom_back, disabled=not stack, key="zoom_back")
    c2.button("Reset view", icon=":material/fit_screen:", on_click=zoom_reset, disabled=not stack,
              key="zoom_reset")
    lo, hi, mlo, mhi = window
    why = ("float32 resolves every pixel here" if precision == "float32" else
           "float32 would give adjacent pixels the same learning rate or momentum here")
    c3.markdown(
        f"**Zoom level {len(stack)}** · window {hi - lo:.3g} × {mhi - mlo:.3g} (log10 units) · "
        f"**precision: {precision}**", help=f"{why.capitalize()}. Drag a box on the heatmap to zoom in."
    )
    if st.session_state.pop("_zoom_left", False):
        st.info("The typed range replaced the zoom: the view now shows the ranges in the sidebar.",
                icon=":material/fit_screen:")
    err = st.session_state.pop("_zoom_error", None)
    if err:
        st.error(err, icon="⚠️")


def outer_sidebar(ps: PageState) -> None:
    """Widgets for the outer runs (values live in the page state)."""
    with st.expander("Outer optimization", expanded=True):
        ps.widget(st.multiselect, "o_methods", "Methods", list(outer.METHODS),
                  format_func=lambda m: f"{m}: {outer.METHODS[m].title}",
                  help=" ".join(f"{m}: {v.description}" for m, v in outer.METHODS.items()))
        ps.widget(st.text_input, "o_starts", "Starts (log10 lr, log10(1-mom); ...)",
                  help="The post's two: -2,-0.5 (stops in a local minimum) and 0,-1.5 (stuck far worse).")
        ps.widget(st.text_input, "o_seeds", "Seeds", help='"0", "0,1,2" or a range "0-4": one run per seed.')
        ps.number(st, "o_steps", "Outer steps",
                  step=100, help="The post: 100 for gradient descent, a few thousand for ES.")
        c1, c2 = st.columns(2)
        ps.number(c1, "o_lr", "Outer lr", step=0.005, format="%.4f",
                  help="SGD step on the clipped (+-10) estimate; the post: 0.01.")
        ps.number(c2, "o_std", "ES/PES std", step=0.01, format="%.3f",
                  help="Perturbation scale; the post: 0.1. Also random search's step.")
        ps.number(c1, "o_pairs", "Pairs / step",
                  help="Antithetic pairs per ES/PES step; the post: 1.")
        ps.number(c2, "o_trunc", "Truncation",
                  help="PES / TBPTT truncation length; must divide the inner steps.")


def method_options(method: str) -> dict:
    return lc.method_options(method, st.session_state)
