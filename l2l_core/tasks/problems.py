"""One-dimensional inner problems: the losses that SGD with momentum trains.

The default is the meta-loss landscapes post's non-convex loss
``log(x^2 + 1 + sin(3x)) + 1.5``. Each entry of :data:`PROBLEMS` carries the
loss, its closed-form gradient (used both by the tests and, fused with the
value, by the hot loop of the landscape), a one-line description and the x
range in which it is worth plotting.
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp

from l2l_core.inner.fastmath import sincos

Array = jax.Array
ScalarFn = Callable[[Array], Array]
ValueAndGradFn = Callable[[Array], tuple[Array, Array]]


class InnerProblem(NamedTuple):
    """A 1-D inner loss.

    Attributes:
      name: registry key.
      title: short human name.
      description: one line that says what it teaches.
      loss: f(x), elementwise, jax-traceable.
      value_and_grad: x -> (f(x), f'(x)), elementwise; shares work between both.
      x_range: (lo, hi) in which to draw the curve.
      formula: the loss as text, in the grammar of ``l2l_core.expr``.
      fast_value_and_grad: the same maths with a cheaper float32 sin/cos
        (:func:`l2l_core.inner.fastmath.sincos`), the landscape kernel's fast path in
        float32; None where ``value_and_grad`` is already as fast. The tests check
        it against ``value_and_grad``.
    """

    name: str
    title: str
    description: str
    loss: ScalarFn
    value_and_grad: ValueAndGradFn
    x_range: tuple[float, float]
    formula: str
    fast_value_and_grad: ValueAndGradFn | None = None


def _log_sin_vg(x):
    s3 = jnp.sin(3.0 * x)
    q = x * x + 1.0 + s3
    return jnp.log(q) + 1.5, (2.0 * x + 3.0 * jnp.cos(3.0 * x)) / q


def _fast_log_sin_vg(x):
    s3, c3 = sincos(3.0 * x)
    q = x * x + 1.0 + s3
    return jnp.log(q) + 1.5, (2.0 * x + 3.0 * c3) / q


def _quadratic_vg(x):
    return 0.5 * x * x, x


def _double_well_vg(x):
    # (x^2 - 1)^2 / 4 + 0.3 x: two wells, the left one deeper.
    u = x * x - 1.0
    return 0.25 * u * u + 0.3 * x, x * u + 0.3


def _rippled_bowl_vg(x):
    # A wide bowl with fast ripples: many shallow local minima on a convex trend.
    return 0.1 * x * x + 0.5 * (1.0 - jnp.cos(4.0 * x)), 0.2 * x + 2.0 * jnp.sin(4.0 * x)


def _fast_rippled_bowl_vg(x):
    s4, c4 = sincos(4.0 * x)
    return 0.1 * x * x + 0.5 * (1.0 - c4), 0.2 * x + 2.0 * s4


def _make(name, title, description, vg, x_range, formula, fast=None) -> InnerProblem:
    return InnerProblem(
        name=name,
        title=title,
        description=description,
        loss=lambda x: vg(x)[0],
        value_and_grad=vg,
        x_range=x_range,
        formula=formula,
        fast_value_and_grad=fast,
    )


PROBLEMS: dict[str, InnerProblem] = {
    p.name: p
    for p in (
        _make(
            "log_sin",
            "log(x²+1+sin 3x)+1.5 (the post's)",
            "The post's non-convex loss: global minimum near x=-0.43 (value ~0), "
            "local minimum near x=1.24 (value ~2.2).",
            _log_sin_vg,
            (-5.0, 5.0),
            "log(x**2 + 1 + sin(3*x)) + 1.5",
            fast=_fast_log_sin_vg,
        ),
        _make(
            "parabola",
            "x²/2 (parabola)",
            "A plain quadratic: SGD+momentum converges iff lr < 2(1+momentum); "
            "the landscape is smooth with one sharp divergence edge.",
            _quadratic_vg,
            (-5.0, 5.0),
            "0.5 * x**2",
        ),
        _make(
            "double_well",
            "(x²-1)²/4+0.3x (double well)",
            "Two wells, the left one deeper: which one training ends in depends "
            "on lr and momentum, which splits the landscape into basins.",
            _double_well_vg,
            (-2.5, 2.5),
            "(x**2 - 1)**2 / 4 + 0.3*x",
        ),
        _make(
            "rippled_bowl",
            "0.1x²+(1-cos 4x)/2 (rippled bowl)",
            "A convex bowl covered in ripples: small steps stop in the first ripple, "
            "momentum can carry the run over them to the bottom.",
            _rippled_bowl_vg,
            (-5.0, 5.0),
            "0.1*x**2 + (1 - cos(4*x))/2",
            fast=_fast_rippled_bowl_vg,
        ),
    )
}

DEFAULT_PROBLEM = "log_sin"
#: Earlier names that links and scripts may still use: ``quadratic`` is now ``parabola``
#: (``quadratic`` names the learned optimizer's random quadratics ||W theta - y||^2).
OLD_NAMES = {"quadratic": "parabola"}


def canonical_name(name):
    """``name``, or the present name of a problem an earlier name gives."""
    return OLD_NAMES.get(name, name) if isinstance(name, str) else name


def get_problem(name: str) -> InnerProblem:
    """Returns the registered problem ``name``; ValueError lists the choices."""
    try:
        return PROBLEMS[canonical_name(name)]
    except (KeyError, TypeError):
        raise ValueError(
            f"unknown inner problem {name!r}; choose one of {sorted(PROBLEMS)}"
        ) from None
