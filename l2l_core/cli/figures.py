"""One-command reproduction of both posts: every figure as PNG, the headline numbers as JSON.

``python -m l2l_core reproduce --out DIR [--small]`` calls :func:`reproduce`.
The figures (names in :data:`FIGURES`, with the claim each one checks):

meta-loss landscapes post
  inner_loss, inner_loss_vs_step, lr_sweep, landscape, gd_a_trajectory,
  gd_a_local_shift, gd_b_trajectory, gd_b_local_shift, es_trajectory
learning-to-learn post
  quadratic_sgd, quadratic_sgd_adam, quadratic_comparison
the trainability-fractal paper (Sohl-Dickstein, 2024)
  trainability_fractal (its top view, at a modest resolution)

``headline.json`` holds the numbers the docs quote; ``data/*.npz`` the
arrays behind each figure. :data:`SMALL` shrinks every size for tests.
"""

from __future__ import annotations

import dataclasses
import json
import math
import time
from pathlib import Path
from typing import Callable

import numpy as np

from l2l_core import outer, viz
from l2l_core.inner.hyperparams import lr_momentum
from l2l_core.inner.unroll import sgd_momentum_unroll
from l2l_core.io import export
from l2l_core.io.files import atomic_write, write_arrays
from l2l_core.landscape import fractal
from l2l_core.landscape import grid as landscape
from l2l_core.landscape.dimension import box_counting_dimension
from l2l_core.learned import baselines, comparison
from l2l_core.learned.checkpoints import DEFAULT_CHECKPOINT, load_checkpoint
from l2l_core.tasks import quadratics as tasks
from l2l_core.tasks.fractal_networks import make_task
from l2l_core.tasks.problems import PROBLEMS
from l2l_core.viz.fractal import fractal_figure

#: The post's two starting points for outer training, (log10 lr, log10(1 - momentum)).
STARTS = {"a": (-2.0, -0.5), "b": (0.0, -1.5)}

#: figure name -> (post, the claim it reproduces).
FIGURES = {
    "inner_loss": ("landscapes",
                   "non-convex loss: global minimum near x = -0.5 (value ~0), local one near x = 1.5 (~2)"),
    "inner_loss_vs_step": ("landscapes", "lr 0.1, momentum 0.9 from x0 = -4: drops into the global minimum, "
                           "momentum carries it out, it settles in the local one"),
    "lr_sweep": ("landscapes", "5000 learning rates at momentum 0.9: outer loss looks noisy although deterministic"),
    "landscape": ("landscapes", "2000 x 2000 (lr, momentum) grid: ripples, local minima, periodic in lr, "
                  "low-loss region at low momentum and lower lr"),
    "gd_a_trajectory": ("landscapes", "clipped gradient descent from (-2, -0.5) stops in a local minimum"),
    "gd_a_local_shift": ("landscapes", "around its end point: a local minimum with very high curvature"),
    "gd_b_trajectory": ("landscapes", "from (0, -1.5) gradient descent gets stuck in a much worse place"),
    "gd_b_local_shift": ("landscapes", "around that end point: an unstable, highly sensitive region"),
    "es_trajectory": ("landscapes", "antithetic ES (std 0.1) for a few thousand steps reaches a much better solution"),
    "quadratic_sgd": ("learning-to-learn", "SGD (lr tuned) minimises f(theta) = ||W theta - y||^2 over 128 tasks"),
    "quadratic_sgd_adam": ("learning-to-learn", "Adam converges faster and lower than SGD"),
    "quadratic_comparison": ("learning-to-learn", "the meta-trained LSTM beats SGD, Adam, RMSprop and NAG"),
    "trainability_fractal": ("trainability", "lr_in x lr_out over [-3, 6]^2 for the width-16 tanh network: "
                             "trained (blue) and diverged (red) runs meet along a ragged edge"),
}


@dataclasses.dataclass(frozen=True)
class ReproConfig:
    """Sizes of every experiment; defaults are the posts' own."""

    inner_points: int = 100  # the post: linspace(-5, 5, 100)
    sweep_points: int = 5000
    grid_res: int = 2000
    gd_steps: int = 100
    es_steps: int = 2000  # "a few thousand"
    es_seed: int = 0
    compare_seed: int = 0
    compare_batch: int = 128
    compare_lr_points: int = 51
    compare_steps: int = 100
    scale: float = 2.0
    heatmap_display: int = 400
    fractal_res: int = 128  # the paper's figure: 4096^2 deep frames; its top view at 128^2 takes seconds
    fractal_steps: int = 100

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


FULL = ReproConfig()
SMALL = ReproConfig(inner_points=100, sweep_points=400, grid_res=160, gd_steps=100, es_steps=300,
                    compare_batch=16, compare_lr_points=11, compare_steps=100, scale=1.0, heatmap_display=160,
                    fractal_res=48)


def _clean(v):
    """JSON-safe: numpy scalars to float, non-finite to None, recursively."""
    if isinstance(v, dict):
        return {str(k): _clean(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_clean(x) for x in v]
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        v = float(v)
        return v if math.isfinite(v) else None
    return v


def _write_json(path: Path, obj) -> None:
    atomic_write(path, json.dumps(_clean(obj), indent=2) + "\n")


def _save_npz(path: Path, **arrays) -> None:
    write_arrays(path, arrays)


def _outer_entry(run: outer.OuterRun, start) -> dict:
    end = run.trajectory[-1]
    return dict(start=list(start), end=[float(end[0]), float(end[1])], **_end_hparams(end),
                end_loss=run.final_loss,
                start_loss=float(run.losses[0]))


def _run_dict(method: str, start, run: outer.OuterRun) -> dict:
    return dict(method=method, method_title=outer.METHODS[method].title, trajectory=run.trajectory,
                losses=run.losses, end_loss=run.final_loss,
                label=f"{method} from ({start[0]:g}, {start[1]:g})")


def reproduce(out_dir, config: ReproConfig = FULL, *, checkpoint=None,
              log: Callable[[str], None] = lambda s: None) -> dict:
    """Regenerates every figure of both posts into ``out_dir``.

    Args:
      out_dir: folder for ``<figure>.png``, ``data/<figure>.npz`` and ``headline.json``.
      config: sizes (:data:`FULL` for the posts', :data:`SMALL` for tests).
      checkpoint: learned-optimizer checkpoint directory (default: the shipped one).
      log: called with one line per finished figure.

    Returns:
      The headline dict also written to ``headline.json``. The quadratic part
      is ``{"skipped": reason}`` when the learned-optimizer engine or its
      checkpoint is missing; the landscape part never is.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    data = out / "data"
    head: dict = dict(settings=config.to_dict(), figures={}, seconds={})
    t_all = time.perf_counter()

    with export.png_session():
        emit = _emitter(out, config, head, log)
        head["inner_problem"], head["inner_run"] = _inner(data, config, emit)
        head["sweep"] = _sweep(data, config, emit)
        view, head["landscape"] = _landscape(data, config, emit)
        head["outer"] = _outer(data, config, emit, view)
        head["quadratic"] = _quadratic(out, data, config, checkpoint, emit)  # the learning-to-learn post
        head["fractal"] = _fractal(data, config, emit)  # the trainability fractal

    head["seconds"]["total"] = round(time.perf_counter() - t_all, 3)
    head["skipped"] = skipped_figures(head)
    _write_json(out / "headline.json", head)
    return _clean(head)


def _emitter(out: Path, config: ReproConfig, head: dict, log: Callable[[str], None]) -> Callable:
    """emit(name, figure, seconds, **size): writes the PNG and records it in ``head``."""

    def emit(name: str, fig, seconds: float, **kw) -> None:
        t0 = time.perf_counter()
        export.write_png(fig, out / f"{name}.png", scale=config.scale, **kw)
        post, claim = FIGURES[name]
        head["figures"][name] = dict(file=f"{name}.png", post=post, claim=claim)
        head["seconds"][name] = round(seconds, 3)
        log(f"{name}.png  (computed in {seconds:.2f} s, exported in {time.perf_counter() - t0:.2f} s)")

    return emit


def _inner(data: Path, config: ReproConfig, emit) -> tuple[dict, dict]:
    """The inner problem (its curve, its two minima) and one inner run."""
    t0 = time.perf_counter()
    p = PROBLEMS["log_sin"]
    xs = np.linspace(-5.0, 5.0, config.inner_points)
    curve = np.asarray(p.loss(xs.astype(np.float32)))
    fine = np.linspace(-5.0, 5.0, 100_001)
    f_fine = np.log(fine**2 + 1.0 + np.sin(3.0 * fine)) + 1.5
    right = fine > 0.5
    problem = dict(global_min_x=float(fine[np.argmin(f_fine)]), global_min=float(f_fine.min()),
                   local_min_x=float(fine[right][np.argmin(f_fine[right])]), local_min=float(f_fine[right].min()))
    _save_npz(data / "inner_loss.npz", x=xs, loss=curve)
    emit("inner_loss", viz.inner_loss_curve_figure(xs, curve), time.perf_counter() - t0)

    t0 = time.perf_counter()
    u = sgd_momentum_unroll("log_sin", x0=-4.0, lr=0.1, momentum=0.9, steps=50)
    i_low = int(np.argmin(u.losses))
    run = dict(x0=-4.0, lr=0.1, momentum=0.9, steps=50, final_x=float(u.xs[-1]),
               final_loss=float(p.loss(np.float32(u.xs[-1]))), lowest_loss=float(u.losses[i_low]),
               lowest_loss_step=i_low, x_at_lowest=float(u.xs[i_low]), outer_loss=float(np.mean(u.losses)))
    _save_npz(data / "inner_loss_vs_step.npz", x=u.xs, loss=u.losses)
    emit("inner_loss_vs_step", viz.loss_vs_step_figure(
        u.losses, title="inner loss against step (lr 0.1, momentum 0.9, x0 = -4)"), time.perf_counter() - t0)
    return problem, run


def _sweep(data: Path, config: ReproConfig, emit) -> dict:
    """The learning-rate sweep at momentum 0.9, with how rough it is."""
    t0 = time.perf_counter()
    log_lrs = np.linspace(-3.0, 2.0, config.sweep_points)
    sweep = landscape.lr_sweep(log_lrs, 0.9)
    seconds = time.perf_counter() - t0
    ok = np.isfinite(sweep)
    i = int(np.nanargmin(sweep))
    jumps = np.abs(np.diff(sweep[ok]))
    _save_npz(data / "lr_sweep.npz", log_lrs=log_lrs, loss=sweep)
    emit("lr_sweep", viz.lr_sweep_figure(log_lrs, sweep, 0.9, y_cap=5.0), seconds)
    return dict(points=config.sweep_points, momentum=0.9, best_lr=float(10.0 ** log_lrs[i]),
                best_log_lr=float(log_lrs[i]), best_loss=float(sweep[i]), diverged=int((~ok).sum()),
                # roughness: median jump between neighbouring learning rates
                median_neighbour_jump=float(np.median(jumps)) if jumps.size else None,
                max_neighbour_jump=float(jumps.max()) if jumps.size else None)


def _landscape(data: Path, config: ReproConfig, emit) -> tuple[tuple, dict]:
    """The lr x momentum landscape: ((z, log_lrs, log_omm), its headline)."""
    t0 = time.perf_counter()
    g_lrs, g_omm = landscape.axes((-3.0, 2.0), (-3.0, 0.0), config.grid_res)
    z = landscape.meta_loss_grid(g_lrs, g_omm)
    seconds = time.perf_counter() - t0
    best = landscape.best_cell(z, g_lrs, g_omm)
    _save_npz(data / "landscape.npz", loss=z, log_lrs=g_lrs, log_one_minus_moms=g_omm)
    emit("landscape", viz.heatmap_figure(
        z, g_lrs, g_omm, cap=10.0, best=best, max_display=config.heatmap_display,
        title=f"meta-loss landscape, {config.grid_res} x {config.grid_res}"), seconds, width=800, height=700)
    return (z, g_lrs, g_omm), dict(
        resolution=config.grid_res, seconds=round(seconds, 3), diverged=int(np.isnan(z).sum()),
        best_log_lr=best[0], best_log_one_minus_mom=best[1], best_loss=best[2],
        best_lr=float(10.0 ** best[0]), best_momentum=float(1.0 - 10.0 ** best[1]),
        median_loss=float(np.nanmedian(z)))


def _outer(data: Path, config: ReproConfig, emit, view) -> dict:
    """Outer training on the landscape: gradient descent from both starts (with its local
    shifts), then ES from the same starts."""
    z, g_lrs, g_omm = view
    head, es_runs = {}, []
    for tag, start in STARTS.items():
        t0 = time.perf_counter()
        run = outer.run_outer_full("grad", start, config.gd_steps, seed=0)
        shift = outer.local_shift(run.trajectory[-1])
        seconds = time.perf_counter() - t0
        entry = _outer_entry(run, start)
        entry.update(steps=config.gd_steps, landscape_percentile=outer.landscape_percentile(run.final_loss, z),
                     shift_min=float(np.nanmin(np.concatenate([shift["lr_shift"], shift["mom_shift"]]))),
                     shift_max=float(np.nanmax(np.concatenate([shift["lr_shift"], shift["mom_shift"]]))))
        head[f"grad_{tag}"] = entry
        _save_npz(data / f"gd_{tag}_trajectory.npz", trajectory=run.trajectory, losses=run.losses)
        _save_npz(data / f"gd_{tag}_local_shift.npz", **shift)
        emit(f"gd_{tag}_trajectory", viz.landscape_outer_figure(
            z, g_lrs, g_omm, cap=10.0, runs=[_run_dict("grad", start, run)], max_display=config.heatmap_display,
            title=f"gradient descent from {start}, {config.gd_steps} steps"), seconds, width=800, height=700)
        emit(f"gd_{tag}_local_shift", viz.local_shift_figure(
            shift, title=f"local shifts around the end of gradient descent from {start}"), 0.0)

        t0 = time.perf_counter()
        es = outer.run_outer_full("es", start, config.es_steps, seed=config.es_seed)
        entry = _outer_entry(es, start)
        entry.update(steps=config.es_steps, seed=config.es_seed, seconds=round(time.perf_counter() - t0, 3),
                     landscape_percentile=outer.landscape_percentile(es.final_loss, z))
        head[f"es_{tag}"] = entry
        es_runs.append(_run_dict("es", start, es))
    _save_npz(data / "es_trajectory.npz", **{f"trajectory_{t}": r["trajectory"] for t, r in zip(STARTS, es_runs)},
              **{f"losses_{t}": r["losses"] for t, r in zip(STARTS, es_runs)})
    emit("es_trajectory", viz.landscape_outer_figure(
        z, g_lrs, g_omm, cap=10.0, runs=es_runs, max_display=config.heatmap_display,
        title=f"ES (antithetic, std 0.1), {config.es_steps} steps from both starts"),
        sum(head[f"es_{t}"]["seconds"] for t in STARTS), width=800, height=700)
    return head


def skipped_figures(head: dict) -> dict[str, str]:
    """Figures of :data:`FIGURES` a finished run did not make -> why (printed by the command)."""
    q = head.get("quadratic", {})
    why = q.get("skipped") or q.get("lstm_skipped") or "not made"
    return {name: why for name in FIGURES if name not in head["figures"]}


def write_docs_copies(out_dir, docs_dir, head: dict) -> list[Path]:
    """Shrunk copies of every figure of a finished run (each well under 300 KB) and its headline.json."""
    out, docs = Path(out_dir), Path(docs_dir)
    docs.mkdir(parents=True, exist_ok=True)
    written = []
    for entry in head["figures"].values():
        target = docs / entry["file"]
        atomic_write(target, export.shrink_png((out / entry["file"]).read_bytes()))
        written.append(target)
    _write_json(docs / "headline.json", head)
    return written


def _shown_path(path) -> str:
    """Relative to the repository when inside it (headline.json is committed with the docs)."""
    root = Path(__file__).resolve().parents[2]
    try:
        return str(Path(path).resolve().relative_to(root))
    except ValueError:
        return str(path)


def _quadratic(out: Path, data: Path, config: ReproConfig, checkpoint, emit) -> dict:
    """The learned optimizer against tuned baselines: ``compare``'s numbers and three viz."""
    lr_grid = baselines.lr_grid(points=config.compare_lr_points)
    t0 = time.perf_counter()
    ckpt = None
    reason = None
    try:
        ckpt = load_checkpoint(checkpoint if checkpoint is not None else DEFAULT_CHECKPOINT)
    except (ValueError, OSError) as e:
        reason = f"no usable learned-optimizer checkpoint: {e}"
    if ckpt is not None:
        res = comparison.compare(ckpt, seed=config.compare_seed, steps=config.compare_steps,
                                 batch=config.compare_batch, log_lrs=lr_grid)
        losses, best_lr, final = res["losses"], res["best_lr"], res["final"]
        dim, initial = res["dim"], res["initial"]
    else:
        dim = 10
        t = tasks.tasks_for_seed(config.compare_seed, config.compare_batch, dim)
        losses, best_lr, final = {}, {}, {}
        for name in baselines.BASELINES:
            tuned = baselines.tune_baseline(name, t, config.compare_steps, lr_grid)
            losses[name], best_lr[name] = tuned["losses"], tuned["best_lr"]
            final[name] = float(np.mean(np.asarray(tuned["losses"][-1], np.float64)))
        initial = float(np.mean(np.asarray(losses["sgd"][0], np.float64)))
    seconds = time.perf_counter() - t0
    _save_npz(data / "quadratic.npz", **{f"losses_{k}": v for k, v in losses.items()})
    n = config.compare_batch
    emit("quadratic_sgd", viz.quadratic_losses_figure(
        {"sgd": losses["sgd"]}, best_lr=best_lr, title=f"SGD on {n} quadratic tasks"), seconds)
    emit("quadratic_sgd_adam", viz.quadratic_losses_figure(
        {k: losses[k] for k in ("sgd", "adam")}, best_lr=best_lr, title=f"SGD and Adam on {n} quadratic tasks"), 0.0)
    result = dict(seed=config.compare_seed, batch=n, dim=dim, steps=config.compare_steps, initial=initial,
                  final=final, best_lr=best_lr, seconds=round(seconds, 3),
                  checkpoint=None if ckpt is None else _shown_path(ckpt.path))
    if ckpt is None:
        result["lstm_skipped"] = reason
        return result
    emit("quadratic_comparison", viz.quadratic_losses_figure(
        losses, best_lr=best_lr, title=f"learned LSTM optimizer vs tuned baselines, {n} fresh tasks"), 0.0)
    base = {k: v for k, v in final.items() if k != "lstm" and v is not None and math.isfinite(v)}
    if base:
        result["best_baseline"] = min(base, key=base.get)
        result["lstm_beats_all_baselines"] = bool(final["lstm"] < min(base.values()))
        result["lstm_vs_adam_ratio"] = float(final["lstm"] / final["adam"]) if final.get("adam") else None
    return result


def _fractal(data: Path, config: ReproConfig, emit) -> dict:
    """The paper's network (fractal_tanh, width 16, seed 0) over its top view, float32."""
    t0 = time.perf_counter()
    task = make_task("fractal_tanh")
    lo, hi, ylo, yhi = fractal.default_window(task)
    xs, ys = np.linspace(lo, hi, config.fractal_res), np.linspace(ylo, yhi, config.fractal_res)
    z = fractal.fractal_grid(xs, ys, task=task, inner_steps=config.fractal_steps)
    seconds = time.perf_counter() - t0
    entry = dict(task="fractal_tanh", width=16, seed=0, resolution=config.fractal_res, steps=config.fractal_steps,
                 window=[lo, hi, ylo, yhi], seconds=round(seconds, 3), trained_fraction=float((z < 0).mean()))
    try:
        fit = box_counting_dimension(z)
        entry.update(dimension=fit.dimension, dimension_residual=fit.residual,
                     paper_dimension=task.spec.paper_dimension)
    except ValueError as e:  # too coarse for a fit: the figure is still drawn
        entry.update(dimension=None, dimension_error=str(e))
    _save_npz(data / "trainability_fractal.npz", loss=z, x_values=xs, y_values=ys, **task.task_arrays())
    emit("trainability_fractal", fractal_figure(
        z, xs, ys, title=f"trainability of the width-16 tanh network, {config.fractal_res}², "
                         f"{config.fractal_steps} steps: blue trained, red diverged"), seconds, width=800, height=700)
    return entry


def _end_hparams(point) -> dict:
    lr, momentum = lr_momentum(float(point[0]), float(point[1]))
    return dict(end_lr=float(lr), end_momentum=float(momentum))
