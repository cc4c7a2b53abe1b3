"""Figures for outer optimization: trajectories on the landscape, outer-loss
curves, local shifts and the gradient-estimator diagnostic. No streamlit."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from l2l_core.viz import style
from l2l_core.viz.landscape import DIVERGED_COLOR, display_stride

#: One colour per outer method (l2l_core.viz.style), also for its legend entries.
METHOD_COLORS = style.METHOD_COLORS
#: Darker variants for curves on a white background.
CURVE_COLORS = style.METHOD_COLORS
#: Most points per curve sent to the browser.
MAX_CURVE_POINTS = 500


def _thin(n: int, max_points: int = MAX_CURVE_POINTS) -> np.ndarray:
    idx = np.arange(0, n, max(1, -(-n // max_points)))
    return idx if idx[-1] == n - 1 else np.append(idx, n - 1)


def landscape_outer_figure(grid, log_lrs, log_omm, *, cap=10.0, frame=(0.0, 1.0, 0.0, 1.0), runs=(),
                           best=None, max_display=400, title="meta-loss landscape"):
    """Heatmap of ``grid`` with outer trajectories on top; box-select ready.

    Args:
      frame: (cx, sx, cy, sy) from :func:`l2l_core.landscape.zoom.display_frame`; the
        axes show (log_lr - cx) / sx and (log_omm - cy) / sy.
      runs: dicts with ``label``, ``method``, ``trajectory`` (n, 2) and ``end_loss``.
      best: (log_lr, log_omm, loss) of the best cell, or None.
    """
    grid = np.asarray(grid, dtype=np.float64)
    log_lrs, log_omm = np.asarray(log_lrs, np.float64), np.asarray(log_omm, np.float64)
    cx, sx, cy, sy = frame
    sty, stx = display_stride(len(log_omm), max_display), display_stride(len(log_lrs), max_display)
    z = grid[::sty, ::stx]
    xs, ys = log_lrs[::stx], log_omm[::sty]
    u, w = (xs - cx) / sx, (ys - cy) / sy
    custom = np.stack(np.broadcast_arrays(xs[None, :], ys[:, None]), axis=-1)
    fig = go.Figure()
    fig.add_trace(go.Heatmap(
        z=np.minimum(z, cap), x=u, y=w, zmin=np.nanmin(z) if np.isfinite(z).any() else 0, zmax=cap,
        colorscale="Viridis", colorbar=dict(title=f"outer loss<br>(capped at {cap:g})"), customdata=custom,
        name="outer loss",
        hovertemplate="log10 lr=%{customdata[0]:.15g}<br>log10(1-mom)=%{customdata[1]:.15g}"
                      "<br>outer loss=%{z:.6g}<extra></extra>",
    ))
    nan_mask = ~np.isfinite(z)
    if nan_mask.any():
        fig.add_trace(go.Heatmap(z=np.where(nan_mask, 1.0, np.nan), x=u, y=w, showscale=False, name="diverged",
                                 colorscale=[[0, DIVERGED_COLOR], [1, DIVERGED_COLOR]], hoverinfo="skip"))
    # Box selection needs a selectable trace; four invisible corner points make one.
    fig.add_trace(go.Scatter(x=[u[0], u[-1], u[0], u[-1]], y=[w[0], w[0], w[-1], w[-1]], mode="markers",
                             marker=dict(opacity=0, size=1), showlegend=False, hoverinfo="skip",
                             name="select"))
    seen = set()
    for r in runs:
        color = style.method_color(r["method"])
        dash = style.seed_dash(int(r.get("seed", 0) or 0))
        t = np.asarray(r["trajectory"], dtype=np.float64)
        idx = _thin(len(t), 2000)
        tu, tw = (t[idx, 0] - cx) / sx, (t[idx, 1] - cy) / sy
        group = r["method"]
        fig.add_trace(go.Scatter(
            x=tu, y=tw, mode="lines", line=dict(color=color, width=1.8, dash=dash), name=r["method_title"],
            legendgroup=group, showlegend=group not in seen, hoverinfo="skip",
        ))
        seen.add(group)
        fig.add_trace(go.Scatter(
            x=[tu[0]], y=[tw[0]], mode="markers", legendgroup=group, showlegend=False,
            marker=dict(symbol="circle", size=10, color=color, line=dict(color="black", width=1)),
            hovertemplate=f"start of {r['label']}<extra></extra>",
        ))
        fig.add_trace(go.Scatter(
            x=[tu[-1]], y=[tw[-1]], mode="markers", legendgroup=group, showlegend=False,
            marker=dict(symbol="x", size=12, color=color, line=dict(color="black", width=1)),
            hovertemplate=f"end of {r['label']}: outer loss {r['end_loss']:.4f}<extra></extra>",
        ))
    if runs:
        fig.add_trace(go.Scatter(x=[None], y=[None], mode="markers", name="start",
                                 marker=dict(symbol="circle", size=9, color="#888")))
        fig.add_trace(go.Scatter(x=[None], y=[None], mode="markers", name="end",
                                 marker=dict(symbol="x", size=10, color="#888")))
    if nan_mask.any():
        fig.add_trace(go.Scatter(x=[None], y=[None], mode="markers", name="diverged (NaN)",
                                 marker=dict(color=DIVERGED_COLOR, symbol="square", size=10)))
    if best is not None:
        fig.add_trace(go.Scatter(
            x=[(best[0] - cx) / sx], y=[(best[1] - cy) / sy], mode="markers", name=f"best cell ({best[2]:.4f})",
            marker=dict(symbol="star", size=16, color="white", line=dict(color="black", width=1.5)),
            hoverinfo="skip",
        ))

    def label(name, c, s):
        if s == 1.0 and c == 0.0:
            return name
        return f"({name} − {c:.15g}) / {s:.0e}"

    fig.update_xaxes(title=label("log10 learning rate", cx, sx), range=[u[0], u[-1]])
    fig.update_yaxes(title=(style.MOMENTUM_AXIS_TITLE if (cy, sy) == (0.0, 1.0) else
                            label("log10(1 − momentum)", cy, sy) + ": more momentum up"), range=[w[-1], w[0]])
    fig.update_layout(title=title, height=620, dragmode="select", legend=dict(style.LEGEND, y=-0.14),
                      margin=dict(t=40, b=10), uirevision=None)
    return fig


def outer_loss_curves_figure(runs, *, cap=None):
    """Outer loss f(theta_t) against outer step, one line per run."""
    fig = go.Figure()
    for r in runs:
        losses = np.asarray(r["losses"], dtype=np.float64)
        idx = _thin(len(losses))
        fig.add_trace(go.Scatter(x=idx, y=losses[idx], mode="lines", name=r["label"],
                                 line=dict(color=style.method_color(r["method"]), width=1.4,
                                           dash=style.seed_dash(int(r.get("seed", 0) or 0))),
                                 legendgroup=r["method"]))
    fig.update_xaxes(title="outer step")
    fig.update_yaxes(title="outer loss at the iterate")
    if cap is not None:
        fig.update_yaxes(range=[0, cap])
    fig.update_layout(title="outer loss along each trajectory", height=620,
                      legend=dict(style.LEGEND, y=-0.2), margin=dict(t=40, b=10))
    return fig


def local_shift_figure(curves, title="local shifts around the end point"):
    """The post's plot: outer loss along lr and momentum shifts of +-w."""
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=curves["shift"], y=curves["lr_shift"], mode="lines", name="lr shift"))
    fig.add_trace(go.Scatter(x=curves["shift"], y=curves["mom_shift"], mode="lines", name="mom shift"))
    fig.add_vline(x=0.0, line=dict(color="#888", dash="dot"))
    fig.update_xaxes(title="shift (log10 units)")
    fig.update_yaxes(title="outer loss")
    fig.update_layout(title=title, height=380, margin=dict(t=40, b=10))
    return fig


def estimator_figure(result, *, max_points=400):
    """Scatter of gradient estimates per estimator in the gradient plane, with
    the true gradient (jax.grad) and the smoothed gradient marked."""
    colors = [style.method_color(m) for m in ("es", "pes", "tbptt")]
    fig = go.Figure()
    for (name, st), c in zip(result["estimators"].items(), colors):
        s = st.samples[:max_points]
        fig.add_trace(go.Scatter(x=s[:, 0], y=s[:, 1], mode="markers", name=f"{name} samples",
                                 marker=dict(color=c, size=5, opacity=0.45)))
        fig.add_trace(go.Scatter(x=[st.mean[0]], y=[st.mean[1]], mode="markers", name=f"{name} mean",
                                 marker=dict(color=c, size=14, symbol="diamond", line=dict(color="black", width=1))))
    tg, sg = result["true_grad"], result["smoothed_grad"]
    fig.add_trace(go.Scatter(x=[tg[0]], y=[tg[1]], mode="markers", name="true gradient (jax.grad)",
                             marker=dict(color=style.TRUE_GRADIENT, size=18, symbol="star",
                                         line=dict(color="black", width=1))))
    fig.add_trace(go.Scatter(x=[sg[0]], y=[sg[1]], mode="markers", name="smoothed-loss gradient (ES, 4096 pairs)",
                             marker=dict(color=style.SMOOTHED_GRADIENT, size=16, symbol="star-diamond",
                                         line=dict(color="black", width=1))))
    fig.update_xaxes(title="∂f/∂ log10 lr")
    fig.update_yaxes(title="∂f/∂ log10(1 − momentum)")
    fig.update_layout(title="gradient estimates at the point", height=560, legend=dict(style.LEGEND, y=-0.18),
                      margin=dict(t=40, b=10))
    return fig
