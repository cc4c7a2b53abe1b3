"""The inner optimizers: optax's, with their hyperparameters as landscape axes.

Each entry of :data:`OPTIMIZERS` names an optax alias and declares which of
its hyperparameters can span an axis of the landscape, in which display unit
and over which default range:

- learning rates, ``eps`` and ``weight_decay`` on log10 (``"log10"``);
- momentum-like values (``momentum``, ``b1``, ``b2``, RMSprop's ``decay``) as
  ``log10(1 - m)`` (``"log10(1-m)"``), the unit of the seed post's momentum axis
  (values near 1 spread out over decades).

``build(**hyperparams)`` returns the optax ``GradientTransformation``; the
hyperparameters may be traced arrays, so the optimizer is built inside the
jitted, double-vmapped grid kernel, one per cell. Hyperparameters that are on
no axis keep optax's defaults (:attr:`InnerOptimizer.defaults`) unless set.
"""

from __future__ import annotations

import math
from typing import Callable, NamedTuple

import optax

from l2l_core.inner.axes import LOG10, LOG10_ONE_MINUS, Axis, lr_axis


def _one_minus(name: str, default_range=(-3.0, 0.0)) -> Axis:
    return Axis(name, LOG10_ONE_MINUS, default_range, f"log10(1 - {name})")


def _log(name: str, default_range) -> Axis:
    return Axis(name, LOG10, default_range, f"log10 {name}")


class InnerOptimizer(NamedTuple):
    """An optax optimizer with its hyperparameter axes.

    Attributes:
      name: registry key (``sgd``, ``nesterov``, ``adam``, ``rmsprop``, ``adamw``).
      title: short human name.
      description: one line.
      axes: hyperparameter name -> :class:`Axis`; ``lr`` always comes first.
      defaults: the value of every hyperparameter when it is on no axis (optax's
        defaults; ``lr`` and ``momentum`` the seed post's 0.1 and 0.9).
      build: (**hyperparams) -> optax.GradientTransformation; values may be traced.
    """

    name: str
    title: str
    description: str
    axes: dict[str, Axis]
    defaults: dict[str, float]
    build: Callable[..., optax.GradientTransformation]


def _sgd(lr, momentum):
    return optax.sgd(lr, momentum=momentum)


def _nesterov(lr, momentum):
    return optax.sgd(lr, momentum=momentum, nesterov=True)


def _adam(lr, b1, b2, eps):
    return optax.adam(lr, b1=b1, b2=b2, eps=eps)


def _rmsprop(lr, decay, eps):
    return optax.rmsprop(lr, decay=decay, eps=eps)


def _adamw(lr, b1, b2, eps, weight_decay):
    return optax.adamw(lr, b1=b1, b2=b2, eps=eps, weight_decay=weight_decay)


def _axes(*axes: Axis) -> dict[str, Axis]:
    return {a.name: a for a in axes}


OPTIMIZERS: dict[str, InnerOptimizer] = {
    o.name: o
    for o in (
        InnerOptimizer(
            "sgd", "SGD with momentum (the post's)",
            "optax.sgd with heavy-ball momentum: v <- momentum v + g, x <- x - lr v.",
            _axes(lr_axis(), _one_minus("momentum")), dict(lr=0.1, momentum=0.9), _sgd),
        InnerOptimizer(
            "nesterov", "Nesterov momentum",
            "optax.sgd(nesterov=True): the step looks ahead along the momentum.",
            _axes(lr_axis(), _one_minus("momentum")), dict(lr=0.1, momentum=0.9), _nesterov),
        InnerOptimizer(
            "adam", "Adam",
            "optax.adam: per-coordinate steps scaled by running moments (b1, b2).",
            _axes(lr_axis(default_range=(-4.0, 1.0)), _one_minus("b1"), _one_minus("b2", (-4.0, 0.0)),
                  _log("eps", (-10.0, 0.0))),
            dict(lr=0.01, b1=0.9, b2=0.999, eps=1e-8), _adam),
        InnerOptimizer(
            "rmsprop", "RMSprop",
            "optax.rmsprop: steps divided by a running root mean square (decay).",
            _axes(lr_axis(default_range=(-4.0, 1.0)), _one_minus("decay"), _log("eps", (-10.0, 0.0))),
            dict(lr=0.01, decay=0.9, eps=1e-8), _rmsprop),
        InnerOptimizer(
            "adamw", "AdamW",
            "optax.adamw: Adam with decoupled weight decay.",
            _axes(lr_axis(default_range=(-4.0, 1.0)), _one_minus("b1"), _one_minus("b2", (-4.0, 0.0)),
                  _log("eps", (-10.0, 0.0)), _log("weight_decay", (-6.0, 0.0))),
            dict(lr=0.01, b1=0.9, b2=0.999, eps=1e-8, weight_decay=1e-4), _adamw),
    )
}

DEFAULT_OPTIMIZER = "sgd"


def get_optimizer(name) -> InnerOptimizer:
    """The registered optimizer ``name`` (or the record itself); ValueError lists the choices."""
    if isinstance(name, InnerOptimizer):
        return name
    try:
        return OPTIMIZERS[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown inner optimizer {name!r}; choose one of {list(OPTIMIZERS)}") from None


def check_fixed(opt: InnerOptimizer, fixed: dict | None, extra: tuple[str, ...] = ()) -> dict[str, float]:
    """Every hyperparameter's value off the axes: ``opt.defaults`` updated by ``fixed``.

    ``extra`` names further hyperparameters a task adds (per-layer learning rates).
    Values are checked against their axis' domain (lr > 0, 0 <= momentum-like < 1).
    """
    fixed = dict(fixed or {})
    known = list(opt.defaults) + list(extra)
    unknown = sorted(set(fixed) - set(known))
    if unknown:
        raise ValueError(f"{opt.name} has no hyperparameter(s) {unknown}; it takes {known}")
    out = dict(opt.defaults)
    for name, value in fixed.items():
        try:
            v = float(value)
        except (TypeError, ValueError):
            raise ValueError(f"{name} must be a number, got {value!r}") from None
        if not math.isfinite(v):
            raise ValueError(f"{name} must be finite, got {v}")
        axis = opt.axes.get(name)
        if axis is not None:
            axis.to_display(v)  # raises outside the domain
            if axis.unit == LOG10_ONE_MINUS and v < 0:
                raise ValueError(f"{name} must lie in [0, 1), got {v}")
        elif v <= 0:
            raise ValueError(f"{name} must be positive, got {v}")
        out[name] = v
    return out
