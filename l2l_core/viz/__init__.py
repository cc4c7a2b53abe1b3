"""Figures: plotly builders by subject, numpy in, ``go.Figure`` out (no streamlit).

- :mod:`~l2l_core.viz.landscape`: inner-loss curves, the lr sweep, the landscape heatmap.
- :mod:`~l2l_core.viz.outer`: outer trajectories, loss curves, local shifts, estimator clouds.
- :mod:`~l2l_core.viz.story`: the bare curves the tour and the reproduction need.
- :mod:`~l2l_core.viz.learned`: the learned-optimizer page's figures.
- :mod:`~l2l_core.viz.generalization`: the generalization map of the learned optimizers.

Pages and the reproduction import the builders from here: ``viz.heatmap_figure(...)``.
"""

from l2l_core.viz import style  # noqa: F401
from l2l_core.viz.generalization import (  # noqa: F401
    generalization_csv,
    generalization_figure,
    generalization_rows,
)
from l2l_core.viz.landscape import (  # noqa: F401
    DIVERGED_COLOR,
    MAX_DISPLAY,
    display_stride,
    heatmap_figure,
    inner_contour_figure,
    inner_problem_figure,
    loss_vs_step_figure,
    lr_sweep_figure,
    point_thumbnail,
)
from l2l_core.viz.learned import (  # noqa: F401
    COLORS,
    LABELS,
    comparison_figure,
    comparison_rows,
    curves_csv,
    loss_bands,
    meta_loss_figure,
    update_figure,
)
from l2l_core.viz.outer import (  # noqa: F401
    CURVE_COLORS,
    MAX_CURVE_POINTS,
    METHOD_COLORS,
    estimator_figure,
    landscape_outer_figure,
    local_shift_figure,
    outer_loss_curves_figure,
)
from l2l_core.viz.story import (  # noqa: F401
    OPTIMIZER_COLORS,
    OPTIMIZER_LABELS,
    inner_loss_curve_figure,
    meta_training_figure,
    quadratic_losses_figure,
)
