"""The general landscape view's outer runs: where they start (typed, else the plane's
default starts inside its trained region, l2l_core.outer.starts), the cached runs, and
their table, which says why a run did not move or diverged instead of showing no number."""

from __future__ import annotations

import math

import numpy as np
import streamlit as st

from l2l_core import outer
from l2l_core.inner.optimizers import OPTIMIZERS
from l2l_core.landscape.general import task_axes
from l2l_core.outer.general import GENERAL_METHODS, run_outer_general
from l2l_core.outer.starts import default_starts
from l2l_core.tasks.general import NETWORK_TASKS, TASKS, resolve_task
from ui import landscape_compute as lc
from ui.shared import heavy, show_error

#: the post's starts: the outer runs' default (the landscape page's ``starts`` in the URL)
POST_STARTS = "-2,-0.5; 0,-1.5"


@st.cache_data(max_entries=64, show_spinner=False)
def outer_run(method: str, task: str, optimizer: str, x: str, y: str, start: tuple, seed: int, steps: int,
              options: tuple, inner_steps: int, summary: str, fixed: tuple, x0, task_seed: int):
    return heavy(run_outer_general, method, task, optimizer, x, y, start, steps, seed=seed, inner_steps=inner_steps,
                 summary=summary, fixed=dict(fixed), x0=x0, task_seed=task_seed, **dict(options))


@st.cache_data(max_entries=64, show_spinner=False)
def plane_starts(task: str, optimizer: str, x: str, y: str, inner_steps: int, summary: str, fixed: tuple, x0,
                 task_seed: int) -> tuple:
    return heavy(default_starts, task, optimizer, x, y, inner_steps=inner_steps, summary=summary, fixed=dict(fixed),
                 x0=x0, seed=task_seed)


def fixed_values(task) -> tuple:
    """The typed values that apply to this choice, as a small hashable tuple."""
    s = st.session_state
    allowed = set(OPTIMIZERS[s["g_opt"]].defaults) | set(task_axes(task, s["g_opt"]))
    return tuple(sorted((k, v) for k, v in s["g_fixed"].items() if k in allowed and k not in (s["g_x"], s["g_y"])))


def key_args_tail(cfg, task) -> tuple:
    """(fixed, x0, network seed): the hashable rest of a cached call."""
    t = resolve_task(task)
    x0 = cfg["x0"] if (t.dim == 1 and t.labels is None) else None
    return fixed_values(task), x0, int(st.session_state["g_seed"]) if task in NETWORK_TASKS else 0


def _points(starts) -> str:
    return ", ".join(f"({a:g}, {b:g})" for a, b in starts)


def run_starts(cfg, task, key_args, summary) -> list | None:
    """The typed starts; left at the post's (the box's default), this plane's own default starts,
    said in a caption. None when the typed text is refused (said beside the chart)."""
    text = st.session_state["o_starts"]
    try:
        typed = outer.parse_points(text)
    except ValueError as e:
        show_error(e)
        return None
    if text != POST_STARTS:
        return typed
    try:
        own = plane_starts(*key_args, cfg["inner_steps"], summary, *key_args_tail(cfg, task))
    except ValueError as e:
        show_error(e)
        return typed
    task_name, opt = key_args[0], OPTIMIZERS[key_args[1]].title
    where = TASKS[task_name].title if task_name in TASKS else "this task"
    if not own:
        st.caption(f"Every run of {opt} on {where} diverges inside the axes' default ranges, so the outer runs "
                   f"start at the post's {_points(typed)}; type starts under Outer optimization.")
        return typed
    st.caption(f"The outer runs start at {_points(own)}: the default starts of {opt} on {where}, inside its trained "
               f"region (the post's {_points(typed)} belong to its own plane). Type starts under Outer "
               "optimization to choose others.")
    return list(own)


def general_runs(cfg, task, key_args, summary) -> list[dict]:
    s, runs = st.session_state, []
    starts = run_starts(cfg, task, key_args, summary)
    try:
        seeds = outer.parse_seeds(s["o_seeds"])
    except ValueError as e:
        show_error(e)
        return runs
    if starts is None:
        return runs
    for method in (m for m in s["o_methods"] if m in GENERAL_METHODS):
        opts = tuple(sorted(lc.method_options(method, st.session_state).items()))
        try:
            for start in starts:
                for seed in (seeds if outer.METHODS[method].stochastic else seeds[:1]):
                    r = outer_run(method, *key_args, tuple(start), seed, int(s["o_steps"]), opts, cfg["inner_steps"],
                                  summary, *key_args_tail(cfg, task))
                    runs.append(dict(method=method, method_title=outer.METHODS[method].title, start=tuple(start),
                                     seed=seed, label=f"{method} from ({start[0]:g}, {start[1]:g}) seed {seed}",
                                     trajectory=r.trajectory, losses=r.losses, end_loss=r.final_loss))
        except ValueError as e:  # this method cannot run here (e.g. a gradient of converge): say why, go on
            show_error(e)
    return runs


def run_outcome(run: dict) -> str:
    """Why a run has no end loss, in words ("" when it has one)."""
    losses = np.asarray(run["losses"], float)
    end = run["end_loss"]
    if len(losses) and not np.isfinite(losses[0]):
        return ("did not move: its start diverged (the inner run there is not finite, so there is no loss "
                "to follow); start inside the coloured region")
    if end is None or not math.isfinite(end):
        bad = np.flatnonzero(~np.isfinite(losses))
        step = f" at outer step {int(bad[0])}" if len(bad) else " at its last step"
        return f"diverged{step}: it left the trained region"
    return ""


def runs_table(runs: list[dict], x: str, y: str) -> None:
    rows = [{"run": r["label"], f"end {x}": float(r["trajectory"][-1][0]), f"end {y}": float(r["trajectory"][-1][1]),
             "end outer loss": r["end_loss"] if math.isfinite(r["end_loss"]) else None, "outcome": run_outcome(r)}
            for r in runs]
    if not any(row["outcome"] for row in rows):
        for row in rows:
            row.pop("outcome")
    st.dataframe(rows, hide_index=True, key="g_runs_table",
                 column_config={"outcome": st.column_config.TextColumn(
                     "outcome", help="Why a run has no end outer loss: its start diverged, or it diverged on "
                                     "the way.")})
    if any(row.get("outcome", "").startswith("did not move") for row in rows):
        st.warning("Some runs did not move: their start lies where every inner run diverges (magenta). "
                   "Start them inside the coloured region.", icon=":material/block:")
