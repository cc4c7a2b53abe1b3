"""Progressive refinement: a coarse image of a grid first, then finer passes.

:func:`refine` yields one :class:`GridPass` per resolution (``start``, then
``factor`` times finer, up to the requested one), so a page can draw the
coarse image at once and replace it as finer ones arrive. A
:class:`CancelToken` (or any ``() -> bool``) stops it between passes, and
between the chunks of a pass, so that a widget change wastes little work.
"""

from __future__ import annotations

from typing import Callable, Iterator, NamedTuple

import numpy as np

from l2l_core.checks import check_int
from l2l_core.inner.unroll import check_finite
from l2l_core.landscape.general import hyper_grid, setup
from l2l_core.runtime.jobs import CancelToken  # noqa: F401  (callers cancel a refinement with it)

#: Resolution of the first pass (about 64^2 cells: on screen well within a second).
COARSE = 64


class GridPass(NamedTuple):
    """One pass: the axes (display units), the loss (rows: y), and whether it is the last."""

    x_values: np.ndarray
    y_values: np.ndarray
    loss: np.ndarray
    final: bool


def resolutions(resolution: int, start: int = COARSE, factor: int = 2) -> list[int]:
    """The resolutions of the passes: start, start*factor, ..., resolution (always last)."""
    resolution, start, factor = (check_int("resolution", resolution, 2, 4096), check_int("start", start, 2),
                                 check_int("factor", factor, 2))
    out, r = [], int(start)
    while r < resolution:
        out.append(r)
        r *= factor
    return out + [int(resolution)]


def refine(compute: Callable, x_range, y_range, resolution: int, *, start: int = COARSE, factor: int = 2,
           cancel: Callable[[], bool] | None = None) -> Iterator[GridPass]:
    """Yields passes of ``compute(x_values, y_values, cancel)`` at growing resolutions.

    Args:
      compute: (x_values, y_values, cancel) -> loss (len(y), len(x)).
      x_range, y_range: (lo, hi) in display units.
      resolution: points per axis of the last pass.
      start, factor: the first pass' resolution and the growth between passes.
      cancel: () -> bool; once true, no further pass starts (and the one running
        skips its remaining chunks and is not yielded).
    """
    (xlo, xhi), (ylo, yhi) = ([check_finite("range", v) for v in r] for r in (x_range, y_range))
    if not (xlo < xhi and ylo < yhi):
        raise ValueError("each range needs its lower end below its upper end")
    steps = resolutions(resolution, start, factor)
    for i, r in enumerate(steps):
        if cancel is not None and cancel():
            return
        xs, ys = np.linspace(xlo, xhi, r), np.linspace(ylo, yhi, r)
        z = compute(xs, ys, cancel)
        if cancel is not None and cancel():
            return
        yield GridPass(xs, ys, z, i == len(steps) - 1)


def refine_hyper_grid(task, optimizer, x_axis: str, y_axis: str, x_range, y_range, resolution: int, *,
                      start: int = COARSE, factor: int = 2, cancel=None, **options) -> Iterator[GridPass]:
    """:func:`refine` over :func:`~l2l_core.landscape.general.hyper_grid` (options as there)."""

    def compute(xs, ys, cancel):
        return hyper_grid(task, optimizer, x_axis, y_axis, xs, ys, cancel=cancel, **options)

    # Argument errors surface before the first pass, not in the middle of a page's loop.
    setup(task, optimizer, x_axis, y_axis, **options)
    return refine(compute, x_range, y_range, resolution, start=start, factor=factor, cancel=cancel)
