"""The theory line against the map it is drawn on: on the parabola the converge map's edge (the first
learning rate whose run does not converge, row by row) is the predicted lr = 2(1+m)/lambda_max to one
grid column; on the double well from x0 = 1 the real edge is off the line (the nonlinear walls)."""

from __future__ import annotations

import numpy as np

from l2l_core.landscape.general import hyper_grid
from l2l_core.probe.thresholds import stability_edge

LR = np.linspace(-1.0, 1.0, 201)  # log10 lr, one column = 0.01
OMM = np.linspace(-1.0, 0.0, 6)  # log10(1 - m): momentum 0.9 ... 0


def _edges(problem, x0):
    line = stability_edge(problem, "sgd", "lr", "momentum", LR, OMM, x0=x0)
    z = hyper_grid(problem, "sgd", "lr", "momentum", LR, OMM, x0=x0, inner_steps=50, summary="converge")
    measured = np.array([LR[np.argmax(~(row < 0))] for row in z])  # converge < 0: the run converged
    return line, measured


def test_on_the_parabola_the_converge_map_breaks_on_the_line():
    line, measured = _edges("parabola", -4.0)
    m = 1 - 10.0**OMM
    np.testing.assert_allclose(line, np.log10(2 * (1 + m)), atol=1e-6)
    assert np.all(np.abs(measured - line) <= 0.0101), (line, measured)


def test_on_the_double_well_the_real_edge_is_off_the_line():
    line, measured = _edges("double_well", 1.0)
    assert np.all(np.isfinite(line))
    assert np.max(np.abs(measured - line)) > 0.3  # more than a factor 2 in lr somewhere
