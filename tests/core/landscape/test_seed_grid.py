"""Seeds as an axis of the map: per-seed maps against single-seed maps, the summaries against numpy."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from l2l_core.landscape import seeds as sg
from l2l_core.landscape.general import hyper_grid

XS = np.linspace(-3.0, 1.0, 12)
YS = np.linspace(-3.0, 1.0, 10)
SEEDS = [0, 3, 7]


@pytest.fixture(scope="module")
def tanh_seeds():
    return sg.seed_grid("tanh_net", "sgd", "lr_in", "lr_out", XS, YS, SEEDS, inner_steps=20)


def _close_maps(a, b):
    """Equal as maps: the same cells diverge (a run on the edge may fall either way: at most 2
    cells), and finite cells agree to float32 rounding (the data are arguments in one program,
    constants in the other)."""
    flips = np.isnan(a) != np.isnan(b)
    assert flips.sum() <= 2
    both = np.isfinite(a) & np.isfinite(b)
    np.testing.assert_allclose(a[both], b[both], rtol=1e-4, atol=1e-6)


def test_per_seed_maps_equal_single_seed_maps(tanh_seeds):
    z = tanh_seeds["loss_seeds"]
    assert z.shape == (len(SEEDS), YS.size, XS.size)
    for k, s in enumerate(SEEDS):
        _close_maps(z[k], hyper_grid("tanh_net", "sgd", "lr_in", "lr_out", XS, YS, inner_steps=20, seed=s))
    assert not np.allclose(np.nan_to_num(z[0]), np.nan_to_num(z[1]))  # the seed matters


def test_summaries_against_numpy(tanh_seeds):
    z = tanh_seeds["loss_seeds"].astype(np.float64)
    bad = np.isnan(z)
    np.testing.assert_array_equal(tanh_seeds["p_diverge"], bad.mean(axis=0))
    assert 0 < tanh_seeds["p_diverge"].mean() < 1  # the window holds both phases
    with warnings.catch_warnings():  # all-NaN cells
        warnings.simplefilter("ignore", RuntimeWarning)
        mean = np.nanmean(z, axis=0)
        std = np.nanstd(z, axis=0)
    np.testing.assert_allclose(tanh_seeds["loss"], mean, rtol=1e-5, equal_nan=True)
    np.testing.assert_allclose(tanh_seeds["spread"], std, rtol=1e-4, atol=1e-7, equal_nan=True)
    assert np.array_equal(np.isnan(tanh_seeds["loss"]), bad.all(axis=0))


def test_robust_pick_never_diverges(tanh_seeds):
    x, y, mean, spread = tanh_seeds["robust_best"]
    i, j = int(np.argmin(np.abs(YS - y))), int(np.argmin(np.abs(XS - x)))
    assert tanh_seeds["p_diverge"][i, j] == 0
    ok = tanh_seeds["p_diverge"] == 0
    assert mean == pytest.approx(np.min(tanh_seeds["loss"][ok]), rel=1e-6)
    assert len(tanh_seeds["single_best"]) == len(SEEDS)
    for k, best in enumerate(tanh_seeds["single_best"]):
        assert best[2] == pytest.approx(np.nanmin(tanh_seeds["loss_seeds"][k]), rel=1e-6)


def test_converge_summary_counts_positive_as_diverged():
    z = np.array([[[-3.0, 2.0]], [[-1.0, np.nan]], [[5.0, -2.0]]])
    s = sg.summarize_seeds(z, "converge")
    np.testing.assert_allclose(s["p_diverge"], [[1 / 3, 2 / 3]])
    np.testing.assert_allclose(s["loss"], [[-2.0, -2.0]])
    np.testing.assert_allclose(s["spread"], [[1.0, 0.0]])


def test_loop_path_is_hyper_grid_exactly():
    r = sg.seed_grid("tanh_net", "adam", "lr_in", "lr_out", XS[:4], YS[:3], [1, 2], inner_steps=10, vmap=False)
    for k, s in enumerate((1, 2)):
        np.testing.assert_array_equal(r["loss_seeds"][k], hyper_grid("tanh_net", "adam", "lr_in", "lr_out", XS[:4],
                                                                     YS[:3], inner_steps=10, seed=s))


@pytest.mark.parametrize("seeds, match", [
    ([], "at least one"), ([1, 1], "distinct"), ([-1], r"\[0, 2\*\*31\)"), ([1.5], "integer"), (3, "list"),
    ("12", "list"), ([True], "integer"), (list(range(sg.MAX_SEEDS + 1)), "at most"),
])
def test_bad_seeds_are_refused(seeds, match):
    with pytest.raises(ValueError, match=match):
        sg.seed_grid("tanh_net", "sgd", "lr_in", "lr_out", XS, YS, seeds)


def test_task_without_randomness_is_refused():
    with pytest.raises(ValueError, match="draws nothing from a seed"):
        sg.seed_grid("rosenbrock", "adam", "lr", "b1", XS, YS, [0, 1])


def test_fractal_network_seeds_equal_single_seed_images():
    from l2l_core.landscape.fractal import fractal_grid
    from l2l_core.tasks.fractal_networks import make_task

    xs, ys = np.linspace(-1.0, 4.0, 10), np.linspace(-1.0, 4.0, 8)
    r = sg.fractal_seed_grid(xs, ys, [0, 5], inner_steps=20)
    z = r["loss_seeds"]
    assert z.shape == (2, 8, 10)
    for k, s in enumerate((0, 5)):
        want = fractal_grid(xs, ys, task=make_task("fractal_tanh", seed=s), inner_steps=20)
        # converge: the sign is the phase; the same phase nearly everywhere, the magnitude to rounding
        same = np.sign(z[k]) == np.sign(want)
        assert same.mean() >= 0.97
        np.testing.assert_allclose(z[k][same], want[same], rtol=1e-3)
    assert 0 < r["p_diverge"].mean() < 1
    np.testing.assert_array_equal(r["p_diverge"], (~(z <= 0)).mean(axis=0))
    # the general path over seeds takes the same network (any optimizer); the offset variant has only its kernel
    general = sg.seed_grid("fractal_tanh", "adam", "lr_in", "lr_out", xs[:3], ys[:2], [0, 1], inner_steps=5)
    assert general["loss_seeds"].shape == (2, 2, 3)
    with pytest.raises(ValueError, match="fractal_seed_grid"):
        sg.seed_grid("fractal_offset", "sgd", "lr_in", "lr_out", xs, ys, [0, 1])


def test_an_interactive_view_of_seeds_is_capped_by_its_work():
    from l2l_core.landscape.seeds import check_view_work

    assert check_view_work("tanh_net", 128**2, 8, 50) < 1e10
    assert check_view_work("digits_mlp", 16**2, 4, 50) > 1e11  # allowed, just under the cap
    with pytest.raises(ValueError, match="lower the resolution, the seeds or the steps"):
        check_view_work("digits_mlp", 48**2, 4, 50)
