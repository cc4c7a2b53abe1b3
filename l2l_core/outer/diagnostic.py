"""The gradient-estimator diagnostic: many estimates at one point against the truth.

Each estimator is the same ``estimate`` its outer method runs with
(:mod:`~l2l_core.outer.es`, :mod:`~l2l_core.outer.pes`,
:mod:`~l2l_core.outer.tbptt`); the true gradient is ``grad``'s. ES and PES
estimate the gradient of the loss smoothed by N(0, std^2): unbiased for
*that*, so their bias against the raw gradient is the smoothing itself;
TBPTT's is truncation bias.
"""

from __future__ import annotations

from functools import partial
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from l2l_core.outer import es, grad, pes, tbptt
from l2l_core.outer.base import (
    F32,
    MAX_SAMPLES,
    Context,
    check_int,
    check_point,
    check_seed,
    loss_fn,
    truncation_fn,
)
from l2l_core.outer.registry import resolve_options

ESTIMATORS = {
    "es": "ES, antithetic, `pairs` pairs",
    "pes": "PES over one full episode of truncations",
    "tbptt": "truncated gradient, averaged over one episode",
    "es_smoothed": "ES with many pairs: the smoothed loss's gradient",
}

#: Pairs of the reference estimate of the smoothed loss's gradient.
SMOOTHED_PAIRS = 4096


def _episode_mean(method, ctx, theta, key):
    """The mean of ``method``'s estimates over one episode of truncations at a fixed theta."""

    def body(carry, t):
        state, acc = carry
        g, state, _ = method.estimate(ctx, theta, state, jax.random.fold_in(key, t), t)
        return (state, acc + g), None

    (_, acc), _ = jax.lax.scan(body, (method.init_state(ctx), jnp.zeros((2,), F32)),
                               jnp.arange(ctx.n_truncations))
    return acc / ctx.n_truncations


@partial(jax.jit, static_argnames=("vg", "inner_steps", "samples", "pairs", "k"))
def _estimates(theta, key, x0, std, *, vg, inner_steps, samples, pairs, k):
    ctx = Context(loss=loss_fn(vg, x0, inner_steps, "mean"), truncation=truncation_fn(vg, k), x0=x0,
                  n_truncations=inner_steps // k, pairs=pairs, std=std, std_final=std, outer_steps=1)
    keys = jax.random.split(key, 3)
    true_grad, _, true_loss = grad.estimate(ctx, theta, grad.init_state(ctx), key, 0)
    es_samples = jax.vmap(lambda kk: es.estimate(ctx, theta, (), kk, 0)[0])(jax.random.split(keys[0], samples))
    pes_samples = jax.vmap(lambda kk: _episode_mean(pes.METHOD, ctx, theta, kk))(jax.random.split(keys[1], samples))
    tb = _episode_mean(tbptt.METHOD, ctx, theta, key)
    smooth = es.es_grad(ctx.loss, theta, keys[2], std, SMOOTHED_PAIRS).reshape(1, 2)
    return true_loss, true_grad, es_samples, pes_samples, tb[None], smooth


class EstimatorStats(NamedTuple):
    """Per-estimator samples (m, 2) and their mean, bias and variance."""

    samples: np.ndarray
    mean: np.ndarray
    bias: np.ndarray  # mean - true gradient
    variance: float  # trace of the covariance (0 for deterministic estimators)


def estimator_diagnostic(point, *, samples: int = 256, pairs: int = 1, std: float = 0.1,
                         truncation_length: int = 10, seed: int = 0, problem="log_sin", x0: float = -4.0,
                         inner_steps: int = 50) -> dict[str, Any]:
    """Many gradient estimates of each method at ``point`` against the true gradient.

    Returns:
      dict: ``true_loss``, ``true_grad`` (2,), ``smoothed_grad`` (2,) (ES with
      4096 pairs) and ``estimators``: name -> :class:`EstimatorStats`.
    """
    theta = check_point("point", point)
    opts = resolve_options("pes", dict(problem=problem, x0=x0, inner_steps=inner_steps, std=std, pairs=pairs,
                                       truncation_length=truncation_length))
    samples = check_int("samples", samples, 2, MAX_SAMPLES)
    key = jax.random.PRNGKey(check_seed(seed))
    out = _estimates(jnp.asarray(theta, F32), key, F32(opts["x0"]), F32(opts["std"]),
                     vg=opts["problem"].value_and_grad, inner_steps=opts["inner_steps"], samples=samples,
                     pairs=opts["pairs"], k=opts["truncation_length"])
    true_loss, true_grad, es_s, pes_s, tb, smooth = (np.asarray(a, dtype=np.float64) for a in out)

    def stats(s):
        s = s[np.isfinite(s).all(axis=1)]
        if s.size == 0:
            nan2 = np.full(2, np.nan)
            return EstimatorStats(s, nan2, nan2, float("nan"))
        mean = s.mean(axis=0)
        var = float(np.trace(np.atleast_2d(np.cov(s.T)))) if len(s) > 1 else 0.0
        return EstimatorStats(s, mean, mean - true_grad, var)

    return dict(
        true_loss=float(true_loss), true_grad=true_grad, smoothed_grad=smooth[0],
        estimators={f"es ({opts['pairs']} pair{'s' if opts['pairs'] > 1 else ''})": stats(es_s),
                    f"pes (K={opts['truncation_length']})": stats(pes_s),
                    f"tbptt (K={opts['truncation_length']})": stats(tb)},
    )
