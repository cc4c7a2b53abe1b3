"""Outer methods on any pair of axes."""

from __future__ import annotations

import numpy as np
import pytest

from l2l_core.landscape.general import hyper_grid
from l2l_core.outer import run_outer_full
from l2l_core.outer.general import run_outer_general


def test_the_posts_plane_is_run_outer_unchanged():
    a = run_outer_general("es", "log_sin", "sgd", "lr", "momentum", (-2.0, -0.5), 15, seed=3)
    b = run_outer_full("es", (-2.0, -0.5), 15, seed=3)
    np.testing.assert_array_equal(a.trajectory, b.trajectory)
    np.testing.assert_array_equal(a.losses, b.losses)


@pytest.mark.parametrize("method", ["grad", "es", "random"])
def test_methods_on_adam_lr_b1_land_on_the_grid(method):
    run = run_outer_general(method, "rosenbrock", "adam", "lr", "b1", (-2.0, -1.0), 30, inner_steps=50, seed=1)
    assert run.trajectory.shape == (31, 2) and run.losses.shape == (30,)
    end = run.trajectory[-1]
    at_end = hyper_grid("rosenbrock", "adam", "lr", "b1", [end[0]], [end[1]], inner_steps=50)[0, 0]
    assert run.final_loss == pytest.approx(float(at_end), rel=1e-5)
    start = hyper_grid("rosenbrock", "adam", "lr", "b1", [-2.0], [-1.0], inner_steps=50)[0, 0]
    assert run.losses[0] == pytest.approx(float(start), rel=1e-5)
    assert run.final_loss < run.losses[0]  # each method improves on this smooth start


def test_seeds_reproduce():
    a = run_outer_general("es", "himmelblau", "rmsprop", "lr", "decay", (-2.0, -1.0), 10, seed=5)
    b = run_outer_general("es", "himmelblau", "rmsprop", "lr", "decay", (-2.0, -1.0), 10, seed=5)
    np.testing.assert_array_equal(a.trajectory, b.trajectory)


@pytest.mark.parametrize("method, kwargs, words", [
    ("grad", dict(summary="converge"), "has none"),
    ("tbptt", dict(summary="converge"), "has none"),
    ("pes", dict(summary="final"), "summary mean"),
    ("tbptt", dict(truncation_length=7), "must divide"),
    ("nope", {}, "unknown outer method"),
    ("es", dict(pairs=0), "pairs"),
    ("es", dict(init=(1.0, float("nan"))), "init"),
])
def test_errors_say_what_to_change(method, kwargs, words):
    init = kwargs.pop("init", (-2.0, -1.0))
    with pytest.raises(ValueError, match=words):
        run_outer_general(method, "rosenbrock", "adam", "lr", "b1", init, 5, **kwargs)


def test_es_runs_on_the_convergence_measure():
    run = run_outer_general("es", "parabola", "adam", "lr", "b1", (-2.0, -1.0), 5, summary="converge")
    assert np.isfinite(run.final_loss)


def test_tbptt_over_the_whole_unroll_is_gradient_descent():
    # One truncation of all T steps: its gradient is the mean summary's, which grad follows.
    kw = dict(inner_steps=20, seed=0, lr=0.05)
    tb = run_outer_general("tbptt", "rosenbrock", "adam", "lr", "b1", (-2.0, -1.0), 8, truncation_length=20, **kw)
    gd = run_outer_general("grad", "rosenbrock", "adam", "lr", "b1", (-2.0, -1.0), 8, **kw)
    np.testing.assert_allclose(tb.trajectory, gd.trajectory, rtol=1e-4, atol=1e-5)
    assert np.abs(tb.trajectory[-1] - tb.trajectory[0]).max() > 1e-3  # it moved


@pytest.mark.parametrize("method", ["pes", "tbptt"])
def test_truncated_methods_run_on_a_network_and_land_on_its_grid(method):
    run = run_outer_general(method, "tanh_net", "adam", "lr_in", "lr_out", (-2.0, -2.0), 20, inner_steps=20,
                            truncation_length=5, seed=2, lr=0.5)
    end = run.trajectory[-1]  # the seed also draws the network: the same one here
    at_end = hyper_grid("tanh_net", "adam", "lr_in", "lr_out", [end[0]], [end[1]], inner_steps=20, seed=2)[0, 0]
    assert run.final_loss == pytest.approx(float(at_end), rel=1e-3)  # 10**theta in float32 vs float64
    assert np.abs(end - run.trajectory[0]).max() > 0.05  # it moved
