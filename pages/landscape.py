"""Meta-loss landscape: the outer loss over the (learning rate, momentum) plane.

The page's flow: the sidebar read into settings, then the heatmap with its outer runs, the summary
metrics and downloads, the local shifts; each part is drawn by :mod:`ui.landscape_view`.
"""

from ui.adapter import through_router

through_router(__file__)


import streamlit as st

from l2l_core import landscape
from l2l_core.landscape import zoom
from ui import general_view as gv
from ui import landscape_compute as lc
from ui import landscape_view as lv
from ui import outer_panel as oui
from ui.shared import need_problem, show_error, timed_call

ps = oui.page_state()
ps.apply_view()

cfg = lv.sidebar(ps)
lv.header(cfg["general"])
ps.warn_bad_url()
cfg["problem"] = need_problem(cfg["problem"])
if cfg["general"]:
    gv.view(cfg, cfg["problem"])
    st.stop()
window = oui.current_window(oui.home_window())
try:
    data, seconds, wall = timed_call(lc.grid, *map(float, window), cfg["res"], cfg["problem"], cfg["x0"],
                                     cfg["inner_steps"], cfg["summary"])
    frame = zoom.display_frame(window)
except ValueError as e:
    show_error(e)
    if st.session_state.get(oui.ZOOM_KEY):
        st.button("Zoom back", on_click=oui.zoom_back, key="zoom_back_err")
    st.stop()

oui.zoom_controls(data[3], window)
runs = lv.outer_runs_view(cfg)
best = landscape.best_cell(data[2], data[0], data[1])
lv.heatmap_view(cfg, window, frame, data, seconds, wall, runs, best)
lv.summary_view(cfg, data, best)
if runs:
    lv.end_points_view(cfg, runs, data[2])
