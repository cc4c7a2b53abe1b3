"""Figures stay readable: legends clear of the modebar, log ticks labelled with their values,
no bar running off its axis."""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go
import pytest

from l2l_core.viz import style
from l2l_core.viz.fractal import box_count_figure
from l2l_core.viz.generalization import CAPPED_RATIO, X_RANGE, generalization_figure
from l2l_core.viz.learned import meta_loss_figure
from l2l_core.viz.story import meta_training_figure


def labelled_as_their_values(axis) -> None:
    """Explicit ticks, each label the tick's own value (never a bare leading digit)."""
    assert axis.tickmode == "array" and len(axis.tickvals) == len(axis.ticktext) >= 2
    for v, t in zip(axis.tickvals, axis.ticktext):
        assert math.isclose(float(t), v, rel_tol=1e-9), (v, t)


def test_the_tours_meta_training_curve_reads_its_held_out_loss():
    """The held-out loss around 0.18 gets ticks such as 0.16, 0.18, not a lone "2"."""
    fig = meta_training_figure({"meta_loss": np.linspace(2.6, 2.4, 200), "val_steps": [0, 50, 100, 150],
                                "val_loss": [0.185, 0.181, 0.178, 0.176]})
    labelled_as_their_values(fig.layout.yaxis)
    labelled_as_their_values(fig.layout.yaxis2)
    assert all(0.17 <= v <= 0.19 for v in fig.layout.yaxis2.tickvals)
    assert "0.18" in fig.layout.yaxis2.ticktext


def test_the_learned_pages_curves_read_both_axes():
    fig = meta_loss_figure(np.geomspace(3.0, 0.4, 100), final_loss=np.geomspace(1.0, 0.01, 100))
    labelled_as_their_values(fig.layout.yaxis)
    labelled_as_their_values(fig.layout.yaxis2)


def test_the_box_counting_axes_have_no_stray_digits():
    sizes = np.array([1, 2, 4, 8, 16, 32, 64], float)
    counts = 5000 * sizes ** -1.6
    fig = box_count_figure(sizes, counts, 1.6, math.log(5000))
    labelled_as_their_values(fig.layout.xaxis)
    labelled_as_their_values(fig.layout.yaxis)
    assert fig.layout.xaxis.title.text == "box side s (pixels)"


@pytest.mark.parametrize("lo,hi", [(0.15, 0.2), (0.13, 2.6), (1, 64), (2, 4e4), (1e-6, 10), (0.178, 0.179)])
def test_log_ticks_lie_in_the_range_and_stay_few(lo, hi):
    d = style.log_ticks([lo, hi])
    assert 2 <= len(d["tickvals"]) <= 6
    assert all(lo * 0.999 <= v <= hi * 1.001 for v in d["tickvals"])
    assert len(set(d["ticktext"])) == len(d["ticktext"])


def test_the_legend_sits_below_the_plot_clear_of_the_modebar():
    fig = style.legend_below(go.Figure(go.Scatter(x=[0], y=[0], name="best cell (0.1234)")))
    assert fig.layout.legend.yref == "container" and fig.layout.legend.y == 0
    assert fig.layout.legend.yanchor == "bottom" and fig.layout.margin.b >= style.AXIS_ROOM + style.LEGEND_ROW


def test_a_huge_ratio_is_drawn_at_the_cap_with_its_value():
    rows = [{"label": "wider MLP", "learned": {"quadratic": {"ratio": 2.08e4, "diverged": False},
                                               "digits_mlp": {"ratio": 0.8, "diverged": False}}},
            {"label": "deeper MLP", "learned": {"quadratic": {"ratio": None, "diverged": True},
                                                "digits_mlp": {"ratio": 3.0, "diverged": False}}}]
    fig = generalization_figure({"rows": rows})
    top = 10 ** fig.layout.xaxis.range[1]
    assert fig.layout.xaxis.range[1] == pytest.approx(X_RANGE[1])
    for bar in fig.data:
        assert max(bar.x) < top and bar.cliponaxis is False
    quad = next(b for b in fig.data if "quadratics" in b.name)
    i = list(quad.text).index("2.08e+04x (bar cut)")
    assert quad.x[i] == CAPPED_RATIO and quad.marker.pattern.shape[i] == "/"
    labelled_as_their_values(fig.layout.xaxis)
