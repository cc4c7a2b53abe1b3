"""The meta-loss landscape explorer: server set-up, page config and the page router."""

import streamlit as st

from app_setup import start_server
from pages._adapter import mark_routed

start_server()  # once per process; concurrent first runs wait for it (app_setup.py)
st.set_page_config(page_title="Meta-loss landscape explorer", page_icon=":material/landscape:", layout="wide")

PAGES = {
    "Start here": [st.Page("pages/tour.py", title="Tour", icon=":material/school:", default=True)],
    "Meta-loss landscapes": [
        st.Page("pages/inner_problem.py", title="Inner problem", icon=":material/show_chart:"),
        st.Page("pages/lr_sweep.py", title="Learning-rate sweep", icon=":material/stacked_line_chart:"),
        st.Page("pages/landscape.py", title="Meta-loss landscape", icon=":material/grid_on:"),
        st.Page("pages/estimators.py", title="Gradient estimators", icon=":material/scatter_plot:"),
        st.Page("pages/fractal.py", title="Trainability fractal", icon=":material/blur_on:"),
    ],
    "Learning to learn": [
        st.Page("pages/learned_optimizer.py", title="Learned optimizer", icon=":material/psychology:"),
    ],
}

mark_routed()
st.navigation(PAGES).run()
