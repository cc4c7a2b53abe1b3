"""The one integer check of the engine (counts, sizes, seeds): a leaf that imports nothing.

Every count the engine accepts from a caller (steps, resolutions, trials, seeds ...)
goes through :func:`check_int`, so that a bool, a float or a number out of range gets
the same clear message everywhere.
"""

from __future__ import annotations

import numpy as np

#: Seeds are 32-bit: numpy's and JAX's generators take them on every platform.
SEED_LIMIT = 2**31


def check_int(name: str, value, lo: int | None = None, hi: int | None = None) -> int:
    """``value`` as an int when it is an integer (not a bool) within [lo, hi].

    Raises:
      ValueError: "<name> must be an integer from <lo> to <hi>, got <value>".
    """
    if lo is not None and hi is not None:
        span = f" from {lo:,} to {hi:,}"
    elif lo is not None:
        span = f" of at least {lo:,}"
    elif hi is not None:
        span = f" of at most {hi:,}"
    else:
        span = ""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name} must be an integer{span}, got {value!r}")
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        raise ValueError(f"{name} must be an integer{span}, got {value!r}")
    return int(value)


def check_seed(name: str, value) -> int:
    """A seed: an integer in [0, 2**31)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not 0 <= value < SEED_LIMIT:
        raise ValueError(f"{name} must be an integer in [0, 2**31), got {value!r}")
    return int(value)
