"""A real tuner on the map's own objective, held against the dense truth.

:func:`audit` runs an Optuna study (TPE, random or CMA-ES) whose objective is
exactly the map's: each trial is one run of the engine at the trial's point,
``hyper_grid(task, optimizer, x_axis, y_axis, [x], [y], ...)`` with the same
steps, summary, fixed values, dtype and seed as the dense map it is held
against. The tuner searches the two axes in their display units (log10 of a
rate, log10(1 - m) of a momentum-like m), uniformly: for a rate this is
exactly Optuna's ``suggest_float(name, lo, hi, log=True)``. The study names the
parameters by :func:`param_name` (``log10 lr``, ``log10(1 - momentum)``).

A diverged run (NaN) is told to the tuner as the finite penalty
:data:`DIVERGED_PENALTY`, not as a failed trial: Optuna's samplers learn nothing
from failed trials (they would keep sampling the diverging region) and its
``plot_contour`` leaves failed trials out (the region would vanish from the
picture). With a penalty the study, like a practitioner's, sees divergence as
a very bad value. The ``converge`` summary is finite when a run diverges (its
sign says it), so it is told as is.

The tuner's picture (``contour``) is the trials' told values interpolated onto
the dense grid, as a tuning dashboard draws a study: linear over the Delaunay
triangles of the trials (``scipy.interpolate.griddata``, in display units, the
log axes Optuna's contour uses for log-scale parameters), and outside the
trials' convex hull the nearest trial's value (a dashboard fills the whole
plane; Optuna's own ``plot_contour`` fills it by its iterative smoothing).

What the sparse view gets wrong, cell by cell of the dense map:

- a cell is *diverging* when its run diverged (NaN; for ``converge`` a
  positive value); the picture calls it diverging where the interpolated value
  is at least half the penalty (for ``converge``: above 0);
- a cell is *good* when its run did not diverge and its value is at most the
  :data:`GOOD_QUANTILE` quantile of the values of the cells that did not
  diverge (the best quarter of the converging runs); the picture calls it good
  where the interpolated value is at most that same threshold;
- ``false_good``: the fraction of all cells that diverge but the picture calls
  good; ``false_diverging``: good cells the picture calls diverging;
- ``regret``: the tuner's best value minus the dense best; ``beaten_by``: the
  fraction of the non-diverging cells whose value is below the tuner's best.

Optuna is imported when a study is made (it and SQLAlchemy take about 0.25 s
to import), so importing this module stays light; its logging is kept at
warnings only for the duration of a study.
"""

from __future__ import annotations

import math
import time
import warnings

import numpy as np

from l2l_core.checks import check_int
from l2l_core.inner.optimizers import LOG10
from l2l_core.landscape import general
from l2l_core.landscape.grid import best_cell

SAMPLERS = ("tpe", "random", "cmaes")
#: Study sizes the table compares.
TABLE_TRIALS = (25, 50, 100)
MAX_TRIALS = 1000
#: Cells of the chunk one trial runs (the trial's point, repeated).
POINT_CHUNK = 8
#: What the tuner is told for a diverged run.
DIVERGED_PENALTY = 1e6
#: "Good": at most this quantile of the non-diverging cells' values.
GOOD_QUANTILE = 0.25


def check_trials(trials) -> int:
    return check_int("trials", trials, 1, MAX_TRIALS)


def check_sampler(sampler) -> str:
    if sampler not in SAMPLERS:
        raise ValueError(f"sampler must be one of {', '.join(SAMPLERS)}, got {sampler!r}")
    return sampler


def _optuna():
    import optuna

    return optuna


def make_sampler(name: str, seed: int):
    """The Optuna sampler ``name`` (tpe, random, cmaes), seeded."""
    optuna = _optuna()
    check_sampler(name)
    if name == "tpe":
        return optuna.samplers.TPESampler(seed=seed)
    if name == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    return optuna.samplers.CmaEsSampler(seed=seed, warn_independent_sampling=False)


def engine_objective(task, optimizer, x_axis: str, y_axis: str, *, inner_steps: int = 50, summary: str = "mean",
                     fixed: dict | None = None, x0=None, dtype=np.float32, seed: int = 0):
    """(x, y) in display units -> the map's value there (NaN where the run diverged).

    The seed post's case (SGD with momentum, lr x momentum, a 1-D task) is a 1x1
    :func:`~l2l_core.landscape.general.hyper_grid` (its fast kernel; about 15 ms a trial).
    Every other case runs the map's own cell kernel (:func:`~l2l_core.landscape.general.cell_kernel`,
    the function hyper_grid's chunks run) on a chunk of :data:`POINT_CHUNK` cells instead of
    hyper_grid's 4096: the same computation per cell, compiled for a smaller shape (a network
    trial in milliseconds instead of a 4096-cell chunk's 0.3 s).
    """
    kw = dict(inner_steps=inner_steps, summary=summary, fixed=fixed, x0=x0, dtype=dtype, seed=seed)
    s = general.setup(task, optimizer, x_axis, y_axis, **kw)  # refuses bad arguments before any study
    if general.routes_to_fast_kernel(s):
        def f(x: float, y: float) -> float:
            z = general.hyper_grid(task, optimizer, x_axis, y_axis, np.array([x]), np.array([y]), **kw)
            return float(z[0, 0])

        return f
    kernel = general.cell_kernel(s, any_axes=True)
    dt = s.dtype

    def point(x: float, y: float) -> float:
        a = np.full((1, POINT_CHUNK), s.x_axis.to_value(np.array([x]))[0], dt)
        b = np.full((1, POINT_CHUNK), s.y_axis.to_value(np.array([y]))[0], dt)
        with np.errstate(over="ignore"):
            return float(np.asarray(kernel(a, b))[0, 0])

    return point


def told_value(value: float, summary: str, penalty: float = DIVERGED_PENALTY) -> float:
    """What the tuner is told: the value, or ``penalty`` where the run diverged to NaN."""
    return float(penalty) if not math.isfinite(value) else float(value)


def run_study(f, x_name: str, y_name: str, x_range, y_range, *, trials: int, sampler: str = "tpe", seed: int = 0,
              summary: str = "mean", penalty: float = DIVERGED_PENALTY, storage: str | None = None,
              study_name: str | None = None) -> dict:
    """An Optuna study of ``trials`` trials of ``f(x, y)`` over the two display ranges.

    Returns dict: ``trial_x``, ``trial_y`` (display units, in the order taken),
    ``trial_value`` (the engine's value, NaN where diverged), ``told`` (what the
    tuner was told), ``seconds`` (the whole study), ``engine_seconds`` (inside
    ``f``) and ``tuner_seconds`` (the rest: the sampler and Optuna's bookkeeping).
    """
    optuna = _optuna()
    trials = check_trials(trials)
    engine = [0.0]
    values = []

    def objective(trial):
        x = trial.suggest_float(x_name, float(x_range[0]), float(x_range[1]))
        y = trial.suggest_float(y_name, float(y_range[0]), float(y_range[1]))
        t0 = time.perf_counter()
        v = f(x, y)
        engine[0] += time.perf_counter() - t0
        values.append(v)
        return told_value(v, summary, penalty)

    verbosity = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            t0 = time.perf_counter()
            study = optuna.create_study(direction="minimize", sampler=make_sampler(sampler, seed), storage=storage,
                                        study_name=study_name)
            study.optimize(objective, n_trials=trials)
            seconds = time.perf_counter() - t0
    finally:
        optuna.logging.set_verbosity(verbosity)
    done = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    return dict(trial_x=np.array([t.params[x_name] for t in done]), trial_y=np.array([t.params[y_name] for t in done]),
                trial_value=np.array(values, float), told=np.array([t.value for t in done], float), seconds=seconds,
                engine_seconds=engine[0], tuner_seconds=seconds - engine[0])


def interpolate(trial_x, trial_y, values, x_values, y_values) -> np.ndarray:
    """The trials' values on the grid (rows: y), as a dashboard draws a study: linear over
    the trials' Delaunay triangles, the nearest trial's value outside their hull."""
    from scipy.interpolate import griddata

    pts = np.column_stack([np.asarray(trial_x, float), np.asarray(trial_y, float)])
    v = np.asarray(values, float)
    keep = np.isfinite(v)
    pts, v = pts[keep], v[keep]
    gx, gy = np.meshgrid(np.asarray(x_values, float), np.asarray(y_values, float))
    if v.size == 0:
        return np.full(gx.shape, np.nan)
    near = griddata(pts, v, (gx, gy), method="nearest")
    if v.size < 3:
        return near
    try:
        lin = griddata(pts, v, (gx, gy), method="linear")
    except Exception:  # collinear or repeated points: Qhull finds no triangle
        return near
    return np.where(np.isfinite(lin), lin, near)


def _diverged(z, summary: str) -> np.ndarray:
    z = np.asarray(z, float)
    return ~(z <= 0) if summary == "converge" else ~np.isfinite(z)


def sparse_errors(dense, picture, *, summary: str = "mean", penalty: float = DIVERGED_PENALTY,
                  good_quantile: float = GOOD_QUANTILE) -> dict:
    """Where the picture is wrong: ``false_good`` (diverging cells it calls good),
    ``false_diverging`` (good cells it calls diverging), each a fraction of all cells,
    and the ``good_threshold`` (see the module's text)."""
    dense, picture = np.asarray(dense, float), np.asarray(picture, float)
    bad = _diverged(dense, summary)
    ok_values = dense[~bad]
    if ok_values.size == 0:
        return dict(false_good=0.0, false_diverging=0.0, good_threshold=None, diverging=1.0, good=0.0)
    tau = float(np.quantile(ok_values, good_quantile))
    good = ~bad & (dense <= tau)
    with np.errstate(invalid="ignore"):
        pic_good = picture <= tau
        pic_bad = picture > 0 if summary == "converge" else picture >= penalty / 2
    n = dense.size
    return dict(false_good=float((bad & pic_good).sum() / n), false_diverging=float((good & pic_bad).sum() / n),
                good_threshold=tau, diverging=float(bad.mean()), good=float(good.mean()))


def _best_trial(res: dict, summary: str):
    v = np.where(_diverged(res["trial_value"], summary) & (summary != "converge"), np.nan, res["trial_value"])
    if not np.isfinite(v).any():
        return None
    k = int(np.nanargmin(v))
    return dict(number=k, x=float(res["trial_x"][k]), y=float(res["trial_y"][k]), value=float(v[k]))


def compare(res: dict, dense, x_values, y_values, *, summary: str = "mean", penalty: float = DIVERGED_PENALTY,
            good_quantile: float = GOOD_QUANTILE) -> dict:
    """The study ``res`` (of :func:`run_study`) against the dense map: the contour and every metric."""
    dense = np.asarray(dense, float)
    picture = interpolate(res["trial_x"], res["trial_y"], res["told"], x_values, y_values)
    masked = np.where(_diverged(dense, summary) & (summary != "converge"), np.nan, dense)
    bd = best_cell(masked, x_values, y_values)
    best_dense = None if bd is None else dict(zip(("x", "y", "value"), bd))
    bt = _best_trial(res, summary)
    regret = beaten = None
    if bt is not None and best_dense is not None:
        regret = bt["value"] - best_dense["value"]
        ok = masked[np.isfinite(masked)]
        beaten = float((ok < bt["value"]).mean())
    errors = sparse_errors(dense, picture, summary=summary, penalty=penalty, good_quantile=good_quantile)
    return dict(contour=picture, best_trial=bt, best_dense=best_dense, regret=regret, beaten_by=beaten,
                trials_diverged=int(_diverged(res["trial_value"], summary).sum()), **errors)


def param_name(axis) -> str:
    """The study's name for an axis' display value: ``log10 lr``, ``log10(1 - momentum)``."""
    return f"log10 {axis.name}" if axis.unit == LOG10 else f"log10(1 - {axis.name})"


def _ranges(s: general.Setup, x_range, y_range):
    xr = general.check_range(s.x_axis, *(x_range or s.x_axis.default_range))
    yr = general.check_range(s.y_axis, *(y_range or s.y_axis.default_range))
    return xr, yr


def audit(task, optimizer, x_axis: str, y_axis: str, *, trials: int = 50, sampler: str = "tpe", seed: int = 0,
          tuner_seed: int | None = None, res: int = 64, x_range=None, y_range=None, inner_steps: int = 50,
          summary: str = "mean", fixed: dict | None = None, x0=None, dtype=np.float32,
          penalty: float = DIVERGED_PENALTY, good_quantile: float = GOOD_QUANTILE, storage: str | None = None,
          study_name: str | None = None) -> dict:
    """A real tuner's study on the map's objective beside the dense map.

    Args:
      task, optimizer, x_axis, y_axis, inner_steps, summary, fixed, x0, dtype: as
        :func:`~l2l_core.landscape.general.hyper_grid`.
      trials: the study's size (1..MAX_TRIALS; the table uses 25, 50, 100).
      sampler: ``tpe``, ``random`` or ``cmaes``.
      seed: the map's seed (a network's data and weights) and, unless ``tuner_seed``
        is given, the sampler's.
      res: the dense map's points per axis (2..1024).
      x_range, y_range: display ranges (default each axis' own).
      penalty: what the tuner is told for a diverged run.
      storage, study_name: an Optuna storage URL to keep the study in (e.g. ``sqlite:///x.db``).

    Returns:
      dict: ``trial_x``, ``trial_y``, ``trial_value`` (the engine's, NaN where diverged),
      ``told``, ``loss`` (res, res), ``x_values``, ``y_values``, ``contour``,
      ``best_trial``, ``best_dense``, ``regret``, ``beaten_by``, ``false_good``,
      ``false_diverging``, ``good_threshold``, ``trials_diverged``, ``seconds``
      (``study``, ``engine``, ``tuner``, ``dense``).
    """
    check_sampler(sampler)
    trials = check_trials(trials)
    res = check_int("res", res, 2, 1024)
    if not (isinstance(penalty, (int, float)) and math.isfinite(penalty) and penalty > 0):
        raise ValueError(f"penalty must be a finite number above 0, got {penalty!r}")
    kw = dict(inner_steps=inner_steps, summary=summary, fixed=fixed, x0=x0, dtype=dtype, seed=seed)
    s = general.setup(task, optimizer, x_axis, y_axis, **kw)
    xr, yr = _ranges(s, x_range, y_range)
    xs, ys = np.linspace(*xr, res), np.linspace(*yr, res)
    f = engine_objective(task, optimizer, x_axis, y_axis, **kw)
    study = run_study(f, param_name(s.x_axis), param_name(s.y_axis), xr, yr, trials=trials, sampler=sampler,
                      seed=seed if tuner_seed is None else tuner_seed, summary=s.summary, penalty=penalty,
                      storage=storage, study_name=study_name)
    t0 = time.perf_counter()
    dense = general.hyper_grid(task, optimizer, x_axis, y_axis, xs, ys, **kw)
    dense_seconds = time.perf_counter() - t0
    out = compare(study, dense, xs, ys, summary=s.summary, penalty=penalty, good_quantile=good_quantile)
    out.update(trial_x=study["trial_x"], trial_y=study["trial_y"], trial_value=study["trial_value"],
               told=study["told"], loss=dense, x_values=xs, y_values=ys, x_range=xr, y_range=yr,
               seconds=dict(study=study["seconds"], engine=study["engine_seconds"], tuner=study["tuner_seconds"],
                            dense=dense_seconds))
    return out


def _prefix(study: dict, n: int) -> dict:
    return {k: (v[:n] if isinstance(v, np.ndarray) else v) for k, v in study.items()}


def audit_table(task, optimizer, x_axis: str, y_axis: str, *, trials=TABLE_TRIALS, samplers=SAMPLERS,
                tuner_seeds=(0, 1, 2), seed: int = 0, res: int = 64, x_range=None, y_range=None,
                inner_steps: int = 50, summary: str = "mean", fixed: dict | None = None, x0=None,
                dtype=np.float32, penalty: float = DIVERGED_PENALTY, good_quantile: float = GOOD_QUANTILE) -> list:
    """How the sparse view's errors change with N and the sampler: one row per (N, sampler),
    each metric's mean and spread (std) over ``tuner_seeds``.

    One study of max(trials) trials per (sampler, tuner seed); the study of N trials is its
    first N (a sampler does not know how many trials will follow, so they are the same trials).
    """
    trials = sorted({check_trials(n) for n in trials})
    for sm in samplers:
        check_sampler(sm)
    kw = dict(inner_steps=inner_steps, summary=summary, fixed=fixed, x0=x0, dtype=dtype, seed=seed)
    s = general.setup(task, optimizer, x_axis, y_axis, **kw)
    xr, yr = _ranges(s, x_range, y_range)
    xs, ys = np.linspace(*xr, res), np.linspace(*yr, res)
    dense = general.hyper_grid(task, optimizer, x_axis, y_axis, xs, ys, **kw)
    f = engine_objective(task, optimizer, x_axis, y_axis, **kw)
    metrics = ("regret", "beaten_by", "false_good", "false_diverging")
    results = {}
    for sm in samplers:
        for ts in tuner_seeds:
            full = run_study(f, param_name(s.x_axis), param_name(s.y_axis), xr, yr, trials=trials[-1], sampler=sm,
                             seed=ts, summary=s.summary, penalty=penalty)
            for n in trials:
                c = compare(_prefix(full, n), dense, xs, ys, summary=s.summary, penalty=penalty,
                            good_quantile=good_quantile)
                results.setdefault((n, sm), []).append(c)
    rows = []
    for (n, sm), cs in sorted(results.items()):
        row = dict(trials=n, sampler=sm, tuner_seeds=len(cs))
        for m in metrics:
            vals = np.array([np.nan if c[m] is None else c[m] for c in cs], float)
            row[m] = float(np.nanmean(vals)) if np.isfinite(vals).any() else None
            row[m + "_std"] = float(np.nanstd(vals)) if np.isfinite(vals).any() else None
        rows.append(row)
    return rows


def format_table(rows: list) -> str:
    """The table as text, one line per (N, sampler)."""
    head = f"{'N':>4} {'sampler':>7} {'regret':>10} {'beaten_by':>9} {'false_good':>10} {'false_div':>9}"
    lines = [head]
    for r in rows:
        def fmt(v, w):
            return f"{'-':>{w}}" if v is None else f"{v:>{w}.4g}"

        lines.append(f"{r['trials']:>4} {r['sampler']:>7} {fmt(r['regret'], 10)} {fmt(r['beaten_by'], 9)} "
                     f"{fmt(r['false_good'], 10)} {fmt(r['false_diverging'], 9)}")
    return "\n".join(lines)
