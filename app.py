"""The meta-loss landscape explorer: page config and the page router, nothing else."""

import streamlit as st

st.set_page_config(page_title="Meta-loss landscape explorer", page_icon="🌀", layout="wide")

PAGES = {
    "Meta-loss landscapes": [
        st.Page("pages/inner_problem.py", title="Inner problem", icon="📉", default=True),
        st.Page("pages/lr_sweep.py", title="Learning-rate sweep", icon="📈"),
        st.Page("pages/landscape.py", title="Meta-loss landscape", icon="🗺️"),
    ],
}

st.navigation(PAGES).run()
