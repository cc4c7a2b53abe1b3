"""Learning-rate sweep: the outer loss against learning rate at a fixed momentum."""

from pages._routing import through_router

through_router(__file__)

import time

import numpy as np
import streamlit as st

from l2l_core import viz
from l2l_core import landscape
from l2l_core.cli.commands import csv_text
from pages._shared import (float_in, heavy, init_from_query, int_in, plotly_chart, problem_from_query,
                           problem_picker, problem_slug, show_error, timed_call, timing_caption)

POINTS = [500, 1000, 2000, 5000, 10000, 20000]


def lr_range_from_query(text: str) -> tuple[float, float]:
    """"lo,hi" in log10 lr, within the slider's -6..3, on its 0.1 grid."""
    lo, hi = (round(float(v), 1) for v in text.split(","))
    if not -6.0 <= lo < hi <= 3.0:
        raise ValueError(text)
    return (lo, hi)


# Settings from the URL (?problem=&momentum=&lr_range=LO,HI&points=), e.g. a link from the tour.
_bad_url = init_from_query({
    "problem": ("problem", problem_from_query, "log_sin"),
    "sw_momentum": ("momentum", float_in(-1e6, 1e6), 0.9),
    "sw_range": ("lr_range", lr_range_from_query, (-3.0, 2.0)),
    "sw_points": ("points", int_in(500, 20000, POINTS), 5000),
}, tag="lr_sweep")

st.title("Learning-rate sweep: how training quality depends on the step size")
st.markdown(
    "Each point is a whole 50-step inner training run, summarised by its *outer loss* "
    "(by default the mean inner loss over the run, as in the post). "
    "Sweeping the learning rate over five decades at momentum 0.9 shows the post's surprise: "
    "a fully deterministic problem whose outer loss looks noisy, because tiny changes in the "
    "learning rate compound over the unroll into very different endings."
)


@st.cache_data(max_entries=32, show_spinner=False)
def sweep(lo: float, hi: float, points: int, momentum: float, problem: str, x0: float, steps: int,
          reduce: str):
    t0 = time.perf_counter()
    log_lrs = np.linspace(lo, hi, points)
    loss = heavy(landscape.lr_sweep, log_lrs, momentum, problem=problem, x0=x0, steps=steps,
                 reduce=reduce)
    return (log_lrs, loss), time.perf_counter() - t0


with st.sidebar:
    st.header("Sweep")
    problem = problem_picker()
    momentum = st.number_input("Momentum", key="sw_momentum", step=0.01, format="%.5f",
                               help="Held fixed across the sweep. The post uses 0.9.")
    lo, hi = st.slider("log10 learning-rate range", -6.0, 3.0, step=0.1, key="sw_range",
                       help="The post sweeps lr from 1e-3 to 1e2.")
    points = st.select_slider("Points", POINTS, key="sw_points",
                              help="Learning rates in the sweep, log-spaced. The post uses 5000.")
    with st.expander("Inner run"):
        x0 = st.number_input("Initial x0", value=-4.0, step=0.5, help="The post starts at -4.")
        steps = st.slider("Inner steps", 1, 500, 50, help="Length of each unroll. The post uses 50.")
        reduce = st.selectbox("Outer loss", list(landscape.REDUCTIONS), index=0,
                              format_func=lambda r: f"{r}: {landscape.REDUCTIONS[r]}",
                              help="How a run's inner losses are summarised into one number.")
    cap_on = st.checkbox("Cap the y axis", value=True, help="The post shows y up to 5.")
    y_cap = st.number_input("y cap", value=5.0, step=0.5, disabled=not cap_on,
                            help="Upper end of the y axis; higher outer losses run off the top.")

if _bad_url:
    st.warning(f"Ignored malformed link parameter(s): {', '.join(_bad_url)} (defaults used instead).")
try:
    (log_lrs, loss), seconds, wall = timed_call(
        sweep, float(lo), float(hi), int(points), float(momentum), problem, float(x0), int(steps), reduce)
except ValueError as e:
    show_error(e)
    st.stop()

fig = viz.lr_sweep_figure(log_lrs, loss, momentum, y_cap=y_cap if cap_on else None, reduce_label=reduce)
plotly_chart(fig, key="sweep_chart", filename=f"lr_sweep_{problem_slug(problem)}_mom{momentum:g}_{points}")
timing_caption(seconds, wall, what=f"{points:,} inner runs computed")

finite = np.isfinite(loss)
c1, c2, c3 = st.columns(3)
if finite.any():
    i = int(np.nanargmin(loss))
    c1.metric("best learning rate", f"{10 ** log_lrs[i]:.5g}")
    c2.metric("best outer loss", f"{loss[i]:.4f}")
c3.metric("diverged runs", f"{int((~finite).sum()):,}")

st.download_button("Download the sweep (CSV)", lambda: csv_text({"log10_lr": log_lrs, "lr": 10 ** log_lrs,
                                                                  "outer_loss": loss}),
                   file_name=f"lr_sweep_{problem_slug(problem)}_mom{momentum:g}_{points}.csv", mime="text/csv",
                   help="One row per learning rate; NaN marks a diverged run.")
