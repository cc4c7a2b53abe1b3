"""The trainability page's cached computation, shared with the server's warm-up,
which computes the default view (the paper setup's top view, its 32² preview
and its 128² image) so that a first visit draws it at once."""

from __future__ import annotations

import time

import streamlit as st

from l2l_core.landscape import fractal
from l2l_core.tasks.fractal_networks import DEFAULT_TASK, make_task
from ui.shared import heavy

#: The page's default settings (its URL parameters task, width, seed, steps, res, precision).
DEFAULTS = dict(task=DEFAULT_TASK, width=16, seed=0, steps=100, res=128, precision="auto")
PREVIEW_RES = 32


@st.cache_data(max_entries=16, show_spinner=False)
def compute(task_name: str, width: int, seed: int, steps: int, window: tuple, res: int, precision: str):
    """(fractal_zoom's (xs, ys, summaries, precision), seconds) for one view."""
    t0 = time.perf_counter()
    task = make_task(task_name, width=width, seed=seed)
    out = fractal.fractal_zoom(window, res, precision=precision, task=task, inner_steps=steps,
                               grid_fn=lambda *a, **k: heavy(fractal.fractal_summaries, *a, **k))
    return out, time.perf_counter() - t0


def warm_default_view(preview: bool = True) -> None:
    """The default view's preview (``preview``) or its full-resolution image, into the cache."""
    d = DEFAULTS
    window = tuple(fractal.default_window(d["task"]))
    res = PREVIEW_RES if preview else d["res"]
    compute(d["task"], d["width"], d["seed"], d["steps"], window, res, d["precision"])
