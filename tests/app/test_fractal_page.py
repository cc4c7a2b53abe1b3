"""The trainability-fractal page driven by streamlit.testing."""

import json
from pathlib import Path

import numpy as np
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]


def small(**extra):
    at = AppTest.from_file(str(ROOT / "pages/fractal.py"), default_timeout=300)
    for k, v in {**dict(task="fractal_single", width="4", steps="20", res="64"), **extra}.items():
        at.query_params[k] = v
    return at.run()


def heat(at):
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    return spec["data"][0]


def test_page_draws_the_image_the_dimension_and_writes_the_url():
    at = small()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    assert "Trainability fractal" in at.title[0].value
    assert len(at.get("plotly_chart")) == 2  # the image and the box-count fit
    assert at.query_params["task"] == ["fractal_single"] or at.query_params["task"] == "fractal_single"
    for c in at.get("plotly_chart"):  # named PNG exports, and the data as NPZ
        assert json.loads(c.proto.config)["toImageButtonOptions"]["filename"].startswith(("trainability_", "box_"))
    assert at.get("download_button")
    labels = [m.label for m in at.metric]
    assert "trained" in labels and "paper (Table 1)" in labels


def test_zoom_path_in_the_url_is_replayed():
    window = "0.5,1.5,1.0,2.0"
    at = small(fzoom=window)
    assert not at.exception, at.exception
    assert [list(w) for w in at.session_state["fr_zoom"]] == [[0.5, 1.5, 1.0, 2.0]]
    x = np.asarray(heat(at)["x"], float) if not isinstance(heat(at)["x"], dict) else None
    if x is not None:
        assert x[0] == 0.5 and abs(x[-1] - 1.5) < 1e-12
    at.button(key="fr_back").click().run()
    assert at.session_state["fr_zoom"] == []


def test_coarse_preview_then_full_resolution():
    at = small(res="128")
    assert not at.exception, at.exception
    assert at.session_state["fr_done"]  # the full image was computed after the 32² preview
    assert len(at.get("plotly_chart")) == 2


def test_malformed_url_is_reported_not_raised():
    at = small(fzoom="1,nan,2", res="77")
    assert not at.exception, at.exception
    warnings = " ".join(w.value for w in at.warning)
    assert "fzoom" in warnings and "res=77" in warnings  # malformed: ignored; out of range: the nearest used


def test_server_warm_up_puts_the_default_preview_in_the_pages_cache(monkeypatch):
    from l2l_core.landscape import fractal
    from ui import fractal_compute as fc

    calls = []
    real = fractal.fractal_summaries
    monkeypatch.setattr(fractal, "fractal_summaries", lambda *a, **k: calls.append(1) or real(*a, **k))
    fc.compute.clear()
    fc.warm_default_view(preview=True)
    assert calls == [1]
    d = fc.DEFAULTS
    (xs, ys, zs, precision), _ = fc.compute(d["task"], d["width"], d["seed"], d["steps"],
                                            tuple(fractal.default_window(d["task"])), fc.PREVIEW_RES, d["precision"])
    assert calls == [1]  # what a first visit asks for is already there
    assert zs["converge"].shape == (fc.PREVIEW_RES,) * 2 and precision == "float32"
    assert 0.3 < (zs["converge"] < 0).mean() < 0.8
