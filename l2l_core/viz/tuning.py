"""Plotly figure builders for "What tuning sees": maps over seeds, a tuner's trials on the dense map,
the tuner's interpolated picture beside the truth, and a user's own study.

No streamlit here; numpy in, ``go.Figure`` out. Every map is (ny, nx) with rows along y, in the
axes' display units (log10 of a rate, log10(1 - m) of a momentum-like m).
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from l2l_core.viz import style

#: The tuner's trials, the picks, and the user's study: each reads on Viridis.
TRIAL_COLOR = "#ffffff"
TUNER_BEST = "#ff8c00"
DENSE_BEST = "#e41a1c"
ROBUST = "#00e5ff"
SINGLE = "#ff8c00"
STUDY_COLOR = "#ffffff"


#: Colours span the values up to this quantile when the largest is far beyond it (a run that nearly
#: diverged can end a million times higher than the rest and would flatten the map to one colour).
COLOR_QUANTILE = 0.95


def color_range(z) -> tuple:
    """(zmin, zmax) of a map's colours: its finite range, capped at the :data:`COLOR_QUANTILE`
    quantile when the largest value is over twice that; (None, None) when nothing is finite."""
    v = np.asarray(z, float)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return None, None
    lo, hi, q = float(v.min()), float(v.max()), float(np.quantile(v, COLOR_QUANTILE))
    if q > lo and hi - lo > 2 * (q - lo):
        hi = q
    return lo, hi


def _heat(z, xs, ys, *, colorbar: str, colorscale="Viridis", zmin=None, zmax=None, hover: str = "value"):
    z = np.asarray(z, float)
    if zmin is None and zmax is None:
        zmin, zmax = color_range(z)
    finite = z[np.isfinite(z)]
    if zmax is not None and finite.size and finite.max() > zmax:
        colorbar += "<br>(capped)"
    return go.Heatmap(x=np.asarray(xs, float), y=np.asarray(ys, float), z=np.where(np.isfinite(z), z, None),
                      colorscale=colorscale, zmin=zmin, zmax=zmax, colorbar=dict(title=colorbar, x=1.02),
                      hovertemplate=f"x=%{{x:.3f}}<br>y=%{{y:.3f}}<br>{hover}=%{{z:.4g}}<extra></extra>",
                      name=colorbar)


def _diverged_layer(mask, xs, ys, name: str = "diverged"):
    """Cells where ``mask`` holds, drawn in the diverged colour (NaN elsewhere: transparent)."""
    m = np.where(np.asarray(mask, bool), 1.0, np.nan)
    return go.Heatmap(x=np.asarray(xs, float), y=np.asarray(ys, float), z=m, showscale=False, name=name,
                      colorscale=[[0, style.DIVERGED], [1, style.DIVERGED]], hoverinfo="skip")


def _marker(x, y, name: str, color: str, symbol: str, text: str = "") -> go.Scatter:
    return go.Scatter(x=[x], y=[y], mode="markers", name=name,
                      marker=dict(symbol=symbol, size=16, color=color, line=dict(width=2, color=style.INK)),
                      hovertemplate=f"{name}<br>x=%{{x:.3f}}<br>y=%{{y:.3f}}{text}<extra></extra>")


def _layout(fig, title: str, x_title: str, y_title: str, xs, ys, height: int = 430):
    fig.update_xaxes(title=x_title, range=[float(xs[0]), float(xs[-1])])
    fig.update_yaxes(title=y_title, range=[float(ys[0]), float(ys[-1])])
    fig.update_layout(title=title, legend=dict(style.LEGEND, y=-0.22), margin=dict(t=40, b=10), height=height)
    return fig


def seed_map_figure(z, xs, ys, *, kind: str, x_title: str, y_title: str, robust=None, single=None,
                    title: str = "") -> go.Figure:
    """One summary over seeds as a heatmap.

    ``kind``: ``mean`` (the mean over non-diverged seeds; cells where every seed diverged in
    the diverged colour), ``spread`` (their standard deviation) or ``p_diverge`` (0..1, white
    to the diverged colour). ``robust`` (x, y, mean, spread) and ``single`` (x, y, loss) are
    marked when given.
    """
    z = np.asarray(z, float)
    if kind == "p_diverge":
        fig = go.Figure(_heat(z, xs, ys, colorbar="P(diverge)", zmin=0.0, zmax=1.0, hover="P(diverge)",
                              colorscale=[[0, "#ffffff"], [1, style.DIVERGED]]))
    else:
        label = "mean" if kind == "mean" else "std"
        fig = go.Figure(_heat(z, xs, ys, colorbar=label, hover=label))
        if kind == "mean" and (~np.isfinite(z)).any():
            fig.add_trace(_diverged_layer(~np.isfinite(z), xs, ys, "every seed diverged"))
    if robust is not None:
        fig.add_trace(_marker(robust[0], robust[1], "robust pick (never diverges)", ROBUST, "star",
                              f"<br>mean={robust[2]:.4g} ± {robust[3]:.3g}"))
    if single is not None:
        fig.add_trace(_marker(single[0], single[1], "one seed's best", SINGLE, "x", f"<br>loss={single[2]:.4g}"))
    return _layout(fig, title, x_title, y_title, xs, ys)


def trials_figure(loss, xs, ys, trial_x, trial_y, *, x_title: str, y_title: str, best_trial=None,
                  best_dense=None, title: str = "", colorbar: str = "loss") -> go.Figure:
    """The dense map with the tuner's trials as numbered points, in the order they were taken,
    the tuner's best and the dense best (dicts with ``x``, ``y``, ``value``)."""
    loss = np.asarray(loss, float)
    fig = go.Figure(_heat(loss, xs, ys, colorbar=colorbar, hover=colorbar))
    if (~np.isfinite(loss)).any():
        fig.add_trace(_diverged_layer(~np.isfinite(loss), xs, ys))
    n = np.arange(len(trial_x))
    fig.add_trace(go.Scatter(x=np.asarray(trial_x, float), y=np.asarray(trial_y, float), mode="markers+text",
                             name="trials (in order)", text=[str(i) for i in n], textposition="top center",
                             textfont=dict(color=TRIAL_COLOR, size=10),
                             marker=dict(size=7, color=TRIAL_COLOR, line=dict(width=1, color=style.INK)),
                             customdata=n, hovertemplate="trial %{customdata}<br>x=%{x:.3f}<br>y=%{y:.3f}"
                                                         "<extra></extra>"))
    if best_trial is not None:
        fig.add_trace(_marker(best_trial["x"], best_trial["y"], "tuner's best", TUNER_BEST, "diamond",
                              f"<br>value={best_trial['value']:.4g}"))
    if best_dense is not None:
        fig.add_trace(_marker(best_dense["x"], best_dense["y"], "dense best", DENSE_BEST, "star",
                              f"<br>value={best_dense['value']:.4g}"))
    return _layout(fig, title, x_title, y_title, xs, ys)


def picture_figure(picture, xs, ys, trial_x, trial_y, *, x_title: str, y_title: str, penalty: float,
                   zmin=None, zmax=None, title: str = "") -> go.Figure:
    """The tuner's interpolated picture (the trials' told values on the grid), where a value of at
    least half the penalty is drawn in the diverged colour (the picture calls it diverging)."""
    pic = np.asarray(picture, float)
    bad = np.isfinite(pic) & (pic >= penalty / 2)
    fig = go.Figure(_heat(np.where(bad, np.nan, pic), xs, ys, colorbar="interpolated", zmin=zmin, zmax=zmax,
                          hover="interpolated"))
    if bad.any():
        fig.add_trace(_diverged_layer(bad, xs, ys, "called diverging"))
    fig.add_trace(go.Scatter(x=np.asarray(trial_x, float), y=np.asarray(trial_y, float), mode="markers",
                             name="trials", marker=dict(size=5, color=TRIAL_COLOR, line=dict(width=1, color=style.INK)),
                             hoverinfo="skip"))
    return _layout(fig, title, x_title, y_title, xs, ys)


def study_figure(loss, xs, ys, study_x, study_y, numbers, values, *, x_title: str, y_title: str,
                 title: str = "", colorbar: str = "loss") -> go.Figure:
    """A user's own study (its trials in display units, numbered) over the dense map."""
    loss = np.asarray(loss, float)
    fig = go.Figure(_heat(loss, xs, ys, colorbar=colorbar, hover=colorbar))
    if (~np.isfinite(loss)).any():
        fig.add_trace(_diverged_layer(~np.isfinite(loss), xs, ys))
    values = np.asarray(values, float)
    fig.add_trace(go.Scatter(x=np.asarray(study_x, float), y=np.asarray(study_y, float), mode="markers+text",
                             name="your trials", text=[str(int(k)) for k in numbers], textposition="top center",
                             textfont=dict(color=STUDY_COLOR, size=10),
                             marker=dict(size=8, color=STUDY_COLOR, symbol="circle",
                                         line=dict(width=1.5, color=style.INK)),
                             customdata=np.column_stack([np.asarray(numbers), values]),
                             hovertemplate="trial %{customdata[0]}<br>x=%{x:.3f}<br>y=%{y:.3f}<br>"
                                           "its value=%{customdata[1]:.4g}<extra></extra>"))
    x = np.asarray(study_x, float)
    y = np.asarray(study_y, float)
    xr = [float(min(xs[0], np.nanmin(x))), float(max(xs[-1], np.nanmax(x)))] if x.size else [xs[0], xs[-1]]
    yr = [float(min(ys[0], np.nanmin(y))), float(max(ys[-1], np.nanmax(y)))] if y.size else [ys[0], ys[-1]]
    return _layout(fig, title, x_title, y_title, xr, yr)


def short_number(value) -> str:
    """A metric's value in at most 8 characters: 3 significant digits, small ones as 7.5e-04."""
    if value is None:
        return "-"
    v = float(value)
    return f"{v:.1e}" if v != 0 and abs(v) < 0.01 else f"{v:.3g}"
