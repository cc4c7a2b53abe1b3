"""The engine's shared argument checks (counts, sizes, seeds, float dtypes): a leaf that imports
no project module.

Every count the engine accepts from a caller (steps, resolutions, trials, seeds ...)
goes through :func:`check_int`, so that a bool, a float or a number out of range gets
the same clear message everywhere; every float dtype goes through :func:`check_dtype`.
"""

from __future__ import annotations

import jax
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


def check_dtype(dtype, *, switches_x64: bool = False) -> np.dtype:
    """float32 or float64 (a name, a numpy type or dtype) as a numpy dtype. float64 needs JAX's
    64-bit floats switched on (``jax.enable_x64(True)`` around the call, or JAX_ENABLE_X64=1),
    unless ``switches_x64``: the caller switches them on itself for a float64 run."""
    try:
        dt = np.dtype(dtype)
    except TypeError:
        raise ValueError(f"dtype must be float32 or float64, got {dtype!r}") from None
    if dt not in (np.float32, np.float64):
        raise ValueError(f"dtype must be float32 or float64, got {dt}")
    if dt == np.float64 and not switches_x64 and not jax.config.jax_enable_x64:
        raise ValueError("float64 needs jax_enable_x64: wrap the call in jax.enable_x64(True) or set "
                         "JAX_ENABLE_X64=1")
    return dt
