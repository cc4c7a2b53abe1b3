"""Gradient estimators at a point: ES, PES and truncated backprop against the true gradient."""

from pages._routing import through_router

through_router(__file__)

import numpy as np
import streamlit as st

from l2l_core import viz
from l2l_core import outer
from pages._shared import chart_config, heavy, npz_bytes, problem_picker, problem_slug, show_error

st.title("Gradient estimators: bias and variance at one point")
st.markdown(
    "At a chosen (log10 lr, log10(1 − momentum)), many gradient estimates of each method against the "
    "**true gradient** (`jax.grad` through the whole unroll, what clipped gradient descent follows) and the "
    "gradient of the **smoothed** loss (ES with 4096 pairs). ES and PES are unbiased for the smoothed loss, "
    "so where the landscape is chaotic their 'bias' against jax.grad is the smoothing itself: that is why "
    "they roll over ripples. TBPTT is deterministic here and biased by its truncation."
)

DEFAULTS = dict(est_lr=-1.2, est_omm=-1.1, est_samples=256, est_pairs=1, est_std=0.1, est_trunc=10, est_seed=0)
qp = st.query_params
if not st.session_state.get("_est_url_loaded"):
    st.session_state["_est_url_loaded"] = True
    for k, d in DEFAULTS.items():
        try:
            st.session_state.setdefault(k, type(d)(qp[k]) if k in qp else d)
        except ValueError:
            st.session_state.setdefault(k, d)

with st.sidebar:
    st.header("Point and estimators")
    problem = problem_picker(key="est_problem")
    c1, c2 = st.columns(2)
    c1.number_input("log10 lr", step=0.05, format="%.4f", key="est_lr",
                    help="Default: near where clipped GD from (-2, -0.5) gets stuck.")
    c2.number_input("log10(1-mom)", step=0.05, format="%.4f", key="est_omm")
    st.number_input("Estimates per method", min_value=2, max_value=outer.MAX_SAMPLES, step=64, key="est_samples")
    c1.number_input("ES/PES pairs", min_value=1, max_value=64, step=1, key="est_pairs")
    c2.number_input("std", min_value=1e-4, max_value=5.0, step=0.01, format="%.3f", key="est_std")
    c1.number_input("Truncation", min_value=1, max_value=50, step=1, key="est_trunc",
                    help="PES / TBPTT truncation length; must divide the 50 inner steps.")
    c2.number_input("Seed", min_value=0, step=1, key="est_seed")

st.query_params.from_dict({k: str(st.session_state[k]) for k in DEFAULTS})


@st.cache_data(max_entries=32, show_spinner=False)
def diagnose(point, samples, pairs, std, trunc, seed, problem):
    return heavy(outer.estimator_diagnostic, point, samples=samples, pairs=pairs, std=std,
                 truncation_length=trunc, seed=seed, problem=problem)


try:
    s = st.session_state
    res = diagnose((float(s.est_lr), float(s.est_omm)), int(s.est_samples), int(s.est_pairs), float(s.est_std),
                   int(s.est_trunc), int(s.est_seed), problem)
except ValueError as e:
    show_error(e)
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
tg, sg = res["true_grad"], res["smoothed_grad"]
st.caption(f"outer loss here {res['true_loss']:.4f}; true gradient ({tg[0]:.4g}, {tg[1]:.4g}); "
           f"smoothed-loss gradient ({sg[0]:.4g}, {sg[1]:.4g}).")
