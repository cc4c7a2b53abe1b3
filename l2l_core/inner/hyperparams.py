"""The one conversion between the landscape's axes and the optimizer's hyperparameters.

The meta-loss landscape lives in the plane ``(log10 lr, log10(1 - momentum))``
(the post's axes: momentum near 1 spreads out over decades). Every module
converts through these functions, with ``xp`` = ``numpy`` for host arrays or
``jax.numpy`` inside traced code.
"""

from __future__ import annotations

import numpy as np


def lr_momentum(log_lr, log_one_minus_momentum, xp=np):
    """(log10 lr, log10(1 - momentum)) -> (lr, momentum), elementwise."""
    return xp.power(10.0, log_lr), 1.0 - xp.power(10.0, log_one_minus_momentum)
