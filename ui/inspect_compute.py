"""The "Open a pixel" page's computations: one cached :func:`l2l_core.probe.run.inspect_run` call inside
the server-wide job limit, and the grid a 2-D task's contour is drawn on."""

from __future__ import annotations

import time

import jax
import jax.numpy as jnp
import numpy as np
import streamlit as st

from l2l_core.probe.flat import flat_task, resolve
from l2l_core.probe.run import inspect_run
from l2l_core.probe.run import run_slices as run_slices_core
from l2l_core.tasks.mlp import MLPTask
from ui.shared import heavy

#: Cells per axis of a 2-D task's contour.
CONTOUR_RES = 81


def kind_of(task: str, seed: int = 0) -> tuple[str, int]:
    """("1d" | "2d" | "network", number of parameters) of a task name or formula; ValueError if unknown."""
    t = resolve(task, seed)
    dim = int(flat_task(t, seed)[0].size)
    if getattr(t, "labels", None) is not None or dim > 2:
        return "network", dim
    return ("1d" if dim == 1 else "2d"), dim


def task_start(task: str, seed: int = 0) -> tuple[float, ...]:
    """The task's own start (1-D and 2-D tasks)."""
    return tuple(float(v) for v in flat_task(resolve(task, seed), seed)[0])


def core_hparams(task: str, seed: int, hparams: tuple) -> dict[str, float]:
    """The hyperparameters inspect_run is given: a digits network whose two layer rates are equal trains with
    one rate ``lr`` (the same run; its threshold then also exists for Adam and RMSprop)."""
    hp = dict(hparams)
    if "lr_in" in hp and hp.get("lr_in") == hp.get("lr_out") and isinstance(resolve(task, seed), MLPTask):
        hp["lr"] = hp.pop("lr_in")
        hp.pop("lr_out")
    return hp


@st.cache_data(max_entries=24, show_spinner=False)
def run_pixel(task: str, optimizer: str, hparams: tuple, steps: int, seed: int, x0, every: int, eigs: int,
              slice_n: int, slice_span: float) -> tuple[dict, float]:
    """(:func:`inspect_run`'s result, wall seconds) of one pixel; the core call runs inside the job limit."""
    tic = time.perf_counter()
    result = heavy(inspect_run, task, optimizer, core_hparams(task, seed, hparams), steps=steps, seed=seed,
                   sharpness_every=every, eigs=eigs, slice_n=slice_n, slice_span=slice_span,
                   x0=None if x0 is None else list(x0))
    if result["meta"]["dim"] == 2 and "path" in result:
        tic2 = time.perf_counter()
        result["contour_x"], result["contour_y"], result["contour_loss"] = contour_grid(task, seed, result["path"])
        result["seconds"]["contour"] = time.perf_counter() - tic2
    return result, time.perf_counter() - tic


def contour_grid(task: str, seed: int, path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(xs, ys, loss (ys, xs)) on a box around the finite part of a 2-D path (and the task's range)."""
    t = resolve(task, seed)
    _, loss, _ = flat_task(t, seed)
    p = np.asarray(path, np.float64)
    p = p[np.all(np.isfinite(p), axis=1) & np.all(np.abs(p) < 1e6, axis=1)]
    lo, hi = p.min(axis=0), p.max(axis=0)
    pad = np.maximum(0.15 * (hi - lo), 0.5)
    xs = np.linspace(lo[0] - pad[0], hi[0] + pad[0], CONTOUR_RES)
    ys = np.linspace(lo[1] - pad[1], hi[1] + pad[1], CONTOUR_RES)
    gx, gy = np.meshgrid(xs, ys)
    pts = jnp.asarray(np.stack([gx.ravel(), gy.ravel()], axis=1), jnp.float32)
    z = np.asarray(jax.jit(jax.vmap(loss))(pts), np.float64).reshape(gy.shape)
    return xs, ys, z


@st.cache_data(max_entries=24, show_spinner=False)
def run_slices(task: str, optimizer: str, hparams: tuple, steps: int, seed: int, x0, every: int, eigs: int,
               slice_n: int, slice_span: float) -> tuple[dict, float]:
    """(the slices of :func:`inspect_run` around the run's end point: filter-normalized, PCA with the path,
    start -> end interpolation; wall seconds). Drawn after the run, so the run is on screen first; the run
    itself comes from :func:`run_pixel`'s cache."""
    result, _ = run_pixel(task, optimizer, hparams, steps, seed, x0, every, eigs, 0, 1.0)
    tic = time.perf_counter()
    t = resolve(task, seed)
    flat0, loss, _ = flat_task(t, seed, None if x0 is None else list(x0))
    out = heavy(run_slices_core, t, loss, result["params"], flat0, seed, slice_n, slice_span, np.float32)
    return out, time.perf_counter() - tic
