"""The meta-loss landscape: the outer loss of SGD with momentum, its 1-D
learning-rate sweep and its 2-D (lr, momentum) grid, and deep zoom.

- :mod:`~l2l_core.landscape.grid`: ``outer_loss``, ``lr_sweep``, ``meta_loss_grid``
  (jitted, double-vmapped, chunked, sharded over devices).
- :mod:`~l2l_core.landscape.precompile`: ``warmup`` compiles them at server start.
- :mod:`~l2l_core.landscape.summaries`: ``SUMMARIES``, the one registry of outer-loss summaries.
- :mod:`~l2l_core.inner.fastmath`: the float32 ``sincos`` of the hot loop.
- :mod:`~l2l_core.landscape.zoom`: deep-zoom windows, float64 when float32 runs out.
- :mod:`~l2l_core.landscape.general`: ``hyper_grid`` over any two hyperparameter axes of
  any (task, optax optimizer); :mod:`~l2l_core.landscape.refine`: coarse-to-fine passes.
"""

from l2l_core.landscape import zoom
from l2l_core.landscape.grid import (
    MAX_CELLS,
    MAX_LOG10,
    REDUCTIONS,
    axes,
    best_cell,
    lr_sweep,
    meta_loss_grid,
    outer_loss,
    outer_loss_from_hparams,
    sweep_axis,
)
from l2l_core.landscape.precompile import warmup, warmup_general
from l2l_core.landscape.summaries import POST_SUMMARIES, SUMMARIES

__all__ = [
    "MAX_CELLS", "MAX_LOG10", "REDUCTIONS", "axes", "best_cell", "lr_sweep", "meta_loss_grid",
    "outer_loss", "outer_loss_from_hparams", "POST_SUMMARIES", "SUMMARIES", "sweep_axis", "warmup", "warmup_general",
    "zoom",
]
