"""Charts that say how to read them: the momentum axis's orientation on the axis itself, and
the meta-loss apart from the held-out loss (two y axes, not one holding 2.5 and 0.18)."""

from __future__ import annotations

import numpy as np

from l2l_core import viz
from l2l_core.viz.story import meta_training_figure


def _grid():
    xs, ys = np.linspace(-3, 2, 6), np.linspace(-3, 0, 4)
    return np.arange(24, dtype=float).reshape(4, 6), xs, ys


def test_the_momentum_axis_says_zero_is_at_the_bottom():
    z, xs, ys = _grid()
    for fig in (viz.heatmap_figure(z, xs, ys), viz.landscape_outer_figure(z, xs, ys)):
        y = fig.layout.yaxis
        assert "0 at the bottom" in y.title.text
        assert y.range[0] > y.range[1]  # the first end is the bottom: 0 there, -3 at the top


def test_a_zoomed_momentum_axis_still_says_which_way_momentum_grows():
    z, xs, ys = _grid()
    fig = viz.landscape_outer_figure(z, xs, ys, frame=(-1.0, 1e-3, -1.0, 1e-3))
    assert "more momentum up" in fig.layout.yaxis.title.text


def test_meta_loss_and_held_out_loss_have_their_own_axes():
    fig = viz.meta_loss_figure(np.linspace(3, 2.5, 20), np.linspace(0.3, 0.18, 20), [5, 10], [0.2, 0.18])
    axis = {t.name: (t.yaxis or "y") for t in fig.data}
    assert [a for n, a in axis.items() if n.startswith("meta-loss")] == ["y"]
    assert sorted(a for n, a in axis.items() if not n.startswith("meta-loss")) == ["y2", "y2"]
    assert fig.layout.yaxis2.overlaying == "y" and fig.layout.yaxis2.type == "log"
    assert fig.layout.yaxis.title.text != fig.layout.yaxis2.title.text


def test_the_shipped_curve_puts_held_out_loss_on_its_own_axis():
    curve = dict(meta_loss=np.linspace(3, 2.5, 50), val_steps=np.array([0, 10, 20]),
                 val_loss=np.array([0.3, 0.2, 0.18]))
    fig = meta_training_figure(curve)
    assert [t.yaxis for t in fig.data] == [None, "y2"]
    assert "held-out" in fig.layout.yaxis2.title.text and "meta-loss" in fig.layout.yaxis.title.text
