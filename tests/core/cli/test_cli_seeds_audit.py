"""`grid --seeds` and `audit` through `python -m l2l_core` (the entry points DESIGN.md names)."""

from __future__ import annotations

import json

import numpy as np

from l2l_core.cli import main


def test_grid_seeds_adds_one_map_per_seed_each_equal_to_grid_seed(tmp_path, capsys):
    common = ["grid", "--problem", "tanh_net", "--res", "6", "--steps", "8"]
    assert main(common + ["--seeds", "0", "3", "--out", str(tmp_path / "s.npz")]) == 0
    for s in (0, 3):
        assert main(common + ["--seed", str(s), "--out", str(tmp_path / f"{s}.npz")]) == 0
    f = np.load(tmp_path / "s.npz", allow_pickle=False)
    assert f["loss_seeds"].shape == (2, 6, 6) and f["p_diverge"].shape == (6, 6)
    for i, s in enumerate((0, 3)):
        one = np.load(tmp_path / f"{s}.npz")["loss"]
        np.testing.assert_allclose(f["loss_seeds"][i], one, rtol=1e-4)
    ok = ~np.isnan(f["loss_seeds"])
    mean = np.where(ok.any(0), np.nansum(f["loss_seeds"], 0) / np.maximum(ok.sum(0), 1), np.nan)
    np.testing.assert_allclose(f["loss"], mean, rtol=1e-5)
    np.testing.assert_allclose(f["p_diverge"], 1 - ok.mean(0))
    meta = json.loads(str(f["meta"]))
    assert meta["seeds"] == [0, 3] and "robust_best" in meta


def test_grid_seeds_is_refused_for_a_task_without_randomness_and_beside_seed(tmp_path, capsys):
    assert main(["grid", "--problem", "log_sin", "--res", "4", "--seeds", "0", "1",
                 "--out", str(tmp_path / "a.npz")]) != 0
    assert "draws nothing from a seed" in capsys.readouterr().err
    assert main(["grid", "--problem", "tanh_net", "--res", "4", "--seed", "1", "--seeds", "0", "1",
                 "--out", str(tmp_path / "b.npz")]) != 0
    assert "--seeds gives the seeds" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


def test_audit_command_writes_what_design_names(tmp_path, capsys):
    out = tmp_path / "audit.npz"
    assert main(["audit", "--problem", "log_sin", "--optimizer", "sgd", "--x", "lr", "--y", "momentum",
                 "--trials", "12", "--sampler", "random", "--seed", "0", "--res", "16", "--out", str(out),
                 "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert {"best_trial", "best_dense"} <= set(report)
    f = np.load(out, allow_pickle=False)
    for key in ("trial_x", "trial_y", "trial_value", "loss", "x_values", "y_values", "contour"):
        assert key in f.files, key
    assert f["trial_x"].shape == (12,) and f["contour"].shape == f["loss"].shape == (16, 16)
    assert report["best_trial"]["value"] == float(np.min(f["trial_value"]))
    assert report["best_dense"]["value"] == float(np.nanmin(f["loss"]))
