"""Every figure builder, called directly: the traces it draws say what the data say
(subsampling, diverged cells, the best cell, one colour per method and optimizer
from the one palette), and nothing is drawn from data it was not given."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import pytest

from l2l_core import viz
from l2l_core.viz import fractal as viz_fractal
from l2l_core.viz import style


def _grid(n=30, m=20, nan_at=(3, 4)):
    z = np.linspace(0.5, 20.0, n * m).reshape(m, n)
    z[nan_at] = np.nan
    return z, np.linspace(-3, 2, n), np.linspace(-3, 0, m)


def _names(fig):
    return [t.name for t in fig.data]


def test_heatmap_marks_diverged_cells_caps_the_colour_and_stars_the_best_cell():
    z, xs, ys = _grid()
    fig = viz.heatmap_figure(z, xs, ys, cap=10.0, best=(xs[7], ys[2], 1.23))
    heat = fig.data[0]
    assert isinstance(fig, go.Figure) and heat.zmax == 10.0 and np.nanmax(heat.z) <= 10.0
    assert "diverged (NaN)" in _names(fig)
    diverged = next(t for t in fig.data if t.name == "diverged")
    assert np.isfinite(np.asarray(diverged.z, float)).sum() == 1  # exactly the one NaN cell
    best = next(t for t in fig.data if t.name and t.name.startswith("best cell"))
    assert best.x[0] == xs[7] and best.y[0] == ys[2]


def test_heatmap_without_nan_has_no_diverged_layer_and_subsamples_for_display():
    z = np.ones((1000, 900))
    fig = viz.heatmap_figure(z, np.linspace(-3, 2, 900), np.linspace(-3, 0, 1000), max_display=100)
    assert "diverged" not in _names(fig)
    assert len(fig.data[0].x) <= 100 and len(fig.data[0].y) <= 100
    assert viz.display_stride(1000, 100) == 10 and viz.display_stride(50, 100) == 1


def test_landscape_outer_figure_draws_each_run_in_its_methods_colour():
    z, xs, ys = _grid()
    runs = [dict(label=f"{m} run", method=m, method_title=f"{m} title", end_loss=1.0, seed=0,
                 trajectory=np.array([[-2.0, -0.5], [-1.0, -1.0]]), losses=np.array([3.0, 2.0]))
            for m in ("grad", "es", "pes")]
    fig = viz.landscape_outer_figure(z, xs, ys, runs=runs)
    for m in ("grad", "es", "pes"):
        lines = [t for t in fig.data if t.legendgroup == m and t.mode == "lines"]
        assert len(lines) == 1 and lines[0].line.color == style.METHOD_COLORS[m], m
        np.testing.assert_allclose(np.asarray(lines[0].x, float), [-2.0, -1.0])
    curves = viz.outer_loss_curves_figure(runs, cap=5.0)
    assert [t.name for t in curves.data] == [r["label"] for r in runs]
    assert tuple(curves.layout.yaxis.range) == (0, 5.0)


def test_seeds_of_one_method_share_the_colour_and_differ_by_dash():
    runs = [dict(label=f"es seed {s}", method="es", losses=np.arange(5.0), seed=s) for s in range(3)]
    fig = viz.outer_loss_curves_figure(runs)
    assert len({t.line.color for t in fig.data}) == 1
    assert len({t.line.dash for t in fig.data}) == 3


def test_sweep_and_inner_figures_plot_exactly_their_data():
    log_lrs, loss = np.linspace(-3, 2, 50), np.linspace(5, 1, 50)
    fig = viz.lr_sweep_figure(log_lrs, loss, 0.9, y_cap=5.0)
    np.testing.assert_allclose(np.asarray(fig.data[0].y, float), loss)
    xs = np.linspace(-5, 5, 40)
    fig = viz.inner_problem_figure(xs, xs**2, xs[:5], xs[:5] ** 2)
    assert len(fig.data) >= 2
    np.testing.assert_allclose(np.asarray(fig.data[0].x, float), xs)
    steps = viz.loss_vs_step_figure(np.array([3.0, 2.0, 1.0]))
    np.testing.assert_allclose(np.asarray(steps.data[0].y, float), [3.0, 2.0, 1.0])


def test_local_shift_and_estimator_figures():
    curves = dict(shift=np.linspace(-0.05, 0.05, 11), lr_shift=np.arange(11.0), mom_shift=np.arange(11.0)[::-1])
    fig = viz.local_shift_figure(curves)
    assert _names(fig) == ["lr shift", "mom shift"]
    from l2l_core.outer import EstimatorStats

    s = np.random.default_rng(0).normal(size=(50, 2))
    stats = EstimatorStats(s, s.mean(0), s.mean(0) - 1.0, 2.0)
    res = dict(estimators={"es (1 pair)": stats, "pes (K=10)": stats, "tbptt (K=10)": stats},
               true_grad=np.array([1.0, 1.0]), smoothed_grad=np.array([0.5, 0.5]))
    fig = viz.estimator_figure(res, max_points=20)
    assert len(fig.data[0].x) == 20
    assert "true gradient (jax.grad)" in _names(fig)


def test_learned_figures_use_one_palette():
    losses = {name: np.abs(np.random.default_rng(1).normal(size=(11, 4))) for name in ("lstm", "adam", "sgd")}
    fig = viz.comparison_figure(losses)
    lstm_colours = {t.line.color for t in fig.data if t.name and "LSTM" in t.name}
    assert style.OPTIMIZER_COLORS["lstm"] in lstm_colours
    story = viz.quadratic_losses_figure(losses)
    assert style.OPTIMIZER_COLORS["lstm"] in {getattr(t.line, "color", None) for t in story.data}
    fig = viz.meta_loss_figure(np.linspace(3, 1, 20), np.linspace(2, 0.5, 20), [5, 10], [1.5, 1.2])
    assert len(fig.data) >= 2
    text = viz.curves_csv(losses)
    assert text.splitlines()[0].startswith("step") or "lstm" in text.splitlines()[0]


@pytest.mark.parametrize("sign", [-1.0, 1.0])
def test_fractal_colouring_ranks_each_side_apart(sign):
    z = sign * np.arange(1.0, 17.0).reshape(4, 4)
    eq = viz_fractal.rank_equalize(z)
    assert np.all(np.sign(eq) == np.sign(z))
    assert 0.25 <= np.abs(eq).min() and np.abs(eq).max() <= 1.0
    fig = viz_fractal.fractal_figure(z, np.linspace(-3, 6, 4), np.linspace(-3, 6, 4))
    assert isinstance(fig, go.Figure) and len(fig.data) >= 1
