"""The theory line on a map (issue 25): the toggle, the line and the caption that says what it predicts.

The edge comes from :func:`l2l_core.probe.thresholds.stability_edge` through the cached
:func:`ui.landscape_compute.stability_line` (one Hessian at the start); it is drawn by
:func:`l2l_core.viz.stability.add_stability_line`.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from l2l_core.landscape.general import task_axes
from l2l_core.probe.thresholds import stability_applies
from l2l_core.viz.stability import add_stability_line
from ui import landscape_compute as lc

KEY = "stab_line"


def rate_names(task, optimizer) -> tuple[str, ...]:
    """The task's per-layer learning rates (``lr_in``, ``lr_out``, ...) among its axes."""
    try:
        return tuple(a for a in task_axes(task, optimizer) if a.startswith("lr_"))
    except ValueError:
        return ()


def applies(task, optimizer, x, y) -> bool:
    return stability_applies(optimizer, x, y, rate_names(task, optimizer))


def toggle(ps) -> bool:
    """The sidebar's toggle (URL ``stab``, default on)."""
    return bool(ps.widget(st.toggle, KEY, "Stability edge (theory line)",
                          help="Draws the edge that linear stability predicts from the curvature at the start: "
                               "lr = 2(1+m)/lambda_max for heavy ball (Nesterov, per-layer rates: their "
                               "equivalents)."))


def draw(fig, task, optimizer, x, y, x_range, ys, *, fixed=(), seed=0, x0=None, frame=(0.0, 1.0, 0.0, 1.0),
         hover_x="x", hover_y="y") -> str:
    """Adds the line to ``fig`` when the toggle is on; returns the one-line caption (empty when off)."""
    if not st.session_state.get(KEY, True):
        return ""
    try:
        edge, lam = lc.stability_line(task, optimizer, x, y, tuple(float(v) for v in x_range),
                                      np.asarray(ys, np.float64), tuple(fixed), int(seed), x0)
    except ValueError as e:
        return f"Stability edge: not drawn ({e})."
    what = ("Stability edge (dashed): where linear stability at the start predicts divergence, lr = 2(1+m)/λmax"
            + (" (Nesterov: (2+2m)/((1+2m) λmax))" if optimizer == "nesterov" else "")
            + ("" if x == "lr" else ", λmax of the rate-scaled Hessian")
            + (f", λmax = {lam:.4g}" if lam is not None and lam > 0 else "")
            + ". On a quadratic it is exact; on the post's problem and on a network the real edge is rough "
              "around it.")
    if lam is not None and not lam > 0:
        return (f"Stability edge: no line drawn: the start's top curvature is {lam:.4g}, not positive, so linear "
                "stability at the start predicts no learning-rate limit here.")
    if not np.isfinite(edge).any():
        return ("Stability edge: no line drawn: the predicted edge lies outside this view on every row"
                + ("" if x == "lr" else " (or the start's curvature is not positive)") + ".")
    add_stability_line(fig, edge, ys, frame=frame, hover_x=hover_x, hover_y=hover_y)
    return what
