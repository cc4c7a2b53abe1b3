"""Random flag combinations for every command: each ends in exit 0, or in one line
``error: ...`` and exit 2, never a traceback; nothing outside the test's folder changes and no
temp file or lock is left. The quick run stops each command where its work would start (the
work is stubbed); the slow one lets the cheap commands run for real at small sizes."""

from __future__ import annotations

import argparse
import contextlib
import io
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from l2l_core.cli.commands import COMMANDS, build_parser, main

INTS = ["0", "1", "2", "3", "-1", "99999999999999999999", "2147483648", "x", "1.5", ""]
SMALL_INTS = ["1", "2", "3", "4"]
REALS = ["0", "-1", "2", "-3", "0.5", "1e400", "nan", "-inf", "abc", ""]


class Reached(Exception):
    """A command got past every check to its work."""


def _stop(*args, **kwargs):
    raise Reached


STUBS = ["l2l_core.landscape.grid.meta_loss_grid", "l2l_core.landscape.grid.lr_sweep",
         "l2l_core.landscape.general.hyper_grid", "l2l_core.landscape.fractal.fractal_grid",
         "l2l_core.outer.run_outer_full", "l2l_core.cli.learned.run_with_checkpoints",
         "l2l_core.cli.learned.compare", "l2l_core.cli.generalization.generalization_map",
         "l2l_core.cli.figures.reproduce"]


def _actions(command: str) -> list[argparse.Action]:
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return [a for a in sub.choices[command]._actions if a.option_strings and a.dest != "help"]


def _values(action: argparse.Action, folder: Path, small: bool):
    """A strategy for one flag's value tokens: good and hostile alike."""
    if action.nargs == 0:
        return st.just([])
    if action.choices:
        one = st.sampled_from([*map(str, action.choices), "bogus"])
    elif getattr(action.type, "__name__", "") in ("path", "Path"):
        one = st.sampled_from(["", str(folder / "o.npz"), str(folder / "o.csv"), str(folder / "run"),
                               str(folder / "missing" / "x"), str(folder / "loop" / "x"), "/proc/l2l_none",
                               str(folder / ("n" * 300))])
    elif getattr(action.type, "__name__", "") == "integer" or action.dest in ("seed", "seeds"):
        one = st.sampled_from(SMALL_INTS if small else INTS + SMALL_INTS)
    elif action.dest in ("problem",):
        one = st.sampled_from(["log_sin", "rosenbrock", "tanh_net", "x**2", "x*y", "__import__('os')", ""])
    elif action.dest == "set":
        one = st.sampled_from(["eps=1e-6", "eps=nan", "b2", "=1", "b2=0.9"])
    else:
        one = st.sampled_from(REALS)
    n = action.nargs
    if isinstance(n, int):
        return st.lists(one, min_size=n, max_size=n)
    if n == "+":
        return st.lists(one, min_size=1, max_size=3)
    return st.lists(one, min_size=1, max_size=1)


@st.composite
def argvs(draw, folder: Path, small: bool = False, commands=tuple(COMMANDS)):
    command = draw(st.sampled_from(commands))
    actions = _actions(command)
    chosen = draw(st.lists(st.sampled_from(actions), max_size=5, unique_by=lambda a: a.dest))
    argv = [command]
    required = [a for a in actions if a.required and a not in chosen]
    for a in chosen + required:
        argv += [a.option_strings[0], *draw(_values(a, folder, small))]
    if small:  # the real run: the smallest sizes
        argv += {"grid": ["--res", "3", "--steps", "2"], "sweep": ["--points", "3", "--steps", "2"],
                 "outer": ["--steps", "2", "--inner-steps", "2"], "fractal": ["--res", "3", "--steps", "2"]
                 }.get(command, [])
    return argv


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    d = tmp_path_factory.mktemp("fuzz")
    (d / "loop").symlink_to(d / "loop")
    return d


def _snapshot(folder: Path) -> dict:
    return {p: p.lstat().st_mtime_ns for p in folder.parent.iterdir() if p != folder}


def _check(argv: list[str], folder: Path) -> None:
    err, out = io.StringIO(), io.StringIO()
    before = _snapshot(folder)
    try:  # in the test's folder: a command's default output (grid.npz, ...) lands there
        with contextlib.chdir(folder), contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
            code = main(argv)
    except Reached:
        code = 0
    text = err.getvalue()
    assert code in (0, 2), (argv, code, text)
    if code == 2:
        last = text.rstrip("\n").splitlines()[-1]
        assert last.startswith("error: ") and "Traceback" not in text, (argv, text)
    left = [p for p in folder.rglob("*") if p.name.endswith(".tmp") or p.name == ".lock"]
    assert left == [], (argv, left)
    assert _snapshot(folder) == before, argv


@pytest.mark.slow
@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_random_flags_of_every_command_never_end_in_a_traceback(folder, data):
    argv = data.draw(argvs(folder))
    with contextlib.ExitStack() as stack:
        for target in STUBS:
            stack.enter_context(mock.patch(target, _stop))
        _check(argv, folder)


@pytest.mark.slow
@settings(max_examples=100, deadline=None)
@given(data=st.data())
def test_random_flags_of_the_cheap_commands_run_for_real(folder, data):
    _check(data.draw(argvs(folder, small=True, commands=("grid", "sweep", "outer", "fractal"))), folder)
