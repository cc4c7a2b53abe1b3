"""Plotly figure builders for the landscape pages: numpy in, ``go.Figure`` out.

No streamlit here; pages call these and hand the result to ``st.plotly_chart``.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from l2l_core.inner.hyperparams import lr_momentum
from l2l_core.viz import style

#: Most cells per axis sent to the browser; finer grids are subsampled for display.
MAX_DISPLAY = 400
DIVERGED_COLOR = style.DIVERGED


def inner_problem_figure(xs_curve, loss_curve, path_x, path_loss, title="", path_name="SGD+momentum path"):
    """The loss curve over x with the path of one inner run drawn on it."""
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=xs_curve, y=loss_curve, mode="lines", name="inner loss f(x)",
                             line=dict(color=style.CURVE, width=2)))
    steps = np.arange(len(path_x))
    fig.add_trace(go.Scatter(
        x=path_x, y=path_loss, mode="lines+markers", name=path_name,
        marker=dict(color=steps, colorscale="Viridis", size=7, showscale=True,
                    colorbar=dict(title="step", x=1.02)),
        line=dict(color="rgba(80,80,200,0.35)", width=1),
        customdata=steps, hovertemplate="step %{customdata}<br>x=%{x:.4f}<br>f(x)=%{y:.4f}<extra></extra>",
    ))
    fig.add_trace(go.Scatter(x=[path_x[0]], y=[path_loss[0]], mode="markers", name="start",
                             marker=dict(symbol="circle-open", size=14, color="green", line=dict(width=3))))
    fig.add_trace(go.Scatter(x=[path_x[-1]], y=[path_loss[-1]], mode="markers", name="end",
                             marker=dict(symbol="x", size=14, color="red")))
    fig.update_layout(title=title, xaxis_title="x", yaxis_title="inner loss f(x)",
                      legend=dict(style.LEGEND, y=-0.2), margin=dict(t=40, b=10))
    return fig


def inner_contour_figure(xs, ys, z, path, title="", path_name="path"):
    """A 2-D task's loss as contours (log10(1 + loss)) with one run's path (steps, 2) on it."""
    fig = go.Figure(go.Contour(x=xs, y=ys, z=np.log10(1.0 + np.maximum(np.asarray(z, float), 0.0)),
                               colorscale="Blues", reversescale=True, ncontours=30, name="log10(1 + f)",
                               colorbar=dict(title="log10(1+f)", x=1.02),
                               hovertemplate="x=%{x:.4f}<br>y=%{y:.4f}<br>log10(1+f)=%{z:.4f}<extra></extra>"))
    path = np.asarray(path, float)
    steps = np.arange(len(path))
    fig.add_trace(go.Scatter(x=path[:, 0], y=path[:, 1], mode="lines+markers", name=path_name,
                             marker=dict(color=steps, colorscale="Viridis", size=6),
                             line=dict(color="rgba(230,80,30,0.7)", width=1.5), customdata=steps,
                             hovertemplate="step %{customdata}<br>x=%{x:.4f}<br>y=%{y:.4f}<extra></extra>"))
    fig.add_trace(go.Scatter(x=[path[0, 0]], y=[path[0, 1]], mode="markers", name="start",
                             marker=dict(symbol="circle-open", size=14, color="green", line=dict(width=3))))
    end = path[np.isfinite(path).all(axis=1)][-1:] if np.isfinite(path).any() else path[:1]
    fig.add_trace(go.Scatter(x=end[:, 0], y=end[:, 1], mode="markers", name="end",
                             marker=dict(symbol="x", size=14, color="red")))
    fig.update_xaxes(title="x", range=[xs[0], xs[-1]])
    fig.update_yaxes(title="y", range=[ys[0], ys[-1]])
    fig.update_layout(title=title, legend=dict(style.LEGEND, y=-0.2), margin=dict(t=40, b=10))
    return fig


def loss_vs_step_figure(losses, title="inner loss against step"):
    fig = go.Figure(go.Scatter(x=np.arange(len(losses)), y=losses, mode="lines+markers",
                               name="inner loss", hovertemplate="step %{x}<br>loss=%{y:.4f}<extra></extra>"))
    fig.update_layout(title=title, xaxis_title="inner step", yaxis_title="inner loss",
                      margin=dict(t=40, b=10))
    return fig


def lr_sweep_figure(log_lrs, loss, momentum, y_cap=None, reduce_label="mean inner loss", title=None):
    """Outer loss against learning rate on a log axis; diverged runs marked on top."""
    lrs = 10.0 ** np.asarray(log_lrs)
    loss = np.asarray(loss, dtype=float)
    with np.errstate(invalid="ignore"):
        above = np.isfinite(loss) & (loss > y_cap) if y_cap is not None else np.zeros(loss.shape, bool)
    shown = np.where(above, y_cap if y_cap is not None else 0.0, loss)  # drawn at the cap, not off the chart
    fig = go.Figure(go.Scattergl(x=lrs, y=shown, mode="lines", name=f"outer loss ({reduce_label})",
                                 line=dict(width=1), customdata=loss,
                                 hovertemplate="lr=%{x:.5g}<br>outer loss=%{customdata:.4f}<extra></extra>"))
    if above.any():
        fig.add_trace(go.Scattergl(x=lrs[above], y=np.full(above.sum(), y_cap), mode="markers", customdata=loss[above],
                                   name=f"above the cap of {y_cap:g} ({above.sum()}): drawn at the cap",
                                   marker=dict(color="#555", size=5, symbol="triangle-up"),
                                   hovertemplate="lr=%{x:.5g}<br>outer loss=%{customdata:.4g} (above the cap)"
                                                 "<extra></extra>"))
    bad = ~np.isfinite(loss)
    if bad.any():
        top = y_cap if y_cap is not None else float(np.nanmax(loss)) if np.isfinite(loss).any() else 1.0
        fig.add_trace(go.Scattergl(x=lrs[bad], y=np.full(bad.sum(), top), mode="markers",
                                   name=f"diverged ({bad.sum()})",
                                   marker=dict(color=DIVERGED_COLOR, size=4, symbol="x")))
    fig.update_xaxes(title="learning rate (log scale)", **style.LOG_AXIS)
    fig.update_yaxes(title=f"outer loss ({reduce_label})")
    if y_cap is not None:
        finite = loss[np.isfinite(loss)]
        lo = float(finite.min()) if finite.size else 0.0
        fig.update_yaxes(range=[min(lo, y_cap) - 0.05 * abs(y_cap - lo), y_cap])
    fig.update_layout(title=title or f"outer loss against learning rate, momentum = {momentum:g}",
                      legend=dict(style.LEGEND, y=-0.2), margin=dict(t=40, b=10))
    return fig


def display_stride(n: int, max_display: int = MAX_DISPLAY) -> int:
    return max(1, -(-n // max_display))


def heatmap_figure(grid, log_lrs, log_omm, *, cap=10.0, best=None, max_display=MAX_DISPLAY,
                   title="meta-loss landscape"):
    """The lr x momentum heatmap, subsampled to at most ``max_display`` per axis.

    Cells above ``cap`` saturate the colour scale; diverged (NaN) cells get
    their own colour; ``best`` = (log_lr, log_omm, loss) is marked.
    """
    grid = np.asarray(grid)
    log_lrs, log_omm = np.asarray(log_lrs), np.asarray(log_omm)
    sy, sx = display_stride(len(log_omm), max_display), display_stride(len(log_lrs), max_display)
    z = grid[::sy, ::sx].astype(np.float64)
    xs, ys = log_lrs[::sx], log_omm[::sy]
    lr_txt, mom_txt = lr_momentum(xs, ys)
    custom = np.stack(np.broadcast_arrays(lr_txt[None, :], mom_txt[:, None]), axis=-1)
    custom = np.round(custom, 8)
    fig = go.Figure()
    fig.add_trace(go.Heatmap(
        z=np.minimum(z, cap), x=xs, y=ys, zmin=np.nanmin(z) if np.isfinite(z).any() else 0, zmax=cap,
        colorscale="Viridis", colorbar=dict(title=f"outer loss<br>(capped at {cap:g})"),
        customdata=custom, name="outer loss",
        hovertemplate="lr=%{customdata[0]:.5g}<br>momentum=%{customdata[1]:.6g}"
                      "<br>log10 lr=%{x:.4f}<br>log10(1-mom)=%{y:.4f}<br>outer loss=%{z:.4f}<extra></extra>",
    ))
    nan_mask = ~np.isfinite(z)
    if nan_mask.any():
        fig.add_trace(go.Heatmap(
            z=np.where(nan_mask, 1.0, np.nan), x=xs, y=ys, showscale=False, name="diverged",
            colorscale=[[0, DIVERGED_COLOR], [1, DIVERGED_COLOR]], hoverinfo="skip",
        ))
        fig.add_trace(go.Scatter(x=[None], y=[None], mode="markers", name="diverged (NaN)",
                                 marker=dict(color=DIVERGED_COLOR, symbol="square", size=10)))
    if best is not None:
        fig.add_trace(go.Scatter(
            x=[best[0]], y=[best[1]], mode="markers", name=f"best cell ({best[2]:.4f})",
            marker=dict(symbol="star", size=16, color="white", line=dict(color="black", width=1.5)),
            hovertemplate="best: log10 lr=%{x:.4f}<br>log10(1-mom)=%{y:.4f}<extra></extra>",
        ))
    fig.update_xaxes(title="log10 learning rate", range=[log_lrs[0], log_lrs[-1]])
    fig.update_yaxes(title=style.MOMENTUM_AXIS_TITLE, range=[log_omm[-1], log_omm[0]])
    fig.update_layout(title=title, height=650, legend=dict(style.LEGEND, y=-0.12),
                      margin=dict(t=40, b=10))
    return fig


def point_thumbnail(grid, log_lrs, log_omm, point, *, cap=10.0, height=230):
    """A small lr x momentum landscape (colour: outer loss capped at ``cap``, diverged cells
    magenta) with ``point`` = (log10 lr, log10(1 - momentum)) marked: where a page's point lies."""
    fig = heatmap_figure(grid, log_lrs, log_omm, cap=cap, max_display=120, title=None)
    fig.update_traces(showscale=False, selector=dict(type="heatmap"))
    fig.add_trace(go.Scatter(x=[point[0]], y=[point[1]], mode="markers", name="this point",
                             marker=dict(symbol="x", size=13, color="white", line=dict(color="black", width=2)),
                             hovertemplate="this point: log10 lr=%{x:.4f}<br>log10(1-mom)=%{y:.4f}<extra></extra>"))
    fig.update_xaxes(title=dict(text="log10 lr", standoff=2))
    fig.update_yaxes(title=dict(text="log10(1 − mom): 0 at the bottom", standoff=2))
    fig.update_layout(height=height, showlegend=False, margin=dict(l=10, r=10, t=10, b=10))
    return fig
