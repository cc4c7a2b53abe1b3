"""Figures of one opened pixel (:func:`l2l_core.probe.run.inspect_run`): the run, its curvature against
the optimizer's threshold, and the landscape it crossed; plus the one sentence that says what the
curvature did. Plain plotly, no streamlit."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from l2l_core.viz.style import CURVE, DIVERGED, INK, LEGEND, NEUTRAL

HEIGHT = 360
#: Colours of the top-k eigenvalues (the first is the sharpness).
EIG_COLORS = ["#1f77b4", "#2ca02c", "#9467bd", "#8c564b", "#17becf", "#bcbd22", "#7f7f7f"]
THRESHOLD_COLOR = "#d62728"
#: "Near the threshold": within this fraction of it.
NEAR = 0.1


def _layout(fig, title: str, x_title: str, y_title: str, height: int = HEIGHT):
    fig.update_layout(title=dict(text=title, font=dict(size=14)), height=height, margin=dict(l=60, r=20, t=40, b=50),
                      legend=LEGEND, plot_bgcolor="white")
    fig.update_xaxes(title_text=x_title, showgrid=True, gridcolor="#eeeeee")
    fig.update_yaxes(title_text=y_title, showgrid=True, gridcolor="#eeeeee")
    return fig


def _finite(a) -> np.ndarray:
    a = np.asarray(a, np.float64)
    return np.where(np.isfinite(a), a, np.nan)


def diverged_at(loss) -> int | None:
    """The first step whose loss is not finite (None: the run stayed finite)."""
    bad = np.flatnonzero(~np.isfinite(np.asarray(loss, np.float64)))
    return int(bad[0]) if bad.size else None


def _mark_divergence(fig, loss, **where):
    at = diverged_at(loss)
    if at is not None:
        fig.add_vline(x=at, line=dict(color=DIVERGED, dash="dot"), annotation_text=f"diverged (step {at})",
                      annotation_font_color=DIVERGED, **where)


def loss_figure(loss, *, title: str = "training loss") -> go.Figure:
    """A network's full-batch training loss against step (log scale)."""
    loss = _finite(loss)
    steps = np.arange(loss.size)
    fig = go.Figure(go.Scatter(x=steps, y=loss, mode="lines", name="training loss", line=dict(color=CURVE)))
    _mark_divergence(fig, loss)
    positive = loss[np.isfinite(loss)] > 0
    _layout(fig, title, "step", "loss")
    if positive.size and positive.all():
        fig.update_yaxes(type="log", exponentformat="power")
    return fig


def run_1d_figure(loss, path, *, title: str = "the run") -> go.Figure:
    """A 1-D task: the iterate x_t (top) and the loss f(x_t) (bottom) against step."""
    loss, x = _finite(loss), _finite(np.asarray(path, np.float64).reshape(len(path), -1)[:, 0])
    steps = np.arange(loss.size)
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.08)
    fig.add_trace(go.Scatter(x=steps, y=x, mode="lines+markers", marker=dict(size=3), name="x_t",
                             line=dict(color=CURVE)), row=1, col=1)
    fig.add_trace(go.Scatter(x=steps, y=loss, mode="lines", name="f(x_t)", line=dict(color=INK)), row=2, col=1)
    _layout(fig, title, "", "", height=HEIGHT + 60)
    fig.update_xaxes(title_text="step", row=2, col=1)
    fig.update_yaxes(title_text="x_t", row=1, col=1)
    fig.update_yaxes(title_text="loss f(x_t)", row=2, col=1)
    return fig


def contour_figure(xs, ys, z, path, *, title: str = "the run on its landscape") -> go.Figure:
    """A 2-D task: log10 of the loss on a grid (rows = ys) with the path x_0 .. x_T drawn on it."""
    z = np.asarray(z, np.float64)
    shown = np.log10(np.maximum(z - np.nanmin(z[np.isfinite(z)]) if np.isfinite(z).any() else z, 0) + 1e-3)
    path = _finite(path)
    fig = go.Figure(go.Contour(x=xs, y=ys, z=shown, colorscale="Viridis", ncontours=25,
                               colorbar=dict(title="log10(f - min + 1e-3)", title_side="right"),
                               hovertemplate="x=%{x:.3g}<br>y=%{y:.3g}<extra></extra>"))
    fig.add_trace(go.Scatter(x=path[:, 0], y=path[:, 1], mode="lines+markers", marker=dict(size=3, color="white"),
                             line=dict(color="white", width=1.5), name="path"))
    fig.add_trace(go.Scatter(x=path[:1, 0], y=path[:1, 1], mode="markers", name="start",
                             marker=dict(size=10, color="white", symbol="circle-open", line=dict(width=2))))
    ok = np.flatnonzero(np.all(np.isfinite(path), axis=1))
    if ok.size:
        fig.add_trace(go.Scatter(x=path[ok[-1:], 0], y=path[ok[-1:], 1], mode="markers", name="end",
                                 marker=dict(size=11, color=THRESHOLD_COLOR, symbol="x")))
    _layout(fig, title, "x", "y", height=HEIGHT + 60)
    fig.update_xaxes(range=[float(np.min(xs)), float(np.max(xs))])
    fig.update_yaxes(range=[float(np.min(ys)), float(np.max(ys))])
    return fig


def curvature_quantity(result: dict) -> tuple[np.ndarray, str]:
    """(the curve the threshold bounds (R, k), its name): the sharpness, or the preconditioned one."""
    if result["meta"].get("threshold_of") == "precond_sharpness" and "precond_sharpness" in result:
        return np.asarray(result["precond_sharpness"], np.float64), "preconditioned sharpness"
    return np.asarray(result["sharpness"], np.float64), "sharpness"


def threshold_label(result: dict) -> str:
    """How the threshold is made, in words (2/lr, 2(1+m)/lr, ...)."""
    meta = result["meta"]
    opt, hp, of = meta["optimizer"], meta["hparams"], meta.get("threshold_of")
    m = hp.get("momentum", 0.0)
    if of == "none":
        return "no threshold"
    if opt == "sgd" and of == "sharpness":
        return "2/lr" if m == 0 else "2(1+m)/lr"
    if opt == "nesterov" and of == "sharpness":
        return "(2+2m)/((1+2m) lr)"
    if opt in ("sgd", "nesterov"):
        return "2(1+m) on λmax(P H), P the per-layer rates" if opt == "sgd" else "(2+2m)/(1+2m) on λmax(P H)"
    if opt in ("adam", "adamw"):
        return "(2+2 b1)/((1-b1) lr)"
    return "2/lr on the preconditioned sharpness"


def curvature_figure(result: dict, *, title: str = "curvature along the run") -> go.Figure:
    """The top-k Hessian eigenvalues at each checkpoint, with the optimizer's threshold as a horizontal line
    (and, for an adaptive optimizer or per-layer rates, the preconditioned sharpness it bounds)."""
    steps = np.asarray(result["sharpness_steps"])
    sharp = _finite(result["sharpness"])
    fig = go.Figure()
    for i in range(sharp.shape[1]):
        fig.add_trace(go.Scatter(x=steps, y=sharp[:, i], mode="lines+markers", marker=dict(size=4),
                                 name="sharpness λ1" if i == 0 else f"λ{i + 1}",
                                 line=dict(color=EIG_COLORS[i % len(EIG_COLORS)], width=2.5 if i == 0 else 1.2)))
    curve, name = curvature_quantity(result)
    if name != "sharpness":
        fig.add_trace(go.Scatter(x=steps, y=_finite(curve[:, 0]), mode="lines+markers", marker=dict(size=4),
                                 name="preconditioned sharpness", line=dict(color="#ff7f0e", width=2.5, dash="dash")))
    thr = float(result["threshold"])
    if np.isfinite(thr):
        fig.add_hline(y=thr, line=dict(color=THRESHOLD_COLOR, dash="dash"),
                      annotation_text=f"threshold {threshold_label(result)} = {thr:.4g}",
                      annotation_font_color=THRESHOLD_COLOR, annotation_position="top left")
    _mark_divergence(fig, result["loss"])
    _layout(fig, title, "step", "eigenvalue of the Hessian")
    return fig


def curvature_sentence(result: dict) -> str:
    """One sentence: what the curvature did against the threshold in this run."""
    loss = np.asarray(result["loss"], np.float64)
    thr = float(result["threshold"])
    curve, name = curvature_quantity(result)
    top = np.asarray(curve[:, 0], np.float64)
    label = threshold_label(result)
    at = diverged_at(loss)
    if not np.isfinite(thr):
        return (f"There is no single threshold for {result['meta']['optimizer']} with per-layer rates here; the "
                "eigenvalues are drawn without one.")
    if at is not None:
        start = float(np.asarray(result["sharpness"], np.float64)[0, 0])
        ratio = start / thr if name == "sharpness" else np.nan
        said = f" (the start's sharpness {start:.3g} is {ratio:.2g}x the threshold {thr:.3g})" if np.isfinite(
            ratio) else ""
        return (f"The run diverged at step {at}: the curvature it met was more than its step size can take"
                f"{said}; a trained pixel keeps its {name} at or below {label}.")
    ok = top[np.isfinite(top)]
    if ok.size == 0:
        return f"No {name} was computed for this run."
    first, last = float(ok[0]), float(ok[-1])
    tail = ok[len(ok) // 2:]
    near = abs(last - thr) <= NEAR * thr and np.all(np.abs(tail - thr) <= 2 * NEAR * thr)
    if near and abs(first - thr) <= NEAR * thr:
        return (f"The {name} was {first:.3g} from the start and ended at {last:.3g}, {last / thr - 1:+.1%} from "
                f"{label} = {thr:.3g}: this run sits at its stability edge from the start (the learning rate, not "
                "the training, put it there).")
    if near:
        verb = "rose" if first < thr else "fell"
        return (f"The {name} {verb} from {first:.3g} to {label} = {thr:.3g} and hovered there (last {last:.3g}, "
                f"{last / thr - 1:+.1%}) while the loss kept falling: the edge of stability.")
    if first > thr and last < (1 - NEAR) * thr:
        return (f"The {name} started above {label} ({first:.3g} against {thr:.3g}); the run was thrown out of that "
                f"region (a catapult) and ended at {last:.3g}, below the threshold.")
    if np.nanmax(ok) < (1 - NEAR) * thr:
        return (f"The {name} stayed below {label} = {thr:.3g} all along (at most {np.nanmax(ok):.3g}, last "
                f"{last:.3g}): a stable run, where classical step-size theory holds.")
    if last > (1 + NEAR) * thr:
        return (f"The {name} ended at {last:.3g}, above {label} = {thr:.3g}, and the run did not diverge: on a "
                "non-quadratic loss (or with too few steps to settle) the linear threshold is not the whole story.")
    return f"The {name} went from {first:.3g} to {last:.3g} against {label} = {thr:.3g}."


def slice_figure(a, b, z, *, title: str, x_title: str, y_title: str, path=None, center=(0.0, 0.0)) -> go.Figure:
    """A 2-D slice of the loss (rows = b) as log10 loss, with the end point and optionally a path on it."""
    z = np.asarray(z, np.float64)
    shown = np.log10(np.where(np.isfinite(z) & (z > 0), z, np.nan))
    fig = go.Figure(go.Heatmap(x=a, y=b, z=shown, colorscale="Viridis", colorbar=dict(title="log10 loss",
                                                                                      title_side="right"),
                               hovertemplate="a=%{x:.3g}<br>b=%{y:.3g}<br>log10 loss=%{z:.4g}<extra></extra>"))
    fig.add_trace(go.Contour(x=a, y=b, z=shown, showscale=False, contours_coloring="none", ncontours=12,
                             line=dict(color="rgba(255,255,255,0.5)", width=1), hoverinfo="skip", name="contours"))
    if path is not None:
        p = _finite(path)
        fig.add_trace(go.Scatter(x=p[:, 0], y=p[:, 1], mode="lines+markers", marker=dict(size=4, color="white"),
                                 line=dict(color="white", width=1.5), name="path (checkpoints)"))
        fig.add_trace(go.Scatter(x=p[:1, 0], y=p[:1, 1], mode="markers", name="start",
                                 marker=dict(size=10, color="white", symbol="circle-open", line=dict(width=2))))
    fig.add_trace(go.Scatter(x=[center[0]], y=[center[1]], mode="markers", name="end point",
                             marker=dict(size=11, color=THRESHOLD_COLOR, symbol="x")))
    _layout(fig, title, x_title, y_title, height=HEIGHT + 40)
    return fig


def interpolation_figure(alpha, loss, *, title: str = "from the start to the end") -> go.Figure:
    """The loss on the straight line (1 - alpha) start + alpha end."""
    loss = _finite(loss)
    fig = go.Figure(go.Scatter(x=alpha, y=loss, mode="lines", name="loss", line=dict(color=CURVE)))
    for x, text in ((0.0, "start"), (1.0, "end")):
        fig.add_vline(x=x, line=dict(color=NEUTRAL, dash="dot"), annotation_text=text)
    _layout(fig, title, "alpha (0: start, 1: end)", "loss")
    ok = loss[np.isfinite(loss)]
    if ok.size and np.all(ok > 0) and ok.max() / ok.min() > 100:
        fig.update_yaxes(type="log", exponentformat="power")
    return fig
