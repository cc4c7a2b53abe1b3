"""Figures of the trainability fractal: the paper's colouring, and the box-count fit.

The paper's colouring: the convergence measure's values are rank-equalized
separately for each sign, trained runs onto [-1, -0.25] and diverged ones onto
[0.25, 1], and drawn with a diverging map: trained blue, diverged red. Rank
equalization shows structure at every scale whatever the measure's spread.
"""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go

from l2l_core.viz import style

#: Diverging map, trained (negative) blue to diverged (positive) red.
COLORSCALE = "RdBu_r"
#: Largest pixels per axis sent to the browser (finer images are subsampled).
MAX_DISPLAY = 512


def rank_equalize(z) -> np.ndarray:
    """The paper's colour values: each sign's values ranked onto [0.25, 1] in size.

    Negative values (trained; -sum v, most negative = slowest) map to
    [-1, -0.25], the most negative to -1; positive ones (diverged; sum 1/v,
    largest = slowest) to [0.25, 1], the largest to 1; NaN (a plain
    summary's diverged run) counts as the largest diverged value; 0 stays 0.
    """
    z = np.asarray(z, dtype=np.float64)
    out = np.zeros(z.shape)
    flat, res = np.where(np.isnan(z), np.inf, z).ravel(), out.ravel()
    for sign in (-1.0, 1.0):
        idx = np.nonzero(flat * sign > 0)[0]
        if idx.size == 0:
            continue
        order = np.argsort(np.argsort(flat[idx] * sign, kind="stable"), kind="stable")
        frac = order / max(idx.size - 1, 1)
        res[idx] = sign * (0.25 + 0.75 * frac)
    return out


def loss_colour_values(z) -> np.ndarray:
    """A plain loss summary drawn the paper's way: trained runs (finite) in blue by
    rank of their loss, diverged runs (NaN) red."""
    z = np.asarray(z, dtype=np.float64)
    return rank_equalize(np.where(np.isnan(z), 1.0, -1.0 / (1.0 + np.abs(z))))


def axis_frame(lo: float, hi: float) -> tuple[float, float]:
    """(centre, unit): draw (value - centre) / unit, so deep-zoom ticks stay legible."""
    w = hi - lo
    if w >= 1e-3:
        return 0.0, 1.0
    return (lo + hi) / 2.0, 10.0 ** math.floor(math.log10(w))


def _axis_title(name: str, centre: float, unit: float) -> str:
    if unit == 1.0:
        return name
    return f"{name} − {centre:.17g}  (×{unit:.0e})"


def fractal_figure(z, x_values, y_values, *, summary: str = "converge", axis_names=("log10 lr_in", "log10 lr_out"),
                   title: str = "", max_display: int = MAX_DISPLAY) -> go.Figure:
    """The trainability image in the paper's colours; hover shows the raw value.

    Deep in, each axis is drawn as an offset from the window's centre in units
    of a power of ten (the title says which), since the numbers would no longer
    fit on a tick.
    """
    z = np.asarray(z)
    xs, ys = np.asarray(x_values, np.float64), np.asarray(y_values, np.float64)
    sy, sx = max(1, -(-z.shape[0] // max_display)), max(1, -(-z.shape[1] // max_display))
    z, xs, ys = z[::sy, ::sx], xs[::sx], ys[::sy]
    colour = rank_equalize(z) if summary == "converge" else loss_colour_values(z)
    cx, ux = axis_frame(xs[0], xs[-1])
    cy, uy = axis_frame(ys[0], ys[-1])
    fig = go.Figure(go.Heatmap(
        z=colour, x=(xs - cx) / ux, y=(ys - cy) / uy, customdata=z, zmin=-1, zmax=1, colorscale=COLORSCALE,
        colorbar=dict(title="rank", tickvals=[-1, -0.25, 0.25, 1],
                      ticktext=["trained slowly", "trained fast", "diverged fast", "diverged slowly"]),
        hovertemplate=f"{axis_names[0]}=%{{x}}<br>{axis_names[1]}=%{{y}}<br>{summary}=%{{customdata:.4g}}"
                      "<extra></extra>",
    ))
    fig.update_layout(title=title, xaxis_title=_axis_title(axis_names[0], cx, ux),
                      yaxis_title=_axis_title(axis_names[1], cy, uy), dragmode="select",
                      margin=dict(t=40, b=10), height=620)
    fig.update_yaxes(scaleanchor=None)
    return fig


def box_count_figure(sizes, counts, dimension: float, intercept: float, paper: float | None = None) -> go.Figure:
    """log N(s) against log s with the fitted line; its slope is minus the dimension."""
    sizes, counts = np.asarray(sizes, np.float64), np.asarray(counts, np.float64)
    fit = np.exp(intercept) * sizes ** (-dimension)
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=sizes, y=counts, mode="markers", name="occupied boxes N(s)",
                             marker=dict(size=9, color="#1f77b4")))
    fig.add_trace(go.Scatter(x=sizes, y=fit, mode="lines", name=f"fit: dimension {dimension:.3f}",
                             line=dict(color="#d62728")))
    note = f" (paper: {paper:.2f})" if paper is not None else ""
    fig.update_layout(title=f"box counting: D = {dimension:.3f}{note}",
                      xaxis=dict(style.log_ticks(sizes), title="box side s (pixels)"),
                      yaxis=dict(style.log_ticks(counts, fit), title="boxes holding boundary"),
                      legend=dict(orientation="h", y=-0.25), margin=dict(t=70, b=10), height=380)
    return fig
