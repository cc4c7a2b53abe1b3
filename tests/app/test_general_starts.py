"""The general landscape's default outer runs start inside the trained region of the chosen
(task, optimizer) plane, and a run that cannot move says why instead of showing no number."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from l2l_core.outer.starts import POST_STARTS, default_starts, pick_starts
from tests.conftest import open_page

PAGE = str(Path(__file__).resolve().parents[2] / "pages" / "landscape.py")
SMALL = dict(res="100", methods="grad", osteps="20", seeds="0")


def _app(**params):
    return open_page(PAGE, timeout=300, **params)


def _runs_table(at):
    return next(d.value for d in at.dataframe if "run" in d.value.columns)


def test_pick_starts_keeps_to_the_finite_interior():
    z = np.full((9, 9), np.nan)
    z[1:6, 1:6] = np.arange(25, dtype=float).reshape(5, 5)
    xs = ys = np.linspace(-4, 4, 9)
    starts = pick_starts(z, xs, ys)
    assert len(starts) == 2 and starts[0] != starts[1]
    for x, y in starts:  # interior of the finite block: all neighbours finite
        i, j = int(np.argmin(abs(ys - y))), int(np.argmin(abs(xs - x)))
        assert np.isfinite(z[i - 1:i + 2, j - 1:j + 2]).all()
    assert pick_starts(np.full((5, 5), np.nan), xs[:5], ys[:5]) == ()


@pytest.mark.slow
def test_rosenbrock_with_sgd_starts_where_runs_move():
    own = default_starts("rosenbrock", "sgd", "lr", "momentum")
    assert own and not set(own) & set(POST_STARTS)
    at = _app(task="rosenbrock", opt="sgd", **SMALL)
    assert not at.exception, at.exception
    table = _runs_table(at)
    assert len(table) == len(own)
    assert all(math.isfinite(v) for v in table["end outer loss"]), table
    assert any(abs(e - p[0]) > 1e-6 for e, p in zip(table["end lr"], own))  # they moved
    assert any("default starts" in c.value for c in at.caption)


@pytest.mark.slow
def test_a_run_from_a_diverged_start_says_why():
    at = _app(task="rosenbrock", opt="sgd", starts="0,-1.5; -2.5,-0.2", **SMALL)
    assert not at.exception, at.exception
    table = _runs_table(at)
    outcome = dict(zip(table["run"], table["outcome"]))
    assert outcome["grad from (0, -1.5) seed 0"].startswith("did not move: its start diverged")
    assert outcome["grad from (-2.5, -0.2) seed 0"] == ""
    assert any("did not move" in w.value for w in at.warning)
