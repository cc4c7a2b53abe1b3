"""Trainability fractal: which per-layer learning rates train a small network, and the fractal edge between.

The page's flow: the sidebar read into settings, the zoom controls, the view computed and drawn,
the edge's fractal dimension and the download; each part is drawn by :mod:`ui.fractal_view`.
"""

from ui.adapter import through_router

through_router(__file__)

import streamlit as st

from l2l_core.landscape import fractal
from l2l_core.tasks.fractal_networks import make_task
from ui import fractal_view as fv
from ui.fractal_view import DONE_KEY, ZOOM_KEY
from ui.shared import show_error, timing_caption

ps = fv.page_state()
ps.apply_view()
st.session_state.setdefault(DONE_KEY, [])

st.title("Trainability fractal: where a network stops training")
st.markdown(
    "The landscape pages ask which (learning rate, momentum) trains **one number** x. Here the same question is "
    "asked about a real network, as in Sohl-Dickstein's *The boundary of neural network trainability is fractal* "
    "(2024): a one-hidden-layer network of width 16 (mean-field scaling, tanh, no biases) is trained by "
    "full-batch gradient descent on 272 random points, with **one learning rate per layer**. Every pixel is one "
    "complete training run: **blue trained, red diverged**, darker = slower (the paper's colouring, "
    "rank-equalized per side), so the darkest pixels hug the edge. The edge between them is fractal: "
    "drag a box on it to zoom, the view is "
    "recomputed, in float64 once float32 runs out of digits, to more than ten decades below the top view."
)
ps.warn_bad_url()

cfg = fv.sidebar(ps)
task_name, width, steps, res = cfg["task_name"], cfg["width"], cfg["steps"], cfg["res"]

try:
    task = make_task(task_name, width=int(width), seed=int(cfg["seed"]))
except ValueError as e:
    show_error(e)
    st.stop()
stack = [tuple(w) for w in st.session_state[ZOOM_KEY]]
window = tuple(stack[-1]) if stack else fractal.default_window(task)
try:
    fractal.check_view_work(task, res, steps)
except ValueError as e:
    show_error(ValueError(f"{e}; or use the command line: "
                          f"python -m l2l_core fractal --task {task_name} --res {res} --steps {steps}"))
    st.stop()

ps.save()  # the zoom path too (box-select and the zoom buttons change it before the run)

c1, c2, c3, c4 = st.columns([1, 1, 1.6, 1])
c1.button("Zoom back", disabled=not stack, key="fr_back",
          on_click=lambda: st.session_state.__setitem__(ZOOM_KEY, st.session_state[ZOOM_KEY][:-1]))
c2.button("Top view", disabled=not stack, key="fr_reset", on_click=lambda: st.session_state.__setitem__(ZOOM_KEY, []))
st.caption(fv.zoom_depth_text(stack, window, fractal.default_window(task),
                              fractal.AXIS_NAMES[task.spec.phase_space])
           + " The address bar holds the zoom path: copy it to replay this view.")
if msg := st.session_state.pop("_fr_zoom_error", None):
    st.warning(msg)

key = (task_name, int(width), int(cfg["seed"]), int(steps), window, int(res), cfg["precision"])
placeholder = st.empty()
try:
    view, seconds, wall = fv.compute_view(cfg, task, key, placeholder)
except ValueError as e:
    show_error(e)
    st.stop()

xs, ys, zs, prec = view
line_caption = fv.image_view(cfg, task, window, stack, view, placeholder)
if line_caption:
    st.caption(line_caption)
z = zs[cfg["summary"]]
timing_caption(seconds, wall, what=f"{z.size:,} training runs of {steps} steps computed in {prec}")
sign = zs["converge"]
nxt = fractal.boundary_window(sign, window)
c3.button("Zoom 2x on the edge", disabled=nxt is None, key="fr_edge",
          on_click=lambda: st.session_state.__setitem__(ZOOM_KEY, list(st.session_state[ZOOM_KEY]) + [list(nxt)]),
          help="The paper's key-frame step: halve the view around the edge pixel nearest the centre.")
c4.metric("trained", f"{100 * (sign < 0).mean():.1f}%")

fv.dimension_view(cfg, sign)
fv.download_view(cfg, task, window, stack, view)
fv.how_to_read()
