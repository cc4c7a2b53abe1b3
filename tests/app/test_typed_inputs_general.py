"""The one input rule on the landscape page beyond the post, the shared selection's boxes and the
tour's seeds: a typed value outside its range, or not whole where a whole number is needed, is
refused beside its box (what was typed, what is used instead), never kept silently; whole numbers
are read as numbers ("1e300" is not 1)."""

from __future__ import annotations

import pytest

from tests.conftest import open_page
from ui.state import MAX_SEED

pytestmark = pytest.mark.slow

TINY = dict(res="100", steps="5", methods="", osteps="20", seeds="0")
ADAM = dict(task="rosenbrock", opt="adam", x="lr", y="b1", **TINY)
NET = dict(task="tanh_net", opt="sgd", x="lr_in", y="lr_out", **TINY)

#: (page, query, widget key, typed value, the value used, what the error says)
CASES = [
    ("pages/landscape.py", ADAM, "g_xr_lo", -50.0, -30.0, "-50 is outside -30 to 30; using -30 instead"),
    ("pages/landscape.py", ADAM, "g_yr_hi", 3.0, 0.5, "3 is outside -30 to 0.5; using 0.5 instead"),
    ("pages/landscape.py", ADAM, "g_yr_lo", 0.25, -3.0, "0.25 is not below the other end 0; using -3 instead"),
    ("pages/landscape.py", ADAM, "g_fx_b2", 1.5, 1 - 1e-12, "1.5 is outside 0 to 0.999999999999; "
                                                           "using 0.999999999999 instead"),
    ("pages/landscape.py", ADAM, "g_fx_eps", -1.0, 1e-30, "-1 is outside 1e-30 to 1e+30; using 1e-30 instead"),
    ("pages/landscape.py", NET, "g_seed", 1e300, MAX_SEED, f"1e+300 is outside 0 to {MAX_SEED}; "
                                                          f"using {MAX_SEED} instead"),
    ("pages/inner_problem.py", dict(task="rosenbrock", opt="sgd", steps="20"), "ip_hp_momentum", 2.0, 1 - 1e-12,
     "2 is outside 0 to 0.999999999999; using 0.999999999999 instead"),
    ("pages/inner_problem.py", dict(task="tanh_net", opt="sgd", steps="20"), "ip_seed", 2.5, 2,
     "2.5 is not a whole number; using 2 instead"),
    ("pages/lr_sweep.py", dict(task="tanh_net", opt="sgd", points="20"), "sw_seed", -4.0, 0,
     "-4 is outside 0 to 2147483647; using 0 instead"),
    ("pages/tour.py", dict(step="7"), "t_learn_seed", 1e300, 10_000, "1e+300 is outside 0 to 10000; "
                                                                     "using 10000 instead"),
    ("pages/tour.py", dict(step="8"), "t_adam_seed", -5.0, 0, "-5 is outside 0 to 10000; using 0 instead"),
]


def errors(at) -> str:
    return " ".join(e.value for e in at.error)


@pytest.mark.parametrize("path,query,key,typed,used,says", CASES, ids=[c[2] for c in CASES])
def test_a_refused_value_says_so_beside_its_box(path, query, key, typed, used, says):
    at = open_page(path, **query)
    at.number_input(key=key).set_value(typed).run()
    assert not at.exception, at.exception
    assert at.number_input(key=key).value == pytest.approx(used)
    assert says in errors(at), errors(at)


def test_a_refused_value_off_the_axes_is_the_one_the_grid_uses():
    at = open_page("pages/landscape.py", **ADAM)
    at.number_input(key="g_fx_b2").set_value(7.0).run()
    assert not at.exception, at.exception
    assert at.query_params["set"] in ("b2=0.999999999999", ["b2=0.999999999999"])
    assert len(at.get("plotly_chart")) == 1  # drawn with the value used, not an error instead of the chart


def test_a_whole_number_in_a_seed_box_comes_back_whole():
    at = open_page("pages/landscape.py", **NET)
    at.number_input(key="g_seed").set_value(3.0).run()
    assert not at.exception and not at.error, errors(at)
    assert at.query_params["nseed"] in ("3", ["3"])
