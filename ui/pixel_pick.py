"""A picked cell of a map: which run it is, and the link that opens it (issue 25).

Every map's ``on_select`` callback calls :func:`on_pick` first: a click on a cell (or a
box smaller than :data:`ui.box_zoom.PICK_FRACTION` of the view) is kept as a pending
point under ``<chart key>_pick`` with the window it was picked in. After the map is
computed, :func:`resolve_pending` turns it into the nearest cell of that very grid (the
zoomed one too) and :func:`panel` shows it under the map: its hyperparameters, its value
and a link "Open this pixel" to the "Open a pixel" page (:data:`ui.pixel_link.PAGE`,
query :func:`ui.pixel_link.pixel_query`); with an earlier picked cell, a second link opens
both side by side (the new one as the second pixel, suffix ``_b``).
"""

from __future__ import annotations

from urllib.parse import urlencode

import numpy as np
import streamlit as st
from streamlit.errors import StreamlitAPIException

from l2l_core.tasks.fractal_networks import PROBE_WIDTH, supported
from ui import box_zoom
from ui.pixel_link import PAGE, pixel_query

#: The most cells a map keeps (the current one and the earlier one).
KEEP = 2
#: The page's address (its ``url_path`` in app.py), for the plain link when the page runs on its own.
SLUG = "inspect"


def link(label: str, query: dict, icon: str, help: str | None = None) -> None:
    """A link to the "Open a pixel" page with ``query``; a plain link when that page is not in this
    app's navigation (a page run on its own)."""
    try:
        st.page_link(PAGE, label=label, icon=icon, query_params=query, help=help)
    except StreamlitAPIException:
        st.markdown(f"[{label}](./{SLUG}?{urlencode(query)})", help=help)


def pending_key(chart_key: str) -> str:
    return f"{chart_key}_pick"


def cells_key(chart_key: str) -> str:
    return f"{chart_key}_cells"


def on_pick(chart_key: str, window, frame=box_zoom.IDENTITY) -> bool:
    """Chart callback part: a pick is kept as pending (True); a zoom box or nothing: False."""
    point = box_zoom.picked_point(st.session_state.get(chart_key), window, frame=frame)
    if point is None:
        return False
    st.session_state[pending_key(chart_key)] = (tuple(float(v) for v in point), tuple(float(v) for v in window))
    return True


def nearest_cell(point, xs, ys) -> tuple[int, int]:
    """(row, column) of the grid cell whose centre is nearest ``point`` (display units)."""
    xs, ys = np.asarray(xs, np.float64), np.asarray(ys, np.float64)
    return int(np.argmin(np.abs(ys - float(point[1])))), int(np.argmin(np.abs(xs - float(point[0]))))


def resolve_pending(chart_key: str, window, xs, ys, describe) -> None:
    """A pending pick made in ``window`` becomes a cell of this grid: ``describe(row, col)`` -> dict
    (``label``, ``value``, ``query_args`` for :func:`pixel_query` or None where pixels cannot be opened,
    ``why`` then), kept as the newest of :data:`KEEP`."""
    pending = st.session_state.get(pending_key(chart_key))
    if not pending:
        return
    point, picked_in = pending
    if not np.array_equal(np.asarray(picked_in, np.float64), np.asarray(window, np.float64)):
        return  # picked on another view (its grid is not this one): wait for that view
    st.session_state.pop(pending_key(chart_key), None)
    i, j = nearest_cell(point, xs, ys)
    cell = dict(describe(i, j), row=i, col=j)
    old = [c for c in st.session_state.get(cells_key(chart_key)) or [] if c.get("label") != cell["label"]]
    st.session_state[cells_key(chart_key)] = (old + [cell])[-KEEP:]


def _forget(chart_key: str) -> None:
    st.session_state[cells_key(chart_key)] = []


def panel(chart_key: str) -> None:
    """Right under the map: the picked cell, its link, and the pair with the earlier one."""
    cells = st.session_state.get(cells_key(chart_key)) or []
    if not cells:
        st.caption("Click a cell of the map (in the browser: drag a tiny box on it, smaller than "
                   f"{100 * box_zoom.PICK_FRACTION:g}% of the view) to see which run it is and open it.")
        return
    cell = cells[-1]
    with st.container(border=True, key=f"{chart_key}_pixel"):
        st.markdown(f"**This pixel:** {cell['label']} · {cell['value']}")
        if cell.get("query_args") is None:
            st.info(cell.get("why", "Opening this pixel is not available yet."), icon=":material/info:")
        else:
            q = pixel_query(**cell["query_args"])
            c1, c2, c3 = st.columns([1, 1.6, 0.8], vertical_alignment="center")
            with c1:
                link("Open this pixel", q, ":material/center_focus_strong:")
            earlier = cells[0] if len(cells) > 1 else None
            if earlier is not None and earlier.get("query_args") is not None:
                pair = {**pixel_query(**earlier["query_args"]), **pixel_query(**cell["query_args"], suffix="_b")}
                with c2:
                    link("Open it beside the earlier pixel", pair, ":material/compare:",
                         help=f"The earlier pixel: {earlier['label']} · {earlier['value']}")
            c3.button("Forget", key=f"{chart_key}_forget", on_click=_forget, args=(chart_key,),
                      help="Forget the picked pixels of this map.")
        if len(cells) > 1:
            st.caption(f"Earlier pixel: {cells[0]['label']} · {cells[0]['value']}")


def fractal_cell_args(task: str, width: int, steps: int, seed: int, log_lr_in: float, log_lr_out: float) -> dict:
    """A trainability-fractal pixel's link: ``query_args`` (plain SGD, momentum 0, raw ``lr_in``/``lr_out``)
    where the "Open a pixel" page trains that network, else ``query_args`` None and ``why``."""
    why = supported(task)
    if why is None and int(width) != PROBE_WIDTH:
        why = f"the 'Open a pixel' page trains the width-{PROBE_WIDTH} networks only, this view is width {int(width)}"
    if why is not None:
        return dict(query_args=None,
                    why=f"Opening this pixel is not available: {why}. The values above are this run's settings "
                        f"(width {int(width)}, seed {int(seed)}, {int(steps)} steps).")
    hp = {"lr_in": 10.0 ** float(log_lr_in), "lr_out": 10.0 ** float(log_lr_out), "momentum": 0.0}
    return dict(query_args=dict(task=task, optimizer="sgd", hparams=hp, steps=int(steps), seed=int(seed)))
