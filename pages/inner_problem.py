"""Inner problem: the 1-D loss and one run of SGD with momentum on it; or any task and optimizer of the
shared selection (a 2-D task's contour with the run's path, a network's loss against step)."""

from ui.adapter import through_router

through_router(__file__)

import time

import numpy as np
import streamlit as st

from l2l_core import viz
from l2l_core.inner.diverge import divergence_cause
from l2l_core.landscape import paths
from l2l_core.tasks.general import TASKS, resolve_task
from ui import landscape_compute as lc
from ui import pickers as sui
from ui.shared import (
    columns_csv,
    float_in,
    int_in,
    need_problem,
    plotly_chart,
    problem_picker,
    problem_slug,
    show_error,
    timed_call,
    timing_caption,
)
from ui.state import PageState, Param, problem_param, selection_params

#: What the "outer loss" metric is (the label stays short enough for a narrow screen).
OUTER_LOSS_HELP = "The mean of the inner losses over the unroll: the number the landscape page colours."

# Settings: ?problem=&x0=&lr=&momentum=&steps= (a tour link, a shared address), kept across page switches;
# the selection (task=&opt=&set=&nseed=) is shared with the landscape and sweep pages.
ps = PageState("inner_problem", {
    "ip_problem": problem_param(),
    "ip_x0": Param("x0", -4.0, float_in(-1e6, 1e6)),
    "ip_lr": Param("lr", 0.1, float_in(0.0, 1e6)),
    "ip_momentum": Param("momentum", 0.9, float_in(-1e6, 1e6)),
    "ip_steps": Param("steps", 50, int_in(1, 500)),
    **selection_params("ip_"),
}).load()
ps.apply_view()


@st.cache_data(max_entries=64, show_spinner=False)
def general_run(task: str, optimizer: str, fixed: tuple, x0, steps: int, seed: int):
    t0 = time.perf_counter()
    r = paths.inner_run(task, optimizer, steps=steps, fixed=dict(fixed), x0=x0, seed=seed)
    surface = None if r.params is None else paths.loss_surface(task, seed=seed)
    return (r, surface), time.perf_counter() - t0


def general_view() -> None:
    """Any task and optimizer: the run's path on the curve (1-D) or the contour (2-D), or a network's loss."""
    task = sel.task or problem
    title = sel.title if task is None else f"{sel.title.split(' on ')[0]} on {resolve_task(task, sel.seed).title}"
    st.title(f"Inner problem: {title}")
    st.markdown("One inner training run of the chosen task by the chosen optax optimizer, with the "
                "hyperparameters in the sidebar (shared with the landscape page, where two of them span its "
                "axes). Each pixel of that landscape is one such run, summarised by one number.")
    ps.warn_bad_url()
    if sel.error:
        st.error(sel.error, icon=":material/error:")
        st.stop()
    task = need_problem(task)
    t = resolve_task(task, sel.seed)
    x0_used = float(x0) if t.dim == 1 and t.labels is None else None
    try:
        (r, surface), seconds, wall = timed_call(general_run, task, sel.optimizer, tuple(sorted(hp.items())),
                                                 x0_used, int(steps), sel.seed)
    except ValueError as e:
        show_error(e)
        st.stop()
    slug = f"{sel.optimizer}_{task if task in TASKS else 'formula'}"
    name = f"{sel.optimizer} path"
    if r.params is None:
        plotly_chart(viz.loss_vs_step_figure(r.losses, title=f"{t.title}: training loss against step"),
                     key="inner_loss", filename=f"inner_loss_vs_step_{slug}")
    else:
        left, right = st.columns([3, 2])
        with left:
            if t.dim == 1:
                fig = viz.inner_problem_figure(surface[0], surface[1], r.params[:, 0], r.losses,
                                               title=f"path of x over {steps} steps", path_name=name)
            else:
                fig = viz.inner_contour_figure(*surface, r.params, title=f"path of (x, y) over {steps} steps",
                                               path_name=name)
            plotly_chart(fig, key="inner_path", filename=f"inner_path_{slug}")
        with right:
            plotly_chart(viz.loss_vs_step_figure(r.losses), key="inner_loss", filename=f"inner_loss_vs_step_{slug}")
    timing_caption(seconds, wall)
    c1, c2, c3 = st.columns(3)
    if r.params is not None:
        end = r.params[-1]
        c1.metric("final (x, y)" if t.dim == 2 else "final x",
                  ", ".join(f"{v:.4f}" for v in end) if np.isfinite(end).all() else "diverged")
    c2.metric("final loss", f"{r.losses[-1]:.4g}" if np.isfinite(r.losses[-1]) else "diverged")
    mean = np.mean(r.losses[:-1])
    c3.metric("outer loss", f"{mean:.4g}" if np.isfinite(mean) else "NaN", help=OUTER_LOSS_HELP)
    if not np.isfinite(r.losses).all():
        st.warning("This run diverged: the loss became non-finite. Lower the learning rate.")
    cols = {"step": np.arange(len(r.losses))}
    if r.params is not None:
        cols.update(zip(("x", "y")[:t.dim], r.params.T))
    st.download_button("Download the run (CSV)", columns_csv(**cols, loss=r.losses),
                       file_name=f"inner_run_{slug}.csv", mime="text/csv",
                       help="The parameters (for a 1-D or 2-D task) and the loss at every step, from the start.")


with st.sidebar, ps:
    st.header("Inner run")
    sel = sui.current("ip_")
    problem = problem_picker("ip_problem", show=ps.shown("ip_problem")) if sel.task is None else None
    if sel.task is None or resolve_task(sel.task).dim == 1:
        x0 = ps.number(st, "ip_x0", "Initial x0", step=0.5, format="%.3f",
                       help="Where training starts. The post starts at x0 = -4.")
    if sel.post:
        lr = ps.number(st, "ip_lr", "Learning rate", step=0.01, format="%.5f",
                       help="Step size lr in x = x - lr·v. The post uses 0.1.")
        momentum = ps.number(st, "ip_momentum", "Momentum", step=0.01, format="%.5f",
                             help="Momentum coefficient in v = momentum·v + f'(x). The post uses 0.9; "
                                  "values at or above 1 make the velocity grow without bound.")
    else:
        hp = sui.hyper_inputs(ps, "ip_", sel.task or problem, sel.optimizer)
    steps = ps.widget(st.slider, "ip_steps", "Steps", 1, 500, help="Number of inner SGD steps. The post uses 50.")
    sui.pickers(ps, "ip_", sel)
    ps.link_panel()

if not sel.post:
    general_view()
    st.stop()
st.title("Inner problem: SGD with momentum on a 1-D loss")
st.markdown(
    "This is the *inner* problem of the meta-loss landscapes post: a single number `x` "
    "trained by SGD with momentum (`v = momentum·v + f'(x)`, `x = x − lr·v`). "
    "With the defaults (x0 = −4, lr 0.1, momentum 0.9, 50 steps) the run first drops into "
    "the global minimum near x ≈ −0.43, then momentum carries it out again, and it settles "
    "in the local minimum near x ≈ 1.24 (at x ≈ 1.17 after 50 steps). Change lr or momentum a little "
    "and the ending can change "
    "completely: that sensitivity is what the next pages map."
)


ps.warn_bad_url()
problem = need_problem(problem)
try:
    (path_x, losses, xs, curve, path_loss), seconds, wall = timed_call(
        lc.inner_run, problem, float(x0), float(lr), float(momentum), int(steps))
except ValueError as e:
    show_error(e)
    st.stop()

finite = np.isfinite(path_x).all()
left, right = st.columns([3, 2])
with left:
    fig = viz.inner_problem_figure(xs, curve, path_x, path_loss,
                                       title=f"path of x over {steps} steps")
    plotly_chart(fig, key="inner_path", filename=f"inner_path_{problem_slug(problem)}_lr{lr:g}_mom{momentum:g}")
with right:
    plotly_chart(viz.loss_vs_step_figure(losses), key="inner_loss",
                 filename=f"inner_loss_vs_step_{problem_slug(problem)}_lr{lr:g}_mom{momentum:g}")
timing_caption(seconds, wall)

c1, c2, c3 = st.columns(3)
c1.metric("final x", f"{path_x[-1]:.4f}" if finite else "diverged")
c2.metric("final loss", f"{path_loss[-1]:.4f}" if np.isfinite(path_loss[-1]) else "diverged")
c3.metric("outer loss", f"{np.mean(losses):.4f}" if np.isfinite(losses).all() else "NaN", help=OUTER_LOSS_HELP)
if not finite:
    st.warning(f"This run diverged (x became non-finite): {divergence_cause(problem, x0, lr, momentum)}.",
               icon=":material/warning:")

csv = "step,x,loss\n" + "".join(
    f"{t},{x:.9g},{loss:.9g}\n" for t, (x, loss) in enumerate(zip(path_x, path_loss)))
st.download_button("Download the run (CSV)", csv,
                   file_name=f"inner_run_{problem_slug(problem)}_lr{lr:g}_mom{momentum:g}.csv",
                   mime="text/csv", help="x and f(x) at every step, starting with x0.")
st.download_button("Download the loss curve f(x) (CSV)", columns_csv(x=xs, loss=curve),
                   file_name=f"inner_loss_curve_{problem_slug(problem)}.csv", mime="text/csv",
                   help="The curve drawn in the left chart.")
