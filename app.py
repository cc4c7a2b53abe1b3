"""The meta-loss landscape explorer: server set-up, page config and the page router."""

import streamlit as st

from app_setup import start_server
from ui.adapter import mark_routed

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
        st.Page("pages/inspect.py", title="Open a pixel", icon=":material/center_focus_strong:", url_path="inspect"),
        st.Page("pages/tuning.py", title="What tuning sees", icon=":material/tune:"),
    ],
    "Learning to learn": [
        st.Page("pages/learned_optimizer.py", title="Learned optimizer", icon=":material/psychology:"),
    ],
}



def page_not_found(nav) -> None:
    """An address that names no page opens the tour (Streamlit's default page): say so, once."""
    from urllib.parse import urlparse

    path = urlparse(st.context.url or "").path.strip("/")
    base = (st.get_option("server.baseUrlPath") or "").strip("/")
    if base and path.startswith(base):
        path = path[len(base):].strip("/")
    asked = path.rsplit("/", 1)[-1]
    known = {p.url_path for group in PAGES.values() for p in group}
    if asked and asked not in known and nav.url_path == "" and not st.session_state.get("_not_found_said"):
        st.session_state["_not_found_said"] = True
        st.warning(f"Page not found: there is no page \"/{asked}\" here; this is the tour. The pages are in the "
                   "sidebar.", icon=":material/travel_explore:")


mark_routed()
nav = st.navigation(PAGES)
page_not_found(nav)
nav.run()
