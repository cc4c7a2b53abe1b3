"""The tour's cached computations: small, hashable inputs only, so every step
draws in about a second and repeats come from the cache."""

from __future__ import annotations

import numpy as np
import streamlit as st

from l2l_core import landscape, outer
from l2l_core.inner.problems import PROBLEMS
from l2l_core.inner.unroll import sgd_momentum_unroll
from l2l_core.landscape import zoom
from pages._shared import heavy, heavy_grid


@st.cache_data(max_entries=16, show_spinner=False)
def inner_curve(problem: str):
    p = PROBLEMS[problem]
    xs = np.linspace(*p.x_range, 400)
    return xs, np.asarray(p.loss(xs.astype(np.float32)), dtype=np.float64)


@st.cache_data(max_entries=32, show_spinner=False)
def inner_run(lr: float, momentum: float):
    u = sgd_momentum_unroll("log_sin", x0=-4.0, lr=lr, momentum=momentum, steps=50)
    path_loss = np.asarray(PROBLEMS["log_sin"].loss(u.xs))
    return u.xs, u.losses, path_loss


@st.cache_data(max_entries=16, show_spinner=False)
def sweep(momentum: float, points: int):
    log_lrs = np.linspace(-3.0, 2.0, points)
    return log_lrs, heavy(landscape.lr_sweep, log_lrs, momentum)


@st.cache_data(max_entries=8, show_spinner=False)
def grid(window: tuple, res: int):
    lr_lo, lr_hi, m_lo, m_hi = window
    log_lrs, log_omm = landscape.axes((lr_lo, lr_hi), (m_lo, m_hi), res)
    return log_lrs, log_omm, heavy_grid(log_lrs, log_omm)


@st.cache_data(max_entries=32, show_spinner=False)
def outer_run(method: str, start: tuple, steps: int, lr: float, std: float):
    opts = dict(lr=lr) if method == "grad" else dict(lr=lr, std=std)
    r = heavy(outer.run_outer_full, method, start, steps, seed=0, **opts)
    return r.trajectory, r.losses, r.final_loss


@st.cache_data(max_entries=16, show_spinner=False)
def local_shift(point: tuple):
    return outer.local_shift(point)


@st.cache_resource(show_spinner=False)
def shipped_checkpoint():
    """(checkpoint, None) or (None, why not)."""
    try:
        from l2l_core.learned.checkpoints import DEFAULT_CHECKPOINT, load_checkpoint

        return load_checkpoint(DEFAULT_CHECKPOINT), None
    except (ImportError, ValueError, OSError) as e:
        return None, str(e)


def checkpoint_key(ckpt) -> str:
    """Keys the cached results on the checkpoint file (path and mtime), not only on the settings."""
    from l2l_core.learned.checkpoints import checkpoint_file

    f = checkpoint_file(ckpt.path)
    return f"{f}:{f.stat().st_mtime_ns if f.exists() else 0}"


@st.cache_data(max_entries=8, show_spinner=False)
def lstm_before_after(seed: int, tasks: int, ckpt_key: str):
    import jax

    from l2l_core.learned.lstm import init_meta_params
    from l2l_core.learned.metatrain import lstm_losses
    from l2l_core.learned.tasks import tasks_for_seed

    ckpt, _ = shipped_checkpoint()
    t = tasks_for_seed(seed, tasks, ckpt.config.dim)
    untrained = init_meta_params(jax.random.PRNGKey(seed), ckpt.config.lstm)
    kw = dict(lstm=ckpt.config.lstm, steps=100, reduction=ckpt.config.reduction)
    return {"untrained LSTM": np.asarray(heavy(lstm_losses, untrained, t, **kw)),
            "lstm": np.asarray(heavy(lstm_losses, ckpt.params, t, **kw))}


@st.cache_data(max_entries=8, show_spinner=False)
def comparison(seed: int, tasks: int, ckpt_key: str):
    from l2l_core.learned import baselines
    from l2l_core.learned.comparison import compare

    ckpt, _ = shipped_checkpoint()
    res = heavy(compare, ckpt, seed=seed, steps=100, batch=tasks, log_lrs=baselines.lr_grid(points=21))
    return {k: np.asarray(v) for k, v in res["losses"].items()}, res["final"], res["best_lr"]


@st.cache_data(max_entries=8, show_spinner=False)
def zoomed_grid(window: tuple, res: int):
    """The grid of any window, in float64 where float32 runs out of digits (as the full page)."""
    log_lrs, log_omm, z, precision = zoom.zoom_grid(window, res, grid_fn=heavy_grid)
    return log_lrs, log_omm, z, precision


@st.cache_data(max_entries=8, show_spinner=False)
def fractal_image(task: str, width: int, res: int):
    """The trainability image (convergence measure) of a network task's top view, res x res, 100 steps."""
    from l2l_core.landscape import fractal

    lo, hi, ylo, yhi = fractal.default_window(task)
    xs, ys = np.linspace(lo, hi, res), np.linspace(ylo, yhi, res)
    return xs, ys, heavy(fractal.fractal_grid, xs, ys, task=task, width=width, inner_steps=100, summary="converge")
