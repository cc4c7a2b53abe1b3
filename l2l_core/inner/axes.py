"""A hyperparameter as an axis of a map: its name, display unit and default range.

Learning rates and other scales are shown in log10 (``"log10"``); momentum-like
values as ``log10(1 - m)`` (``"log10(1-m)"``), the unit of the seed post's
momentum axis. A light module (numpy only): tasks declare their own axes (per-layer
learning rates) without loading the optimizers.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

LOG10 = "log10"
LOG10_ONE_MINUS = "log10(1-m)"
UNITS = (LOG10, LOG10_ONE_MINUS)


class Axis(NamedTuple):
    """A hyperparameter that can span an axis of the landscape.

    Attributes:
      name: the hyperparameter (``lr``, ``momentum``, ``b1``, ...).
      unit: ``"log10"`` (display = log10 v) or ``"log10(1-m)"`` (display = log10(1 - v)).
      default_range: (lo, hi) of the axis, in the display unit.
      title: the axis label.
    """

    name: str
    unit: str
    default_range: tuple[float, float]
    title: str

    def to_value(self, display, xp=np):
        """Display unit -> hyperparameter value, elementwise."""
        p = xp.power(10.0, display)
        return p if self.unit == LOG10 else 1.0 - p

    def to_display(self, value) -> float:
        """Hyperparameter value -> display unit; ValueError outside the domain."""
        value = float(value)
        inner = value if self.unit == LOG10 else 1.0 - value
        if not inner > 0 or not math.isfinite(inner):
            need = f"{self.name} > 0" if self.unit == LOG10 else f"{self.name} < 1"
            raise ValueError(f"{self.name} = {value} has no point on its axis; need {need}")
        return math.log10(inner)


def lr_axis(name: str = "lr", default_range=(-3.0, 2.0), title: str = "log10 learning rate") -> Axis:
    return Axis(name, LOG10, default_range, title)
