"""``audit`` and ``grid --seeds`` as the command line runs them (parsers built here)."""

from __future__ import annotations

import argparse
import json

import numpy as np
import pytest

from l2l_core.cli import audit as cli
from l2l_core.io.files import write_arrays
from l2l_core.landscape.general import hyper_grid

KEYS = {"trial_x", "trial_y", "trial_value", "loss", "x_values", "y_values", "contour", "meta"}


def _parser():
    p = argparse.ArgumentParser()
    cli.add_audit_args(p)
    return p


def test_audit_npz_keys_and_json(tmp_path, capsys):
    out = tmp_path / "a.npz"
    args = _parser().parse_args(["--problem", "log_sin", "--optimizer", "sgd", "--x", "lr", "--y", "momentum",
                                 "--trials", "6", "--sampler", "random", "--seed", "1", "--res", "8",
                                 "--steps", "10", "--out", str(out), "--json"])
    assert cli.run_audit_cli(args) == 0
    report = json.loads(capsys.readouterr().out)
    for k in ("best_trial", "best_dense", "regret", "false_good", "false_diverging", "beaten_by"):
        assert k in report
    with np.load(out, allow_pickle=False) as f:
        assert set(f.files) == KEYS
        assert f["trial_x"].shape == f["trial_y"].shape == f["trial_value"].shape == (6,)
        assert f["loss"].shape == f["contour"].shape == (8, 8)
        np.testing.assert_array_equal(f["loss"], hyper_grid("log_sin", "sgd", "lr", "momentum", f["x_values"],
                                                            f["y_values"], inner_steps=10))
        meta = json.loads(str(f["meta"]))
    assert meta["sampler"] == "random" and meta["trials"] == 6 and meta["x"] == "lr"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.npz"]  # written atomically, no leftovers


def test_audit_defaults_and_text(tmp_path, capsys):
    out = tmp_path / "b.npz"
    args = _parser().parse_args(["--trials", "3", "--res", "4", "--steps", "5", "--out", str(out)])
    assert (args.problem, args.sampler, args.seed) == ("log_sin", "tpe", 0)
    assert cli.run_audit_cli(args) == 0
    assert "best trial" in capsys.readouterr().out
    with pytest.raises(ValueError, match="exists"):
        cli.run_audit_cli(args)


@pytest.mark.parametrize("argv", [["--sampler", "grid"], ["--trials", "0"], ["--res", "1"], ["--penalty", "-1"],
                                  ["--x-range", "1", "0"]])
def test_audit_flags_refused_while_parsing(argv):
    with pytest.raises(SystemExit):
        _parser().parse_args(argv)


def test_grid_seeds(tmp_path):
    p = argparse.ArgumentParser()
    cli.add_seeds_arg(p)
    seeds = p.parse_args(["--seeds", "0", "2"]).seeds
    assert seeds == [0, 2]
    xs, ys = np.linspace(-3, 1, 6), np.linspace(-3, 1, 5)
    path = tmp_path / "g.npz"
    z0 = hyper_grid("tanh_net", "sgd", "lr_in", "lr_out", xs, ys, inner_steps=10, seed=0)
    write_arrays(path, {"loss": z0, "x_values": xs, "y_values": ys},
                 dict(problem="tanh_net", optimizer="sgd", x="lr_in", y="lr_out", steps=10, reduce="mean",
                      dtype="float32", seed=0, fixed={"momentum": 0.9}))
    meta = cli.add_seeds_to_grid_npz(path, seeds)
    assert meta["seeds"] == [0, 2]
    assert meta["robust_best"] is None or len(meta["robust_best"]) == 4
    with np.load(path, allow_pickle=False) as f:
        assert {"loss", "loss_seeds", "p_diverge", "spread", "seeds", "x_values", "y_values"} <= set(f.files)
        zs = f["loss_seeds"]
        assert zs.shape == (2, 5, 6)
        for k, s in enumerate(seeds):
            want = hyper_grid("tanh_net", "sgd", "lr_in", "lr_out", xs, ys, inner_steps=10, seed=s)
            assert (np.isnan(zs[k]) != np.isnan(want)).sum() <= 1
            both = np.isfinite(zs[k]) & np.isfinite(want)
            np.testing.assert_allclose(zs[k][both], want[both], rtol=1e-4)
        np.testing.assert_allclose(f["p_diverge"], np.isnan(zs).mean(axis=0))
        with np.errstate(invalid="ignore"):
            ok = ~np.isnan(zs)
            mean = np.where(ok, zs, 0).sum(0) / ok.sum(0)
        np.testing.assert_allclose(f["loss"], np.where(ok.any(0), mean, np.nan), rtol=1e-5, equal_nan=True)


def test_grid_seeds_refuses_a_seedless_task():
    with pytest.raises(ValueError, match="draws nothing from a seed"):
        cli.seed_arrays("log_sin", "sgd", "lr", "momentum", np.linspace(-2, 0, 3), np.linspace(-2, 0, 3), [0, 1])


def test_grid_seeds_fractal_network():
    xs, ys = np.linspace(-1.0, 4.0, 5), np.linspace(-1.0, 4.0, 4)
    arrays, meta = cli.seed_arrays("fractal_tanh", "sgd", "lr_in", "lr_out", xs, ys, [0, 1], inner_steps=10,
                                   summary="converge")
    assert arrays["loss_seeds"].shape == (2, 4, 5) and meta["seeds"] == [0, 1]
    np.testing.assert_array_equal(arrays["p_diverge"], (~(arrays["loss_seeds"] <= 0)).mean(axis=0))
