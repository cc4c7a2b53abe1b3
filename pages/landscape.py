"""Meta-loss landscape: the outer loss over the (learning rate, momentum) plane."""

import io
import time

import numpy as np
import streamlit as st

from l2l_core import figures, landscape
from l2l_core.cli import csv_text
from pages._shared import heavy_grid, problem_picker, problem_slug, show_error, timed_call, timing_caption

st.title("Meta-loss landscape: outer loss over learning rate × momentum")
st.markdown(
    "Every pixel is one complete inner training run: SGD with momentum on the 1-D problem, "
    "summarised by its outer loss (mean inner loss over the unroll). The horizontal axis is the "
    "learning rate, the vertical one `log10(1 − momentum)` (top: momentum 0.999, bottom: 0). "
    "The post's picture: smooth in places, but full of ripples, local minima and chaotic, "
    "fractal-looking regions, which is why tuning these two numbers by gradient descent is hard."
)

RESOLUTIONS = [100, 250, 500, 1000, 2000]


@st.cache_data(max_entries=16, show_spinner=False)
def grid(lr_lo: float, lr_hi: float, mom_lo: float, mom_hi: float, res: int, problem: str, x0: float,
         steps: int, reduce: str):
    t0 = time.perf_counter()
    log_lrs, log_omm = landscape.axes((lr_lo, lr_hi), (mom_lo, mom_hi), res)
    z = heavy_grid(log_lrs, log_omm, problem=problem, x0=x0, steps=steps, reduce=reduce)
    return (log_lrs, log_omm, z), time.perf_counter() - t0


with st.sidebar:
    st.header("Landscape")
    problem = problem_picker()
    res = st.select_slider("Resolution (cells per axis)", RESOLUTIONS, 500,
                           help="The post uses 2000 x 2000. Display is subsampled to at most "
                                f"{figures.MAX_DISPLAY} per axis; downloads keep full resolution.")
    c1, c2 = st.columns(2)
    lr_lo = c1.number_input("log10 lr from", value=-3.0, step=0.5, help="The post: -3 (lr = 0.001).")
    lr_hi = c2.number_input("log10 lr to", value=2.0, step=0.5, help="The post: 2 (lr = 100).")
    mom_lo = c1.number_input("log10(1-mom) from", value=-3.0, step=0.5,
                             help="The post: -3 (momentum 0.999).")
    mom_hi = c2.number_input("log10(1-mom) to", value=0.0, step=0.5, help="The post: 0 (momentum 0).")
    cap = st.number_input("Colour cap", value=10.0, min_value=0.01, step=1.0,
                          help="Outer losses above this saturate the colour scale (the post uses 10).")
    with st.expander("Inner run"):
        x0 = st.number_input("Initial x0", value=-4.0, step=0.5, help="The post starts at -4.")
        steps = st.slider("Inner steps", 1, 500, 50, help="Length of each unroll. The post uses 50.")
        reduce = st.selectbox("Outer loss", list(landscape.REDUCTIONS), index=0,
                              format_func=lambda r: f"{r}: {landscape.REDUCTIONS[r]}",
                              help="How a run's inner losses are summarised into one number.")

try:
    (log_lrs, log_omm, z), seconds, wall = timed_call(
        grid, float(lr_lo), float(lr_hi), float(mom_lo), float(mom_hi), int(res), problem, float(x0),
        int(steps), reduce)
except ValueError as e:
    show_error(e)
    st.stop()

best = landscape.best_cell(z, log_lrs, log_omm)
fig = figures.heatmap_figure(z, log_lrs, log_omm, cap=cap, best=best)
st.plotly_chart(fig, key="landscape_chart")
timing_caption(seconds, wall, what=f"{z.size:,} inner runs computed")

n_nan = int(np.isnan(z).sum())
c1, c2, c3, c4 = st.columns(4)
if best is not None:
    c1.metric("best learning rate", f"{10 ** best[0]:.5g}")
    c2.metric("best momentum", f"{1 - 10 ** best[1]:.6g}")
    c3.metric("best outer loss", f"{best[2]:.4f}")
c4.metric("diverged cells", f"{n_nan:,} ({100 * n_nan / z.size:.1f}%)",
          help=f"Runs that became non-finite, drawn in magenta ({figures.DIVERGED_COLOR}).")


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
