"""The cached computations of the landscape, sweep and inner-problem pages, shared with the tour.

The tour's steps that link into the landscape page compute their numbers with
these very calls and the settings their link carries (:func:`settings_of_link`
reads a link the way the page does), so the step and the page it opens show
the same numbers: the same grid, the same batched outer runs (same starts,
seeds and batch), the same options.
"""

from __future__ import annotations

import time

import jax.numpy as jnp
import numpy as np
import streamlit as st

from l2l_core import landscape, outer
from l2l_core.inner.unroll import resolve_problem, sgd_momentum_unroll
from l2l_core.landscape import zoom
from l2l_core.probe.flat import flat_task, resolve
from l2l_core.probe.thresholds import stability_edge, start_sharpness
from ui.shared import heavy, heavy_grid

#: The options of an outer method (``outer.METHODS[m].defaults``) -> the landscape page's setting.
OPTION_KEYS = {"lr": "o_lr", "std": "o_std", "pairs": "o_pairs", "truncation_length": "o_trunc"}
_CASTS = {"lr": float, "std": float, "pairs": int, "truncation_length": int}


@st.cache_data(max_entries=12, show_spinner=False)  # a 2000² grid is 16 MB
def grid(lr_lo: float, lr_hi: float, mom_lo: float, mom_hi: float, res: int, problem: str, x0: float,
         inner_steps: int, summary: str):
    t0 = time.perf_counter()
    # float64 only where float32 runs out of digits (deep zoom); see l2l_core/zoom.py.
    log_lrs, log_omm, z, precision = zoom.zoom_grid((lr_lo, lr_hi, mom_lo, mom_hi), res, grid_fn=heavy_grid,
                                                    problem=problem, x0=x0, inner_steps=inner_steps,
                                                    summary=summary)
    return (log_lrs, log_omm, z, precision), time.perf_counter() - t0


@st.cache_data(max_entries=32, show_spinner=False)
def outer_batch(method: str, starts: tuple, seeds: tuple, outer_steps: int, options: tuple, problem: str,
                x0: float, inner_steps: int, summary: str):
    """Every (start, seed) run of one method, as one batched computation."""
    return heavy(outer.run_outer_batch, method, starts, outer_steps, seeds=seeds, problem=problem, x0=x0,
                 inner_steps=inner_steps, summary=summary, **dict(options))


def method_options(method: str, settings: dict) -> dict:
    """The options the page passes to ``method`` (those it takes), from the page's settings."""
    takes = outer.METHODS[method].defaults
    return {k: _CASTS[k](settings[key]) for k, key in OPTION_KEYS.items() if k in takes}


def outer_runs(settings: dict, problem: str, x0: float, inner_steps: int, summary: str) -> list[dict]:
    """Every (method, start, seed) run the page draws, one batch per method.

    ``settings``: the page's values under its widget keys (``o_methods``, ``o_starts``,
    ``o_seeds``, ``o_steps`` and the options). Raises ValueError for a bad start or seed.
    """
    runs = []
    starts = outer.parse_points(settings["o_starts"])
    seeds = outer.parse_seeds(settings["o_seeds"])
    for method in settings["o_methods"]:
        m = outer.METHODS[method]
        pairs = [(start, seed) for start in starts for seed in (seeds if m.stochastic else seeds[:1])]
        b = outer_batch(method, tuple(p[0] for p in pairs), tuple(p[1] for p in pairs), int(settings["o_steps"]),
                        tuple(sorted(method_options(method, settings).items())), problem, x0, inner_steps, summary)
        for i, (start, seed) in enumerate(pairs):
            runs.append(dict(method=method, method_title=m.title, start=start, seed=seed,
                             label=f"{method} from ({start[0]:g}, {start[1]:g}) seed {seed}",
                             trajectory=b.trajectories[i], losses=b.losses[i], end_loss=float(b.final_losses[i])))
    return runs


def settings_of_link(params: dict, query: dict) -> dict:
    """The page's settings (widget key -> value) that a link with ``query`` opens:
    each URL value through its parameter's parser, the default where the link has none."""
    out = {}
    for key, p in params.items():
        out[key] = p.parse(str(query[p.url])) if p.url in query else p.default
    return out


@st.cache_data(max_entries=32, show_spinner=False)
def lr_sweep(lo: float, hi: float, points: int, momentum: float, problem: str, x0: float, steps: int, reduce: str):
    """The sweep page's 1-D sweep: ((log_lrs, outer losses), seconds)."""
    t0 = time.perf_counter()
    log_lrs = landscape.sweep_axis((lo, hi), points)
    loss = heavy(landscape.lr_sweep, log_lrs, momentum, problem=problem, x0=x0, steps=steps, reduce=reduce)
    return (log_lrs, loss), time.perf_counter() - t0


@st.cache_data(max_entries=64, show_spinner=False)
def inner_run(problem: str, x0: float, lr: float, momentum: float, steps: int):
    """The inner page's run: ((xs of the path, losses, curve xs, curve, loss along the path), seconds)."""
    t0 = time.perf_counter()
    u = sgd_momentum_unroll(problem, x0=x0, lr=lr, momentum=momentum, steps=steps)
    p = resolve_problem(problem)
    xs = np.linspace(*p.x_range, 600)
    curve = np.asarray(p.loss(jnp.asarray(xs, jnp.float32)))
    path_loss = np.asarray(p.loss(jnp.asarray(u.xs)))
    return (u.xs, u.losses, xs, curve, path_loss), time.perf_counter() - t0


@st.cache_data(max_entries=32, show_spinner=False)
def stability_line(task: str, optimizer: str, x_axis: str, y_axis: str, x_range: tuple, y_values, fixed: tuple,
                   seed: int, x0):
    """The theory line of a map (one Hessian at the start): (edge per row in x's display unit, NaN where
    none; the start's top curvature for an lr x momentum map, else None)."""
    ys = np.asarray(y_values, np.float64)
    edge = stability_edge(task, optimizer, x_axis, y_axis, np.asarray(x_range, np.float64), ys, fixed=dict(fixed),
                          seed=seed, x0=x0)
    lam = None
    if x_axis == "lr":
        flat, loss, _ = flat_task(resolve(task, seed), seed, x0)
        lam = start_sharpness(loss, flat)
    return edge, lam
