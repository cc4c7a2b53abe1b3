"""One palette and one set of labels for every figure (app, PNG export, reproduction).

Colours are chosen to read on both backgrounds they meet: the Viridis
heatmap (dark purple to yellow) and the white plot area of line charts.
Legends sit on a light panel, so every entry reads on white.
"""

from __future__ import annotations

import math

import numpy as np

#: Diverged (non-finite) cells and runs.
DIVERGED = "#ff2bd6"
#: Reference curves: a loss function, a neutral line.
CURVE = "#1f77b4"
NEUTRAL = "#888888"
INK = "#222222"

#: Optimizers racing on quadratics; the learned one is always red and drawn thicker.
OPTIMIZER_COLORS = {"lstm": "#d62728", "untrained LSTM": "#f4a582", "sgd": "#7f7f7f", "adam": "#1f77b4",
                    "rmsprop": "#2ca02c", "nag": "#9467bd"}
OPTIMIZER_LABELS = {"lstm": "LSTM (learned)", "untrained LSTM": "LSTM (untrained)", "sgd": "SGD", "adam": "Adam",
                    "rmsprop": "RMSprop", "nag": "NAG"}

#: Outer methods over (log10 lr, log10(1-momentum)). Each reads on the heatmap and on white;
#: PES (orange) and TBPTT (pink) are far apart in hue.
METHOD_COLORS = {"grad": "#e41a1c", "es": "#00c2ff", "pes": "#ff8c00", "tbptt": "#e377c2", "random": "#7fff00"}
#: Estimator diagnostic: the reference gradients.
TRUE_GRADIENT = "#e41a1c"
SMOOTHED_GRADIENT = "#4daf4a"

#: Seeds of one method: same colour, different dash.
SEED_DASHES = ["solid", "dash", "dot", "dashdot", "longdash", "longdashdot"]

#: A legend on a light panel with a frame: readable over a heatmap and in PNG exports.
LEGEND = dict(orientation="h", y=-0.16, bgcolor="rgba(255,255,255,0.92)", bordercolor="#cccccc", borderwidth=1,
              font=dict(color=INK))

#: Log axes: one labelled tick per decade, powers of ten (no minor-tick labels, no SI prefixes such as "100n").
LOG_AXIS = dict(type="log", dtick=1, exponentformat="power", showexponent="all", minor=dict(ticks="outside"))


def method_color(method: str) -> str:
    return METHOD_COLORS.get(method, NEUTRAL)


def seed_dash(i: int) -> str:
    return SEED_DASHES[i % len(SEED_DASHES)]


def rgba(hex_color: str, alpha: float) -> str:
    r, g, b = (int(hex_color[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


#: The post's y axis, reversed (0, no momentum, at the bottom; more momentum upward), said on the axis.
MOMENTUM_AXIS_TITLE = "log10(1 − momentum)<br>0 at the bottom, more momentum up"  # two lines: fits a short plot


def log_ticks(*arrays, max_ticks: int = 6) -> dict:
    """A log axis with explicit ticks for ``arrays``' positive values, each labelled in full.

    1-2-5 per decade when they fit, else every decade (or every k-th); a range inside one
    decade gets evenly spaced round values. Labels are the values themselves ("0.18", "20",
    "1e-05"), never a bare leading digit, so close ticks cannot read as another number.
    """
    v = np.concatenate([np.ravel(np.asarray(a, np.float64)) for a in arrays] or [np.zeros(0)])
    v = v[np.isfinite(v) & (v > 0)]
    if v.size == 0:
        return dict(LOG_AXIS)
    lo, hi = float(v.min()), float(v.max())
    a, b = math.floor(math.log10(lo)), math.ceil(math.log10(hi))
    ticks: list[float] = []
    for mults in ((1, 2, 5), (1, 3), (1,)):
        ticks = [m * 10.0 ** e for e in range(a, b + 1) for m in mults if lo <= m * 10.0 ** e <= hi]
        if len(ticks) <= max_ticks:
            break
    if len(ticks) > max_ticks:
        k = -(-len(ticks) // max_ticks)
        ticks = ticks[::k]
    if len(ticks) < 2:  # a narrow range: round values spaced evenly
        step = 10.0 ** math.floor(math.log10(max(hi - lo, hi * 1e-9)))
        for div in (1, 2, 5, 10):
            s = step / div
            ticks = [k * s for k in range(math.ceil(lo / s), math.floor(hi / s) + 1)]
            if len(ticks) >= 3:
                break
        ticks = ticks[:: max(1, -(-len(ticks) // max_ticks))] or [lo, hi]
    vals = sorted({float(f"{t:.6g}") for t in ticks})
    return dict(type="log", tickmode="array", tickvals=vals, ticktext=[f"{t:g}" for t in vals],
                minor=dict(ticks=""))  # minor ticks drawn outside would run over the labels


#: Room under the plot for the x axis' ticks and title, and for one row of legend entries (px).
AXIS_ROOM, LEGEND_ROW = 62, 28


def legend_below(fig, per_row: int = 2):
    """The legend at the bottom of the figure, under the x axis' title, clear of the modebar (top
    right) and of the plot: the bottom margin holds a row for every ``per_row`` entries (the
    narrowest screen's count), so the legend needs no fraction of the plot's height."""
    shown = [t for t in fig.data if t.name and t.showlegend is not False]
    rows = max(1, -(-len(shown) // per_row))
    margin = fig.layout.margin
    fig.update_layout(legend=dict(LEGEND, yref="container", y=0, yanchor="bottom", x=0, xanchor="left"),
                      margin=dict(l=margin.l, r=margin.r, t=margin.t, b=AXIS_ROOM + LEGEND_ROW * rows))
    return fig
