"""One inner run, the loss surface and the learning-rate sweep of any (task, optimizer)."""

from __future__ import annotations

import numpy as np
import pytest

from l2l_core.inner.optimizers import OPTIMIZERS
from l2l_core.inner.unroll import sgd_momentum_unroll
from l2l_core.landscape import general, lr_sweep, paths


def test_the_posts_run_is_the_sgd_momentum_unroll():
    run = paths.inner_run("log_sin", "sgd", steps=50, fixed=dict(lr=0.1, momentum=0.9), x0=-4.0)
    ref = sgd_momentum_unroll("log_sin", x0=-4.0, lr=0.1, momentum=0.9, steps=50)
    np.testing.assert_allclose(run.params[:, 0], np.asarray(ref.xs), rtol=1e-6, atol=1e-6)
    assert run.params.shape == (51, 1) and run.losses.shape == (51,)


def test_adam_on_rosenbrock_follows_a_float64_numpy_adam():
    lr, b1, b2, eps = 0.02, 0.8, 0.99, 1e-8
    run = paths.inner_run("rosenbrock", "adam", steps=40, fixed=dict(lr=lr, b1=b1, b2=b2))
    p, m, v = np.array([-1.2, 1.0]), np.zeros(2), np.zeros(2)
    for t in range(1, 41):
        x, y = p
        g = np.array([-2 * (1 - x) - 400 * x * (y - x * x), 200 * (y - x * x)])
        m, v = b1 * m + (1 - b1) * g, b2 * v + (1 - b2) * g * g
        p = p - lr * (m / (1 - b1**t)) / (np.sqrt(v / (1 - b2**t)) + eps)
    np.testing.assert_allclose(run.params[-1], p, rtol=1e-3)
    assert run.losses[-1] == pytest.approx((1 - p[0]) ** 2 + 100 * (p[1] - p[0] ** 2) ** 2, rel=1e-3)


def test_a_network_run_has_losses_and_no_path():
    run = paths.inner_run("tanh_net", "adam", steps=30, seed=3)
    assert run.params is None and run.losses.shape == (31,)
    assert np.isfinite(run.losses).all() and run.losses[-1] < run.losses[0]


def test_a_diverged_run_is_nan_from_where_it_diverged():
    run = paths.inner_run("rosenbrock", "sgd", steps=60, fixed=dict(lr=0.1, momentum=0.9))
    assert np.isnan(run.losses[-1]) and np.isfinite(run.losses[0])
    first = int(np.argmax(np.isnan(run.losses)))
    assert np.isnan(run.losses[first:]).all() and np.isnan(run.params[first:]).all()


def test_surfaces():
    xs, loss = paths.loss_surface("log_sin")
    np.testing.assert_allclose(loss, np.log(xs**2 + 1 + np.sin(3 * xs)) + 1.5, rtol=1e-5, atol=1e-5)
    xs, ys, z = paths.loss_surface("himmelblau", resolution=41)
    gx, gy = np.meshgrid(xs, ys)
    np.testing.assert_allclose(z, (gx**2 + gy - 11) ** 2 + (gx + gy**2 - 7) ** 2, rtol=1e-5, atol=1e-4)
    with pytest.raises(ValueError, match="network"):
        paths.loss_surface("tanh_net")


@pytest.mark.slow
def test_sweeps_agree_with_the_grids():
    lrs = np.linspace(-3, 1, 9)
    np.testing.assert_array_equal(paths.lr_sweep_general("log_sin", "sgd", lrs, fixed=dict(momentum=0.9)),
                                  lr_sweep(lrs, 0.9))
    adam = paths.lr_sweep_general("rosenbrock", "adam", lrs, fixed=dict(b1=0.8), inner_steps=30)
    grid = general.hyper_grid("rosenbrock", "adam", "lr", "b1", lrs, [np.log10(0.2)], inner_steps=30)[0]
    np.testing.assert_allclose(adam, grid, rtol=1e-6)
    net = paths.lr_sweep_general("tanh_net", "rmsprop", lrs[:3], inner_steps=20, seed=1)
    diag = [general.hyper_grid("tanh_net", "rmsprop", "lr_in", "lr_out", [v], [v], inner_steps=20, seed=1)[0, 0]
            for v in lrs[:3]]
    np.testing.assert_allclose(net, diag, rtol=1e-6)


@pytest.mark.parametrize("lo, hi, words", [(1.0, -1.0, "lower end"), (-3.0, 40.0, "-30 to 30"),
                                           ("a", 1, "two numbers"), (0.0, float("inf"), "finite")])
def test_typed_ranges_are_checked(lo, hi, words):
    with pytest.raises(ValueError, match=words):
        general.check_range(OPTIMIZERS["adam"].axes["lr"], lo, hi)


def test_a_momentum_like_range_stops_at_half_a_decade():
    axis = OPTIMIZERS["adam"].axes["b1"]
    assert general.check_range(axis, -3, 0.5) == (-3.0, 0.5)
    with pytest.raises(ValueError, match="log10\\(1 - b1\\)"):
        general.check_range(axis, -3, 1.0)


def test_converge_is_offered_where_the_loss_is_known_positive():
    assert "converge" in general.summaries_for("rosenbrock") and "converge" in general.summaries_for("tanh_net")
    assert "converge" not in general.summaries_for("x**2 - 3*y")


@pytest.mark.parametrize("kwargs, words", [(dict(seed=-1), "seed"), (dict(steps=0), "step"),
                                           (dict(fixed=dict(b1=1.5)), "b1"), (dict(x0=(1.0,)), "two numbers")])
def test_a_runs_arguments_are_checked(kwargs, words):
    with pytest.raises(ValueError, match=words):
        paths.inner_run("rosenbrock", "adam", **kwargs)
