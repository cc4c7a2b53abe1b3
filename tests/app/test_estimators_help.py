"""The estimators page: every number box explains itself, and a landscape thumbnail shows
where the chosen point lies."""

from __future__ import annotations

import json

import pytest

from tests.conftest import open_page

SMALL = dict(est_samples="16")


@pytest.mark.slow
def test_every_number_box_has_help():
    at = open_page("pages/estimators.py", **SMALL)
    boxes = list(at.sidebar.number_input)
    assert {b.key for b in boxes} >= {"est_lr", "est_omm", "est_samples", "est_pairs", "est_std", "est_trunc",
                                      "est_seed"}
    assert [b.key for b in boxes if not (b.help or "").strip()] == []


@pytest.mark.slow
def test_a_thumbnail_marks_the_point_on_the_landscape():
    at = open_page("pages/estimators.py", est_lr="-2.5", est_omm="-0.75", **SMALL)
    thumbs = [json.loads(c.proto.spec) for c in at.sidebar.get("plotly_chart")]
    assert len(thumbs) == 1
    point = [t for t in thumbs[0]["data"] if t.get("name") == "this point"]
    assert point and point[0]["x"] == [-2.5] and point[0]["y"] == [-0.75]
    heat = thumbs[0]["data"][0]
    assert heat["type"] == "heatmap"
    assert "0 at the bottom" in json.dumps(thumbs[0]["layout"]["yaxis"]["title"])
