"""The one registry of outer methods, and option checking against it.

:data:`METHODS` drives the pages' pickers, the CLI's ``--method`` choices and
the parametrized tests alike. A new method is a module with a
:class:`~l2l_core.outer.base.OuterMethod` record, added here.
"""

from __future__ import annotations

from l2l_core.outer import es, grad, pes, random_search, tbptt
from l2l_core.outer.base import (
    MAX_PAIRS,
    OUTER_INNER_OPTIMIZERS,
    PROBLEM_DEFAULTS,
    OuterMethod,
    check_int,
    check_positive,
    check_problem_options,
)

METHODS: dict[str, OuterMethod] = {
    m.name: m for m in (grad.METHOD, es.METHOD, pes.METHOD, tbptt.METHOD, random_search.METHOD)
}


def resolve_options(method: str, options: dict) -> dict:
    """Defaults filled in and every option checked; ValueError names the culprit."""
    if method not in METHODS:
        raise ValueError(f"unknown outer method {method!r}; choose one of {list(METHODS)}")
    defaults = dict(PROBLEM_DEFAULTS, **METHODS[method].defaults)
    if "reduce" in options:  # the older name of ``summary``
        options = dict(options)
        older = options.pop("reduce")
        if options.setdefault("summary", older) != older:
            raise ValueError(f"summary={options['summary']!r} and its older name reduce={older!r} disagree; give one")
    unknown = sorted(set(options) - set(defaults))
    if unknown:
        raise ValueError(
            f"unknown option(s) {unknown} for method {method!r}; it takes {sorted(defaults)}"
        )
    opts = dict(defaults, **options)
    out = check_problem_options(opts)
    if "lr" in opts:
        out["lr"] = check_positive("outer learning rate lr", opts["lr"], hi=100.0)
        out["clip"] = check_positive("clip", opts["clip"], hi=1e6)
        if opts["optimizer"] not in OUTER_INNER_OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {list(OUTER_INNER_OPTIMIZERS)}, got {opts['optimizer']!r}")
        out["optimizer"] = opts["optimizer"]
    if "std" in opts:
        out["std"] = check_positive("std", opts["std"], hi=10.0)
    if "pairs" in opts:
        out["pairs"] = check_int("pairs", opts["pairs"], 1, MAX_PAIRS)
    if "std_final" in opts:
        out["std_final"] = (
            out["std"] if opts["std_final"] is None else check_positive("std_final", opts["std_final"], hi=10.0)
        )
    if "truncation_length" in opts:
        k = check_int("truncation_length", opts["truncation_length"], 1, out["inner_steps"])
        if out["inner_steps"] % k:
            divisors = [d for d in range(1, out["inner_steps"] + 1) if out["inner_steps"] % d == 0]
            raise ValueError(
                f"truncation_length {k} must divide the {out['inner_steps']} inner steps; "
                f"choose one of {divisors}"
            )
        if out["summary"] != "mean":
            raise ValueError(f"method {method!r} truncates the unroll and needs summary='mean'")
        out["truncation_length"] = k
    return out
