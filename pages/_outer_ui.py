"""Landscape-page panels for outer optimization, deep zoom and shareable URLs.

Streamlit side only. Every setting lives in ``st.session_state`` under the
keys of :data:`URL_KEYS`, seeded once per session from ``st.query_params``
and written back after each run, so a copied link reopens the same picture.
"""

from __future__ import annotations

import streamlit as st

from l2l_core import outer
from l2l_core.landscape import zoom
from l2l_core.inner.problems import PROBLEMS

#: session-state key -> (URL parameter, type, default).
URL_KEYS = {
    "problem": ("problem", str, "log_sin"),
    "res": ("res", int, 500),
    "lr_lo": ("lr_lo", float, -3.0),
    "lr_hi": ("lr_hi", float, 2.0),
    "mom_lo": ("mom_lo", float, -3.0),
    "mom_hi": ("mom_hi", float, 0.0),
    "cap": ("cap", float, 10.0),
    "x0": ("x0", float, -4.0),
    "steps": ("steps", int, 50),
    "reduce": ("reduce", str, "mean"),
    "o_methods": ("methods", list, ["grad", "es"]),
    "o_starts": ("starts", str, "-2,-0.5; 0,-1.5"),
    "o_seeds": ("seeds", str, "0"),
    "o_steps": ("osteps", int, 2000),
    "o_lr": ("olr", float, 0.01),
    "o_std": ("std", float, 0.1),
    "o_pairs": ("pairs", int, 1),
    "o_trunc": ("trunc", int, 10),
}
#: Numeric URL values outside these (the widgets' own limits) are clamped, with a warning.
URL_BOUNDS = {"steps": (1, 500), "o_steps": (1, outer.MAX_OUTER_STEPS), "o_lr": (1e-5, 10.0), "o_std": (1e-4, 5.0),
              "o_pairs": (1, outer.MAX_PAIRS), "o_trunc": (1, 500)}
ZOOM_KEY = "zoom_stack"
CUSTOM = "custom formula"


def init_from_url() -> None:
    """Seeds session state from the URL once per session (defaults otherwise)."""
    if st.session_state.get("_url_loaded"):
        return
    st.session_state["_url_loaded"] = True
    qp = st.query_params
    bad = []
    for key, (param, typ, default) in URL_KEYS.items():
        value = default
        if param in qp:
            raw = qp[param]
            try:
                if typ is list:
                    value = [m for m in raw.split(",") if m]
                    if any(m not in outer.METHODS for m in value):
                        raise ValueError
                else:
                    value = typ(raw)
                    lo, hi = URL_BOUNDS.get(key, (value, value))
                    if not lo <= value <= hi:  # NaN included: then the default
                        used = min(max(value, lo), hi) if value == value else default
                        st.session_state.setdefault("_url_notes", []).append(
                            f"Link value {param}={raw} is outside {lo:g}-{hi:g}; using {used:g}.")
                        value = used
            except ValueError:
                bad.append(param)
                value = default
        if key == "problem" and value not in PROBLEMS:
            st.session_state["problem_formula"] = value
            value = CUSTOM
        st.session_state.setdefault(key, value)
    try:
        st.session_state[ZOOM_KEY] = zoom.decode_stack(qp.get("zoom", ""))
    except ValueError:
        bad.append("zoom")
        st.session_state[ZOOM_KEY] = []
    if bad:
        st.session_state["_url_bad"] = bad


def url_warnings() -> None:
    for note in st.session_state.pop("_url_notes", []):
        st.warning(note, icon=":material/link_off:")
    bad = st.session_state.pop("_url_bad", None)
    if bad:
        st.warning(f"Ignored malformed link parameter(s): {', '.join(bad)} (defaults used instead).")


def write_url(problem: str) -> None:
    """Puts every setting (and the zoom history) into the address bar."""
    params = {}
    for key, (param, typ, _) in URL_KEYS.items():
        v = st.session_state.get(key)
        if key == "problem":
            v = problem
        if v is None:
            continue
        params[param] = ",".join(v) if typ is list else (repr(v) if typ is float else str(v))
    stack = st.session_state.get(ZOOM_KEY, [])
    if stack:
        params["zoom"] = zoom.encode_stack(stack)
    if dict(st.query_params) != params:
        st.query_params.from_dict(params)


def current_window(home):
    stack = st.session_state.get(ZOOM_KEY, [])
    return stack[-1] if stack else home


def on_box_select() -> None:
    """Chart callback: the dragged box becomes the next zoom level."""
    event = st.session_state.get("landscape_chart")
    boxes = (event or {}).get("selection", {}).get("box", []) if event else []
    if not boxes:
        return
    box = boxes[-1]
    window = st.session_state.get("_window")
    cx, sx, cy, sy = st.session_state.get("_frame", (0.0, 1.0, 0.0, 1.0))
    try:
        xs = [cx + sx * float(v) for v in box["x"]]
        ys = [cy + sy * float(v) for v in box["y"]]
        new = zoom.sub_window(window, xs, ys)
        stack = list(st.session_state.get(ZOOM_KEY, []))
        if len(stack) >= zoom.MAX_DEPTH:
            raise ValueError(f"zoom history is limited to {zoom.MAX_DEPTH} levels; reset first")
        stack.append(new)
        st.session_state[ZOOM_KEY] = stack
    except (ValueError, KeyError, TypeError) as e:
        st.session_state["_zoom_error"] = str(e)


def zoom_back() -> None:
    stack = list(st.session_state.get(ZOOM_KEY, []))
    st.session_state[ZOOM_KEY] = stack[:-1]


def zoom_reset() -> None:
    st.session_state[ZOOM_KEY] = []


def zoom_controls(precision: str, window) -> None:
    stack = st.session_state.get(ZOOM_KEY, [])
    c1, c2, c3 = st.columns([1, 1, 4])
    c1.button("Zoom back", icon=":material/zoom_out:", on_click=zoom_back, disabled=not stack, key="zoom_back")
    c2.button("Reset view", icon=":material/fit_screen:", on_click=zoom_reset, disabled=not stack,
              key="zoom_reset")
    lo, hi, mlo, mhi = window
    why = ("float32 resolves every pixel here" if precision == "float32" else
           "float32 would give adjacent pixels the same learning rate or momentum here")
    c3.markdown(
        f"**Zoom level {len(stack)}** · window {hi - lo:.3g} × {mhi - mlo:.3g} (log10 units) · "
        f"**precision: {precision}** ({why}). Drag a box on the heatmap to zoom in."
    )
    err = st.session_state.pop("_zoom_error", None)
    if err:
        st.error(err, icon="⚠️")


def outer_sidebar() -> None:
    """Widgets for the outer runs (values live in session state)."""
    with st.expander("Outer optimization", expanded=True):
        st.multiselect("Methods", list(outer.METHODS), key="o_methods",
                       format_func=lambda m: f"{m}: {outer.METHODS[m].title}",
                       help=" ".join(f"{m}: {v.description}" for m, v in outer.METHODS.items()))
        st.text_input("Starts (log10 lr, log10(1-mom); ...)", key="o_starts",
                      help="The post's two: -2,-0.5 (stops in a local minimum) and 0,-1.5 (stuck far worse).")
        st.text_input("Seeds", key="o_seeds", help='"0", "0,1,2" or a range "0-4": one run per seed.')
        st.number_input("Outer steps", min_value=1, max_value=outer.MAX_OUTER_STEPS, step=100, key="o_steps",
                        help="The post: 100 for gradient descent, a few thousand for ES.")
        c1, c2 = st.columns(2)
        c1.number_input("Outer lr", min_value=1e-5, max_value=10.0, step=0.005, format="%.4f", key="o_lr",
                        help="SGD step on the clipped (+-10) estimate; the post: 0.01.")
        c2.number_input("ES/PES std", min_value=1e-4, max_value=5.0, step=0.01, format="%.3f", key="o_std",
                        help="Perturbation scale; the post: 0.1. Also random search's step.")
        c1.number_input("Pairs / step", min_value=1, max_value=outer.MAX_PAIRS, step=1, key="o_pairs",
                        help="Antithetic pairs per ES/PES step; the post: 1.")
        c2.number_input("Truncation", min_value=1, max_value=500, step=1, key="o_trunc",
                        help="PES / TBPTT truncation length; must divide the inner steps.")


def method_options(method: str) -> dict:
    takes = outer.METHODS[method].defaults
    opts = dict(lr=float(st.session_state["o_lr"]), std=float(st.session_state["o_std"]),
                pairs=int(st.session_state["o_pairs"]), truncation_length=int(st.session_state["o_trunc"]))
    return {k: v for k, v in opts.items() if k in takes}
