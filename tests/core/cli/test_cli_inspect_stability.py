"""`grid`'s stability_x and `inspect` through `python -m l2l_core` (the entry points DESIGN.md names)."""

from __future__ import annotations

import json

import numpy as np

from l2l_core.cli import main


def test_grid_stability_x_is_the_closed_form_on_the_parabola(tmp_path, capsys):
    out = tmp_path / "g.npz"
    assert main(["grid", "--problem", "parabola", "--res", "7", "--steps", "5", "--out", str(out)]) == 0
    f = np.load(out, allow_pickle=False)
    m = 1 - 10.0 ** f["y_values"]
    np.testing.assert_allclose(f["stability_x"], np.log10(2 * (1 + m)), rtol=1e-5)  # f'' = 1: lr = 2(1+m)


def test_grid_stability_x_only_where_linear_stability_has_an_edge(tmp_path, capsys):
    a, b = tmp_path / "a.npz", tmp_path / "b.npz"
    assert main(["grid", "--problem", "rosenbrock", "--optimizer", "adam", "--res", "4", "--steps", "3",
                 "--out", str(a)]) == 0
    assert "stability_x" not in np.load(a).files  # Adam's edge is on its preconditioned sharpness
    assert main(["grid", "--problem", "tanh_net", "--res", "4", "--steps", "3", "--out", str(b)]) == 0
    assert np.load(b)["stability_x"].shape == (4,)  # lr_in x lr_out: one value per row


def test_inspect_writes_the_design_keys(tmp_path, capsys):
    out = tmp_path / "i.npz"
    assert main(["inspect", "--problem", "tanh_net", "--set", "lr=0.05", "--set", "momentum=0", "--steps", "40",
                 "--sharpness-every", "10", "--eigs", "2", "--slice", "5", "--out", str(out), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert set(report["seconds"]) >= {"train", "sharpness", "slice"}
    f = np.load(out, allow_pickle=False)
    assert f["loss"].shape == (41,) and f["sharpness"].shape == (5, 2)
    assert list(f["sharpness_steps"]) == [0, 10, 20, 30, 40]
    np.testing.assert_allclose(float(f["threshold"]), 2 / 0.05)
    assert f["slice_loss"].shape == (5, 5) and f["dir_a"].shape == f["center"].shape
    assert main(["inspect", "--problem", "tanh_net", "--set", "lr=abc", "--out", str(tmp_path / "x.npz")]) != 0
    assert "lr" in capsys.readouterr().err


def test_grid_takes_the_digits_networks(tmp_path, capsys):
    out = tmp_path / "d.npz"
    assert main(["grid", "--problem", "digits_fc_tanh", "--res", "3", "--steps", "2", "--x-range", "-2", "2",
                 "--out", str(out)]) == 0
    f = np.load(out, allow_pickle=False)
    meta = json.loads(str(f["meta"]))
    assert (meta["x"], meta["y"]) == ("lr_in", "lr_out") and f["loss"].shape == (3, 3)
    assert np.isfinite(f["loss"]).all() and f["stability_x"].shape == (3,)
