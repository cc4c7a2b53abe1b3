"""The tuner's study on the map's objective: every trial is the engine's value, the metrics are as defined."""

from __future__ import annotations

import numpy as np
import pytest

from l2l_core.landscape.general import hyper_grid
from l2l_core.tuning import audit as au


@pytest.fixture(scope="module")
def net_audit():
    return au.audit("tanh_net", "sgd", "lr_in", "lr_out", trials=12, sampler="tpe", seed=0, res=12,
                    inner_steps=15)


def test_every_trial_is_the_engine_value(net_audit):
    r = net_audit
    assert r["trial_x"].shape == r["trial_y"].shape == r["trial_value"].shape == (12,)
    engine = np.array([hyper_grid("tanh_net", "sgd", "lr_in", "lr_out", [x], [y], inner_steps=15)[0, 0]
                       for x, y in zip(r["trial_x"], r["trial_y"])])
    # the same cell kernel compiled for a smaller chunk: equal to float32 rounding
    flips = np.isnan(engine) != np.isnan(r["trial_value"])
    assert flips.sum() <= 1
    both = np.isfinite(engine) & np.isfinite(r["trial_value"])
    np.testing.assert_allclose(r["trial_value"][both], engine[both], rtol=1e-5)
    told = np.where(np.isnan(r["trial_value"]), au.DIVERGED_PENALTY, r["trial_value"])
    np.testing.assert_array_equal(r["told"], told)


def test_post_objective_trials_are_hyper_grid_exactly():
    f = au.engine_objective("log_sin", "sgd", "lr", "momentum")
    res = au.run_study(f, "log10 lr", "log10(1 - momentum)", (-3.0, 2.0), (-3.0, 0.0), trials=8, sampler="random")
    for x, y, v in zip(res["trial_x"], res["trial_y"], res["trial_value"]):
        np.testing.assert_array_equal(v, hyper_grid("log_sin", "sgd", "lr", "momentum", [x], [y])[0, 0])
    assert res["seconds"] >= res["engine_seconds"] >= 0


def test_dense_map_and_best(net_audit):
    r = net_audit
    dense = hyper_grid("tanh_net", "sgd", "lr_in", "lr_out", r["x_values"], r["y_values"], inner_steps=15)
    np.testing.assert_array_equal(r["loss"], dense)
    assert r["best_dense"]["value"] == pytest.approx(np.nanmin(dense))
    k = int(np.nanargmin(r["trial_value"]))
    assert r["best_trial"]["number"] == k and r["best_trial"]["value"] == r["trial_value"][k]
    assert r["regret"] == pytest.approx(r["best_trial"]["value"] - r["best_dense"]["value"])
    ok = dense[np.isfinite(dense)]
    assert r["beaten_by"] == pytest.approx(np.mean(ok < r["best_trial"]["value"]))
    assert r["contour"].shape == dense.shape and np.isfinite(r["contour"]).all()


def test_interpolation_is_linear_inside_and_nearest_outside():
    tx, ty, v = np.array([0.0, 1.0, 0.0, 1.0]), np.array([0.0, 0.0, 1.0, 1.0]), np.array([0.0, 1.0, 0.0, 1.0])
    z = au.interpolate(tx, ty, v, np.array([0.25, 0.5, 2.0]), np.array([0.5]))
    np.testing.assert_allclose(z, [[0.25, 0.5, 1.0]])  # v = x inside; the nearest trial (x = 1) outside


def test_sparse_errors_by_hand():
    dense = np.array([[1.0, 2.0, 3.0, 4.0, np.nan, np.nan]])
    picture = np.array([[1e6, 1.0, 3.0, 4.0, 1.0, 1e6]])
    e = au.sparse_errors(dense, picture, penalty=1e6, good_quantile=0.25)
    assert e["good_threshold"] == pytest.approx(1.75)  # only the cell of 1.0 is good
    assert e["false_good"] == pytest.approx(1 / 6)  # the first NaN cell, pictured as 1.0
    assert e["false_diverging"] == pytest.approx(1 / 6)  # the good cell, pictured as the penalty
    conv = au.sparse_errors(np.array([[-5.0, -1.0, 2.0]]), np.array([[1.0, -1.0, -9.0]]), summary="converge",
                            good_quantile=0.5)
    assert conv["false_good"] == pytest.approx(1 / 3) and conv["false_diverging"] == pytest.approx(1 / 3)


@pytest.mark.parametrize("kw, match", [
    (dict(trials=0), "trials"), (dict(sampler="grid"), "sampler"), (dict(res=1), "res"),
    (dict(penalty=float("nan")), "penalty"), (dict(x_range=(1.0, -1.0)), "range"),
])
def test_bad_arguments_are_refused(kw, match):
    with pytest.raises(ValueError, match=match):
        au.audit("log_sin", "sgd", "lr", "momentum", **dict(dict(trials=2), **kw))


def test_table_prefixes_and_samplers():
    rows = au.audit_table("log_sin", "sgd", "lr", "momentum", trials=(4, 8), samplers=("random", "cmaes"),
                          tuner_seeds=(0, 1), res=8, inner_steps=10)
    assert [(r["trials"], r["sampler"]) for r in rows] == [(4, "cmaes"), (4, "random"), (8, "cmaes"), (8, "random")]
    for r in rows:
        assert r["tuner_seeds"] == 2 and r["regret"] is not None and 0 <= r["false_good"] <= 1
    by = {(r["trials"], r["sampler"]): r for r in rows}
    assert by[(8, "random")]["regret"] <= by[(4, "random")]["regret"] + 1e-12  # more trials of the same study
    assert "sampler" in au.format_table(rows)


def test_importing_leaves_optuna_logging_alone():
    import optuna

    before = optuna.logging.get_verbosity()
    au.audit("log_sin", "sgd", "lr", "momentum", trials=2, res=4, inner_steps=5)
    assert optuna.logging.get_verbosity() == before
