"""The outer-loss summaries: how the T inner losses of one run become one number.

One registry, :data:`SUMMARIES`, for every landscape, outer method, page and CLI
choice. Each loss is taken at the iterate before its update (the post's outer
loss is their mean). A task family's *batch* reduction (the mean or sum of a
meta-training batch's task losses, :data:`l2l_core.tasks.quadratics.REDUCTIONS`) is
a different thing and keeps that name.

The keyword names are ``inner_steps`` (T, the inner updates of one run) and
``summary``; :func:`older_names` still accepts ``steps`` and ``reduce``, their
names before the two meanings of "steps" were told apart.
"""

from __future__ import annotations

from typing import NamedTuple


class Summary(NamedTuple):
    description: str
    differentiable: bool
    #: Computed by the fast SGD-with-momentum kernel of the post's landscape
    #: (:mod:`l2l_core.landscape.grid`); the others only by the general engine.
    post_kernel: bool
    #: A few words for a dropdown (the description goes into its help text).
    label: str = ""


SUMMARIES: dict[str, Summary] = {
    "mean": Summary("mean inner loss at the iterates before each update (the post's)", True, True,
                    "mean loss (the post's)"),
    "final": Summary("inner loss after the last update", True, True, "final loss"),
    "min": Summary("lowest inner loss seen during the unroll", True, True, "lowest loss"),
    "converge": Summary("the trainability-fractal paper's convergence measure: -sum(v) if the run "
                        "converged, sum(1/v) if not, v = losses / first loss", False, False, "convergence measure"),
}

#: The summaries of the post's landscape kernel, in registry order.
POST_SUMMARIES: tuple[str, ...] = tuple(k for k, s in SUMMARIES.items() if s.post_kernel)


def summaries_help(choices, intro: str = "How a run's inner losses are summarised into one number.") -> str:
    """Help text for a dropdown of ``choices`` (keys of SUMMARIES): each label and what it means."""
    return intro + " " + " ".join(f"{SUMMARIES[k].label}: {SUMMARIES[k].description}." for k in choices)


def check_summary(summary, allowed=None) -> str:
    """``summary`` if it is a key of SUMMARIES (and of ``allowed``, when given); else ValueError."""
    allowed = tuple(SUMMARIES) if allowed is None else tuple(allowed)
    if summary not in allowed:
        raise ValueError(f"unknown outer-loss summary {summary!r}; choose one of {list(allowed)}")
    return summary


def older_names(inner_steps, summary, older: dict, *, default_steps: int = 50,
                default_summary: str = "mean") -> tuple:
    """(inner_steps, summary) from the new keywords or their older names in ``older``.

    ``older`` holds the keyword arguments a function received beyond its own:
    ``steps`` (for ``inner_steps``) and ``reduce`` (for ``summary``) are accepted;
    anything else is a TypeError, as for any unknown keyword.
    """
    older = dict(older)
    steps, reduce = older.pop("steps", None), older.pop("reduce", None)
    if older:
        raise TypeError(f"unexpected keyword argument(s) {sorted(older)}")
    for new, old, new_name, old_name in ((inner_steps, steps, "inner_steps", "steps"),
                                         (summary, reduce, "summary", "reduce")):
        if new is not None and old is not None and new != old:
            raise ValueError(f"{new_name}={new!r} and its older name {old_name}={old!r} disagree; give one")
    inner_steps = inner_steps if inner_steps is not None else steps
    summary = summary if summary is not None else reduce
    return (default_steps if inner_steps is None else inner_steps,
            default_summary if summary is None else summary)
