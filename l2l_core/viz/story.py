"""Figure builders the tour and the reproduction need beyond ``figures`` and
``figures_outer``: the bare inner-loss curve and the quadratic-task loss
curves of the learning-to-learn post. Numpy in, ``go.Figure`` out; no streamlit.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from l2l_core.viz import style
from l2l_core.viz.learned import two_axes

#: Colours and labels per optimizer: the one palette of l2l_core.viz.style.
OPTIMIZER_COLORS = style.OPTIMIZER_COLORS
OPTIMIZER_LABELS = style.OPTIMIZER_LABELS


def inner_loss_curve_figure(xs, loss, *, title="inner loss f(x) = log(x² + 1 + sin 3x) + 1.5"):
    """The post's first plot: the 1-D inner loss over x."""
    fig = go.Figure(go.Scatter(x=np.asarray(xs), y=np.asarray(loss), mode="lines", name="f(x)",
                               line=dict(color=style.CURVE, width=2),
                               hovertemplate="x=%{x:.3f}<br>f(x)=%{y:.4f}<extra></extra>"))
    fig.update_layout(title=title, xaxis_title="x", yaxis_title="inner loss", height=420,
                      margin=dict(t=40, b=10))
    return fig


def quadratic_losses_figure(losses: dict, *, best_lr: dict | None = None, log_y: bool = True,
                            title="mean loss over quadratic tasks"):
    """Mean (over tasks) loss against step, one line per optimizer.

    Args:
      losses: name -> array (steps+1, tasks) of per-task losses.
      best_lr: name -> tuned learning rate, shown in the legend.
    """
    fig = go.Figure()
    for name, arr in losses.items():
        a = np.asarray(arr, dtype=np.float64)
        with np.errstate(invalid="ignore", over="ignore"):
            mean = a.mean(axis=1) if a.ndim == 2 else a
        label = OPTIMIZER_LABELS.get(name, name)
        if best_lr and name in best_lr:
            label += f" (lr {best_lr[name]:.3g})"
        fig.add_trace(go.Scatter(x=np.arange(len(mean)), y=mean, mode="lines", name=label,
                                 line=dict(color=OPTIMIZER_COLORS.get(name), width=2.5 if name == "lstm" else 1.6),
                                 hovertemplate=f"{label}<br>step %{{x}}<br>mean loss %{{y:.4g}}<extra></extra>"))
    fig.update_xaxes(title="step")
    fig.update_yaxes(title="mean loss ||Wθ − y||²", **(style.LOG_AXIS if log_y else dict(type="linear")))
    fig.update_layout(title=title, height=460, legend=dict(style.LEGEND, y=-0.2), margin=dict(t=40, b=10))
    return fig


def meta_training_figure(curve: dict, *, title="meta-training of the shipped LSTM optimizer"):
    """A checkpoint's training curve: meta-loss per meta-step and, if recorded, the validation loss."""
    fig = go.Figure()
    ml = np.asarray(curve.get("meta_loss", []), dtype=np.float64)
    if ml.size:
        fig.add_trace(go.Scatter(x=np.arange(1, ml.size + 1), y=ml, mode="lines",
                                 name="meta-loss, training tasks (left axis)", line=dict(color="#999", width=1)))
    vs, vl = curve.get("val_steps"), curve.get("val_loss")
    if vs is not None and vl is not None and len(vs):
        fig.add_trace(go.Scatter(x=np.asarray(vs), y=np.asarray(vl, dtype=np.float64), mode="lines+markers",
                                 name="loss on held-out tasks (right axis)", line=dict(color="#111", width=2),
                                 yaxis="y2"))
    fig.update_xaxes(title="meta-step")
    two_axes(fig, "meta-loss (mean over the unrolled steps)", "held-out loss after 100 steps", "#777", "#111")
    fig.update_layout(title=title, height=420, legend=dict(style.LEGEND, y=-0.2), margin=dict(t=40, b=10))
    return fig
