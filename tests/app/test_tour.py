"""The tour (the landing page) through streamlit.testing: every step renders with
its figure, a control changes the figure, links carry the step's settings, and
the step comes from / goes to the URL."""

import json
from pathlib import Path
from urllib.parse import parse_qs

import numpy as np
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from tests.app.test_pages import arr
from ui.tour_steps import STEP_REGISTRY

TIMEOUT = 180
ROOT = Path(__file__).resolve().parents[2]


def app(step=None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    if step is not None:
        at.query_params["step"] = str(step)
    return at.run()


def ok(at) -> None:
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]


def specs(at):
    return [json.loads(c.proto.spec) for c in at.get("plotly_chart")]


def links(at):
    return {e.proto.page: parse_qs(e.proto.query_string) for e in at.get("page_link")}


@pytest.fixture
def tiny_checkpoint(tmp_path, monkeypatch):
    """An untrained LSTM saved as the 'shipped' checkpoint (writing one takes no training)."""
    import jax

    import l2l_core.learned.checkpoints as ckpts
    from l2l_core.learned.config import preset_config
    from l2l_core.learned.lstm import init_meta_params

    cfg = preset_config("short", meta_steps=1)
    params = init_meta_params(jax.random.PRNGKey(0), cfg.lstm)
    ckpts.save_checkpoint(tmp_path / "ckpt", params, cfg, curve={"meta_loss": np.array([5.0, 4.0, 3.0])})
    monkeypatch.setattr(ckpts, "DEFAULT_CHECKPOINT", tmp_path / "ckpt")
    st.cache_resource.clear()
    yield tmp_path / "ckpt"
    st.cache_resource.clear()


def test_tour_is_the_landing_page():
    at = app()
    ok(at)
    assert "Start here" in at.title[0].value
    assert at.header[0].value == "1. The inner problem"
    assert at.query_params["step"] == "1"
    assert len(at.get("plotly_chart")) == 1
    assert links(at) == {"inner_problem": {"problem": ["log_sin"]}}


def test_momentum_control_changes_the_path():
    at = app(step=2)
    ok(at)
    assert at.header[0].value == "2. Momentum's path"
    path = np.asarray(arr(specs(at)[0]["data"][1]["x"]), dtype=float)
    assert path[0] == -4.0 and len(path) == 51
    # lr 0.1, momentum 0.9: the post's run ends in the local minimum's basin (x ~ 1.2), not the global one
    assert 0.8 < path[-1] < 1.6
    at.select_slider(key="t_mom").set_value(0.5).run()
    ok(at)
    new = np.asarray(arr(specs(at)[0]["data"][1]["x"]), dtype=float)
    assert not np.allclose(new, path)
    assert new[-1] < 0.5  # less momentum: it stays in the global minimum near x = -0.43
    q = links(at)["inner_problem"]
    assert q["momentum"] == ["0.5"] and q["lr"] == ["0.1"] and q["steps"] == ["50"]


def test_next_walks_every_step_without_error(tiny_checkpoint):
    at = app()
    seen = []
    n = len(STEP_REGISTRY)
    for i in range(n):
        ok(at)
        seen.append(at.header[0].value)
        assert at.query_params["step"] == str(i + 1)
        assert len(at.get("plotly_chart")) >= 1, seen[-1]
        assert at.get("page_link"), f"{seen[-1]} has no link into its page"
        assert at.get("download_button"), f"{seen[-1]} has no data download"
        if i < n - 1:
            at.button(key="tour_next").click().run()
    assert seen[0].startswith("1.") and seen[7] == "8. Does it beat Adam?"
    assert seen[-4] == f"{n - 3}. From one number to a network"
    assert seen[-3] == f"{n - 2}. What theory predicts"
    assert seen[-2] == f"{n - 1}. Inside one pixel: the edge of stability"
    assert seen[-1] == f"{n}. What your tuner sees"
    assert len(set(seen)) == n
    assert at.button(key="tour_next").disabled
    at.button(key="tour_prev").click().run()
    assert at.header[0].value.startswith(f"{n - 1}.")


def test_landscape_steps_link_with_their_settings():
    at = app(step=5)
    ok(at)
    q = links(at)["landscape"]
    assert q["methods"] == ["grad"] and q["starts"] == ["-2,-0.5"] and q["osteps"] == ["100"]
    at.radio(key="t_gd_start").set_value(at.radio(key="t_gd_start").options[1]).run()
    ok(at)
    assert links(at)["landscape"]["starts"] == ["0,-1.5"]
    # the post: from the unstable start gradient descent ends much worse
    labels = {m.label: float(m.value) for m in at.metric if m.label == "end outer loss"}
    assert labels["end outer loss"] > 4.0


def test_es_step_ends_below_gradient_descent():
    at = app(step=6)
    ok(at)
    ends = {m.label: float(m.value) for m in at.metric}
    assert ends["es from (-2, -0.5)"] < ends["grad from (-2, -0.5)"]
    assert ends["es from (0, -1.5)"] < ends["grad from (0, -1.5)"]


def test_bad_step_in_url_falls_back_to_the_start():
    at = app(step="eleven")
    ok(at)
    assert at.header[0].value.startswith("1.")


def test_missing_checkpoint_is_explained_not_raised(monkeypatch, tmp_path):
    import l2l_core.learned.checkpoints as ckpts

    monkeypatch.setattr(ckpts, "DEFAULT_CHECKPOINT", tmp_path / "nothing")
    st.cache_resource.clear()
    try:
        at = app(step=8)
        ok(at)
        assert any("not available" in i.value for i in at.info)
    finally:
        st.cache_resource.clear()


def test_full_pages_read_the_settings_a_tour_link_sends():
    at = AppTest.from_file(str(ROOT / "pages/inner_problem.py"), default_timeout=TIMEOUT)
    at.query_params.update(lr="0.3", momentum="0.5", steps="80")
    at.run()
    ok(at)
    assert at.number_input(key="ip_lr").value == 0.3 and at.number_input(key="ip_momentum").value == 0.5
    assert at.slider(key="ip_steps").value == 80
    at = AppTest.from_file(str(ROOT / "pages/lr_sweep.py"), default_timeout=TIMEOUT)
    at.query_params.update(lr_range="-2,1", points="500", momentum="0.99", problem="parabola")
    at.run()
    ok(at)
    assert at.slider(key="sw_range").value == (-2.0, 1.0) and at.select_slider(key="sw_points").value == 500
    assert at.selectbox[0].value == "parabola"
    at = AppTest.from_file(str(ROOT / "pages/inner_problem.py"), default_timeout=TIMEOUT)
    at.query_params.update(lr="lots")
    at.run()
    assert not at.exception and at.number_input(key="ip_lr").value == 0.1
    assert "lr" in at.warning[0].value


def test_learned_page_reads_the_task_seed_a_tour_link_sends():
    at = app(step=8)
    ok(at)
    at.number_input(key="t_adam_seed").set_value(7).run()
    assert links(at)["learned_optimizer"] == {"seed": ["7"]}
    page = AppTest.from_file(str(ROOT / "pages/learned_optimizer.py"), default_timeout=TIMEOUT)
    page.query_params["seed"] = "7"
    page.run()
    ok(page)
    assert page.number_input(key="lo_eval_seed").value == 7


def test_theory_step_prints_the_closed_form_and_the_edges_the_core_computes():
    """The theory step: on the parabola its theory lr is 2(1+m); each measured edge is the first column of the
    core's own grid (same window, start, final loss) whose run ends above its start; its links carry the maps."""
    import re

    from l2l_core import landscape
    from l2l_core.tasks.problems import PROBLEMS
    from ui.tour_steps import THEORY_MAPS, THEORY_MOMENTA, THEORY_RES, THEORY_WINDOW

    num = r"[-+]?\d[\d,]*\.?\d*(?:e[-+]?\d+)?"
    step = next(i for i, s in enumerate(STEP_REGISTRY) if s.title == "What theory predicts") + 1
    assert STEP_REGISTRY[step].title == "Inside one pixel: the edge of stability"
    at = app(step=step)
    ok(at)
    caps = {c.value.split(" from x0")[0]: c.value for c in at.caption if " from x0 = " in c.value}
    lo, hi, mlo, mhi = THEORY_WINDOW
    log_lrs, log_omm = landscape.axes((lo, hi), (mlo, mhi), THEORY_RES)
    edges = {}
    for problem, x0 in THEORY_MAPS:
        z = np.asarray(landscape.meta_loss_grid(log_lrs, log_omm, problem=problem, x0=x0, summary="final"))
        start = float(PROBLEMS[problem].loss(np.float32(x0)))
        for mom in THEORY_MOMENTA:
            i = int(np.argmin(np.abs(log_omm - np.log10(1.0 - mom))))
            m_row = 1.0 - 10.0 ** log_omm[i]
            assert abs(m_row - mom) < 1e-6
            said = re.search(rf"at momentum {m_row:.4g}: theory lr ({num}), measured lr ({num})", caps[problem])
            assert said, caps[problem]
            j = next(j for j in range(log_lrs.size) if not z[i, j] <= start)  # the first run not ending below
            assert said.group(2) == f"{10 ** log_lrs[j]:.4g}", (problem, mom, said.group(0))
            edges[problem, mom] = (float(said.group(1)), 10 ** log_lrs[j])
            if problem == "parabola":  # the closed form, lr = 2(1+m)/f'', f'' = 1; the edge is its next column
                assert said.group(1) == f"{2 * (1 + m_row):.4g}", said.group(0)
                if mom == 0.0:
                    assert log_lrs[j - 1] < np.log10(2.0) < log_lrs[j]
    # the double well's real edge: right of the line at momentum 0, left of it at 0.9 (as the captions say)
    theory0, measured0 = edges["double_well", 0.0]
    theory9, measured9 = edges["double_well", 0.9]
    assert theory0 == 1.0 and measured0 > 2 * theory0 and measured9 < 0.5 * theory9
    assert "(right of the line)" in caps["double_well"] and "(left of the line)" in caps["double_well"]
    qs = [parse_qs(e.proto.query_string) for e in at.get("page_link")]
    assert [(q["problem"][0], float(q["x0"][0]), q["reduce"][0], q["res"][0]) for q in qs] == [
        (p, x0, "final", str(THEORY_RES)) for p, x0 in THEORY_MAPS]
    # the post's own start: no line, as the step says
    assert "f''(−4) = -0.259, not positive" in " ".join(m.value for m in at.markdown)
    page = AppTest.from_file(str(ROOT / "pages/landscape.py"), default_timeout=TIMEOUT)
    page.query_params.update(res="100", methods="")
    page.run()
    ok(page)
    said = [c.value for c in page.caption]
    assert any(c.startswith("Stability edge: no line drawn") for c in said), said
