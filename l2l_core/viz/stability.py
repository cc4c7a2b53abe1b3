"""The theory line of a map: the edge linear stability predicts from the start's curvature.

:func:`add_stability_line` draws one x value per row (from
:func:`l2l_core.probe.thresholds.stability_edge`) as a line over a heatmap; a row
without an edge (NaN: off the view, or no positive curvature at the start) leaves a gap.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

#: The legend entry of the line (tests find the trace by it).
NAME = "stability edge (linear, at the start)"
COLOR = "white"


def add_stability_line(fig: go.Figure, x_values_per_row, y_values, *, frame=(0.0, 1.0, 0.0, 1.0),
                       name: str = NAME, hover_x: str = "x", hover_y: str = "y") -> go.Figure:
    """Adds the edge as a dashed line, one point per row; NaN rows are gaps.

    Args:
      x_values_per_row: the edge's x (the map's display unit) for each row; NaN where it has none.
      y_values: each row's y (display unit), same length.
      frame: (cx, sx, cy, sy) of a map whose chart shows (v - c) / s (deep zoom); identity otherwise.
      hover_x, hover_y: the axes' names in the hover text.
    """
    xs = np.asarray(x_values_per_row, np.float64).ravel()
    ys = np.asarray(y_values, np.float64).ravel()
    if xs.shape != ys.shape:
        raise ValueError(f"one edge value per row: got {xs.size} x values for {ys.size} rows")
    cx, sx, cy, sy = frame
    fig.add_trace(go.Scatter(
        x=(xs - cx) / sx, y=(ys - cy) / sy, mode="lines", name=name, connectgaps=False,
        line=dict(color=COLOR, width=2.5, dash="dash"), customdata=np.stack([xs, ys], axis=-1),
        hovertemplate=f"stability edge<br>{hover_x}=%{{customdata[0]:.6g}}<br>{hover_y}=%{{customdata[1]:.6g}}"
                      "<extra></extra>",
    ))
    return fig
