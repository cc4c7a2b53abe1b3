"""The sweep's values above its cap are drawn at the cap and marked as such, not left off the
chart where they would look like missing data."""

from __future__ import annotations

import numpy as np

from l2l_core import viz


def test_values_above_the_cap_are_drawn_capped_and_named():
    log_lrs = np.linspace(-3, 1, 9)
    loss = np.array([1.0, 0.8, 0.5, 0.4, 7.0, 30.0, np.nan, 2.0, 1e6])
    fig = viz.lr_sweep_figure(log_lrs, loss, 0.9, y_cap=5.0)
    line = fig.data[0]
    finite = np.asarray(line.y, float)[np.isfinite(loss)]
    assert finite.max() == 5.0  # nothing drawn off the chart
    assert list(np.asarray(line.customdata, float)[[4, 5]]) == [7.0, 30.0]  # hover tells the true value
    capped = [t for t in fig.data if t.name and t.name.startswith("above the cap")]
    assert len(capped) == 1 and "(3)" in capped[0].name and set(capped[0].y) == {5.0}
    assert fig.layout.yaxis.range[1] == 5.0


def test_without_a_cap_nothing_is_marked():
    fig = viz.lr_sweep_figure(np.linspace(-3, 1, 5), np.array([1.0, 9.0, 3.0, np.nan, 2.0]), 0.9)
    assert not [t for t in fig.data if t.name and t.name.startswith("above the cap")]
    assert max(v for v in fig.data[0].y if v is not None and np.isfinite(v)) == 9.0
