"""The "What tuning sees" page's cached computations: maps over seeds, a tuner's study against
the dense map, the table over N x sampler x tuner seeds, and a user's uploaded Optuna study.

Heavy calls go through :func:`ui.shared.heavy` / :func:`ui.shared.heavy_stoppable` inside the
cached functions (cache hits never queue). An uploaded file is written to a temporary file
outside the repository that is deleted whatever happens (:func:`_temporary_db`).
"""

from __future__ import annotations

import csv
import io
import os
import sqlite3
import tempfile
import time
from contextlib import contextmanager
from urllib.parse import quote

import numpy as np
import streamlit as st

from l2l_core.landscape import fractal, general, seeds
from l2l_core.tasks import fractal_networks
from l2l_core.tasks.general import NETWORK_TASKS, resolve_task
from l2l_core.tuning import audit, study
from ui.shared import heavy, heavy_stoppable

#: Tasks with randomness the page offers: the general networks, then the trainability-fractal networks.
TASKS = [*NETWORK_TASKS, *fractal_networks.SPECS]
#: Tasks whose seeds are vmapped (one kernel over the seeds); the digits networks loop over seeds.
VMAPPED = {"tanh_net", *fractal_networks.SPECS}
FRACTAL_STEPS = 100


def is_fractal(task: str) -> bool:
    return task in fractal_networks.SPECS


def axes_for(task: str, optimizer: str) -> dict:
    """Axis name -> (display title, default display range) for the page's axis pickers."""
    if is_fractal(task):
        lo, hi, ylo, yhi = fractal.default_window(task)
        nx, ny = fractal.AXIS_NAMES[fractal_networks.SPECS[task].phase_space]
        return {nx: (nx, (lo, hi)), ny: (ny, (ylo, yhi))}
    per_layer = resolve_task(task).labels is not None  # one rate per layer: the shared "lr" is no axis
    first = general.default_axes(task, optimizer)
    axes = general.task_axes(task, optimizer)
    names = [*first, *(n for n in axes if n not in first and not (per_layer and n == "lr"))]
    return {n: (axes[n].title, tuple(axes[n].default_range)) for n in names}


def grid_values(task: str, optimizer: str, x: str, y: str, res: int):
    ax = axes_for(task, optimizer)
    return np.linspace(*ax[x][1], res), np.linspace(*ax[y][1], res)


def _seed_map(task, optimizer, x, y, res, seed_list, steps):
    xs, ys = grid_values(task, optimizer, x, y, res)
    if is_fractal(task):
        return heavy(seeds.fractal_seed_grid, xs, ys, list(seed_list), task=task, inner_steps=steps)
    return heavy_stoppable(seeds.seed_grid, task, optimizer, x, y, xs, ys, list(seed_list), inner_steps=steps)


@st.cache_data(max_entries=8, show_spinner=False)
def seed_maps(task: str, optimizer: str, x: str, y: str, res: int, seed_list: tuple, steps: int):
    """(seed_grid's dict with ``x_values``, ``y_values``, seconds) for the seeds together."""
    t0 = time.perf_counter()
    out = dict(_seed_map(task, optimizer, x, y, res, seed_list, steps))
    out["x_values"], out["y_values"] = grid_values(task, optimizer, x, y, res)
    return out, time.perf_counter() - t0


@st.cache_data(max_entries=8, show_spinner=False)
def one_seed_seconds(task: str, optimizer: str, x: str, y: str, res: int, seed: int, steps: int) -> float:
    """Seconds of one seed's map alone (the same kernel with one seed): the loop's cost per seed."""
    t0 = time.perf_counter()
    _seed_map(task, optimizer, x, y, res, (seed,), steps)
    return time.perf_counter() - t0


@st.cache_data(max_entries=8, show_spinner=False)
def tuner_study(task: str, optimizer: str, x: str, y: str, res: int, seed: int, steps: int, sampler: str,
                trials: int, tuner_seed: int) -> dict:
    """:func:`l2l_core.tuning.audit.audit`'s dict for one study."""
    return heavy(audit.audit, task, optimizer, x, y, trials=trials, sampler=sampler, seed=seed,
                 tuner_seed=tuner_seed, res=res, inner_steps=steps)


@st.cache_data(max_entries=16, show_spinner=False)
def table_rows(task: str, optimizer: str, x: str, y: str, res: int, seed: int, steps: int, sampler: str,
               trials: tuple, tuner_seeds: tuple) -> list:
    """:func:`l2l_core.tuning.audit.audit_table`'s rows for one sampler (the page shows progress per sampler)."""
    return heavy(audit.audit_table, task, optimizer, x, y, trials=trials, samplers=(sampler,),
                 tuner_seeds=tuner_seeds, seed=seed, res=res, inner_steps=steps)


def rows_csv(rows: list[dict]) -> str:
    """The table's rows (numbers, text, None) as CSV text with a header row; None is left empty."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows({k: ("" if v is None else v) for k, v in r.items()} for r in rows)
    return buf.getvalue()


# -- a user's study --------------------------------------------------------------------------------


@contextmanager
def _temporary_db(data: bytes):
    """The uploaded bytes in a temporary file (the system's temporary folder), always deleted."""
    fd, name = tempfile.mkstemp(suffix=".db", prefix="l2l_study_")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        yield name
    finally:
        try:
            os.unlink(name)
        except OSError:
            pass


def _renamed(err: ValueError, path: str) -> ValueError:
    """The reader's message with the temporary file's name replaced by "the uploaded file"."""
    text = str(err).replace(f"study file {path}", "the uploaded file").replace(path, "the uploaded file")
    return ValueError(text)


def _param_names(path: str, study_name: str) -> list[str]:
    """The parameter names of one study (the file already passed :func:`study.list_studies`' checks)."""
    con = sqlite3.connect(f"file:{quote(path)}?mode=ro&immutable=1", uri=True)
    try:
        con.execute("PRAGMA query_only = ON")
        rows = con.execute(
            "SELECT DISTINCT p.param_name FROM trial_params p JOIN trials t ON t.trial_id = p.trial_id "
            "JOIN studies s ON s.study_id = t.study_id WHERE s.study_name = ? ORDER BY p.param_name LIMIT 200",
            (study_name,)).fetchall()
    finally:
        con.close()
    return [str(r[0]) for r in rows]


@st.cache_data(max_entries=4, show_spinner=False)
def inspect_upload(data: bytes) -> list[dict]:
    """The studies of an uploaded file, each with its parameter names: [{"name", "trials", "params"}];
    ValueError (the reader's) for a bad or foreign file."""
    with _temporary_db(data) as path:
        try:
            studies = study.list_studies(path)
            return [dict(s, params=_param_names(path, s["name"])) for s in studies]
        except sqlite3.Error as e:
            raise ValueError(f"the uploaded file: SQLite cannot read it ({e})") from None
        except ValueError as e:
            raise _renamed(e, path) from None


@st.cache_data(max_entries=4, show_spinner=False)
def read_upload(data: bytes, study_name: str, x_param: str, y_param: str) -> study.StudyTrials:
    with _temporary_db(data) as path:
        try:
            return study.read_study(path, x_param, y_param, study_name=study_name)
        except ValueError as e:
            raise _renamed(e, path) from None


def study_display(trials: study.StudyTrials, task: str, optimizer: str, x: str, y: str, units: str):
    """The study's x and y in the map's display units: ``units`` "raw" converts with the axes
    (:func:`l2l_core.tuning.study.to_display`), "display" takes them as they are."""
    if units == "display":
        return np.asarray(trials.x, float), np.asarray(trials.y, float)
    axes = general.task_axes(task, optimizer)
    return study.to_display(trials.x, axes[x]), study.to_display(trials.y, axes[y])
