"""Outer optimization: descending the meta-loss landscape itself.

The outer parameters are ``theta = (log10 lr, log10(1 - momentum))``, the
plane of the landscape heatmap; the outer loss ``f(theta)`` is
:func:`l2l_core.landscape.grid.outer_loss` (mean inner loss over a 50-step unroll
of SGD with momentum from x0 = -4, by default). Methods, one registry:

- ``"grad"``: the exact gradient through the whole unroll (``jax.grad``),
  clipped to +-10, plain SGD with outer learning rate 0.01 (the post's).
- ``"es"``: antithetic Evolution Strategies (the post's): for each pair,
  ``eps ~ N(0, std^2 I)``, ``g = eps (f(theta+eps) - f(theta-eps)) / (2 std^2)``;
  options ``pairs`` per step and an annealed std (``std_final``). ES is an
  unbiased estimate of the gradient of the *Gaussian-smoothed* loss, which is
  why it rolls over the ripples that trap ``"grad"``.
- ``"pes"``: Persistent Evolution Strategies (Vicol, Metz and Sohl-Dickstein,
  2021): the unroll is cut into truncations of ``truncation_length`` steps;
  each particle keeps its inner state and the sum ``xi`` of all perturbations
  it has received since the episode began, and
  ``g = xi (L+ - L-) / (2 std^2)`` per pair, where ``L`` is the mean inner
  loss over the truncation. Over an episode it is unbiased for the gradient
  of the smoothed full-unroll loss; each step costs only a truncation.
- ``"tbptt"``: the gradient of each truncation's loss with the inner state
  treated as a constant (truncated backprop): cheap, low variance, biased.
- ``"random"``: (1+1) random search: propose ``best + N(0, std^2 I)`` and keep
  it if its outer loss is lower. A baseline that needs no gradient at all.

Layout: :mod:`~l2l_core.outer.base` names the interface (an
:class:`~l2l_core.outer.base.OuterMethod` record whose ``estimate`` is a
gradient estimator); one module per method (``grad``, ``es``, ``pes``,
``tbptt``, ``random_search``); :mod:`~l2l_core.outer.registry` holds
:data:`METHODS`; :mod:`~l2l_core.outer.runner` runs them (one run, or a batch
sharded over devices); :mod:`~l2l_core.outer.diagnostic` compares their
estimates at a point.

References:
  Metz, "Meta-loss landscapes with JAX" (the seed post).
  Vicol, Metz, Sohl-Dickstein, "Unbiased Gradient Estimation in Unrolled
  Computation Graphs with Persistent Evolution Strategies", ICML 2021.
"""

from l2l_core.outer.base import (
    MAX_OUTER_STEPS,
    MAX_PAIRS,
    MAX_SAMPLES,
    PARAM_LIMIT,
    PROBLEM_DEFAULTS,
    OuterMethod,
    check_point,
    check_seed,
    parse_points,
    parse_seeds,
)
from l2l_core.outer.diagnostic import ESTIMATORS, EstimatorStats, estimator_diagnostic
from l2l_core.outer.registry import METHODS, resolve_options
from l2l_core.outer.runner import (
    MAX_BATCH,
    OuterBatch,
    OuterRun,
    landscape_percentile,
    local_shift,
    outer_loss_at,
    run_outer,
    run_outer_batch,
    run_outer_full,
)

__all__ = [
    "ESTIMATORS", "MAX_BATCH", "MAX_OUTER_STEPS", "MAX_PAIRS", "MAX_SAMPLES", "METHODS", "PARAM_LIMIT",
    "PROBLEM_DEFAULTS", "EstimatorStats", "OuterBatch", "OuterMethod", "OuterRun", "check_point", "check_seed",
    "estimator_diagnostic", "landscape_percentile", "local_shift", "outer_loss_at", "parse_points",
    "parse_seeds", "resolve_options", "run_outer", "run_outer_batch", "run_outer_full",
]
