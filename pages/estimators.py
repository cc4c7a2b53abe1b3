"""Gradient estimators at a point: ES, PES and truncated backprop against the true gradient."""

from ui.adapter import through_router

through_router(__file__)

import time

import numpy as np
import streamlit as st

from l2l_core import outer, viz
from ui import landscape_compute as lc
from ui.shared import (
    chart_config,
    float_in,
    heavy,
    int_in,
    need_problem,
    npz_bytes,
    problem_picker,
    problem_slug,
    show_error,
    timed_call,
    timing_caption,
)
from ui.state import PageState, Param, problem_param

# Settings: ?problem=&est_lr=&est_omm=&est_samples=&est_pairs=&est_std=&est_trunc=&est_seed=
ps = PageState("estimators", {
    "est_problem": problem_param(),
    "est_lr": Param("est_lr", -1.2, float_in(-30, 30)),
    "est_omm": Param("est_omm", -1.1, float_in(-30, 0.5)),
    "est_samples": Param("est_samples", 256, int_in(2, outer.MAX_SAMPLES)),
    "est_pairs": Param("est_pairs", 1, int_in(1, 64)),
    "est_std": Param("est_std", 0.1, float_in(1e-4, 5.0)),
    "est_trunc": Param("est_trunc", 10, int_in(1, 50)),
    "est_seed": Param("est_seed", 0, int_in(0, 2**31 - 1)),
}).load()
ps.apply_view()

st.title("Gradient estimators: bias and variance at one point")
st.markdown(
    "At a chosen (log10 lr, log10(1 − momentum)), many gradient estimates of each method against the "
    "**true gradient** (`jax.grad` through the whole unroll, what clipped gradient descent follows) and the "
    "gradient of the **smoothed** loss (ES with 4096 pairs). ES and PES are unbiased for the smoothed loss, "
    "so where the landscape is chaotic their 'bias' against jax.grad is the smoothing itself: that is why "
    "they roll over ripples. TBPTT is deterministic here and biased by its truncation."
)

w = ps.widget
with st.sidebar, ps:
    st.header("Point and estimators")
    problem = problem_picker("est_problem", show=ps.shown("est_problem"))
    c1, c2 = st.columns(2)
    ps.number(c1, "est_lr", "log10 lr", step=0.05, format="%.4f",
      help="Default: near where clipped GD from (-2, -0.5) gets stuck.")
    ps.number(c2, "est_omm", "log10(1-mom)", step=0.05, format="%.4f",
      help="log10(1 - momentum): 0 is no momentum, -1 is momentum 0.9, -2 is 0.99. Default: beside "
           "the lr's default, on the ripples.")
    ps.number(st, "est_samples", "Estimates per method", step=64,
      help="How many independent estimates of each method are drawn at the point: more give a surer "
           "mean, bias and variance.")
    c1, c2 = st.columns(2)
    ps.number(c1, "est_pairs", "ES/PES pairs",
      help="Antithetic perturbation pairs averaged in one ES or PES estimate; more pairs, less variance.")
    ps.number(c2, "est_std", "std", step=0.01, format="%.3f",
      help="ES/PES perturbation scale in log10 units: the width of the Gaussian smoothing they estimate "
           "the gradient of (the post: 0.1).")
    ps.number(c1, "est_trunc", "Truncation",
      help="PES / TBPTT truncation length; must divide the 50 inner steps.")
    ps.number(c2, "est_seed", "Seed", help="Seeds the perturbations of every estimate: the same seed, the "
                                            "same estimates.")
    ps.link_panel()

ps.warn_bad_url()
problem = need_problem(problem)
#: The thumbnail: the landscape page's default window, widened to hold the point; its inner run.
THUMB_WINDOW, THUMB_RES, THUMB_X0, THUMB_STEPS = (-3.0, 2.0, -3.0, 0.0), 60, -4.0, 50


def thumbnail(point, problem) -> None:
    """Where the point lies on the landscape, in the sidebar."""
    lo, hi, mlo, mhi = THUMB_WINDOW
    lo, hi = min(lo, point[0] - 0.5), max(hi, point[0] + 0.5)
    mlo, mhi = min(mlo, point[1] - 0.25), max(mhi, min(point[1] + 0.25, 0.5))
    try:
        (xs, ys, z, _), _ = lc.grid(lo, hi, mlo, mhi, THUMB_RES, problem, THUMB_X0, THUMB_STEPS, "mean")
    except ValueError as e:
        show_error(e)
        return
    with st.sidebar:
        st.markdown("**Where this point lies**", help=f"The meta-loss landscape of this problem ({THUMB_RES}² "
                    "cells, mean loss over 50 inner steps from x0 = -4), the point marked x. Magenta: training "
                    "diverges. The y axis is log10(1 - momentum), 0 (no momentum) at the bottom.")
        st.plotly_chart(viz.point_thumbnail(z, xs, ys, point), key="est_thumbnail",
                        config=dict(chart_config("estimators_point"), displayModeBar=False))


thumbnail((float(st.session_state.est_lr), float(st.session_state.est_omm)), problem)


@st.cache_data(max_entries=32, show_spinner=False)
def diagnose(point, samples, pairs, std, trunc, seed, problem):
    t0 = time.perf_counter()
    res = heavy(outer.estimator_diagnostic, point, samples=samples, pairs=pairs, std=std,
                truncation_length=trunc, seed=seed, problem=problem)
    return res, time.perf_counter() - t0


s = st.session_state
try:
    res, seconds, wall = timed_call(diagnose, (float(s.est_lr), float(s.est_omm)), int(s.est_samples),
                                    int(s.est_pairs), float(s.est_std), int(s.est_trunc), int(s.est_seed), problem)
except ValueError as e:
    show_error(e)
    st.stop()

if not np.isfinite(res["true_loss"]):
    st.warning(f"Training diverges at this point (lr {10 ** float(s.est_lr):.4g}, momentum "
               f"{1 - 10 ** float(s.est_omm):.6g}): the outer loss and its gradients are not finite, so no "
               "estimator can be compared here. Pick a smaller learning rate or momentum "
               "(the Meta-loss landscape page shows where runs diverge, in magenta).",
               icon=":material/warning:")
    st.stop()

_name = f"estimators_{problem_slug(problem)}_lr{float(s.est_lr):g}_omm{float(s.est_omm):g}"
st.plotly_chart(viz.estimator_figure(res), key="estimator_chart", config=chart_config(_name))
st.download_button("Download the estimates (NPZ)", npz_bytes(
    true_grad=res["true_grad"], smoothed_grad=res["smoothed_grad"],
    **{f"{n}_samples": v.samples for n, v in res["estimators"].items()}), file_name=_name + ".npz",
    mime="application/octet-stream", help="Every gradient estimate per method, and the two reference gradients.")
rows = [dict(estimator=n, **{"mean ∂/∂log lr": float(v.mean[0]), "mean ∂/∂log(1-mom)": float(v.mean[1]),
                             "bias vs jax.grad (norm)": float(np.linalg.norm(v.bias)),
                             "variance (trace)": v.variance})
        for n, v in res["estimators"].items()]
st.dataframe(rows, hide_index=True)
timing_caption(seconds, wall, what=f"{len(res['estimators'])} x {int(s.est_samples)} estimates computed")
tg, sg = res["true_grad"], res["smoothed_grad"]
st.caption(f"outer loss here {res['true_loss']:.4f}; true gradient ({tg[0]:.4g}, {tg[1]:.4g}); "
           f"smoothed-loss gradient ({sg[0]:.4g}, {sg[1]:.4g}).")
