"""Progressive refinement: passes, their order, and cancelling between and within them."""

from __future__ import annotations

import numpy as np
import pytest

from l2l_core.landscape.general import hyper_grid
from l2l_core.landscape.refine import CancelToken, refine, refine_hyper_grid, resolutions


def test_resolutions():
    assert resolutions(500) == [64, 128, 256, 500]
    assert resolutions(64) == [64] and resolutions(10) == [10]
    assert resolutions(300, start=16, factor=4) == [16, 64, 256, 300]
    for bad in (1, 5000, 2.5):
        with pytest.raises(ValueError, match="resolution"):
            resolutions(bad)


def test_passes_are_the_grids_at_each_resolution():
    passes = list(refine_hyper_grid("rosenbrock", "adam", "lr", "b1", (-3, 0), (-2, 0), 20, start=5,
                                    inner_steps=10))
    assert [p.loss.shape for p in passes] == [(5, 5), (10, 10), (20, 20)]
    assert [p.final for p in passes] == [False, False, True]
    last = passes[-1]
    np.testing.assert_array_equal(
        last.loss, hyper_grid("rosenbrock", "adam", "lr", "b1", last.x_values, last.y_values, inner_steps=10))


def test_a_cancelled_token_stops_between_passes():
    token = CancelToken()
    seen = []
    for p in refine(lambda xs, ys, cancel: np.zeros((ys.size, xs.size)), (0, 1), (0, 1), 256, cancel=token):
        seen.append(p.loss.shape)
        token.cancel()
    assert seen == [(64, 64)] and token.cancelled


def test_a_pass_cancelled_midway_is_not_yielded():
    token = CancelToken()

    def compute(xs, ys, cancel):
        token.cancel()
        return np.zeros((ys.size, xs.size))

    assert list(refine(compute, (0, 1), (0, 1), 128, cancel=token)) == []


def test_bad_arguments_raise_before_any_pass():
    with pytest.raises(ValueError, match="not a hyperparameter"):
        refine_hyper_grid("rosenbrock", "adam", "lr", "momentum", (-3, 0), (-2, 0), 20)
    with pytest.raises(ValueError, match="lower end"):
        list(refine(lambda *a: None, (1, 0), (0, 1), 20))
