"""Deep zoom into the meta-loss landscape: windows, precision and the zoom stack.

A window is ``(lr_lo, lr_hi, omm_lo, omm_hi)`` in (log10 lr, log10(1-mom)).
Deep in, adjacent pixels' hyperparameters ``lr = 10**log_lr`` and
``momentum = 1 - 10**log_omm`` stop being distinct in float32 (24-bit
mantissa): the picture turns into blocks. :func:`choose_precision` detects
that from the actual numbers and switches that window to float64, which goes
about 9 more decades deep; past float64 it refuses with a clear message.

float64 is switched on with ``jax.enable_x64(True)`` as a *context* around
the one grid call: it is thread-local, so other sessions and pages (and the
float32 default path) never see 64-bit defaults.
"""

from __future__ import annotations

import math

import jax
import numpy as np

from l2l_core.inner.hyperparams import lr_momentum
from l2l_core.inner.unroll import check_finite
from l2l_core.landscape import grid as landscape

#: Adjacent pixels must differ by at least this many units in the last place.
MIN_ULPS_PER_PIXEL = 4.0
#: Most zoom levels kept in a history (and in a URL).
MAX_DEPTH = 64


def check_window(window, *, names=("lr_lo", "lr_hi", "omm_lo", "omm_hi"), y_max: float = 0.5,
                 units: str = "log10 lr within +-30, log10(1-momentum) within -30..0.5"
                 ) -> tuple[float, float, float, float]:
    """Four finite numbers (``names``), each range increasing, every end within +-30 and the
    y range's upper end at most ``y_max`` (the post's plane: 1 - momentum up to 10**0.5);
    ValueError otherwise. The trainability fractal's windows use it with their own names
    and bounds."""
    shown = ", ".join(names)
    try:
        vals = tuple(float(v) for v in window)
    except (TypeError, ValueError):
        raise ValueError(f"a window is four numbers ({shown}), got {window!r}") from None
    if len(vals) != 4:
        raise ValueError(f"a window is four numbers ({shown}), got {len(vals)}")
    lo, hi, mlo, mhi = (check_finite(n, v) for n, v in zip(names, vals))
    if not (lo < hi and mlo < mhi):
        raise ValueError(f"each range needs its lower end below its upper end, got {vals}")
    if max(abs(lo), abs(hi), abs(mlo), abs(mhi)) > 30 or mhi > y_max:
        raise ValueError(f"window out of range: {units}")
    return lo, hi, mlo, mhi


def resolved(axis_log: np.ndarray, values: np.ndarray, dtype) -> bool:
    """Whether adjacent cells stay distinct (by MIN_ULPS_PER_PIXEL ulps) in ``dtype``,
    both in the log coordinate and in the hyperparameter it maps to."""
    for arr in (axis_log, values):
        d = np.abs(np.diff(arr.astype(np.float64)))
        ulp = np.spacing(np.abs(arr).astype(dtype)).astype(np.float64)
        if d.size and np.min(d / np.maximum(ulp[1:], ulp[:-1])) < MIN_ULPS_PER_PIXEL:
            return False
    return True


#: Below this log10(1-momentum), 1 - momentum is under float64's spacing near 1 (2.2e-16).
MIN_RESOLVED_LOG_OMM = -15.0


def choose_precision(window, resolution: int) -> str:
    """"float32" where it resolves every pixel of the window, else "float64".

    Raises:
      ValueError: the window is too narrow even for float64 (zoom out).
    """
    lo, hi, mlo, mhi = check_window(window)
    xs, ys = np.linspace(lo, hi, resolution), np.linspace(mlo, mhi, resolution)
    lr, mom = lr_momentum(xs, ys)
    if resolved(xs, lr, np.float32) and resolved(ys, mom, np.float32):
        return "float32"
    if resolved(xs, lr, np.float64) and resolved(ys, mom, np.float64):
        return "float64"
    if not resolved(ys, mom, np.float64) and mlo < MIN_RESOLVED_LOG_OMM:
        raise ValueError(
            f"log10(1-momentum) from {mlo:g} is below {MIN_RESOLVED_LOG_OMM:g}: there 1 - momentum is "
            "smaller than float64's spacing near 1, so the momentum rounds to exactly 1 and neighbouring "
            f"rows coincide. Set 'from' to {MIN_RESOLVED_LOG_OMM:g} or above."
        )
    raise ValueError(
        f"window {hi - lo:.3g} x {mhi - mlo:.3g} (log10 units) at {resolution} cells per axis is "
        "narrower than float64 can resolve: adjacent pixels would have the same learning rate or "
        "momentum. Widen the window (zoom back out), or lower the resolution."
    )


def zoom_grid(window, resolution: int, *, grid_fn=None, **problem):
    """The landscape in ``window`` at ``resolution`` cells per axis, in the
    precision it needs.

    Args:
      window: (lr_lo, lr_hi, omm_lo, omm_hi).
      resolution: cells per axis (2..4096).
      grid_fn: a drop-in for :func:`l2l_core.landscape.grid.meta_loss_grid` (the
        page passes its job-limited version).
      **problem: problem, x0, inner_steps, summary (as for meta_loss_grid).

    Returns:
      (log_lrs, log_omm, z, precision) with ``precision`` "float32" or "float64".
    """
    lo, hi, mlo, mhi = check_window(window)
    log_lrs, log_omm = landscape.axes((lo, hi), (mlo, mhi), resolution)
    precision = choose_precision((lo, hi, mlo, mhi), resolution)
    grid_fn = grid_fn or landscape.meta_loss_grid
    if precision == "float32":
        z = grid_fn(log_lrs, log_omm, **problem)
    else:
        with jax.enable_x64(True):
            z = grid_fn(log_lrs, log_omm, dtype=np.float64, **problem)
    return log_lrs, log_omm, np.asarray(z), precision


def sub_window(window, box_x, box_y) -> tuple[float, float, float, float]:
    """The window a box selection (x range, y range, either order) picks inside ``window``,
    clipped to it. ValueError if the box misses the window or is degenerate."""
    lo, hi, mlo, mhi = check_window(window)
    x0, x1 = sorted(float(v) for v in box_x)
    y0, y1 = sorted(float(v) for v in box_y)
    x0, x1, y0, y1 = max(x0, lo), min(x1, hi), max(y0, mlo), min(y1, mhi)
    if not (x0 < x1 and y0 < y1):
        raise ValueError("the selected box does not overlap the current window; drag inside the heatmap")
    return check_window((x0, x1, y0, y1))


def encode_stack(stack) -> str:
    """Zoom history as URL text: windows joined by ';', numbers in full precision (repr)."""
    return ";".join(",".join(repr(float(v)) for v in w) for w in stack)


def decode_stack(text: str, check=check_window) -> list[tuple[float, float, float, float]]:
    """Inverse of :func:`encode_stack`, each window through ``check``; ValueError on anything malformed."""
    parts = [p for p in text.split(";") if p] if text else []
    if len(parts) > MAX_DEPTH:
        raise ValueError(f"zoom history deeper than {MAX_DEPTH} levels")
    return [check(p.split(",")) for p in parts]


def check_any_window(window) -> tuple[float, float, float, float]:
    """A window of the general landscape: any two axes, every end within +-30 display units."""
    return check_window(window, names=("x_lo", "x_hi", "y_lo", "y_hi"), y_max=30.0,
                        units="every end within +-30 (display units)")


def display_frame(window) -> tuple[float, float, float, float]:
    """(cx, sx, cy, sy): draw x as (log_lr - cx) / sx, y as (log_omm - cy) / sy.

    Identity while plain numbers read well; deep in, axes become offsets from
    the window's centre in units of a power of ten, so tick labels stay legible.
    """
    lo, hi, mlo, mhi = check_window(window)

    def frame(a, b):
        w = b - a
        if w >= 1e-3:
            return 0.0, 1.0
        return (a + b) / 2.0, 10.0 ** math.floor(math.log10(w))

    cx, sx = frame(lo, hi)
    cy, sy = frame(mlo, mhi)
    return cx, sx, cy, sy
