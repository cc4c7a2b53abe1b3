"""The one box-zoom of every heatmap: a box dragged on a chart becomes the next window.

A click on a cell (a point selection) or a box smaller than :data:`PICK_FRACTION` of the
window on both sides picks that cell instead (:func:`picked_point`): the browser's Plotly
gives no selection for a click on a heatmap, so a tiny box is the click there (except on a
chart that only zooms: ``picks=False``).

A page's ``on_select`` callback calls :func:`boxed_window` with the window the chart
shows (and, where the chart's axes are rescaled for display, the frame that maps them
back), then keeps the result as it keeps its zoom: pushed on a history
(:func:`push_window`) or as the one view.
"""

from __future__ import annotations

from typing import Callable

import streamlit as st

from l2l_core.landscape import zoom

#: The identity frame: chart coordinates are the window's own.
IDENTITY = (0.0, 1.0, 0.0, 1.0)
#: A box no wider and no taller than this fraction of the window picks the cell at its centre.
PICK_FRACTION = 0.08


def picked_point(event, window, *, frame=IDENTITY) -> tuple[float, float] | None:
    """The point (window units) a selection event picks: a clicked point, or the centre of a box
    smaller than :data:`PICK_FRACTION` of ``window`` on both sides; None for a zoom box or nothing."""
    sel = (event or {}).get("selection", {}) if isinstance(event, dict) else {}
    cx, sx, cy, sy = frame
    try:
        boxes = sel.get("box") or []
        if boxes:
            xs = [cx + sx * float(v) for v in boxes[-1]["x"]]
            ys = [cy + sy * float(v) for v in boxes[-1]["y"]]
            lo, hi, ylo, yhi = (float(v) for v in window)
            if max(xs) - min(xs) <= PICK_FRACTION * (hi - lo) and max(ys) - min(ys) <= PICK_FRACTION * (yhi - ylo):
                return (min(xs) + max(xs)) / 2.0, (min(ys) + max(ys)) / 2.0
            return None
        points = sel.get("points") or []
        if points:
            return cx + sx * float(points[-1]["x"]), cy + sy * float(points[-1]["y"])
    except (KeyError, TypeError, ValueError, IndexError):
        return None
    return None


def boxed_window(chart_key: str, window, *, frame=IDENTITY, check: Callable = zoom.check_window,
                 picks: bool = True) -> tuple[float, float, float, float] | None:
    """The window the last box dragged on chart ``chart_key`` picks inside ``window``.

    Args:
      chart_key: the ``st.plotly_chart`` key whose selection event holds the box.
      window: (x_lo, x_hi, y_lo, y_hi) the chart shows.
      frame: (cx, sx, cy, sy): a chart coordinate v is cx + sx * v in the window's units.
      check: the window check of the map (``zoom.check_window``, ``fractal.check_window``).
      picks: whether a tiny box picks a cell (:func:`picked_point`) rather than zooming; False for a
        chart that only zooms (the tour's landscape), where every box is the next window.

    Returns:
      The new window, clipped to ``window``; None when no box was dragged.

    Raises:
      ValueError: a box outside the window, degenerate or malformed; the message says so.
    """
    event = st.session_state.get(chart_key) or {}
    boxes = event.get("selection", {}).get("box", []) if event else []
    if not boxes or (picks and picked_point(event, check(window), frame=frame) is not None):
        return None
    cx, sx, cy, sy = frame
    try:
        xs = sorted(cx + sx * float(v) for v in boxes[-1]["x"])
        ys = sorted(cy + sy * float(v) for v in boxes[-1]["y"])
    except (KeyError, TypeError, ValueError, IndexError):
        raise ValueError("the selected box cannot be read; drag a box on the heatmap") from None
    lo, hi, ylo, yhi = check(window)
    x0, x1, y0, y1 = max(xs[0], lo), min(xs[-1], hi), max(ys[0], ylo), min(ys[-1], yhi)
    if not (x0 < x1 and y0 < y1):
        raise ValueError("the selected box does not overlap the current window; drag inside the heatmap")
    return check((x0, x1, y0, y1))


def push_window(key: str, window, max_depth: int = zoom.MAX_DEPTH) -> None:
    """Appends ``window`` to the zoom history in ``st.session_state[key]``.

    Raises:
      ValueError: the history already holds ``max_depth`` levels.
    """
    stack = list(st.session_state.get(key) or [])
    if len(stack) >= max_depth:
        raise ValueError(f"zoom history is limited to {max_depth} levels; zoom back or reset first")
    st.session_state[key] = stack + [tuple(window)]
