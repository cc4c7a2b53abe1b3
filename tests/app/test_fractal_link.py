"""A trainability-fractal pixel's link opens its run on the "Open a pixel" page (AppTest)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from streamlit.testing.v1 import AppTest

from l2l_core import tasks as registry
from l2l_core.landscape import fractal
from ui.pixel_link import pixel_query
from ui.state import TASK_CHOICES

ROOT = Path(__file__).resolve().parents[2]


def _page(query: dict) -> AppTest:
    at = AppTest.from_file(str(ROOT / "pages/inspect.py"), default_timeout=300)
    for k, v in query.items():
        at.query_params[k] = v
    return at.run()


def test_a_fractal_link_opens_the_maps_run_on_the_inspect_page():
    lr_in, lr_out, steps, seed = 10.0 ** 1.5, 10.0 ** 0.5, 40, 2
    q = pixel_query("fractal_tanh", "sgd", {"lr_in": lr_in, "lr_out": lr_out, "momentum": 0.0}, steps=steps, seed=seed)
    at = _page({**q, "every": "20"})
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    assert at.selectbox(key="px_task").value == "fractal_tanh"
    assert at.number_input(key="px_hp_lr_in").value == lr_in
    assert at.number_input(key="px_hp_lr_out").value == lr_out
    assert at.number_input(key="px_hp_momentum").value == 0.0
    z = fractal.fractal_summaries([1.5], [0.5], task="fractal_tanh", seed=seed, inner_steps=steps)
    assert np.isfinite(z["final"][0, 0])  # a trained pixel: the page's final loss is the map's (float32)
    final = next(m for m in at.metric if m.label == "final training loss")
    np.testing.assert_allclose(float(final.value), z["final"][0, 0], rtol=2e-3)


def test_the_general_maps_do_not_offer_the_fractal_networks():
    """The fractal networks are tasks of the maps (the CLI, a pixel, a family of one), but the
    landscape page's pickers leave them to the fractal page, whose kernel draws them."""
    nets = {"fractal_tanh", "fractal_relu", "fractal_linear"}
    assert nets <= set(registry.names("landscape"))
    assert not set(TASK_CHOICES) & nets
