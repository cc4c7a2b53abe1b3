"""Exports everywhere: every chart on every page saves a named PNG at scale 2 (the
modebar's camera button), and every page offers its data as CSV or NPZ."""

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import app_pages

ROOT = Path(__file__).resolve().parents[2]
PAGES = [Path(path).stem for path, _, _ in app_pages()]
#: Small settings where a page's default is heavy; the export wiring is what is tested.
QUICK = {"estimators": {"est_samples": 16}, "fractal": {"fr_res": 64, "fr_steps": 50}}


@pytest.mark.parametrize("name", PAGES)
def test_every_chart_exports_a_named_png_and_the_page_offers_its_data(name):
    at = AppTest.from_file(str(ROOT / f"pages/{name}.py"), default_timeout=180)
    for key, value in QUICK.get(name, {}).items():
        at.session_state[key] = value
    at.run()
    assert not at.exception, at.exception
    charts = at.get("plotly_chart")
    assert charts, f"{name} drew no chart"
    for c in charts:
        opts = json.loads(c.proto.config).get("toImageButtonOptions")
        assert opts and opts["format"] == "png" and opts["scale"] == 2, (name, c.proto.config)
        assert opts["filename"] and all(ch.isalnum() or ch in "-_." for ch in opts["filename"]), opts
    downloads = at.get("download_button")
    assert downloads, f"{name} offers no data download"


def test_filenames_are_sanitised():
    from ui.shared import chart_config, safe_filename

    assert safe_filename("a/b c?.png") == "a_b_c_.png"
    assert safe_filename("../..") == "figure"
    assert chart_config("x", 3)["toImageButtonOptions"] == {"format": "png", "filename": "x", "scale": 3}
