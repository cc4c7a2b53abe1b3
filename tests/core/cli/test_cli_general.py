"""``grid`` with the general flags: round trips, the default unchanged, errors."""

from __future__ import annotations

import json

import numpy as np
import pytest

from l2l_core.cli.commands import main
from l2l_core.landscape import axes, meta_loss_grid
from l2l_core.landscape.general import hyper_grid


def test_default_grid_is_todays_bit_for_bit(tmp_path, capsys):
    out = tmp_path / "g.npz"
    assert main(["grid", "--res", "40", "--out", str(out)]) == 0
    lrs, omm = axes(resolution=40)
    with np.load(out) as f:
        np.testing.assert_array_equal(f["loss"], meta_loss_grid(lrs, omm))
        np.testing.assert_array_equal(f["log_lrs"], lrs)
        np.testing.assert_array_equal(f["x_values"], lrs)
        np.testing.assert_array_equal(f["y_values"], omm)
        meta = json.loads(str(f["meta"]))
        # the seed post's file records what it always did (and, as every map now, its optimizer and axes)
        assert {"problem", "x0", "steps", "reduce", "seconds", "shape"} <= set(meta)
        assert (meta["problem"], meta["x0"], meta["steps"], meta["reduce"]) == ("log_sin", -4.0, 50, "mean")
        assert (meta["optimizer"], meta["x"], meta["y"]) == ("sgd", "lr", "momentum")
    # the aliases still move the axes
    assert main(["grid", "--res", "4", "--lr-range", "-2", "0", "--mom-range", "-1", "0",
                 "--out", str(out), "--force"]) == 0
    with np.load(out) as f:
        assert f["x_values"][0] == -2 and f["y_values"][0] == -1


def test_adam_on_rosenbrock_round_trip(tmp_path, capsys):
    out = tmp_path / "a.npz"
    argv = ["grid", "--problem", "rosenbrock", "--optimizer", "adam", "--x", "lr", "--y", "b1", "--x-range", "-3",
            "0", "--y-range", "-2", "0", "--res", "6", "--steps", "30", "--set", "eps=1e-6", "--out", str(out)]
    assert main(argv) == 0
    report = json.loads(capsys.readouterr().out)
    with np.load(out) as f:
        meta = json.loads(str(f["meta"]))
        xs, ys = f["x_values"], f["y_values"]
        np.testing.assert_array_equal(f["loss"], hyper_grid("rosenbrock", "adam", "lr", "b1", xs, ys,
                                                            inner_steps=30, fixed={"eps": 1e-6}))
    assert meta["x"] == "lr" and meta["y"] == "b1" and meta["y_unit"] == "log10(1-m)" and meta["fixed"]["eps"] == 1e-6
    assert xs[0] == -3 and ys[-1] == 0 and report["shape"] == [6, 6]


def test_network_task_carries_its_arrays(tmp_path, capsys):
    out = tmp_path / "n.npz"
    assert main(["grid", "--problem", "tanh_net", "--res", "3", "--steps", "5", "--reduce", "converge",
                 "--seed", "2", "--out", str(out)]) == 0
    with np.load(out) as f:
        assert {"task_inputs", "task_targets", "task_init_0", "task_init_1"} <= set(f.files)
        assert json.loads(str(f["meta"]))["x"] == "lr_in"


def test_formula_in_x_and_y_and_csv(tmp_path, capsys):
    out = tmp_path / "f.csv"
    assert main(["grid", "--problem", "x**2 + 3*y**2", "--optimizer", "rmsprop", "--res", "4", "--init", "1",
                 "-1", "--out", str(out)]) == 0
    lines = out.read_text().splitlines()
    assert len(lines) == 5 and lines[0].startswith("y\\x,")


def test_bad_flags_give_one_line_and_exit_2(tmp_path, capsys):
    out = tmp_path / "bad.npz"
    for argv, words in ((["--optimizer", "lion"], "unknown inner optimizer"),
                        (["--optimizer", "adam", "--y", "momentum"], "not a hyperparameter"),
                        (["--reduce", "median"], "summary"),
                        (["--set", "eps"], "NAME=VALUE"),
                        (["--problem", "rosenbrock", "--x-range", "1", "0"], "lower end"),
                        (["--init", "1", "2"], "2-D tasks")):
        assert main(["grid", "--res", "3", *argv, "--out", str(out)]) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and words in err, (argv, err)
    assert not out.exists()


def test_grid_of_the_trainability_fractal_network(tmp_path, capsys):
    """The contract of DESIGN.md: grid --problem fractal_tanh --x lr_in --y lr_out --reduce converge."""
    from l2l_core.landscape.fractal import fractal_grid

    out = tmp_path / "fr.npz"
    argv = ["grid", "--problem", "fractal_tanh", "--x", "lr_in", "--y", "lr_out", "--reduce", "converge",
            "--res", "6", "--steps", "10", "--out", str(out)]
    assert main(argv) == 0
    with np.load(out) as f:
        assert {"loss", "x_values", "y_values", "meta", "task_inputs", "task_targets", "task_init_0",
                "task_init_1"} <= set(f.files)
        assert f["task_inputs"].shape == (272, 16) and f["task_init_0"].shape == (16, 16)
        ref = fractal_grid(f["x_values"], f["y_values"], task="fractal_tanh", steps=10, reduce="converge")
        np.testing.assert_array_equal(f["loss"], ref)
    capsys.readouterr()
    # any other optimizer trains the same network on the general path (a task of the maps)
    assert main(argv[:-2] + ["--optimizer", "adam", "--out", str(tmp_path / "x.npz")]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert (printed["optimizer"], printed["x"], printed["y"]) == ("adam", "lr_in", "lr_out")
    # the variants whose axes are not two rates have only the paper's gradient descent
    assert main(["grid", "--problem", "fractal_offset", "--optimizer", "adam", "--res", "4", "--steps", "5",
                 "--out", str(tmp_path / "y.npz")]) == 2
    assert "plain gradient descent" in capsys.readouterr().err


def test_outer_takes_any_task_and_keeps_the_posts_run(capsys):
    """One path: the seed post's plane runs its own scan (the same trajectory as run_outer_full) and
    any other (task, optimizer, axes) the general one (the same as run_outer_general)."""
    from l2l_core.outer import run_outer_full
    from l2l_core.outer.general import run_outer_general

    assert main(["outer", "--method", "es", "--steps", "20", "--seed", "3", "--json"]) == 0
    post = json.loads(capsys.readouterr().out)
    ref = run_outer_full("es", (-2.0, -0.5), 20, seed=3, problem="log_sin", x0=-4.0, inner_steps=50)
    np.testing.assert_array_equal(np.asarray(post["runs"][0]["trajectory"], np.float32), ref.trajectory)
    assert {"end_lr", "end_momentum"} <= set(post["runs"][0])
    argv = ["outer", "--problem", "rosenbrock", "--optimizer", "adam", "--y", "b1", "--method", "random",
            "--steps", "10", "--inner-steps", "20", "--seed", "1", "--json"]
    assert main(argv) == 0
    out = json.loads(capsys.readouterr().out)
    ref = run_outer_general("random", "rosenbrock", "adam", "lr", "b1", (-1.5, -1.5), 10, seed=1, inner_steps=20)
    np.testing.assert_array_equal(np.asarray(out["runs"][0]["trajectory"], np.float32), ref.trajectory)
    assert out["options"]["x"] == "lr" and out["runs"][0]["end_b1"] == pytest.approx(1 - 10 ** ref.trajectory[-1][1])
    assert main(["outer", "--problem", "rosenbrock", "--x", "momentum", "--optimizer", "adam"]) == 2
    assert "not a hyperparameter of (rosenbrock, adam)" in capsys.readouterr().err
    assert main(["outer", "--problem", "rosenbrock", "--x0", "1"]) == 2
    assert "not a 1-D task" in capsys.readouterr().err
