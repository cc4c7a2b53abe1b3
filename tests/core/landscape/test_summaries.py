"""The one registry of outer-loss summaries, and the older keyword names."""

from __future__ import annotations

import numpy as np
import pytest

from l2l_core import landscape, outer
from l2l_core.landscape import general
from l2l_core.landscape.summaries import POST_SUMMARIES, SUMMARIES, older_names

LRS, OMM = np.linspace(-3, 1, 9), np.linspace(-2, 0, 5)


def test_post_kernel_summaries_are_the_registry_entries_it_computes():
    assert POST_SUMMARIES == ("mean", "final", "min")
    assert set(landscape.REDUCTIONS) == set(POST_SUMMARIES)
    assert general.SUMMARIES is SUMMARIES and landscape.SUMMARIES is SUMMARIES
    assert not SUMMARIES["converge"].differentiable


@pytest.mark.parametrize("summary", POST_SUMMARIES)
def test_older_names_give_the_same_grid(summary):
    new = landscape.meta_loss_grid(LRS, OMM, inner_steps=17, summary=summary)
    old = landscape.meta_loss_grid(LRS, OMM, steps=17, reduce=summary)
    np.testing.assert_array_equal(new, old)
    np.testing.assert_array_equal(landscape.lr_sweep(LRS, 0.5, inner_steps=17, summary=summary),
                                  landscape.lr_sweep(LRS, 0.5, steps=17, reduce=summary))
    a = outer.outer_loss_at([(-1.0, -0.5)], inner_steps=17, summary=summary)
    b = outer.outer_loss_at([(-1.0, -0.5)], steps=17, reduce=summary)
    np.testing.assert_array_equal(a, b)


def test_the_defaults_are_the_posts():
    np.testing.assert_array_equal(landscape.meta_loss_grid(LRS, OMM),
                                  landscape.meta_loss_grid(LRS, OMM, inner_steps=50, summary="mean"))


def test_disagreeing_or_unknown_names_are_refused():
    with pytest.raises(ValueError, match="disagree"):
        landscape.meta_loss_grid(LRS, OMM, inner_steps=10, steps=20)
    with pytest.raises(ValueError, match="converge"):  # the general engine's, not this kernel's
        landscape.meta_loss_grid(LRS, OMM, summary="converge")
    with pytest.raises(TypeError, match="stepz"):
        landscape.meta_loss_grid(LRS, OMM, stepz=10)
    assert older_names(None, None, {}) == (50, "mean")
    assert older_names(None, None, {"steps": 3, "reduce": "min"}) == (3, "min")


def test_fractal_takes_the_same_names():
    from l2l_core.landscape import fractal

    xs = np.array([-1.0, 0.5])
    new = fractal.fractal_grid(xs, xs, task="fractal_single", width=4, inner_steps=7, summary="final")
    old = fractal.fractal_grid(xs, xs, task="fractal_single", width=4, steps=7, reduce="final")
    np.testing.assert_array_equal(new, old)
    assert list(fractal.SUMMARIES) == ["converge", "mean", "final", "min"]
    with pytest.raises(TypeError, match="fractal_grid"):
        fractal.fractal_summaries(xs, xs, task="fractal_single", width=4, reduce="final")


@pytest.mark.slow
def test_general_warmup_compiles_what_a_first_pick_draws(monkeypatch):
    from l2l_core.landscape import general, precompile

    counted = []
    real = general.hyper_grid
    monkeypatch.setattr(general, "hyper_grid",
                        lambda *a, **k: counted.append(a[:4] + (k["any_axes"],)) or real(*a, **k))
    monkeypatch.setattr(precompile, "_warmed", set())  # whatever this process warmed before
    assert precompile.warmup_general(tasks=["rosenbrock", "tanh_net"], optimizers=["adam"]) == 2
    assert counted == [("rosenbrock", "adam", "lr", "b1", True), ("rosenbrock", "adam", "lr", "b1", False),
                       ("tanh_net", "adam", "lr_in", "lr_out", True), ("tanh_net", "adam", "lr_in", "lr_out", False)]
    assert precompile.warmup_general(tasks=["rosenbrock"], optimizers=["adam"]) == 0  # idempotent
    assert general.default_axes("x**2 + y", "rmsprop") == ("lr", "decay")
