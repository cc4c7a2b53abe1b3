"""Meta-loss landscape: the outer loss over the (learning rate, momentum) plane."""

from pages._routing import through_router

through_router(__file__)

import io
import time

import numpy as np
import streamlit as st

from l2l_core import viz
from l2l_core import landscape
from l2l_core import outer
from l2l_core.landscape import zoom
from l2l_core.cli.commands import csv_text
from pages import _outer_ui as oui
from pages._shared import (chart_config, columns_csv, heavy, heavy_grid, npz_bytes as _npz, problem_picker,
                           problem_slug, show_error, timed_call,
                           timing_caption)

RESOLUTIONS = [100, 250, 500, 1000, 2000]

oui.init_from_url()
if st.session_state["res"] not in RESOLUTIONS:
    st.session_state["res"] = 500
if st.session_state["reduce"] not in landscape.REDUCTIONS:
    st.session_state["reduce"] = "mean"
st.session_state["steps"] = min(max(int(st.session_state["steps"]), 1), 500)

st.title("Meta-loss landscape: outer loss over learning rate × momentum")
st.markdown(
    "Every pixel is one complete inner training run: SGD with momentum on the 1-D problem, "
    "summarised by its outer loss (mean inner loss over the unroll). The horizontal axis is the "
    "learning rate, the vertical one `log10(1 − momentum)` (top: momentum 0.999, bottom: 0). "
    "The post's picture: smooth in places, but full of ripples, local minima and chaotic, "
    "fractal-looking regions, which is why tuning these two numbers by gradient descent is hard."
)



@st.cache_data(max_entries=12, show_spinner=False)  # a 2000² grid is 16 MB
def grid(lr_lo: float, lr_hi: float, mom_lo: float, mom_hi: float, res: int, problem: str, x0: float,
         steps: int, reduce: str):
    t0 = time.perf_counter()
    # float64 only where float32 runs out of digits (deep zoom); see l2l_core/zoom.py.
    log_lrs, log_omm, z, precision = zoom.zoom_grid((lr_lo, lr_hi, mom_lo, mom_hi), res, grid_fn=heavy_grid,
                                                    problem=problem, x0=x0, steps=steps, reduce=reduce)
    return (log_lrs, log_omm, z, precision), time.perf_counter() - t0


@st.cache_data(max_entries=64, show_spinner=False)
def outer_run(method: str, start: tuple, seed: int, steps: int, options: tuple, problem: str, x0: float,
              inner_steps: int, reduce: str):
    run = heavy(outer.run_outer_full, method, start, steps, seed=seed, problem=problem, x0=x0,
                inner_steps=inner_steps, reduce=reduce, **dict(options))
    return run


with st.sidebar:
    st.header("Landscape")
    problem = problem_picker()
    res = st.select_slider("Resolution (cells per axis)", RESOLUTIONS, key="res",
                           help="The post uses 2000 x 2000. Display is subsampled to at most "
                                f"{viz.MAX_DISPLAY} per axis; downloads keep full resolution.")
    c1, c2 = st.columns(2)
    lr_lo = c1.number_input("log10 lr from", step=0.5, key="lr_lo", help="The post: -3 (lr = 0.001).")
    lr_hi = c2.number_input("log10 lr to", step=0.5, key="lr_hi", help="The post: 2 (lr = 100).")
    mom_lo = c1.number_input("log10(1-mom) from", step=0.5, key="mom_lo",
                             help="The post: -3 (momentum 0.999).")
    mom_hi = c2.number_input("log10(1-mom) to", step=0.5, key="mom_hi", help="The post: 0 (momentum 0).")
    cap = st.number_input("Colour cap", min_value=0.01, step=1.0, key="cap",
                          help="Outer losses above this saturate the colour scale (the post uses 10).")
    with st.expander("Inner run"):
        x0 = st.number_input("Initial x0", step=0.5, key="x0", help="The post starts at -4.")
        steps = st.slider("Inner steps", 1, 500, key="steps", help="Length of each unroll. The post uses 50.")
        reduce = st.selectbox("Outer loss", list(landscape.REDUCTIONS), key="reduce",
                              format_func=lambda r: f"{r}: {landscape.REDUCTIONS[r]}",
                              help="How a run's inner losses are summarised into one number.")

    oui.outer_sidebar()

oui.url_warnings()
oui.write_url(problem)
window = oui.current_window((float(lr_lo), float(lr_hi), float(mom_lo), float(mom_hi)))
try:
    (log_lrs, log_omm, z, precision), seconds, wall = timed_call(
        grid, *map(float, window), int(res), problem, float(x0), int(steps), reduce)
    frame = zoom.display_frame(window)
except ValueError as e:
    show_error(e)
    if st.session_state.get(oui.ZOOM_KEY):
        st.button("Zoom back", on_click=oui.zoom_back, key="zoom_back_err")
    st.stop()

# Outer runs: every (method, start, seed); errors are shown, the heatmap still draws.
runs = []
try:
    starts = outer.parse_points(st.session_state["o_starts"])
    seeds = outer.parse_seeds(st.session_state["o_seeds"])
    for method in st.session_state["o_methods"]:
        opts = tuple(sorted(oui.method_options(method).items()))
        for start in starts:
            for seed in (seeds if method not in ("grad", "tbptt") else seeds[:1]):
                r = outer_run(method, start, seed, int(st.session_state["o_steps"]), opts, problem, float(x0),
                              int(steps), reduce)
                runs.append(dict(method=method, method_title=outer.METHODS[method].title, start=start, seed=seed,
                                 label=f"{method} from ({start[0]:g}, {start[1]:g}) seed {seed}",
                                 trajectory=r.trajectory, losses=r.losses, end_loss=r.final_loss))
except ValueError as e:
    show_error(e)

st.session_state["_window"], st.session_state["_frame"] = window, frame
best = landscape.best_cell(z, log_lrs, log_omm)
oui.zoom_controls(precision, window)
left, right = st.columns([3, 2])
with left:
    fig = viz.landscape_outer_figure(z, log_lrs, log_omm, cap=cap, frame=frame, runs=runs, best=best,
                                               max_display=viz.MAX_DISPLAY)
    st.plotly_chart(fig, key="landscape_chart", on_select=oui.on_box_select, selection_mode="box",
                    config=chart_config(f"meta_loss_{problem_slug(problem)}_{res}x{res}"))
    timing_caption(seconds, wall, what=f"{z.size:,} inner runs computed in {precision}")
with right:
    if runs:
        st.plotly_chart(viz.outer_loss_curves_figure(runs, cap=cap), key="outer_curves",
                        config=chart_config(f"outer_loss_curves_{problem_slug(problem)}"))
        st.download_button("Download the runs (NPZ)", lambda: _npz(**{
            f"{r['method']}_{i}_{k}": r[k] for i, r in enumerate(runs) for k in ("trajectory", "losses")}),
            file_name=f"outer_runs_{problem_slug(problem)}.npz", mime="application/octet-stream",
            help="Each run's trajectory (log10 lr, log10(1-mom)) and outer losses, in the order of the legend.")

n_nan = int(np.isnan(z).sum())
c1, c2, c3, c4 = st.columns(4)
if best is not None:
    c1.metric("best learning rate", f"{10 ** best[0]:.5g}")
    c2.metric("best momentum", f"{1 - 10 ** best[1]:.6g}")
    c3.metric("best outer loss", f"{best[2]:.4f}")
c4.metric("diverged cells", f"{n_nan:,} ({100 * n_nan / z.size:.1f}%)",
          help=f"Runs that became non-finite, drawn in magenta ({viz.DIVERGED_COLOR}).")


def npz_bytes() -> bytes:
    buf = io.BytesIO()
    np.savez_compressed(buf, loss=z, log_lrs=log_lrs, log_one_minus_moms=log_omm)
    return buf.getvalue()


name = f"meta_loss_{problem_slug(problem)}_{res}x{res}"
d1, d2 = st.columns(2)
d1.download_button("Download full grid (NPZ)", npz_bytes, file_name=name + ".npz",
                   mime="application/octet-stream",
                   help="Arrays loss (rows: momentum, columns: lr), log_lrs, log_one_minus_moms.")
d2.download_button("Download full grid (CSV)",
                   lambda: csv_text({"loss": z, "log_lrs": log_lrs, "log_one_minus_moms": log_omm}),
                   file_name=name + ".csv", mime="text/csv",
                   help="First row: log10 lr; first column: log10(1 - momentum); NaN = diverged.")

if runs:
    st.subheader("Where each run ended")
    rows = [dict(run=r["label"], **{"end log10 lr": float(r["trajectory"][-1][0]),
                                    "end log10(1-mom)": float(r["trajectory"][-1][1]),
                                    "end outer loss": r["end_loss"],
                                    "better than % of this view": outer.landscape_percentile(r["end_loss"], z)})
            for r in runs]
    st.dataframe(rows, hide_index=True)
    st.subheader("Local shifts: why gradient descent stopped there")
    st.caption("The post's plot: the outer loss along ±0.05 in log10 lr and in log10(1 − momentum) around a "
               "run's end point. Ripples this sharp trap clipped gradient descent; ES sees them smoothed.")
    labels = [r["label"] for r in runs]
    pick = st.radio("End point of", labels, key="o_shift", horizontal=True)
    r = runs[labels.index(pick)] if pick in labels else runs[0]
    try:
        curves = outer.local_shift(r["trajectory"][-1], problem=problem, x0=float(x0), inner_steps=int(steps),
                                   reduce=reduce)
        st.plotly_chart(viz.local_shift_figure(curves, title=f"local shifts around the end of {pick}"),
                        key="local_shift", config=chart_config(f"local_shift_{r['method']}_{r['start'][0]:g}_{r['start'][1]:g}"))
        st.download_button("Download the local shifts (CSV)", columns_csv(**curves),
                           file_name=f"local_shift_{r['method']}_{r['start'][0]:g}_{r['start'][1]:g}.csv",
                           mime="text/csv")
    except ValueError as e:
        show_error(e)
