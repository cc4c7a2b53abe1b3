"""The trainability page's settings, widgets and drawing: its URL parameters and zoom path, the
sidebar read into a plain dict of settings, the box-zoom callback, the view computed (preview
first) from :func:`ui.fractal_compute.compute`, the image with its theory line, the edge's fractal
dimension and the download.
"""

from __future__ import annotations

import json
import time

import numpy as np
import streamlit as st

from l2l_core.landscape import fractal
from l2l_core.landscape.dimension import box_counting_dimension
from l2l_core.landscape.summaries import SUMMARIES as SUMMARY_REGISTRY
from l2l_core.landscape.summaries import summaries_help
from l2l_core.tasks.fractal_networks import SPECS
from l2l_core.viz.fractal import axis_frame, box_count_figure, fractal_figure
from ui import box_zoom, pixel_pick
from ui import stability_view as sv
from ui.fractal_compute import DEFAULTS, PREVIEW_RES, compute
from ui.shared import chart_config, int_in, npz_bytes, plotly_chart
from ui.state import PageState, Param, choice_in

WIDTHS = [2, 4, 8, 16, 32]
RESOLUTIONS = [64, 128, 256, 512]
#: Rows of the stability line (each a bisection on the start's dense Hessian).
LINE_ROWS = 16
ZOOM_KEY, DONE_KEY = "fr_zoom", "fr_done"


def _zoom_path(text: str) -> list:
    """The URL's zoom path "lo,hi,ylo,yhi;..." -> windows (at most 64), each checked."""
    return [list(fractal.check_window(w.split(","))) for w in text.split(";") if w][:64]


def _zoom_text(stack) -> str | None:
    return ";".join(",".join(repr(float(v)) for v in w) for w in stack) if stack else None


def page_state() -> PageState:
    """Settings: ?task=&width=&steps=&res=&summary=&seed=&precision=&fzoom= , kept across page switches."""
    return PageState("fractal", {
        "fr_task": Param("task", DEFAULTS["task"], choice_in(SPECS)),
        "fr_width": Param("width", DEFAULTS["width"], int_in(2, 32, WIDTHS)),
        "fr_steps": Param("steps", DEFAULTS["steps"], int_in(10, 1000)),
        "fr_res": Param("res", DEFAULTS["res"], int_in(64, 512, RESOLUTIONS)),
        "fr_summary": Param("summary", "converge", choice_in(fractal.SUMMARIES)),
        "fr_precision": Param("precision", DEFAULTS["precision"], choice_in(["auto", "float64"])),
        "fr_seed": Param("seed", DEFAULTS["seed"], int_in(0, 10_000)),
        sv.KEY: Param("stab", True, lambda t: {"1": True, "0": False}[t], lambda v: None if v else "0"),
        ZOOM_KEY: Param("fzoom", [], _zoom_path, _zoom_text),
    }).load()


def sidebar(ps: PageState) -> dict:
    """The sidebar's settings -> plain values (task_name, width, steps, res, summary, precision, seed)."""
    w = ps.widget
    with st.sidebar, ps:
        st.header("Trainability fractal")
        task_name = w(st.selectbox, "fr_task", "Network and data", list(SPECS), format_func=lambda n: SPECS[n].title,
                      help=" ".join(f"{s.title}: {s.description}." for s in SPECS.values()))
        st.caption(SPECS[task_name].description)
        width = w(st.select_slider, "fr_width", "Hidden width", WIDTHS,
                  help="The paper: 16. Data size follows the variant (272 points at width 16).")
        steps = w(st.slider, "fr_steps", "Training steps", 10, 1000, help="Gradient-descent steps per pixel "
                  "(the paper's interactive setting: 100; its figures: 500-1000).")
        res = w(st.select_slider, "fr_res", "Resolution (pixels per axis)", RESOLUTIONS,
                help="A 32² preview is drawn first; downloads keep full resolution.")
        summary = w(st.selectbox, "fr_summary", "Pixel value", list(fractal.SUMMARIES),
                    format_func=lambda s: SUMMARY_REGISTRY[s].label,
                    help=summaries_help(fractal.SUMMARIES, "What each pixel's colour shows."))
        precision = w(st.radio, "fr_precision", "Precision", ["auto", "float64"], horizontal=True,
                      help="auto: float32 while it tells adjacent pixels apart, float64 deeper (about 2-3x "
                           "slower). float64 everywhere is the paper's choice.")
        seed = ps.number(st, "fr_seed", "Seed (data and initial weights)")
        sv.toggle(ps)
        ps.link_panel()
    return dict(task_name=task_name, width=width, steps=steps, res=res, summary=summary, precision=precision,
                seed=seed)


def zoom_depth_text(stack, window, top, names) -> str:
    """The view's size in its axes' own units and how far below the top view it is (by width)."""
    units = "log10 units" if all(n.startswith("log10") for n in names) else f"units of {names[0]} x {names[1]}"
    size = f"{(window[1] - window[0]):.3g} x {(window[3] - window[2]):.3g} ({units})"
    if not stack:
        return f"Zoom depth 0: the top view, {size}."
    decades = np.log10((top[1] - top[0]) / (window[1] - window[0]))
    return f"Zoom depth {len(stack)}: the view is {size}, {decades:.1f} decades narrower than the top view."


def on_box_select() -> None:
    frame = st.session_state.get("_fr_frame")
    if frame is None:
        return
    window, display = frame
    try:
        if pixel_pick.on_pick("fr_chart", window, frame=display):
            return  # a click on a cell (or a tiny box) shows that run, it does not zoom
        new = box_zoom.boxed_window("fr_chart", window, frame=display, check=fractal.check_window)
        if new is not None:
            st.session_state[ZOOM_KEY] = (list(st.session_state[ZOOM_KEY]) + [list(new)])[-64:]
    except ValueError as e:
        st.session_state["_fr_zoom_error"] = f"zoom not applied: {e}"


def fractal_cell(cfg, names, xs, ys, z, i, j) -> dict:
    """Row i, column j of the view: its two axis values, its pixel value and the link that opens its run
    (the full-batch lr networks at width 16; the others say why not)."""
    v = float(z[i, j])
    label = dict(label=f"{names[0]} = {float(xs[j]):.12g}, {names[1]} = {float(ys[i]):.12g}",
                 value=f"{SUMMARY_REGISTRY[cfg['summary']].label} {v:.6g}" if np.isfinite(v) else "not finite")
    return dict(label, **pixel_pick.fractal_cell_args(cfg["task_name"], int(cfg["width"]), int(cfg["steps"]),
                                                      int(cfg["seed"]), float(xs[j]), float(ys[i])))


def compute_view(cfg, task, key, placeholder):
    """The view at full resolution, its 32² preview drawn first in ``placeholder`` when this view was
    not computed before in this session: ((xs, ys, summaries, precision), seconds, wall seconds).
    Raises ValueError as :func:`compute` does."""
    task_name, res, summary = cfg["task_name"], cfg["res"], cfg["summary"]
    if str(key) not in st.session_state[DONE_KEY] and res > 64:
        (xs, ys, zs, prec), secs = compute(*key[:5], PREVIEW_RES, cfg["precision"])
        placeholder.plotly_chart(fractal_figure(zs[summary], xs, ys, summary=summary,
                                                axis_names=fractal.AXIS_NAMES[task.spec.phase_space],
                                                title=f"{PREVIEW_RES}² preview in {secs:.2f} s; {res}² on its way"),
                                 key="fr_preview", config=chart_config(f"trainability_{task_name}_preview"))
    t0 = time.perf_counter()
    out, seconds = compute(*key)
    wall = time.perf_counter() - t0
    st.session_state[DONE_KEY] = (st.session_state[DONE_KEY] + [str(key)])[-64:]
    return out, seconds, wall


def image_view(cfg, task, window, stack, view, placeholder) -> str:
    """The image in ``placeholder`` (box-select zooms, a click picks a cell) with the theory line where
    it applies; returns the line's caption ("" when none)."""
    task_name, width, res, summary = cfg["task_name"], cfg["width"], cfg["res"], cfg["summary"]
    xs, ys, zs, prec = view
    z = zs[summary]
    names = fractal.AXIS_NAMES[task.spec.phase_space]
    fig = fractal_figure(z, xs, ys, summary=summary, axis_names=names,
                         title=f"{SPECS[task_name].title}, width {width}, {cfg['steps']} steps, {prec}")
    st.session_state["_fr_frame"] = (window, (*axis_frame(xs[0], xs[-1]), *axis_frame(ys[0], ys[-1])))
    line_caption = ""
    if task.spec.phase_space == "lr" and pixel_pick.fractal_cell_args(task_name, int(width), 1, 0, 0.0,
                                                                      0.0)["query_args"]:
        # the theory line on LINE_ROWS rows (one bisection each on the start's 272 x 272 Hessian)
        line_caption = sv.draw(fig, task_name, "sgd", "lr_in", "lr_out", (float(xs[0]), float(xs[-1])),
                               np.linspace(float(ys[0]), float(ys[-1]), min(LINE_ROWS, len(ys))),
                               fixed=(("momentum", 0.0),), seed=int(cfg["seed"]),
                               frame=st.session_state["_fr_frame"][1], hover_x=names[0], hover_y=names[1])
    with placeholder.container():
        plotly_chart(fig, key="fr_chart", filename=f"trainability_{task_name}_w{width}_{res}x{res}_depth{len(stack)}",
                     on_select=on_box_select, selection_mode=("points", "box"))
        pixel_pick.resolve_pending("fr_chart", window, xs, ys, lambda i, j: fractal_cell(cfg, names, xs, ys, z, i, j))
        pixel_pick.panel("fr_chart")
    return line_caption


def dimension_view(cfg, sign) -> None:
    """The edge's box-counting dimension, measured on this view, against the paper's."""
    task_name, res = cfg["task_name"], cfg["res"]
    st.subheader("Fractal dimension of the edge")
    st.markdown("Edge pixels: each 2x2 block that holds both a trained and a diverged run. Covering them with boxes "
                "of side s, a set of dimension D needs N(s) ~ s^-D boxes: D is minus the slope below (1 for a smooth "
                "curve, 2 for an edge that fills the plane). The paper's values (its Table 1, at 4096² deep in the "
                "zoom) are for comparison; ours are measured on this view at this resolution.")
    try:
        fit = box_counting_dimension(sign)
        left, right = st.columns([2, 1])
        with left:
            plotly_chart(box_count_figure(fit.sizes, fit.counts, fit.dimension, fit.intercept,
                                          SPECS[task_name].paper_dimension),
                         key="fr_fit", filename=f"box_count_{task_name}_{res}x{res}")
        right.metric("dimension D", f"{fit.dimension:.3f}", help=f"fit residual {fit.residual:.3f} (natural log)")
        right.metric("paper (Table 1)", f"{SPECS[task_name].paper_dimension:.2f}")
        right.metric("edge pixels", f"{fit.boundary_pixels:,}")
    except ValueError as e:
        st.info(f"{e}", icon=":material/info:")


def download_view(cfg, task, window, stack, view) -> None:
    """The view's NPZ: every summary, the axes, its settings and the task's arrays."""
    task_name, width, res, summary = cfg["task_name"], cfg["width"], cfg["res"], cfg["summary"]
    xs, ys, zs, prec = view
    meta = dict(task=task_name, width=int(width), seed=int(cfg["seed"]), steps=int(cfg["steps"]),
                window=list(window), precision=prec, axes=list(fractal.AXIS_NAMES[task.spec.phase_space]),
                zoom=[list(w) for w in stack])
    st.download_button("Download this view (NPZ)", lambda: npz_bytes(
        loss=zs[summary], x_values=xs, y_values=ys, meta=np.asarray(json.dumps(dict(meta, reduce=summary))),
        **{f"summary_{k}": v for k, v in zs.items()}, **task.task_arrays()),
        file_name=f"trainability_{task_name}_w{width}_{res}x{res}.npz", mime="application/octet-stream",
        help="loss (the pixel value shown), every summary, the axes, meta (JSON) and the task's arrays "
             "(task_inputs, task_targets, task_init_0, task_init_1), so any pixel can be re-trained.")


def how_to_read() -> None:
    with st.expander("How to read it"):
        st.markdown(
            "- **Axes**: log10 of the hidden layer's learning rate (lr_in) and of the output layer's (lr_out); for "
            "the offset variant, an offset added to every initial hidden weight against one shared learning rate.\n"
            "- **Value** (the paper's convergence measure): losses divided by the first; trained if the last 20 "
            "average below 1. Trained pixels show -sum of those ratios, diverged ones sum of their inverses.\n"
            "- **Precision**: deep in, adjacent pixels' learning rates stop being distinct in float32; the view "
            "switches to float64, and past float64's limit (about 13 decades down at 512²) it says so.\n"
            "- Same task, same numbers: `python -m l2l_core fractal --task fractal_tanh --res 256` writes them.")
