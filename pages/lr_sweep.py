"""Learning-rate sweep: the outer loss against learning rate at a fixed momentum; or the learning rate of
any task and optimizer of the shared selection, every other hyperparameter held."""

from ui.adapter import through_router

through_router(__file__)

import time

import numpy as np
import streamlit as st

from l2l_core import landscape, viz
from l2l_core.inner.diverge import divergence_cause
from l2l_core.io.files import csv_text
from l2l_core.landscape import paths
from l2l_core.landscape.general import SUMMARIES, summaries_for
from l2l_core.landscape.summaries import summaries_help
from l2l_core.tasks.general import TASKS, resolve_task
from ui import landscape_compute as lc
from ui import pickers as sui
from ui.shared import (
    float_in,
    heavy,
    int_in,
    need_problem,
    plotly_chart,
    problem_picker,
    problem_slug,
    show_error,
    timed_call,
    timing_caption,
)
from ui.state import PageState, Param, choice_in, problem_param, selection_params

POINTS = [500, 1000, 2000, 5000, 10000, 20000]


def lr_range_from_query(text: str) -> tuple[float, float]:
    """"lo,hi" in log10 lr, within the slider's -6..3, on its 0.1 grid."""
    lo, hi = (round(float(v), 1) for v in text.split(","))
    if not -6.0 <= lo <= hi <= 3.0:  # an empty range (lo = hi) is the page's to explain
        raise ValueError(text)
    return (lo, hi)


# Settings: ?problem=&momentum=&lr_range=LO,HI&points=&x0=&steps=&reduce=&cap=, kept across page switches.
ps = PageState("lr_sweep", {
    "sw_problem": problem_param(),
    "sw_momentum": Param("momentum", 0.9, float_in(-1e6, 1e6)),
    "sw_range": Param("lr_range", (-3.0, 2.0), lr_range_from_query, lambda r: f"{r[0]:g},{r[1]:g}"),
    "sw_points": Param("points", 5000, int_in(500, 20000, POINTS)),
    "sw_x0": Param("x0", -4.0, float_in(-1e6, 1e6)),
    "sw_steps": Param("steps", 50, int_in(1, 500)),
    "sw_reduce": Param("reduce", "mean", choice_in(SUMMARIES)),
    "sw_cap_on": Param("cap_on", True, lambda t: {"1": True, "0": False}[t], lambda v: str(int(bool(v)))),
    "sw_cap": Param("cap", 5.0, float_in(1e-6, 1e12)),
    **selection_params("sw_"),
}).load()
ps.apply_view()


@st.cache_data(max_entries=32, show_spinner=False)
def general_sweep(lo: float, hi: float, points: int, task: str, optimizer: str, fixed: tuple, x0, steps: int,
                  summary: str, seed: int):
    t0 = time.perf_counter()
    log_lrs = landscape.sweep_axis((lo, hi), points)
    loss = heavy(paths.lr_sweep_general, task, optimizer, log_lrs, inner_steps=steps, summary=summary,
                 fixed=dict(fixed), x0=x0, seed=seed)
    return (log_lrs, loss), time.perf_counter() - t0

with st.sidebar, ps:
    st.header("Sweep")
    sel = sui.current("sw_")
    problem = problem_picker("sw_problem", show=ps.shown("sw_problem")) if sel.task is None else None
    task = sel.task or problem
    if sel.post:
        momentum = ps.number(st, "sw_momentum", "Momentum", step=0.01, format="%.5f",
                             help="Held fixed across the sweep. The post uses 0.9.")
    else:
        t = resolve_task(task or "log_sin", sel.seed)
        hp = sui.hyper_inputs(ps, "sw_", task, sel.optimizer, skip=("lr", *t.axes))
    lo, hi = ps.widget(st.slider, "sw_range", "log10 learning-rate range", -6.0, 3.0, step=0.1,
                       help="The post sweeps lr from 1e-3 to 1e2. A network's per-layer learning rates move together.")
    points = ps.widget(st.select_slider, "sw_points", "Points", POINTS,
                       help="Learning rates in the sweep, log-spaced. The post uses 5000.")
    choices = summaries_for(task) if task else [r for r in SUMMARIES if r != "converge"]
    if st.session_state["sw_reduce"] not in choices:
        ps["sw_reduce"] = "mean"
    with st.expander("Inner run"):
        if sel.task is None or resolve_task(sel.task).dim == 1:
            x0 = ps.number(st, "sw_x0", "Initial x0", step=0.5, help="The post starts at -4.")
        steps = ps.widget(st.slider, "sw_steps", "Inner steps", 1, 500, help="Length of each unroll. The post uses 50.")
        reduce = ps.widget(st.selectbox, "sw_reduce", "Outer loss", choices,
                           format_func=lambda r: SUMMARIES[r].label,
                           help=summaries_help(choices, "How a run's inner losses are summarised into one number "
                                               "(the convergence measure only on tasks whose loss stays positive)."))
    cap_on = ps.widget(st.checkbox, "sw_cap_on", "Cap the y axis", help="The post shows y up to 5.")
    y_cap = ps.number(st, "sw_cap", "y cap", step=0.5, disabled=not cap_on,
                      help="Upper end of the y axis; higher outer losses run off the top.")
    sui.pickers(ps, "sw_", sel)
    ps.link_panel()


def general_view() -> None:
    """The learning rate of any (task, optimizer), every other hyperparameter held at its value."""
    name = need_problem(task)
    t = resolve_task(name, sel.seed)
    title = f"{sel.title.split(' on ')[0]} on {t.title}"
    st.title(f"Learning-rate sweep: {title}")
    st.markdown("Each point is one whole inner training run at that learning rate, summarised by its outer loss; "
                "the other hyperparameters keep the values in the sidebar (shared with the landscape page).")
    ps.warn_bad_url()
    held = dict(hp, momentum=float(momentum)) if sel.post else hp
    x0_used = float(x0) if t.dim == 1 and t.labels is None else None
    try:
        (log_lrs, loss), seconds, wall = timed_call(
            general_sweep, float(lo), float(hi), int(points), name, sel.optimizer, tuple(sorted(held.items())),
            x0_used, int(steps), reduce, sel.seed)
    except ValueError as e:
        show_error(e)
        st.stop()
    slug = f"lr_sweep_{sel.optimizer}_{name if name in TASKS else 'formula'}_{points}"
    fig = viz.lr_sweep_figure(log_lrs, loss, 0.0, y_cap=y_cap if cap_on else None, reduce_label=reduce,
                              title=f"outer loss against learning rate: {title}")
    plotly_chart(fig, key="sweep_chart", filename=slug)
    timing_caption(seconds, wall, what=f"{points:,} inner runs computed")
    summary_view(log_lrs, loss, slug)


def summary_view(log_lrs, loss, slug, cause=None) -> None:
    """The best point and the diverged count; ``cause()``: why every run diverged, when they all did."""
    finite = np.isfinite(loss)
    if not finite.any():
        st.warning("Every run of this sweep diverged" + (f": {cause()}." if cause else "."),
                   icon=":material/warning:")
    c1, c2, c3 = st.columns(3)
    if finite.any():
        i = int(np.nanargmin(loss))
        c1.metric("best learning rate", f"{10 ** log_lrs[i]:.5g}")
        c2.metric("best outer loss", f"{loss[i]:.4f}")
    c3.metric("diverged runs", f"{int((~finite).sum()):,}")
    st.download_button("Download the sweep (CSV)", lambda: csv_text({"log10_lr": log_lrs, "lr": 10 ** log_lrs,
                                                                      "outer_loss": loss}),
                       file_name=f"{slug}.csv", mime="text/csv",
                       help="One row per learning rate; NaN marks a diverged run.")


if sel.error:
    st.title("Learning-rate sweep")
    st.error(sel.error, icon=":material/error:")
    st.stop()
if not sel.post or reduce not in landscape.POST_SUMMARIES:  # converge has no fast path: the general kernel
    if sel.post:
        hp = {}
    general_view()
    st.stop()
st.title("Learning-rate sweep: how training quality depends on the step size")
st.markdown(
    "Each point is a whole 50-step inner training run, summarised by its *outer loss* "
    "(by default the mean inner loss over the run, as in the post). "
    "Sweeping the learning rate over five decades at momentum 0.9 shows the post's surprise: "
    "a fully deterministic problem whose outer loss looks noisy, because tiny changes in the "
    "learning rate compound over the unroll into very different endings."
)
ps.warn_bad_url()
problem = need_problem(problem)
try:
    (log_lrs, loss), seconds, wall = timed_call(
        lc.lr_sweep, float(lo), float(hi), int(points), float(momentum), problem, float(x0), int(steps), reduce)
except ValueError as e:
    show_error(e)
    st.stop()

fig = viz.lr_sweep_figure(log_lrs, loss, momentum, y_cap=y_cap if cap_on else None, reduce_label=reduce)
slug = f"lr_sweep_{problem_slug(problem)}_mom{momentum:g}_{points}"
plotly_chart(fig, key="sweep_chart", filename=slug)
timing_caption(seconds, wall, what=f"{points:,} inner runs computed")
summary_view(log_lrs, loss, slug, cause=lambda: divergence_cause(problem, x0, momentum=momentum))
