"""The landscape page beyond the post: any task, any optimizer, any two of its hyperparameters.

Streamlit side only; the maths is :mod:`l2l_core.landscape.general` (the grid),
:mod:`l2l_core.landscape.refine` (the passes, coarse first) and
:mod:`l2l_core.outer.general` (outer runs on any axes). With the post's choice
(a 1-D inner loss, SGD with momentum, lr x momentum) the page draws its own
view, as before; :func:`is_post_plane` says which.

Every setting here is a :class:`ui.state.Param` of the landscape page
(:data:`PARAMS`, merged into ``ui.outer_panel.PARAMS``): in the URL, kept
across page switches, hideable in teacher mode.
"""

from __future__ import annotations

import math
import time
from functools import partial

import numpy as np
import streamlit as st

from l2l_core import expr, landscape, viz
from l2l_core.inner.optimizers import OPTIMIZERS
from l2l_core.io.files import csv_text, npz_bytes
from l2l_core.landscape import general as landscape_general
from l2l_core.landscape import refine, zoom
from l2l_core.landscape.general import SUMMARIES, default_hyperparameters, hyper_grid, summaries_for, task_axes
from l2l_core.tasks.general import NETWORK_TASKS, TASKS, resolve_task
from l2l_core.viz.style import legend_below
from ui import box_zoom, pixel_pick
from ui import stability_view as sv
from ui.general_runs import general_runs, key_args_tail, runs_table
from ui.shared import chart_config, heavy_stoppable, optimizer_label, plain, show_error, timed_call, timing_caption
from ui.state import (
    CUSTOM_XY,
    DEFAULT_FXY,
    MAX_SEED,
    ONE_D,
    TASK_CHOICES,
    Param,
    bounded_number,
    choice_in,
    refuse,
    selection_params,
)
from ui.state import xy_formula as _xy_formula

AXIS_NAMES = sorted({a for o in OPTIMIZERS.values() for a in o.axes}
                    | {a for n in NETWORK_TASKS for a in resolve_task(n).axes})
ZOOM_KEY = "g_zoom"
MAX_ABS = 30.0  # most |display value| of a window's edge (10^±30)


def _task_title(name: str) -> str:
    if name == ONE_D:
        return "the 1-D inner loss above"
    if name == CUSTOM_XY:
        return "Custom formula f(x, y) = ..."
    return TASKS[name].title if name in TASKS else name


check_window = zoom.check_any_window


def decode_stack(text: str) -> list:
    return zoom.decode_stack(text, check_window)


def _dump_range(r):
    return None if r is None else f"{r[0]!r},{r[1]!r}"


def _parse_range(text: str) -> tuple[float, float]:
    lo, hi = (float(v) for v in text.split(","))
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise ValueError(text)
    return lo, hi


#: widget key -> Param; merged into the landscape page's PARAMS. The task, optimizer,
#: hyperparameter values and network seed are the selection shared with the other pages.
PARAMS = {
    **selection_params("g_"),
    "g_x": Param("x", "lr", choice_in(AXIS_NAMES), lambda v: None if v == "lr" else v),
    "g_y": Param("y", "momentum", choice_in(AXIS_NAMES), lambda v: None if v == "momentum" else v),
    "g_xr": Param("xr", None, _parse_range, _dump_range),  # typed x range (display units); None: the axis' own
    "g_yr": Param("yr", None, _parse_range, _dump_range),
    ZOOM_KEY: Param("gzoom", [], decode_stack, lambda s: zoom.encode_stack(s) if s else None),
}


def is_post_plane(s=None) -> bool:
    """The post's choice: a 1-D inner loss, SGD with momentum, x = lr, y = momentum."""
    s = st.session_state if s is None else s
    return (s.get("g_task", ONE_D) == ONE_D and s.get("g_opt", "sgd") == "sgd"
            and s.get("g_x", "lr") == "lr" and s.get("g_y", "momentum") == "momentum")


def summary_choices(task) -> list[str]:
    """The outer summaries to offer (the post's three, and converge where the task supports it)."""
    return summaries_for(task) if task else [k for k in SUMMARIES if k != "converge"]


def default_axes(task: str, optimizer: str) -> tuple[str, str]:
    return landscape_general.default_axes(task, optimizer)


def _reset_view() -> None:
    st.session_state[ZOOM_KEY] = []


def _new_axis(range_key: str) -> None:
    """A new axis: its own default range, and the whole view."""
    st.session_state[range_key] = None
    _reset_view()


def _new_choice() -> None:
    """A new task or optimizer: its default axes, and the whole view."""
    s = st.session_state
    task = s["g_task"] if s["g_task"] != CUSTOM_XY else s.get("g_fxy", DEFAULT_FXY)
    try:
        s["g_x"], s["g_y"] = default_axes(task if task != ONE_D else "log_sin", s["g_opt"])
    except ValueError:
        pass
    s["g_xr"] = s["g_yr"] = None
    _reset_view()


def pickers(ps, problem_picker) -> str | None:
    """Task, inner loss (1-D), optimizer, axes and the values off the axes.

    Returns the task as the core takes it; None when the 1-D formula was rejected.
    """
    w, s = ps.widget, st.session_state
    task = problem_picker("problem", show=ps.shown("problem")) if s["g_task"] == ONE_D else ""
    w(st.selectbox, "g_task", "Task", TASK_CHOICES, format_func=_task_title, on_change=_new_choice,
      help="What the inner optimizer trains: the post's 1-D losses (or a formula in x) picked above, 2-D test "
           "functions, a formula in x and y, or a small tanh network (one learning rate per layer).")
    if s["g_task"] == CUSTOM_XY:
        w(st.text_input, "g_fxy", "f(x, y) =", max_chars=expr.MAX_LENGTH, on_change=_reset_view,
          help="The same whitelisted grammar as f(x), in x and y; the run starts at (1, 1).")
        try:
            task = _xy_formula(s["g_fxy"])
        except ValueError as e:
            st.error(f"Formula not accepted: {plain(e)}", icon=":material/error:")
            return None
    elif s["g_task"] != ONE_D:
        task = s["g_task"]
        if ps.shown("g_task"):
            st.caption(TASKS[task].description if task in TASKS else "")
        if task in NETWORK_TASKS:
            ps.number(st, "g_seed", "Network seed", on_change=_reset_view,
                      help=f"Draws the network's data and initial weights (the CLI's --seed); 0 to {MAX_SEED}.")
    if task is None:
        return None
    w(st.selectbox, "g_opt", "Optimizer", list(OPTIMIZERS), format_func=optimizer_label,
      on_change=_new_choice, help=" ".join(f"{o.title}: {o.description}" for o in OPTIMIZERS.values()))
    axes = task_axes(task, s["g_opt"])
    names = [a for a in axes if not (task in NETWORK_TASKS and a == "lr")]
    dx, dy = default_axes(task, s["g_opt"])
    quiet = bool({"g_task", "g_fxy", "g_opt"} & ps.changed_elsewhere)  # chosen on another page
    for key, d in (("g_x", dx), ("g_y", dy)):
        if s[key] not in names and (quiet or s[key] == PARAMS[key].default):  # not an axis one chose: quietly
            ps[key] = d
            ps[key + "r"] = None
        elif s[key] not in names:
            st.warning(f"{s[key]} is not an axis of {OPTIMIZERS[s['g_opt']].title} on this task; using {d}.",
                       icon=":material/link_off:")
            ps[key] = d
    w(st.selectbox, "g_x", "x axis", names, format_func=lambda a: axes[a].title, on_change=_new_axis,
      args=("g_xr",), help="The hyperparameter along the horizontal axis, in its display unit.")
    w(st.selectbox, "g_y", "y axis", names, format_func=lambda a: axes[a].title, on_change=_new_axis,
      args=("g_yr",), help="The hyperparameter along the vertical axis, in its display unit.")
    if not is_post_plane():
        _range_inputs(ps, axes)
        _fixed_inputs(ps, task, names)
    return task


def _set_range(ps, range_key: str, default: tuple, end: str, label: str) -> None:
    s, i = st.session_state, 0 if end == "lo" else 1
    typed = [float(s[f"{range_key}_lo"]), float(s[f"{range_key}_hi"])]
    if not typed[0] < typed[1]:  # the other end is as it was: the end typed last is refused
        old = float((s[range_key] or default)[i])
        refuse(f"{range_key}_{end}", f"{label}: {typed[i]:g} is not {('below', 'above')[i]} the other end "
                                     f"{typed[1 - i]:g}; using {old:g} instead.")
        s[f"{range_key}_{end}"] = typed[i] = old
    typed = tuple(typed)
    ps[range_key] = None if typed == tuple(default) else typed
    _reset_view()


def _range_inputs(ps, axes) -> None:
    """Typed ranges of the two axes (display units); the core checks them when the grid is drawn."""
    s = st.session_state
    for axis_key, range_key in (("g_x", "g_xr"), ("g_y", "g_yr")):
        if not ps.shown(range_key):
            continue
        a = axes[s[axis_key]]
        lo, hi = s[range_key] or a.default_range
        bottom, top = landscape_general.display_limits(a)
        c1, c2 = st.columns(2)
        for c, end, v in ((c1, "lo", lo), (c2, "hi", hi)):
            key, label = f"{range_key}_{end}", f"{a.title} {'from' if end == 'lo' else 'to'}"
            s[key] = float(v)
            bounded_number(c, key, label, bottom, top, step=0.5, format="%.6g",
                           on_change=partial(_set_range, ps, range_key, a.default_range, end, label),
                           help=f"The {s[axis_key]} axis' range in its display unit ({a.title}), from {bottom:g} "
                                f"to {top:g}; default {a.default_range[0]:g} to {a.default_range[1]:g}. "
                                "Typing one leaves the zoom.")


def _set_fixed(ps, name: str, key: str, default: float) -> None:
    d = dict(st.session_state["g_fixed"])
    v = float(st.session_state[key])
    if v == default:
        d.pop(name, None)
    else:
        d[name] = v
    ps["g_fixed"] = d


def _fixed_inputs(ps, task, names) -> None:
    opt = OPTIMIZERS[st.session_state["g_opt"]]
    on_axes = {st.session_state["g_x"], st.session_state["g_y"]}
    defaults = default_hyperparameters(task, opt.name)
    off = [n for n in defaults if n not in on_axes]
    if not off or not ps.shown("g_fixed"):
        return
    fixed, axes = st.session_state["g_fixed"], task_axes(task, opt.name)
    with st.expander("Hyperparameters off the axes"):
        for n in off:
            key = f"g_fx_{n}"
            lo, hi = landscape_general.value_limits(axes[n])
            st.session_state[key] = float(fixed.get(n, defaults[n]))
            bounded_number(st, key, n, lo, hi, fallback=float(defaults[n]), format="%.6g",
                           on_change=partial(_set_fixed, ps, n, key, float(defaults[n])),
                           help=f"Value of {n} (not its display unit) while it is on no axis, from {lo:.12g} "
                                f"to {hi:.12g}; {opt.title}'s default: {defaults[n]:g}.")


# -- the view --------------------------------------------------------------------------------------


@st.cache_data(max_entries=24, show_spinner=False)  # a 2000² grid is 16 MB
def grid(task: str, optimizer: str, x: str, y: str, window: tuple, res: int, steps: int, summary: str,
         fixed: tuple, x0, seed: int):
    t0 = time.perf_counter()
    xs, ys = np.linspace(window[0], window[1], res), np.linspace(window[2], window[3], res)
    z = heavy_stoppable(hyper_grid, task, optimizer, x, y, xs, ys, inner_steps=steps, summary=summary,
                       fixed=dict(fixed),
              x0=x0, seed=seed)
    return (xs, ys, z), time.perf_counter() - t0


def home_window(task, optimizer, x, y) -> tuple:
    """The typed ranges (else the axes' defaults), checked by the core: ValueError says what to type."""
    axes, s = task_axes(task, optimizer), st.session_state
    xr = landscape_general.check_range(axes[x], *(s.get("g_xr") or axes[x].default_range))
    yr = landscape_general.check_range(axes[y], *(s.get("g_yr") or axes[y].default_range))
    return (*xr, *yr)


def current_window(home) -> tuple:
    stack = st.session_state.get(ZOOM_KEY) or []
    return tuple(stack[-1]) if stack else tuple(home)


def _on_select(home) -> None:
    try:
        if pixel_pick.on_pick("general_chart", current_window(home)):
            return  # a click on a cell (or a tiny box) opens it, it does not zoom
        new = box_zoom.boxed_window("general_chart", current_window(home), check=check_window)
        if new is not None:
            box_zoom.push_window(ZOOM_KEY, new)
    except ValueError as e:
        st.session_state["_g_zoom_error"] = f"the selected box cannot be zoomed into: {e}"


def _zoom_back() -> None:
    st.session_state[ZOOM_KEY] = list(st.session_state.get(ZOOM_KEY) or [])[:-1]


def _zoom_controls(window) -> None:
    stack = st.session_state.get(ZOOM_KEY) or []
    c1, c2, c3 = st.columns([1, 1, 2.4], vertical_alignment="center")
    c1.button("Zoom back", icon=":material/zoom_out:", on_click=_zoom_back, disabled=not stack, key="g_zoom_back")
    c2.button("Reset view", icon=":material/fit_screen:", on_click=_reset_view, disabled=not stack,
              key="g_zoom_reset")
    c3.markdown(f"**Zoom level {len(stack)}** · window {window[1] - window[0]:.3g} × {window[3] - window[2]:.3g} "
                "(display units)", help="Drag a box on the heatmap to zoom in; it is recomputed.")
    err = st.session_state.pop("_g_zoom_error", None)
    if err:
        st.error(err, icon="⚠️")


def _figure(z, xs, ys, axes, x, y, cap, runs=(), best=None):
    fig = viz.landscape_outer_figure(z, xs, ys, cap=cap, runs=runs, best=best, max_display=viz.MAX_DISPLAY)
    xt, yt = axes[x].title, axes[y].title
    fig.update_traces(selector=dict(name="outer loss"),
                      hovertemplate=f"{xt}=%{{customdata[0]:.6g}}<br>{yt}=%{{customdata[1]:.6g}}"
                                    "<br>outer loss=%{z:.6g}<extra></extra>")
    fig.update_xaxes(title=f"{x}: {xt}")
    flipped = axes[y].unit != "log10"
    yr = [ys[-1], ys[0]] if flipped else [ys[0], ys[-1]]
    fig.update_yaxes(title=f"{y}: {yt}" + (": larger values at the bottom" if flipped else ""), range=yr)
    fig.update_layout(height=420, title=None, margin=dict(t=10, b=10))
    return legend_below(fig)  # the modebar (top right) would cover a legend above the plot


def refining_text(shown: int, finer: int, final: int) -> str:
    """What the status line says while a finer pass runs over a coarse image."""
    last = "" if finer == final else f", then {final}²"
    return f"Refining to {finer}² cells{last} ... (the image shows the {shown}² pass meanwhile)"


def view(cfg, task) -> None:
    """The general heatmap: coarse first, then the chosen resolution; overlays, summary, downloads."""
    s = st.session_state
    opt, x, y = s["g_opt"], s["g_x"], s["g_y"]
    summary = cfg["summary"]
    if summary not in summaries_for(task):
        st.info(f"The summary {summary!r} needs a loss known to stay positive (a registry task); a typed formula "
                "may go negative, so this view shows the mean.", icon=":material/info:")
        summary = "mean"
    axes = task_axes(task, opt)
    fixed, x0, seed = key_args_tail(cfg, task)
    try:
        home = home_window(task, opt, x, y)
    except ValueError as e:
        show_error(e)
        return
    window = current_window(home)
    _zoom_controls(window)
    args = (task, opt, x, y, window)
    status, placeholder = st.empty(), st.empty()  # status: "refining to N² ..." while a finer pass runs
    done = s.setdefault("_g_done", set())  # views whose final pass is cached: no coarse pass again
    if len(done) > 256:
        done.clear()
    try:
        passes = refine.resolutions(cfg["res"])
        for r, finer in zip(passes[:-1], passes[1:]):
            if (args, cfg["res"], cfg["inner_steps"], summary, fixed, x0, seed) in done:
                break
            (xs, ys, z), _, _ = timed_call(grid, *args, r, cfg["inner_steps"], summary, fixed, x0, seed)
            placeholder.plotly_chart(_figure(z, xs, ys, axes, x, y, cfg["cap"]), key=f"general_chart_{r}",
                                     config=chart_config("meta_loss_coarse"))
            status.info(refining_text(r, finer, cfg["res"]), icon=":material/hourglass_top:")
        (xs, ys, z), seconds, wall = timed_call(grid, *args, cfg["res"], cfg["inner_steps"], summary, fixed, x0, seed)
        done.add((args, cfg["res"], cfg["inner_steps"], summary, fixed, x0, seed))
        status.empty()
    except ValueError as e:
        status.empty()
        placeholder.empty()
        show_error(e)
        return
    runs = general_runs(cfg, task, (task, opt, x, y), summary)
    best = landscape.best_cell(z, xs, ys)
    slug = f"{opt}_{x}_{y}_{task if task in TASKS or task in NETWORK_TASKS else 'formula'}"
    fig = _figure(z, xs, ys, axes, x, y, cfg["cap"], runs, best)
    theory = sv.draw(fig, task, opt, x, y, (xs[0], xs[-1]), ys, fixed=fixed, seed=seed, x0=x0,
                     hover_x=axes[x].title, hover_y=axes[y].title) if sv.applies(task, opt, x, y) else ""
    with placeholder.container():
        st.plotly_chart(fig, key="general_chart", on_select=partial(_on_select, home),
                        selection_mode=("points", "box"),
                        config=chart_config(f"meta_loss_{slug}_{cfg['res']}x{cfg['res']}"))
        if theory:
            st.caption(theory)
        pixel_pick.resolve_pending("general_chart", window, xs, ys,
                                   partial(_cell, task, opt, x, y, axes, xs, ys, z, cfg, fixed, x0, seed, summary))
        pixel_pick.panel("general_chart")
    timing_caption(seconds, wall, what=f"{z.size:,} inner runs ({OPTIMIZERS[opt].title}) computed")
    _summary(z, xs, ys, axes, x, y, best, slug, cfg, runs)


def _cell(task, opt, x, y, axes, xs, ys, z, cfg, fixed, x0, seed, summary, i, j) -> dict:
    """Row i, column j of the grid: the run it is (every hyperparameter's raw value) and its value."""
    hp = dict(default_hyperparameters(task, opt), **dict(fixed))
    hp[x], hp[y] = float(axes[x].to_value(float(xs[j]))), float(axes[y].to_value(float(ys[i])))
    off = ", ".join(f"{k} = {v:.6g}" for k, v in hp.items() if k not in (x, y))
    v = float(z[i, j])
    return dict(label=f"{x} = {hp[x]:.6g}, {y} = {hp[y]:.6g}" + (f" ({off})" if off else ""),
                value=f"{summary} {v:.6g}" if np.isfinite(v) else "diverged",
                query_args=dict(task=task, optimizer=opt, hparams=hp, steps=cfg["inner_steps"], seed=seed, x0=x0))


def _summary(z, xs, ys, axes, x, y, best, slug, cfg, runs) -> None:
    n_nan = int(np.isnan(z).sum())
    (c1, c2), (c3, c4) = st.columns(2), st.columns(2)  # two a row: long values stay whole at 1024 px
    if best is not None:
        c1.metric(f"best {x}", f"{float(axes[x].to_value(best[0])):.4g}", help=f"{axes[x].title} = {best[0]:.6g}")
        c2.metric(f"best {y}", f"{float(axes[y].to_value(best[1])):.4g}", help=f"{axes[y].title} = {best[1]:.6g}")
        c3.metric("best outer loss", f"{best[2]:.4f}")
    else:
        c1.metric("best cell", "none", help="Every run diverged.")
    c4.metric("diverged cells", f"{n_nan:,} ({100 * n_nan / z.size:.1f}%)",
              help=f"Runs that became non-finite, drawn in magenta ({viz.DIVERGED_COLOR}).")
    name = f"meta_loss_{slug}_{cfg['res']}x{cfg['res']}"
    arrays = dict(loss=z, x_values=xs, y_values=ys)
    d1, d2 = st.columns(2)
    d1.download_button("Download full grid (NPZ)", lambda: npz_bytes(**arrays), file_name=name + ".npz",
                       mime="application/octet-stream", key="g_npz",
                       help=f"Arrays loss (rows: {y}, columns: {x}), x_values, y_values (display units).")
    d2.download_button("Download full grid (CSV)", lambda: csv_text(arrays), file_name=name + ".csv",
                       mime="text/csv", key="g_csv",
                       help=f"First row: {axes[x].title}; first column: {axes[y].title}; NaN = diverged.")
    if runs:
        runs_table(runs, x, y)
