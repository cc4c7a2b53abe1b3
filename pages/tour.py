"""Start here: a guided tour through both posts, one short step at a time.

Each step has a live figure (small settings, so it draws in about a second),
one or two controls to try, and a link into the full page with the same
settings. The step and its controls are in the URL (``?step=3``), so a
teacher can share it. The steps themselves are records in
:data:`ui.tour_steps.STEP_REGISTRY`.
"""

from __future__ import annotations

from ui.adapter import through_router

through_router(__file__)

import time

import streamlit as st

from ui.shared import int_in, show_error
from ui.state import PageState, Param
from ui.tour_steps import STEP_REGISTRY, count_words, step_by

ps = PageState("tour", {
    "tour_step": Param("step", 0, lambda s: int_in(1, len(STEP_REGISTRY))(s) - 1, lambda i: str(int(i) + 1)),
    **{k: p for step in STEP_REGISTRY for k, p in step.params.items()},
}).load()
ps.apply_view()

st.title("Start here: a tour of meta-loss landscapes and learned optimizers")
st.caption(f"{count_words(len(STEP_REGISTRY)).capitalize()} short steps through two posts: *Exploring "
           "hyperparameter meta-loss landscapes with Jax* and *Learning JAX by learning to learn*. "
           "Every figure is live; every step links to its full page.")
ps.warn_bad_url()
with st.sidebar:
    ps.link_panel()
with ps:
    ps.widget(st.radio, "tour_step", "Step", range(len(STEP_REGISTRY)), horizontal=True,
              format_func=lambda i: f"{i + 1}. {STEP_REGISTRY[i].title}", label_visibility="collapsed")
    i = int(st.session_state["tour_step"])
    step = STEP_REGISTRY[i]
    st.header(f"{i + 1}. {step.title}", anchor=False)
    t0 = time.perf_counter()
    try:
        step.draw()
        st.caption(f"This step computed and drew in {time.perf_counter() - t0:.2f} s "
                   "(results already computed on this server are served from its cache).")
    except ValueError as e:
        show_error(e)

if not ps.shown("tour_step"):  # teacher mode: the link fixes the step
    st.stop()
st.divider()
b1, b2, b3 = st.columns([1.5, 1, 3.5])
b1.button("Previous", icon=":material/arrow_back:", on_click=step_by, args=(-1,), disabled=i == 0,
          key="tour_prev")
b2.button("Next", icon=":material/arrow_forward:", on_click=step_by, args=(1,), disabled=i == len(STEP_REGISTRY) - 1,
          key="tour_next", type="primary")
b3.caption(f"Step {i + 1} of {len(STEP_REGISTRY)}")
