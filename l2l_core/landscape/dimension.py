"""Fractal dimension of a converge/diverge boundary by box counting (the paper's).

A pixel of the sign image is on the boundary if the 2x2 block it starts holds
both signs (trained: value < 0; diverged: value > 0, NaN counts as diverged).
The boundary mask is covered by square boxes of side s = 1, 2, 4, ... pixels;
for a set of dimension D the number of occupied boxes grows as
N(s) ~ s**-D, so D is minus the slope of log N against log s, fitted by least
squares over the sizes between ``min_box`` and the image's size / ``min_boxes``.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np


class BoxCount(NamedTuple):
    """Result of :func:`box_counting_dimension`.

    Attributes:
      dimension: minus the fitted slope of log N(s) against log s.
      sizes: box sides in pixels, used in the fit.
      counts: occupied boxes at each size.
      intercept: the fit's intercept (log N at s = 1).
      residual: root-mean-square residual of the fit, in natural log units.
      boundary_pixels: pixels on the boundary (counts[0] when s starts at 1).
    """

    dimension: float
    sizes: np.ndarray
    counts: np.ndarray
    intercept: float
    residual: float
    boundary_pixels: int


def trained_mask(z) -> np.ndarray:
    """True where a run trained (the convergence measure is negative)."""
    z = np.asarray(z, dtype=np.float64)
    if z.ndim != 2:
        raise ValueError(f"a sign image is 2-D, got shape {z.shape}")
    return np.where(np.isnan(z), False, z < 0)


def boundary_mask(z) -> np.ndarray:
    """(H-1, W-1) booleans: the 2x2 block at (i, j) holds both phases.

    ``z`` is a convergence-measure image (sign = phase) or a boolean mask.
    """
    z = np.asarray(z)
    m = z.astype(bool) if z.dtype == bool else trained_mask(z)
    if min(m.shape) < 2:
        raise ValueError(f"the image needs at least 2x2 pixels, got {m.shape}")
    block = np.stack([m[:-1, :-1], m[1:, :-1], m[:-1, 1:], m[1:, 1:]])
    return block.any(axis=0) & ~block.all(axis=0)


def box_counts(mask: np.ndarray, sizes) -> np.ndarray:
    """Occupied boxes of each side in ``sizes`` (boxes tile from the top-left corner)."""
    mask = np.asarray(mask, bool)
    out = []
    for s in sizes:
        h, w = -(-mask.shape[0] // s) * s, -(-mask.shape[1] // s) * s
        padded = np.zeros((h, w), bool)
        padded[: mask.shape[0], : mask.shape[1]] = mask
        out.append(int(padded.reshape(h // s, s, w // s, s).any(axis=(1, 3)).sum()))
    return np.asarray(out)


def box_counting_dimension(z, *, min_box: int = 1, min_boxes: int = 8) -> BoxCount:
    """The boundary's box-counting dimension with its fit.

    Args:
      z: a convergence-measure image (or a boolean trained mask), at least 16x16.
      min_box: the smallest box side in pixels.
      min_boxes: the largest box is at most the image's shorter side / min_boxes.

    Raises:
      ValueError: the image is too small, or it holds no boundary (one phase only).
    """
    mask = boundary_mask(z)
    if min(mask.shape) < 16:
        raise ValueError(f"box counting needs an image of at least 17x17 pixels, got {np.shape(z)}")
    if not mask.any():
        raise ValueError("this view holds one phase only (no boundary); zoom to where blue meets red")
    largest = max(min(mask.shape) // max(1, min_boxes), min_box * 2)
    sizes = [s for s in (2 ** k for k in range(16)) if min_box <= s <= largest]
    if len(sizes) < 3:
        raise ValueError("too few box sizes for a fit; use a larger image or a smaller min_boxes")
    counts = box_counts(mask, sizes)
    x, y = np.log(sizes), np.log(counts)
    slope, intercept = np.polyfit(x, y, 1)
    residual = float(np.sqrt(np.mean((y - (slope * x + intercept)) ** 2)))
    return BoxCount(float(-slope), np.asarray(sizes), counts, float(intercept), residual, int(mask.sum()))
