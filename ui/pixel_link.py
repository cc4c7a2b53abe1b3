"""The address of one opened pixel: every map links a cell to the "Open a pixel" page
(``pages/inspect.py``) through :func:`pixel_query`, and that page reads it back with
:func:`read_pixel_query`, so a link, a reload or a shared URL reopens the same run.

The query holds ``task`` (a registry name or a formula), ``opt`` (an inner optimizer),
each hyperparameter by its raw name and value (``lr=0.1&momentum=0.9``, ``lr_in``,
``lr_out``, ``b1`` ...), ``steps``, ``seed`` and, for a 1-D or 2-D task, ``x0`` (one
number, or two joined by a comma). A second pixel beside the first carries the same
keys with the suffix ``_b``.
"""

from __future__ import annotations

import math

from l2l_core.inner.optimizers import OPTIMIZERS

PAGE = "pages/inspect.py"
#: Keys of the query that are not hyperparameters.
SETTINGS = ("task", "opt", "steps", "seed", "x0")


def _number(v) -> str:
    """A value in full precision; whole numbers without a decimal point (``steps=50``, ``x0=-4``)."""
    v = float(v)
    return str(int(v)) if v.is_integer() and abs(v) < 1e15 else repr(v)


def pixel_query(task: str, optimizer: str, hparams: dict, *, steps: int, seed: int = 0, x0=None,
                suffix: str = "") -> dict[str, str]:
    """The URL query of one run (raw hyperparameter values, full precision)."""
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {optimizer!r}; choose one of {list(OPTIMIZERS)}")
    q = {"task": str(task), "opt": optimizer, "steps": str(int(steps)), "seed": str(int(seed))}
    for name, value in hparams.items():
        if not math.isfinite(float(value)):
            raise ValueError(f"hyperparameter {name} must be a finite number, got {value!r}")
        q[name] = _number(value)
    if x0 is not None:
        q["x0"] = ",".join(_number(v) for v in (x0 if isinstance(x0, (tuple, list)) else (x0,)))
    return {k + suffix: v for k, v in q.items()}


def read_pixel_query(query: dict, suffix: str = "") -> dict | None:
    """(task, optimizer, hparams, steps, seed, x0) from a query :func:`pixel_query` wrote; None
    when the query has no pixel with this suffix. ValueError names a malformed value."""
    get = {k[: len(k) - len(suffix)] if suffix else k: v for k, v in query.items()
           if (k.endswith(suffix) if suffix else not k.endswith("_b"))}
    if "task" not in get:
        return None
    opt = get.get("opt", "sgd")
    if opt not in OPTIMIZERS:
        raise ValueError(f"opt{suffix}: unknown optimizer {opt!r}; choose one of {list(OPTIMIZERS)}")
    names = set(OPTIMIZERS[opt].defaults) | {"lr_in", "lr_out"}
    hparams = {}
    for name in sorted(names & set(get)):
        try:
            hparams[name] = float(get[name])
        except ValueError:
            raise ValueError(f"{name}{suffix}: {get[name]!r} is not a number") from None
        if not math.isfinite(hparams[name]):
            raise ValueError(f"{name}{suffix}: {get[name]!r} is not a finite number")
    out = {"task": get["task"], "optimizer": opt, "hparams": hparams}
    for key, default in (("steps", None), ("seed", 0)):
        if key in get:
            try:
                out[key] = int(get[key])
            except ValueError:
                raise ValueError(f"{key}{suffix}: {get[key]!r} is not a whole number") from None
        else:
            out[key] = default
    x0 = None
    if "x0" in get:
        try:
            vals = tuple(float(v) for v in get["x0"].split(","))
        except ValueError:
            raise ValueError(f"x0{suffix}: {get['x0']!r} is not one number or two joined by a comma") from None
        if len(vals) not in (1, 2) or not all(math.isfinite(v) for v in vals):
            raise ValueError(f"x0{suffix}: {get['x0']!r} is not one number or two joined by a comma")
        x0 = vals[0] if len(vals) == 1 else vals
    out["x0"] = x0
    return out
