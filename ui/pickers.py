"""The shared selection's widgets on the pages that train one thing (Inner problem, Learning-rate sweep).

The selection itself (task, optimizer, hyperparameter values, a network's seed)
is :func:`ui.state.selection_params`: one value per session, shared with the
landscape page, in every page's URL. A page declares it under its own prefix
(``ip_``, ``sw_``), reads it first (:func:`current`) and draws its pickers at the
end of its sidebar (:func:`pickers`); with the post's choice (the page's own 1-D
loss, SGD with momentum) the page is what it always was, widgets in the same order.
"""

from __future__ import annotations

from functools import partial
from typing import NamedTuple

import streamlit as st

from l2l_core import expr
from l2l_core.inner.optimizers import OPTIMIZERS
from l2l_core.landscape.general import default_hyperparameters, task_axes, value_limits
from l2l_core.tasks.general import NETWORK_TASKS, TASKS, resolve_task
from ui.shared import optimizer_label, plain
from ui.state import CUSTOM_XY, MAX_SEED, ONE_D, TASK_CHOICES, PageState, bounded_number, xy_formula


class Choice(NamedTuple):
    """``task``: the core's task (a name or a formula), None while it is the page's 1-D loss
    (or a rejected formula: ``error``); ``post``: the post's choice, drawn as before."""

    task: str | None
    optimizer: str
    seed: int
    post: bool
    title: str
    error: str | None = None


def task_title(name: str, one_d: str = "the 1-D inner loss above") -> str:
    if name == ONE_D:
        return one_d
    if name == CUSTOM_XY:
        return "Custom formula f(x, y) = ..."
    return TASKS[name].title if name in TASKS else name


def current(prefix: str) -> Choice:
    """The selection as the page's widgets hold it now (read before they are drawn, so that the page
    can draw its own widgets first and the selection's last: the post's page keeps its layout)."""
    s = st.session_state
    name, opt = s[f"{prefix}task"], s[f"{prefix}opt"]
    task, error = None, None
    if name == CUSTOM_XY:
        try:
            task = xy_formula(s[f"{prefix}fxy"])
        except ValueError as e:
            error = f"Formula not accepted: {plain(e)}"
    elif name != ONE_D:
        task = name
    shown = task_title(name, "the 1-D loss") if task is None else resolve_task(task).title
    return Choice(task, opt, int(s[f"{prefix}seed"]), name == ONE_D and opt == "sgd",
                  f"{OPTIMIZERS[opt].title} on {shown}", error)


def pickers(ps: PageState, prefix: str, sel: Choice) -> None:
    """Task and optimizer, in an expander (open once they differ from the post's)."""
    s, w = st.session_state, ps.widget
    with st.expander("Task and optimizer (shared with the landscape page)", expanded=not sel.post):
        w(st.selectbox, f"{prefix}task", "Task", TASK_CHOICES, format_func=task_title,
          help="What the optimizer trains: the 1-D losses above (the post's), 2-D test functions (drawn as "
               "contours with the run's path), a formula in x and y, or a small tanh network.")
        if s[f"{prefix}task"] == CUSTOM_XY:
            w(st.text_input, f"{prefix}fxy", "f(x, y) =", max_chars=expr.MAX_LENGTH,
              help="The same whitelisted grammar as f(x), in x and y; the run starts at (1, 1).")
            if sel.error:
                st.error(sel.error, icon=":material/error:")
        if sel.task in NETWORK_TASKS:
            ps.number(st, f"{prefix}seed", "Network seed",
                      help=f"Draws the network's data and initial weights; 0 to {MAX_SEED}.")
        w(st.selectbox, f"{prefix}opt", "Optimizer", list(OPTIMIZERS), format_func=optimizer_label,
          help=" ".join(f"{o.title}: {o.description}" for o in OPTIMIZERS.values()))


def hyper_names(task, optimizer: str, skip=()) -> dict[str, float]:
    """Every hyperparameter of one run -> its default (a network's per-layer learning
    rates instead of the shared one)."""
    names = default_hyperparameters(task if task is not None else "log_sin", optimizer)
    return {n: v for n, v in names.items() if n not in skip}


def _set(ps: PageState, prefix: str, name: str, default: float) -> None:
    """The typed value of ``name`` into the shared values (its default: left out)."""
    d = dict(st.session_state[f"{prefix}fixed"])
    v = float(st.session_state[f"{prefix}hp_{name}"])
    if v == default:
        d.pop(name, None)
    else:
        d[name] = v
    ps[f"{prefix}fixed"] = d


def hyper_inputs(ps: PageState, prefix: str, task, optimizer: str, skip=()) -> dict[str, float]:
    """Number inputs for the hyperparameters (values, shared with the landscape page's
    "off the axes" values); returns name -> value for this choice."""
    fixed = st.session_state[f"{prefix}fixed"]
    names = hyper_names(task, optimizer, skip)
    values = {n: float(fixed.get(n, d)) for n, d in names.items()}
    if not ps.shown(f"{prefix}fixed"):
        return values
    st.markdown("**Hyperparameters**")
    axes = task_axes(task if task is not None else "log_sin", optimizer)
    for n, d in names.items():
        key = f"{prefix}hp_{n}"
        lo, hi = value_limits(axes[n])
        st.session_state[key] = values[n]
        bounded_number(st, key, n, lo, hi, fallback=float(d), format="%.6g",
                       on_change=partial(_set, ps, prefix, n, float(d)),
                       help=f"Value of {n} for this run, from {lo:.12g} to {hi:.12g}; "
                            f"{OPTIMIZERS[optimizer].title}'s default: {d:g}. "
                            "Shared with the landscape page's values off its axes.")
    return values
