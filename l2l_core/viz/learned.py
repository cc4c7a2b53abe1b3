"""Plotly figures of the learned-optimizer page: data in, go.Figure out (no streamlit)."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from l2l_core.io.files import columns_csv
from l2l_core.viz import style

COLORS = style.OPTIMIZER_COLORS
LABELS = style.OPTIMIZER_LABELS


def _rgba(hex_color: str, alpha: float) -> str:
    r, g, b = (int(hex_color[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def meta_loss_figure(meta_loss, final_loss=None, val_steps=None, val_loss=None, title="Meta-training") -> go.Figure:
    """Per meta-step training losses and the validation loss, log scale, on two axes: the
    meta-loss (the mean over the unrolled steps, large early losses included) on the left,
    the losses after the last step (training tasks, validation) on the right."""
    fig = go.Figure()
    x = np.arange(1, len(meta_loss) + 1)
    fig.add_scatter(x=x, y=np.asarray(meta_loss), mode="lines", name="meta-loss: mean over the 100 unrolled steps "
                    "(left axis)", line=dict(color="#ff7f0e", width=1))
    if final_loss is not None and len(final_loss):
        fig.add_scatter(x=x, y=np.asarray(final_loss), mode="lines", name="loss after the last unrolled step "
                        "(right axis)", line=dict(color="#1f77b4", width=1), yaxis="y2")
    if val_steps is not None and len(val_steps):
        fig.add_scatter(x=np.asarray(val_steps), y=np.asarray(val_loss), mode="lines+markers",
                        name="validation: loss after 100 steps (right axis)", line=dict(color="#d62728", width=2),
                        yaxis="y2")
    two_axes(fig, "meta-loss (mean over the unrolled steps)", "loss after the last step", "#ff7f0e", "#d62728")
    fig.update_layout(title=title, xaxis_title="meta-step", height=340, margin=dict(l=60, r=60, t=50, b=40),
                      legend=dict(style.LEGEND, y=-0.3))
    return fig


def two_axes(fig: go.Figure, left: str, right: str, left_color: str, right_color: str) -> go.Figure:
    """Log y axes on both sides, each titled in the colour of its curves, with explicit ticks
    for the values of its own traces (call it after adding them)."""
    ys = {"y": [], "y2": []}
    for t in fig.data:
        if t.y is not None:
            ys["y2" if t.yaxis == "y2" else "y"].append(np.asarray(t.y, np.float64))
    fig.update_layout(yaxis=dict(style.log_ticks(*ys["y"]), title=dict(text=left, font=dict(color=left_color))),
                      yaxis2=dict(style.log_ticks(*ys["y2"]), title=dict(text=right, font=dict(color=right_color)),
                                  overlaying="y", side="right", showgrid=False))
    return fig


def loss_bands(losses: np.ndarray, q=(25, 75)) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(steps+1, B) per-task losses -> (mean, lower quantile, upper quantile) per step."""
    with np.errstate(invalid="ignore", over="ignore"):
        losses = np.asarray(losses, np.float64)
        return losses.mean(axis=1), np.nanpercentile(losses, q[0], axis=1), np.nanpercentile(losses, q[1], axis=1)


def comparison_figure(losses: dict, title: str = "Loss on fresh tasks") -> go.Figure:
    """Log loss against step: the mean over tasks (line) and the 25-75% band."""
    fig = go.Figure()
    for name, arr in losses.items():
        mean, lo, hi = loss_bands(arr)
        steps = np.arange(len(mean))
        color = COLORS.get(name, "#333333")
        fig.add_scatter(x=np.concatenate([steps, steps[::-1]]), y=np.concatenate([hi, lo[::-1]]),
                        fill="toself", fillcolor=_rgba(color, 0.15), line=dict(width=0), hoverinfo="skip",
                        showlegend=False, legendgroup=name)
        fig.add_scatter(x=steps, y=mean, mode="lines", name=LABELS.get(name, name), legendgroup=name,
                        line=dict(color=color, width=3 if name == "lstm" else 2))
    fig.update_layout(title=title, xaxis_title="step", yaxis_title="loss (mean over tasks; band: 25-75%)",
                      yaxis=style.LOG_AXIS, height=420, margin=dict(l=60, r=20, t=50, b=40))
    return fig


def update_figure(records: dict, max_points: int = 4000) -> go.Figure:
    """Update against gradient, one panel per optimizer, coloured by step."""
    names = list(records)
    fig = make_subplots(rows=1, cols=len(names), subplot_titles=[LABELS.get(n, n) for n in names])
    rng = np.random.default_rng(0)
    for j, name in enumerate(names, start=1):
        r = records[name]
        idx = np.arange(len(r["grad"]))
        if len(idx) > max_points:
            idx = np.sort(rng.choice(idx, max_points, replace=False))
        fig.add_scatter(x=r["grad"][idx], y=r["update"][idx], mode="markers", row=1, col=j, showlegend=False,
                        marker=dict(size=3, color=r["step"][idx], colorscale="Viridis", cmin=0,
                                    cmax=max(1, int(r["step"].max())), showscale=j == len(names),
                                    colorbar=dict(title="step")))
        fig.update_xaxes(title_text="gradient", type="linear", row=1, col=j)
        fig.update_yaxes(title_text="update" if j == 1 else None, row=1, col=j)
    fig.update_layout(height=380, margin=dict(l=60, r=20, t=50, b=40),
                      title="What each optimizer does with a gradient (one dot per coordinate and step)")
    return fig


def comparison_rows(result: dict) -> list[dict]:
    """Rows of the final-loss table: optimizer, final mean loss, vs the LSTM, best lr."""
    lstm = result["final"]["lstm"]
    rows = []
    for name, v in sorted(result["final"].items(), key=lambda kv: (np.nan_to_num(kv[1], nan=np.inf))):
        rows.append({"optimizer": LABELS.get(name, name), f"loss after {result['steps']} steps": v,
                     "LSTM relative to it": (f"{100 * (lstm / v - 1):+.0f}%" if name != "lstm" and v > 0 else ""),
                     "best learning rate": result["best_lr"].get(name)})
    return rows


def curves_csv(losses: dict) -> str:
    """One row per step: mean, 25% and 75% of the loss for every optimizer."""
    cols = {}
    for name, arr in losses.items():
        cols[f"{name}_mean"], cols[f"{name}_p25"], cols[f"{name}_p75"] = loss_bands(arr)
    n = len(next(iter(cols.values()))) if cols else 0
    return columns_csv(step=np.arange(n), **cols)
