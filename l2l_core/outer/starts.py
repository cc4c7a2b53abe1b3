"""Where outer runs start by default: inside the trained region of the chosen plane.

On the post's plane (a 1-D task, SGD with momentum, lr x momentum) the post's two
starts. On any other (task, optimizer, axes) they lie where that pair's inner runs
stay finite: the post's starts, (-2, -0.5) and (0, -1.5), lie where SGD diverges on
Rosenbrock, and runs from a diverged start never move (there is no gradient and no
finite loss to compare). :func:`default_starts` draws a small grid over the axes'
default ranges and picks two cells of it with :func:`pick_starts`.
"""

from __future__ import annotations

import numpy as np

from l2l_core.landscape.general import hyper_grid, task_axes

#: The post's starts (log10 lr, log10(1 - momentum)): a local minimum and a far worse place.
POST_STARTS = ((-2.0, -0.5), (0.0, -1.5))
#: Cells per side of the grid the default starts are picked from.
START_GRID = 21


def pick_starts(z, xs, ys) -> tuple[tuple[float, float], ...]:
    """Two starts in the trained region of the grid ``z`` (rows: ys, columns: xs): cells
    whose run and all eight neighbours' runs are finite (a first outer step stays inside),
    the first at the 75th percentile of their losses (room to improve), the second the
    farthest from it among those between the 25th and the 75th; () when none is inside."""
    z = np.asarray(z, float)
    finite = np.isfinite(z)
    inner = finite.copy()
    inner[[0, -1], :] = inner[:, [0, -1]] = False
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            inner[1:-1, 1:-1] &= finite[1 + dy:z.shape[0] - 1 + dy, 1 + dx:z.shape[1] - 1 + dx]
    iy, ix = np.nonzero(inner)
    if len(iy) == 0:
        return ()
    loss = z[iy, ix]
    q25, q75 = np.quantile(loss, [0.25, 0.75])
    first = int(np.argmin(np.abs(loss - q75)))
    span = np.array([xs[-1] - xs[0], ys[-1] - ys[0]], float)
    pts = np.stack([np.asarray(xs, float)[ix], np.asarray(ys, float)[iy]], 1) / span
    band = (loss >= q25) & (loss <= q75)
    band[first] = False
    if not band.any():
        band = np.ones_like(band)
        band[first] = len(band) == 1
    far = np.where(band, np.linalg.norm(pts - pts[first], axis=1), -1.0)
    second = int(np.argmax(far))
    chosen = [first] + ([second] if second != first else [])
    return tuple((round(float(xs[ix[k]]), 2), round(float(ys[iy[k]]), 2)) for k in chosen)


def default_starts(task, optimizer, x_axis: str, y_axis: str, *, inner_steps: int = 50, summary: str = "mean",
                   fixed: dict | None = None, x0=None, seed: int = 0) -> tuple[tuple[float, float], ...]:
    """The default starts of outer runs on this plane (display units); see the module docstring."""
    axes = task_axes(task, optimizer)
    xs = np.linspace(*axes[x_axis].default_range, START_GRID)
    ys = np.linspace(*axes[y_axis].default_range, START_GRID)
    z = hyper_grid(task, optimizer, x_axis, y_axis, xs, ys, inner_steps=inner_steps, summary=summary,
                   fixed=fixed, x0=x0, seed=seed)
    return pick_starts(z, xs, ys)
