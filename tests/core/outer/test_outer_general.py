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
    ("pes", {}, "lr x momentum"),
    ("nope", {}, "unknown outer method"),
    ("es", dict(pairs=0), "pairs"),
    ("es", dict(init=(1.0, float("nan"))), "init"),
])
def test_errors_say_what_to_change(method, kwargs, words):
    init = kwargs.pop("init", (-2.0, -1.0))
    with pytest.raises(ValueError, match=words):
        run_outer_general(method, "rosenbrock", "adam", "lr", "b1", init, 5, **kwargs)


def test_es_runs_on_the_convergence_measure():
    run = run_outer_general("es", "quadratic", "adam", "lr", "b1", (-2.0, -1.0), 5, summary="converge")
    assert np.isfinite(run.final_loss)
