"""Box-counting dimension on images whose boundary dimension is known."""

import numpy as np
import pytest

from l2l_core.landscape.dimension import boundary_mask, box_counting_dimension

N = 1024


def sign_image(trained: np.ndarray) -> np.ndarray:
    return np.where(trained, -1.0, 1.0)


def test_straight_boundary_has_dimension_one():
    yy, xx = np.mgrid[0:N, 0:N]
    fit = box_counting_dimension(sign_image(yy < 0.37 * xx + 200))
    assert fit.dimension == pytest.approx(1.0, abs=0.05)
    assert fit.residual < 0.05


def test_filled_square_boundary_is_its_edge_not_its_area():
    yy, xx = np.mgrid[0:N, 0:N]
    square = (abs(yy - N / 2) < N / 4) & (abs(xx - N / 2) < N / 4)
    assert box_counting_dimension(sign_image(square)).dimension == pytest.approx(1.0, abs=0.05)


def test_salt_and_pepper_boundary_fills_the_plane():
    rng = np.random.default_rng(0)
    fit = box_counting_dimension(sign_image(rng.random((N, N)) < 0.5))
    assert fit.dimension == pytest.approx(2.0, abs=0.03)


def koch_snowflake(level: int) -> np.ndarray:
    pts = np.array([[0, 0], [0.5, np.sqrt(3) / 2], [1, 0], [0, 0]], float)
    rot = np.array([[0.5, -np.sqrt(3) / 2], [np.sqrt(3) / 2, 0.5]])
    for _ in range(level):
        a, b = pts[:-1], pts[1:]
        d = (b - a) / 3
        p1, p3 = a + d, a + 2 * d
        p2 = p1 + d @ rot.T
        pts = np.concatenate([np.stack([a, p1, p2, p3], 1).reshape(-1, 2), pts[-1:]])
    return pts


def inside(poly: np.ndarray, px: np.ndarray, py: np.ndarray) -> np.ndarray:
    """Scanline fill: on each row, pixels between pairs of sorted edge crossings."""
    (x0, y0), (x1, y1) = poly[:-1].T, poly[1:].T
    out = np.zeros(px.shape, bool)
    for r in range(px.shape[0]):
        y = py[r, 0]
        hit = (np.minimum(y0, y1) <= y) & (y < np.maximum(y0, y1))
        xc = np.sort(x0[hit] + (y - y0[hit]) * (x1[hit] - x0[hit]) / (y1[hit] - y0[hit]))
        for a, b in zip(xc[::2], xc[1::2]):
            out[r] |= (px[r] >= a) & (px[r] < b)
    return out


def test_koch_snowflake_boundary_has_its_dimension():
    poly = koch_snowflake(6)
    n = 1024
    t = (np.arange(n) + 0.5) / n
    px, py = np.meshgrid(t * 1.2 - 0.1, t * 1.2 - 0.45)
    fit = box_counting_dimension(sign_image(inside(poly, px, py)), min_box=2)
    assert fit.dimension == pytest.approx(np.log(4) / np.log(3), abs=0.08)


def test_boundary_mask_marks_mixed_blocks_and_treats_nan_as_diverged():
    z = np.array([[-1.0, -1.0, np.nan], [-1.0, -1.0, 2.0], [-1.0, -1.0, -3.0]])
    np.testing.assert_array_equal(boundary_mask(z), [[False, True], [False, True]])


def test_one_phase_has_no_boundary():
    with pytest.raises(ValueError, match="one phase"):
        box_counting_dimension(np.ones((64, 64)))


def test_rank_equalize_maps_each_sign_onto_its_band_in_order():
    from l2l_core.viz.fractal import rank_equalize

    c = rank_equalize(np.array([[-5.0, -1.0, -3.0], [2.0, 9.0, np.nan]]))
    np.testing.assert_allclose(c[0], [-1.0, -0.25, -0.625])
    np.testing.assert_allclose(c[1], [0.25, 0.625, 1.0])
