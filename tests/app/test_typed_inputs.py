"""One input rule for every typed number: a value outside its range, or not whole where a whole
number is needed, is visibly refused beside its box (what was typed, what is used instead);
whole numbers are read as numbers ("1e300" is not 1); accepted values that make every run
diverge are explained with their real cause."""

from __future__ import annotations

import pytest

from l2l_core import outer
from tests.conftest import open_page
from ui.state import refusal

#: (page, widget key, typed value, the value used, query for the page)
CASES = [
    ("pages/inner_problem.py", "ip_lr", -1e6, 0.0, {}),
    ("pages/estimators.py", "est_samples", 1e300, outer.MAX_SAMPLES, {}),
    ("pages/estimators.py", "est_std", 50.0, 5.0, {}),
    ("pages/landscape.py", "cap", -3.0, 0.01, {"methods": "", "res": "100"}),
    ("pages/landscape.py", "o_lr", 100.0, 10.0, {"methods": "grad", "osteps": "5", "res": "100"}),
    ("pages/landscape.py", "o_std", 0.0, 1e-4, {"methods": "grad", "osteps": "5", "res": "100"}),
    ("pages/landscape.py", "o_steps", 2.5, 2, {"methods": "grad", "osteps": "5", "res": "100"}),
    ("pages/learned_optimizer.py", "lo_eval_seed", -1.0, 0, {}),
    ("pages/learned_optimizer.py", "lo_meta_lr", 5.0, 1.0, {}),
]


def errors(at) -> str:
    return " ".join(e.value for e in at.error)


@pytest.mark.slow
@pytest.mark.parametrize("path,key,typed,used,query", CASES, ids=[c[1] for c in CASES])
def test_a_refused_value_says_so_beside_its_box(path, key, typed, used, query):
    at = open_page(path, **query)
    at.number_input(key=key).set_value(typed).run()
    assert not at.exception, at.exception
    assert at.number_input(key=key).value == used
    text = errors(at)
    assert f"{typed:g}" in text and f"using {used:g} instead" in text, text


def test_the_rule_itself():
    assert refusal(0.5, 0, 1, False, 0.1) is None
    assert refusal(1e300, 1, 5000, True, 100) == (5000, "1e+300 is outside 1 to 5000; using 5000 instead.")
    assert refusal(2.5, 1, 5000, True, 100)[0] == 2
    assert refusal(-1e6, 0, 1e6, False, 0.1)[0] == 0.0


def test_whole_numbers_come_back_as_integers_in_the_link():
    at = open_page("pages/estimators.py")
    at.number_input(key="est_samples").set_value(300.0).run()
    assert at.query_params["est_samples"] in ("300", ["300"])


@pytest.mark.slow
def test_a_sweep_where_every_run_diverges_names_the_momentum():
    at = open_page("pages/lr_sweep.py", points="500")
    at.number_input(key="sw_momentum").set_value(-1e6).run()
    assert not at.exception, at.exception
    text = " ".join(w.value for w in at.warning)
    assert "Every run of this sweep diverged" in text and "momentum -1e+06" in text, text


@pytest.mark.slow
def test_a_start_that_overflows_is_blamed_not_the_learning_rate():
    at = open_page("pages/inner_problem.py", problem="exp(x)", x0="100")
    assert not at.exception, at.exception
    text = " ".join(w.value for w in at.warning)
    assert "x0 = 100" in text and "learning rate or the momentum" not in text.split("whatever")[0], text
    assert "Lower the learning rate or the momentum" not in text
