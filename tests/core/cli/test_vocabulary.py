"""One argument vocabulary: the same flag is refused the same way by every command, and a
flag that does not apply to the chosen task or optimizer is refused, never ignored."""

from __future__ import annotations

import pytest

from l2l_core.cli.commands import main

HUGE = "99999999999999999999"  # too large for a C long


def one_line_error(capsys) -> str:
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1, err
    return err


def _commands(tmp):
    """Each command with small, valid settings; a case appends the flag under test."""
    return {
        "grid": ["grid", "--res", "4", "--steps", "2", "--out", str(tmp / "g.npz")],
        "sweep": ["sweep", "--points", "4", "--steps", "2", "--out", str(tmp / "s.npz")],
        "outer": ["outer", "--steps", "1", "--inner-steps", "2"],
        "fractal": ["fractal", "--res", "4", "--steps", "2", "--out", str(tmp / "f.npz")],
        "metatrain": ["metatrain", "--preset", "tiny", "--meta-steps", "1", "--out", str(tmp / "m")],
        "compare": ["compare", "--task", "quadratic", "--steps", "1", "--batch", "1"],
        "generalization": ["generalization", "--cells", "wine", "--batch", "1", "--lr-points", "2"],
        "reproduce": ["reproduce", "--small", "--out", str(tmp / "r")],
    }


SEEDED = ("grid", "outer", "fractal", "metatrain", "compare", "generalization")


@pytest.mark.parametrize("command", SEEDED)
@pytest.mark.parametrize("value", ["-1", HUGE, "2147483648", "x"])
def test_every_seed_is_checked_alike(tmp_path, capsys, command, value):
    assert main(_commands(tmp_path)[command] + ["--seed", value]) == 2
    err = one_line_error(capsys)
    assert "argument --seed:" in err and (value == "x" or "from 0 to 2147483647" in err)


@pytest.mark.parametrize("argv", [
    ["compare", "--batch", "0"], ["metatrain", "--batch", "0"], ["generalization", "--batch", "0"],
    ["generalization", "--lr-points", "1000000000"], ["generalization", "--lr-points", "0"],
    ["sweep", "--points", HUGE], ["grid", "--res", HUGE], ["fractal", "--res", "3000"],
    ["outer", "--pairs", HUGE], ["metatrain", "--chunk", HUGE], ["grid", "--steps", "0"],
])
def test_counts_are_integers_within_the_cores_caps(tmp_path, capsys, argv):
    assert main(_commands(tmp_path)[argv[0]] + argv[1:]) == 2
    assert f"argument {argv[1]}: must be an integer from" in one_line_error(capsys)


@pytest.mark.parametrize("argv", [
    ["sweep", "--lr-range", "2", "-3"], ["grid", "--lr-range", "2", "-3"], ["grid", "--x-range", "1", "1"],
    ["fractal", "--x-range", "6", "-3"], ["grid", "--mom-range", "0", "nan"],
])
def test_ranges_are_lower_end_first(tmp_path, capsys, argv):
    assert main(_commands(tmp_path)[argv[0]] + argv[1:]) == 2
    assert f"argument {argv[1]}:" in one_line_error(capsys)


@pytest.mark.parametrize("command", ["grid", "sweep", "fractal", "metatrain", "reproduce", "generalization"])
def test_an_empty_out_is_refused(tmp_path, capsys, monkeypatch, command):
    monkeypatch.chdir(tmp_path)
    argv = [a for a in _commands(tmp_path)[command]]
    argv = argv[:argv.index("--out")] + argv[argv.index("--out") + 2:] if "--out" in argv else argv
    assert main(argv + ["--out", ""]) == 2
    assert "argument --out: give a path" in one_line_error(capsys)
    assert list(tmp_path.iterdir()) == []  # nothing written into the current folder


@pytest.mark.parametrize("argv, why", [
    (["metatrain", "--meta-loss-on", "next"], "no minibatches"),
    (["metatrain", "--base-lr", "0.1"], "no base path"),
    (["metatrain", "--finish-meta-lr", "0.01"], "no finishing stage"),
    (["grid", "--problem", "rosenbrock", "--x0", "3"], "2-D task"),
    (["grid", "--optimizer", "adam", "--mom-range", "-3", "0"], "no axis is momentum"),
    (["grid", "--optimizer", "adam", "--x", "b1", "--y", "b2", "--lr-range", "-3", "0"], "no axis is lr"),
    (["grid", "--optimizer", "sgd", "--x-range", "-3", "0", "--lr-range", "-2", "0"], "already gives"),
    (["grid", "--problem", "tanh_net", "--x0", "1"], "own network weights"),
    (["outer", "--seeds", "1", "2", "--seed", "3"], "--seeds gives every seed"),
    (["compare", "--task", "digits_mlp", "--dim", "3"], "quadratics only"),
])
def test_a_flag_that_does_not_apply_is_refused(tmp_path, capsys, argv, why):
    assert main(_commands(tmp_path)[argv[0]] + argv[1:]) == 2
    err = one_line_error(capsys)
    assert "does not apply" in err and why in err, err
    assert not (tmp_path / "m").exists() and not (tmp_path / "g.npz").exists()


@pytest.mark.parametrize("argv", [["outer", "--lr", "inf"], ["outer", "--std", "-1"], ["sweep", "--x0", "nan"],
                                  ["metatrain", "--meta-lr", "0"], ["reproduce", "--scale", "nan"],
                                  ["grid", "--set", "eps=nan"]])
def test_numbers_are_finite_and_rates_positive(tmp_path, capsys, argv):
    assert main(_commands(tmp_path)[argv[0]] + argv[1:]) == 2
    one_line_error(capsys)
