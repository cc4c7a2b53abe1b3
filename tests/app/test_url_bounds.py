"""An out-of-range link value is never replaced silently: the page warns and
says which value it used (before: ?osteps=30000 became 1 without a word)."""

from pathlib import Path

from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]


def _run(page: str, **params) -> AppTest:
    at = AppTest.from_file(str(ROOT / page), default_timeout=300)
    for k, v in params.items():
        at.query_params[k] = v
    return at.run()


def test_landscape_outer_steps_over_the_cap_is_clamped_with_a_warning():
    at = _run("pages/landscape.py", osteps="30000", methods="grad", res="100")
    assert at.session_state["o_steps"] == 20000
    notes = [w.value for w in at.warning]
    assert any("osteps=30000" in n and "using 20000" in n for n in notes), notes


def test_tour_step_out_of_range_warns_with_the_step_used():
    at = _run("pages/tour.py", step="99")
    notes = [w.value for w in at.warning]
    assert any("step=99" in n and "using" in n for n in notes), notes
    assert not at.exception
