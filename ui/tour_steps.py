"""The tour's steps: a registry of records, each with its title, its controls
(URL name, default) and the function that draws it, plus the small cached
computations behind them. :mod:`pages.tour` is the page that walks through them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

import numpy as np
import streamlit as st

from l2l_core import landscape, outer, viz
from l2l_core.landscape import fractal, zoom
from l2l_core.tasks.problems import PROBLEMS
from l2l_core.viz import fractal as viz_fractal
from ui import box_zoom
from ui import landscape_compute as lc
from ui.fractal_compute import compute as fractal_compute
from ui.shared import chart_config, columns_csv, int_in, npz_bytes, plotly_chart, show_error
from ui.state import Param, typed_number
from ui.tour_compute import (  # noqa: F401  (STARTS, TOUR_RES: the steps' settings)
    STARTS,
    TOUR_RES,
    adam_race,
    checkpoint_key,
    es_query,
    es_verdict,
    gd_query,
    inner_curve,
    landscape_grid,
    landscape_link,
    landscape_query,
    landscape_runs,
    link,
    local_shift,
    lstm_before_after,
    shipped_checkpoint,
)

WINDOWS = {"the post's whole view": (-3.0, 2.0, -3.0, 0.0),
           "zoom: the chaotic band near lr = 1": (-0.5, 0.5, -2.0, -1.0)}
FRACTAL_RES = 64  # pixels per axis of the last step's image (the trainability page's smallest)
HEIGHT = 430
LRS = [0.01, 0.02, 0.05, 0.08, 0.1, 0.12, 0.15, 0.2, 0.3, 0.5, 1.0]
MOMENTA = [0.0, 0.3, 0.5, 0.7, 0.8, 0.85, 0.9, 0.95, 0.99]
SWEEP_MOMENTA = [0.0, 0.5, 0.9, 0.99]
SWEEP_POINTS = [500, 2000]
RESOLUTIONS = [100, 250, 500]
OUTER_LRS = [0.001, 0.003, 0.01, 0.03, 0.1]
ES_STEPS = [500, 1000, 2000]
ES_STDS = [0.01, 0.03, 0.1, 0.3]
ZOOM_KEY = "t_ls_zoom"  # the box-selected window of step 4 (None: the chosen view)


@dataclass(frozen=True)
class Step:
    """One step of the tour: its title, what draws it, and its controls (widget key -> Param)."""

    title: str
    draw: Callable[[], None]
    params: dict[str, Param]


def count_words(n: int) -> str:
    """A count as a word ("nine"), digits past twelve."""
    words = "zero one two three four five six seven eight nine ten eleven twelve".split()
    return words[n] if 0 <= n < len(words) else str(n)


def _zoom_parse(text: str):
    stack = zoom.decode_stack(text)
    if len(stack) != 1:
        raise ValueError(text)
    return stack[0]


# -- helpers ---------------------------------------------------------------------------------------------


def default_landscape_queries() -> list[dict]:
    """What steps 4-6 ask of the landscape page's caches at their defaults (the server's warm-up)."""
    d = {k: p.default for step in STEP_REGISTRY for k, p in step.params.items()}
    lo, hi, mlo, mhi = WINDOWS[d["t_ls_window"]]
    return [landscape_query(res=int(d["t_ls_res"]), lr_lo=lo, lr_hi=hi, mom_lo=mlo, mom_hi=mhi),
            gd_query(STARTS[d["t_gd_start"]], d["t_gd_lr"]), es_query(d["t_es_steps"], d["t_es_std"])]


def step_by(delta: int) -> None:
    # Relative to the step in session state, not to the step this button was drawn on: a click that
    # lands on the previous run's button (while the next step is still computing) still moves one step.
    i = int(st.session_state.get("tour_step", 0)) + delta
    st.session_state["tour_step"] = max(0, min(len(STEP_REGISTRY) - 1, i))


# -- the steps -------------------------------------------------------------------------------------------


def step_inner():
    st.markdown(
        "Training a model is itself an optimization problem, the **inner** problem. Here it is as small as it "
        "gets: one number `x`, and the post's loss `f(x) = log(x² + 1 + sin 3x) + 1.5`. It is non-convex: "
        "a **global minimum near x ≈ −0.4** (value ≈ 0) and a **local minimum near x ≈ 1.2** (value ≈ 2.2).")
    c1, c2 = st.columns([1, 3])
    with c1:
        problem = st.selectbox("Inner loss", list(PROBLEMS), key="t_problem",
                               format_func=lambda n: PROBLEMS[n].title,
                               help="Try the others: each bends the later pictures differently.")
        st.caption(PROBLEMS[problem].description)
    xs, ys = inner_curve(problem)
    with c2:
        plotly_chart(viz.inner_loss_curve_figure(xs, ys, title=f"f(x): {PROBLEMS[problem].title}"),
                     key="t_inner_chart", filename=f"tour_inner_loss_{problem}")
    st.download_button("Data (CSV)", columns_csv(x=xs, loss=ys), file_name=f"tour_inner_loss_{problem}.csv",
                       mime="text/csv", key="t_inner_csv")
    link("pages/inner_problem.py", "Open the inner-problem page with this loss", problem=problem)


def step_momentum():
    st.markdown(
        "Train it with **SGD with momentum** from x₀ = −4 for 50 steps: `v ← μ·v + f'(x)`, `x ← x − lr·v`. "
        "With the post's lr 0.1 and momentum 0.9 the run dives through the global minimum, momentum carries it "
        "out again, and it settles in the worse, local one. **Try:** nudge the learning rate or the momentum "
        "and watch where the run ends.")
    c1, c2 = st.columns(2)
    lr = c1.select_slider("Learning rate", LRS, key="t_lr")
    momentum = c2.select_slider("Momentum", MOMENTA, key="t_mom")
    (xs_path, losses, _, _, path_loss), _ = lc.inner_run("log_sin", -4.0, float(lr), float(momentum), 50)
    cx, cy = inner_curve("log_sin")
    left, right = st.columns([3, 2])
    with left:
        plotly_chart(viz.inner_problem_figure(cx, cy, xs_path, path_loss, title="the path of x")
                     .update_layout(height=HEIGHT), key="t_path_chart", filename=f"tour_path_lr{lr:g}_mom{momentum:g}")
    with right:
        plotly_chart(viz.loss_vs_step_figure(losses).update_layout(height=HEIGHT), key="t_steps_chart",
                     filename=f"tour_loss_vs_step_lr{lr:g}_mom{momentum:g}")
    m1, m2 = st.columns(2)
    m1.metric("final x", f"{xs_path[-1]:.4f}" if np.isfinite(xs_path[-1]) else "diverged")
    m2.metric("outer loss (mean inner loss)", f"{np.mean(losses):.4f}" if np.isfinite(losses).all() else "NaN")
    st.download_button("Data (CSV)", columns_csv(step=np.arange(len(xs_path)), x=xs_path, loss=path_loss),
                       file_name=f"tour_run_lr{lr:g}_mom{momentum:g}.csv", mime="text/csv", key="t_path_csv")
    link("pages/inner_problem.py", "Open the inner-problem page with this run", problem="log_sin", x0=-4.0,
         lr=lr, momentum=momentum, steps=50)


def step_sweep():
    st.markdown(
        "Summarise a whole run by one number, the **outer loss** (mean inner loss over the 50 steps), and "
        "sweep the learning rate over five decades. The problem is fully deterministic, yet the curve looks "
        "**noisy**: tiny changes in lr compound over the unroll into different endings. **Try:** other momenta.")
    c1, c2 = st.columns(2)
    momentum = c1.select_slider("Momentum", SWEEP_MOMENTA, key="t_sw_mom")
    points = c2.radio("Learning rates", SWEEP_POINTS, horizontal=True, key="t_sw_points",
                      help="The post uses 5000; the full page does too.")
    (log_lrs, loss), _ = lc.lr_sweep(-3.0, 2.0, int(points), float(momentum), "log_sin", -4.0, 50, "mean")
    plotly_chart(viz.lr_sweep_figure(log_lrs, loss, momentum, y_cap=5.0).update_layout(height=HEIGHT),
                 key="t_sweep_chart", filename=f"tour_lr_sweep_mom{momentum:g}_{points}")
    if np.isfinite(loss).any():
        i = int(np.nanargmin(loss))
        st.caption(f"best lr in this sweep: {10 ** log_lrs[i]:.4g} (outer loss {loss[i]:.4f}); "
                   f"{int((~np.isfinite(loss)).sum())} runs diverged")
    st.download_button("Data (CSV)", columns_csv(log10_lr=log_lrs, outer_loss=loss),
                       file_name=f"tour_lr_sweep_mom{momentum:g}_{points}.csv", mime="text/csv", key="t_sweep_csv")
    link("pages/lr_sweep.py", f"Open the sweep page with this momentum ({points} points; the post uses 5000)",
         problem="log_sin", momentum=momentum, lr_range="-3.0,2.0", points=points)


def _on_tour_box() -> None:
    """Box drag on step 4's heatmap: the box becomes the view, recomputed at full resolution
    (:mod:`ui.box_zoom`; every box zooms, this chart picks no cell)."""
    window = st.session_state.get(ZOOM_KEY) or WINDOWS[st.session_state["t_ls_window"]]
    try:
        new = box_zoom.boxed_window("t_landscape_chart", window, frame=zoom.display_frame(window), picks=False)
    except ValueError as e:
        st.session_state["_t_zoom_error"] = str(e)
        return
    if new is not None:
        st.session_state[ZOOM_KEY] = new


def _leave_tour_zoom() -> None:
    st.session_state[ZOOM_KEY] = None


def step_landscape():
    st.markdown(
        "Now vary **both** hyperparameters: every pixel is one complete 50-step training run. The landscape is "
        "smooth in places but full of ripples, local minima and chaotic, fractal-looking bands, periodic in the "
        "learning rate, with a low-loss valley at lower learning rates. **Try:** drag a box over a chaotic band: "
        "the box is recomputed at full resolution, and it stays rough at every scale.")
    c1, c2, c3 = st.columns([2, 2.5, 1.5], vertical_alignment="bottom")
    res = c1.radio("Cells per axis", RESOLUTIONS, horizontal=True, key="t_ls_res",
                   help="The post uses 2000; the full page and `python -m l2l_core reproduce` do too.")
    c2.radio("View", list(WINDOWS), key="t_ls_window", on_change=_leave_tour_zoom,
             help="The post's whole plane, or a zoom into the band where the landscape turns chaotic.")
    boxed = st.session_state.get(ZOOM_KEY)
    c3.button("Reset view", icon=":material/fit_screen:", on_click=_leave_tour_zoom, disabled=boxed is None,
              key="t_ls_reset")
    window = boxed or WINDOWS[st.session_state["t_ls_window"]]
    err = st.session_state.pop("_t_zoom_error", None)
    if err:
        st.error(err, icon="⚠️")
    lo, hi, mlo, mhi = window
    query = landscape_query(res=int(res), lr_lo=lo, lr_hi=hi, mom_lo=mlo, mom_hi=mhi)
    log_lrs, log_omm, z, precision = landscape_grid(query)
    best = landscape.best_cell(z, log_lrs, log_omm)
    fig = viz.landscape_outer_figure(z, log_lrs, log_omm, cap=10.0, frame=zoom.display_frame(window),
                                               best=best, max_display=int(res),
                                               title=f"meta-loss landscape, {res} x {res}"
                                               + (f", zoomed ({precision})" if boxed else ""))
    st.plotly_chart(fig.update_layout(height=480), key="t_landscape_chart", on_select=_on_tour_box,
                    selection_mode="box", config=chart_config(f"tour_landscape_{res}"))
    st.caption(f"View: log10 lr {lo:.4g} to {hi:.4g}, log10(1 − momentum) {mlo:.4g} to {mhi:.4g}. "
               + (f"best cell: lr {10 ** best[0]:.4g}, momentum {1 - 10 ** best[1]:.4g}, outer loss {best[2]:.4f}"
                  if best is not None else ""))
    st.download_button("Data (NPZ)", npz_bytes(loss=z, log_lrs=log_lrs, log_one_minus_moms=log_omm),
                       file_name=f"tour_landscape_{res}.npz", mime="application/octet-stream", key="t_ls_npz")
    landscape_link("Open the landscape page on this view", query)


def step_gd():
    st.markdown(
        "Can we simply follow the gradient of the outer loss? `jax.grad` differentiates through all 50 inner "
        "steps. With the post's recipe (100 steps, outer lr 0.01, gradients clipped to ±10), gradient descent "
        "from (−2, −0.5) stops in a **local minimum**; from (0, −1.5) it gets stuck somewhere **much worse**. "
        "The right-hand plot shows why: around the end point the outer loss is a wall of sharp ripples.")
    c1, c2 = st.columns(2)
    sname = c1.radio("Start (log10 lr, log10(1 − momentum))", list(STARTS), key="t_gd_start")
    olr = c2.select_slider("Outer learning rate", OUTER_LRS, key="t_gd_lr")
    start = STARTS[sname]
    query = gd_query(start, olr)
    log_lrs, log_omm, z, _ = landscape_grid(query)
    runs = landscape_runs(query)
    end = tuple(float(v) for v in runs[0]["trajectory"][-1])
    left, right = st.columns([3, 2])
    with left:
        plotly_chart(viz.landscape_outer_figure(z, log_lrs, log_omm, runs=runs, max_display=TOUR_RES,
                                                          title="gradient descent on the landscape")
                     .update_layout(height=500, dragmode="zoom"), key="t_gd_chart",
                     filename=f"tour_gd_from_{start[0]:g}_{start[1]:g}")
    with right:
        plotly_chart(viz.local_shift_figure(local_shift(end), title="outer loss around the end point")
                     .update_layout(height=500), key="t_gd_shift",
                     filename=f"tour_gd_local_shift_{start[0]:g}_{start[1]:g}")
    m1, m2 = st.columns(2)
    m1.metric("end outer loss", f"{runs[0]['end_loss']:.4f}")
    m2.metric("better than this share of the landscape", f"{outer.landscape_percentile(runs[0]['end_loss'], z):.1f}%")
    st.download_button("Data (CSV)", columns_csv(log10_lr=runs[0]["trajectory"][:-1, 0],
                                                 log10_1m_momentum=runs[0]["trajectory"][:-1, 1],
                                                 outer_loss=runs[0]["losses"]),
                       file_name=f"tour_gd_from_{start[0]:g}_{start[1]:g}.csv", mime="text/csv", key="t_gd_csv")
    landscape_link("Open the landscape page with this run", query)


def step_es():
    st.markdown(
        "**Evolution Strategies** never differentiate: each step tries `θ + ε` and `θ − ε` (ε ~ N(0, σ²)) and "
        "moves toward the better one. That follows the gradient of a *smoothed* landscape, so the ripples "
        "that can trap gradient descent hold it less. Both methods run the same number of outer steps, from "
        "the same starts, with outer lr 0.01. **Try:** a smaller σ (less smoothing) or fewer steps: ES does "
        "not win every time.")
    c1, c2 = st.columns(2)
    steps = c1.radio("Outer steps (both methods)", ES_STEPS, horizontal=True, key="t_es_steps",
                     help="The post: a few thousand for ES.")
    std = c2.select_slider("σ (perturbation std)", ES_STDS, key="t_es_std")
    query = es_query(steps, std)
    log_lrs, log_omm, z, _ = landscape_grid(query)
    runs = landscape_runs(query)
    plotly_chart(viz.landscape_outer_figure(z, log_lrs, log_omm, runs=runs, max_display=TOUR_RES,
                                            title="gradient descent (red) and ES (light blue)")
                 .update_layout(height=520, dragmode="zoom"), key="t_es_chart", filename=f"tour_es_{steps}_std{std:g}")
    cols = st.columns(len(runs))
    for col, r in zip(cols, runs):
        col.metric(r["label"].removesuffix(" seed 0"), f"{r['end_loss']:.4f}")
    st.markdown(es_verdict(runs))
    st.download_button("Data (NPZ)", npz_bytes(**{f"{r['method']}_{i % 2}_trajectory": r["trajectory"]
                                                  for i, r in enumerate(runs)}),
                       file_name=f"tour_es_{steps}_std{std:g}.npz", mime="application/octet-stream", key="t_es_npz")
    landscape_link("Open the landscape page with these runs", query)


def step_learn():
    st.markdown(
        "The second post goes one level up: instead of tuning SGD's two numbers, **learn the optimizer**. A "
        "small two-layer LSTM, applied to every coordinate, reads the gradient and proposes the update. Its "
        "weights are trained by gradient descent *through* 100 steps of optimization (in truncations of 20) on "
        "random quadratics `f(θ) = ‖Wθ − y‖²` (W 10×10, y random). Below: the same LSTM before and after "
        "meta-training, on fresh tasks. **Try:** another task seed.")
    ckpt, why = shipped_checkpoint()
    if ckpt is None:
        st.info(f"The shipped learned optimizer is not available here ({why}). Train one on the Learned optimizer "
                "page or with `python -m l2l_core metatrain --preset short --out checkpoints/default`.")
        return
    c1, c2 = st.columns([1, 3])
    seed = typed_number(c1, "t_learn_seed", "Task seed", SEED_PARAMS["t_learn_seed"],
                        help="Draws the 32 fresh quadratic tasks (0 to 10000).")
    try:
        losses = lstm_before_after(int(seed), 32, checkpoint_key(ckpt))
    except ValueError as e:
        show_error(e)
        return
    left, right = st.columns(2)
    with left:
        plotly_chart(viz.quadratic_losses_figure(losses, title="32 fresh tasks: before vs after")
                     .update_layout(height=HEIGHT), key="t_learn_chart", filename=f"tour_lstm_before_after_seed{seed}")
    with right:
        plotly_chart(viz.meta_training_figure(ckpt.curve).update_layout(height=HEIGHT),
                     key="t_learn_curve", filename="tour_meta_training_curve")
    st.download_button("Data (NPZ)", npz_bytes(**{k.replace(" ", "_"): v for k, v in losses.items()}),
                       file_name=f"tour_lstm_before_after_seed{seed}.npz", mime="application/octet-stream",
                       key="t_learn_npz")
    link("pages/learned_optimizer.py", "Open the learned-optimizer page on these tasks (and train your own)", seed=seed)


def step_adam():
    st.markdown(
        "The test: fresh tasks the LSTM never saw, 100 steps, against SGD, Adam, RMSprop and NAG, **each with "
        "its learning rate tuned on these very tasks** (a generous setting for the baselines). Does the learned "
        "optimizer win? **Try:** other seeds; it is a claim about the task *distribution*, not one draw.")
    ckpt, why = shipped_checkpoint()
    if ckpt is None:
        st.info(f"The shipped learned optimizer is not available here ({why}).")
        return
    c1, _ = st.columns(2)
    seed = typed_number(c1, "t_adam_seed", "Task seed", SEED_PARAMS["t_adam_seed"],
                        help="Draws the fresh quadratic tasks of the race (0 to 10000).")
    try:
        res, family = adam_race(int(seed))
    except ValueError as e:
        show_error(e)
        return
    losses, final, best_lr, tasks = res["losses"], res["final"], res["best_lr"], res["batch"]
    plotly_chart(viz.quadratic_losses_figure(losses, best_lr=best_lr, title=f"{tasks} fresh tasks, seed {seed}")
                 .update_layout(height=HEIGHT), key="t_adam_chart", filename=f"tour_compare_seed{seed}_{tasks}")
    lo, hi = family.log_lr_range
    st.caption(f"Each baseline's learning rate is the best of {family.lr_points} log-spaced values from "
               f"{10 ** lo:g} to {10 ** hi:g}, as on the full page and in `python -m l2l_core compare`.")
    cols = st.columns(len(final))
    for col, (name, v) in zip(cols, sorted(final.items(), key=lambda kv: kv[1])):
        col.metric(viz.OPTIMIZER_LABELS.get(name, name), f"{v:.4g}")
    base = {k: v for k, v in final.items() if k != "lstm" and np.isfinite(v)}
    if base:
        best = min(base, key=base.get)
        verdict = "beats" if final["lstm"] < base[best] else "does not beat"
        st.markdown(f"After {res['steps']} steps the LSTM **{verdict}** the best tuned baseline "
                    f"({viz.OPTIMIZER_LABELS[best]}): {final['lstm']:.4g} vs {base[best]:.4g}.")
    st.download_button("Data (NPZ)", npz_bytes(**{k: np.asarray(v) for k, v in losses.items()}),
                       file_name=f"tour_compare_seed{seed}_{tasks}.npz", mime="application/octet-stream",
                       key="t_adam_npz")
    link("pages/learned_optimizer.py", f"Open the learned-optimizer page: these {tasks} tasks", seed=seed)



FRACTAL_TASKS = {"fractal_single": "one data point, width 8 (fast)",
                 "fractal_tanh": "the paper's: 272 points, width 16"}


def step_fractal():
    st.markdown(
        "**From one number to a network.** The landscape pages asked which learning rate and momentum train a "
        "single number x. Here the same question is asked of a real network: a tanh network trained by "
        "gradient descent with **one learning rate per layer** (Sohl-Dickstein, *The boundary of neural network "
        "trainability is fractal*, 2024). Every pixel is a whole training run: blue trained, red diverged, and "
        "the edge between them is fractal. **Try:** the paper's network; then open the full page and drag a box "
        "on the edge: it is recomputed, in float64 once float32 runs out of digits, ten decades deep.")
    task = st.radio("Network", list(FRACTAL_TASKS), format_func=FRACTAL_TASKS.get, horizontal=True,
                    key="t_fr_task")
    width = 8 if task == "fractal_single" else 16
    query = dict(task=task, width=width, res=FRACTAL_RES, steps=100, seed=0)
    t0 = time.perf_counter()
    try:
        (xs, ys, zs, _), seconds = fractal_compute(task, width, 0, 100, tuple(fractal.default_window(task)),
                                                   FRACTAL_RES, "auto")
    except ValueError as e:
        show_error(e)
        return
    wall = time.perf_counter() - t0
    z = zs["converge"]
    plotly_chart(viz_fractal.fractal_figure(z, xs, ys, title=f"{FRACTAL_TASKS[task]}, {FRACTAL_RES} x {FRACTAL_RES}, "
                                            "100 steps").update_layout(height=HEIGHT),
                 key="t_fr_chart", filename=f"tour_fractal_{task}")
    when = (f"computed in {seconds:.2f} s, served from cache" if wall < 0.5 * seconds else f"in {seconds:.2f} s")
    st.caption(f"{z.size:,} training runs {when}; {100 * (z < 0).mean():.1f}% of them trained.")
    st.download_button("Data (NPZ)", npz_bytes(loss=z, x_values=xs, y_values=ys),
                       file_name=f"tour_fractal_{task}_64x64.npz", mime="application/octet-stream", key="t_fr_npz")
    link("pages/fractal.py", "Open the trainability-fractal page (deep zoom, fractal dimension)", **query)


#: The tuner step's settings: the tuning page's URL (every number the step shows is that page's).
TUNER_QUERY = dict(task="tanh_net", opt="sgd", x="lr_in", y="lr_out", res=32, seed=0, nseeds=4, steps=50,
                   sampler="tpe", trials=25, tseed=0)


def step_tuner():
    from l2l_core.tuning.audit import DIVERGED_PENALTY
    from l2l_core.viz.tuning import color_range, picture_figure, short_number, trials_figure
    from ui import tuning_compute as tc

    st.markdown(
        "**What your tuner sees.** A practitioner tunes with a sweep, not a landscape: a tuner such as Optuna "
        "spends 25-100 trials and draws an interpolated contour with one \"best trial\". Here Optuna's TPE "
        "sampler spends **25 trials** on the small tanh network's map (learning rate of each layer), each trial "
        "one training run; the numbered points are its trials in the order taken, the diamond its best, the star "
        "the best cell of the dense map. Right: the picture its dashboard would draw from those 25 values. "
        "**Try:** open the full page: other samplers and trial counts, the table over N and the sampler, the "
        "maps over several seeds, and your own Optuna study drawn over the dense map.")
    q = TUNER_QUERY
    try:
        au = tc.tuner_study(q["task"], q["opt"], q["x"], q["y"], q["res"], q["seed"], q["steps"], q["sampler"],
                            q["trials"], q["tseed"])
    except Exception as e:  # ValueError from the core, or the job limit's Cancelled / ServerBusy
        show_error(e)
        return
    titles = ("log10 lr_in", "log10 lr_out")
    zmin, zmax = color_range(au["loss"])  # the picture in the truth's colours
    c1, c2 = st.columns(2)
    with c1:
        plotly_chart(trials_figure(au["loss"], au["x_values"], au["y_values"], au["trial_x"], au["trial_y"],
                                   x_title=titles[0], y_title=titles[1], best_trial=au["best_trial"],
                                   best_dense=au["best_dense"], title="the truth, with the 25 trials")
                     .update_layout(height=HEIGHT), key="t_tu_trials", filename="tour_tuner_trials")
    with c2:
        plotly_chart(picture_figure(au["contour"], au["x_values"], au["y_values"], au["trial_x"], au["trial_y"],
                                    x_title=titles[0], y_title=titles[1], penalty=DIVERGED_PENALTY,
                                    zmin=zmin, zmax=zmax,
                                    title="what the dashboard would draw").update_layout(height=HEIGHT),
                     key="t_tu_picture", filename="tour_tuner_picture")
    m1, m2, m3 = st.columns(3)
    m1.metric("regret", short_number(au["regret"]),
              help="The tuner's best value minus the dense map's best value.")
    m2.metric("false good", f"{au['false_good']:.1%}",
              help="The fraction of all cells that diverge but the interpolated picture calls good.")
    m3.metric("false diverging", f"{au['false_diverging']:.1%}",
              help="The fraction of all cells that are good but the interpolated picture calls diverging.")
    st.download_button("Trials (CSV)", columns_csv(number=np.arange(len(au["trial_x"])), x=au["trial_x"],
                                                   y=au["trial_y"], value=au["trial_value"], told=au["told"]),
                       file_name="tour_tuner_trials.csv", mime="text/csv", key="t_tu_csv")
    link("pages/tuning.py", "Open the tuning page with this study", **q)


#: The theory step's two maps (problem, start): the same window, resolution and summary (the final loss) on both.
THEORY_MAPS = (("parabola", -4.0), ("double_well", 1.0))
THEORY_WINDOW = (-1.5, 1.0, -3.0, 0.0)  # log10 lr 0.03-10; log10(1 - momentum) -3 to 0 (momentum 0.999 to 0)
THEORY_RES = 250  # one of the landscape page's resolutions, so its link opens the same grid
THEORY_MOMENTA = (0.0, 0.9)  # the rows whose edges the step prints


def theory_query(problem: str, x0: float) -> dict:
    """The landscape page's URL for one of the theory step's maps (its line is on by default)."""
    lo, hi, mlo, mhi = THEORY_WINDOW
    return landscape_query(problem=problem, x0=x0, res=THEORY_RES, lr_lo=lo, lr_hi=hi, mom_lo=mlo, mom_hi=mhi,
                           reduce="final")


def measured_edge(z, log_lrs, start_loss: float) -> np.ndarray:
    """Per row, log10 of the smallest learning rate whose run does not end below its start (final loss above
    ``start_loss``, or not finite); NaN where every run of the row ends below it."""
    bad = ~(np.asarray(z) <= start_loss)
    return np.where(bad.any(axis=1), np.asarray(log_lrs, np.float64)[np.argmax(bad, axis=1)], np.nan)


def theory_edges(problem: str, x0: float) -> dict:
    """One theory map: the landscape page's own grid and line for :func:`theory_query`, and both edges per row."""
    log_lrs, log_omm, z, _ = landscape_grid(theory_query(problem, x0))
    start = float(PROBLEMS[problem].loss(np.float32(x0)))
    line, lam = lc.stability_line(problem, "sgd", "lr", "momentum", (float(log_lrs[0]), float(log_lrs[-1])),
                                  np.asarray(log_omm, np.float64), (), 0, float(x0))
    measured = measured_edge(z, log_lrs, start)
    step = float(log_lrs[1] - log_lrs[0])
    low = np.isfinite(line) & (1.0 - 10.0 ** np.asarray(log_omm, np.float64) <= max(THEORY_MOMENTA) + 1e-9)
    near = low & (np.abs(measured - line) <= 1.0001 * step)
    rows = [int(np.argmin(np.abs(log_omm - np.log10(1.0 - m)))) for m in THEORY_MOMENTA]
    return dict(log_lrs=log_lrs, log_omm=log_omm, z=z, start=start, line=line, lam=lam, measured=measured,
                low=int(low.sum()), near=int(near.sum()), rows=rows)


def _lr_text(log_lr) -> str:
    return "none in view" if not np.isfinite(log_lr) else f"{10 ** float(log_lr):.4g}"


def step_theory():
    import plotly.graph_objects as go

    from l2l_core.viz.stability import add_stability_line

    maps = []
    for problem, x0 in THEORY_MAPS:
        try:
            maps.append(theory_edges(problem, x0))
        except Exception as e:  # ValueError from the core, or the job limit's Cancelled / ServerBusy
            show_error(e)
            return
    lo, hi, mlo, mhi = THEORY_WINDOW
    try:
        _, post_lam = lc.stability_line("log_sin", "sgd", "lr", "momentum", (lo, hi),
                                        np.asarray(landscape.axes((lo, hi), (mlo, mhi), THEORY_RES)[1]), (), 0, -4.0)
    except ValueError:
        post_lam = None
    post = (f"its curvature there is f''(−4) = {post_lam:.3g}, not positive, so linear stability predicts no "
            "learning-rate limit and the landscape page draws no line on the post's view"
            if post_lam is not None and not post_lam > 0 else "the landscape page draws its line there too")
    st.markdown(
        "**What theory predicts.** Linear stability reads the edge off the curvature at the start: on a quadratic "
        "of curvature λ, SGD with heavy-ball momentum m converges iff lr < 2(1+m)/λ. The dashed line draws that "
        "edge; the red dots mark, on each row, the smallest learning rate whose run ends *above* its start (final "
        "loss higher than the start's, or diverged). Left: the parabola x²/2 from x0 = −4, where the theory is "
        "exact: the dots sit on the line on every row up to momentum 0.9 (the caption counts them); at momentum "
        "near 1 they move left of it: runs with that much momentum swing for long, and 50 steps are too few for "
        "them to end below their start, though theory says they converge. "
        "Right: the double well (x²−1)²/4 + 0.3x from x0 = 1, where f''(1) = 2: the loss is not a "
        f"quadratic and the real edge is rough and off the line. The post's own log_sin start x0 = −4 gets no line: "
        f"{post}. **Try:** open either map on the landscape page (same problem, start, window, final-loss "
        "summary; the line is on by default) and hover the cells next to the line.")
    cols = st.columns(2)
    for col, (problem, x0), m in zip(cols, THEORY_MAPS, maps):
        with col:
            fig = viz.landscape_outer_figure(m["z"], m["log_lrs"], m["log_omm"], cap=10.0, max_display=THEORY_RES,
                                             title=f"{problem} from x0 = {x0:g}: final loss")
            add_stability_line(fig, m["line"], m["log_omm"], hover_x="log10 lr", hover_y="log10(1-mom)")
            fig.add_trace(go.Scatter(x=m["measured"], y=m["log_omm"], mode="markers", name="first run ending "
                                     "above its start", marker=dict(color="red", size=3)))
            plotly_chart(fig.update_layout(height=HEIGHT), key=f"t_th_{problem}", filename=f"tour_theory_{problem}")
            parts = []
            for i in m["rows"]:
                line, meas = m["line"][i], m["measured"][i]
                side = ("" if not (np.isfinite(line) and np.isfinite(meas)) else " (on the line)"
                        if abs(meas - line) <= 1.0001 * float(m["log_lrs"][1] - m["log_lrs"][0])
                        else " (right of the line)" if meas > line else " (left of the line)")
                parts.append(f"at momentum {1 - 10 ** float(m['log_omm'][i]):.4g}: theory lr {_lr_text(line)}, "
                             f"measured lr {_lr_text(meas)}{side}")
            st.caption(f"{problem} from x0 = {x0:g} (start loss {m['start']:.4g}, λmax = {m['lam']:.4g}): "
                       + "; ".join(parts) + f". Measured within one column of the line on {m['near']} of the "
                       f"{m['low']} rows with momentum up to {max(THEORY_MOMENTA):g}.")
            landscape_link(f"Open the {problem} map on the landscape page", theory_query(problem, x0))
    st.download_button("Edges per row (CSV)", columns_csv(
        log10_one_minus_momentum=maps[0]["log_omm"], **{f"{p}_{k}": m[k] for (p, _), m in zip(THEORY_MAPS, maps)
                                                   for k in ("line", "measured")}),
        file_name="tour_theory_edges.csv", mime="text/csv", key="t_th_csv")


def step_pixel():
    from l2l_core.viz import probe as viz_probe
    from ui import inspect_state as ist
    from ui.inspect_compute import run_pixel

    a, b = ist.TOUR_TRAINED, ist.TOUR_DIVERGED
    lr_a, lr_b = a["hparams"]["lr_in"], b["hparams"]["lr_in"]
    st.markdown(
        "**Inside one pixel: the edge of stability.** Every pixel of the maps is a whole training run. Open two: "
        f"the digits tanh network (64-32-32-10, MSE, full batch) trained by plain gradient descent at lr = {lr_a:g} "
        f"and at lr = {lr_b:g}. The dashed line is 2/lr: on a quadratic, gradient descent is stable only while the "
        "sharpness (the top eigenvalue of the loss's Hessian) stays below it. This network does not stay below it: "
        "it settles *at* it (Cohen et al. 2021, the edge of stability). **Try:** open the page: the slices of the "
        "landscape around the end point, the path on its two PCA directions, other optimizers and thresholds.")
    runs = []
    for p in (a, b):
        try:
            r, _ = run_pixel(p["task"], p["optimizer"], tuple(sorted(p["hparams"].items())), p["steps"], p["seed"],
                             None, ist.VIEW["every"][1], ist.VIEW["k"][1], 0, 1.0)
        except Exception as e:  # ValueError from the core, or the job limit's Cancelled / ServerBusy
            show_error(e)
            return
        runs.append(r)
    cols = st.columns(2)
    for col, r, lr, name in zip(cols, runs, (lr_a, lr_b), ("trained", "diverged")):
        with col:
            plotly_chart(viz_probe.curvature_figure(r, title=f"lr = {lr:g}").update_layout(height=HEIGHT),
                         key=f"t_px_{name}", filename=f"tour_pixel_lr{lr:g}")
            st.info(viz_probe.curvature_sentence(r), icon=":material/insights:")
    ra, rb = runs
    st.caption(f"Final training loss: {ra['loss'][-1]:.3g} at lr = {lr_a:g}; "
               + ("diverged" if not np.isfinite(rb["loss"][-1]) else f"{rb['loss'][-1]:.3g}") + f" at lr = {lr_b:g}.")
    st.download_button("Sharpness curves (CSV)", columns_csv(step=ra["sharpness_steps"],
                                                              **{f"sharpness_lr{lr_a:g}": ra["sharpness"][:, 0],
                                                                 f"sharpness_lr{lr_b:g}": rb["sharpness"][:, 0]}),
                       file_name="tour_pixel_sharpness.csv", mime="text/csv", key="t_px_csv")
    link("pages/inspect.py", "Open these two pixels side by side", **ist.tour_query())


def _choice(options):
    """A URL parser for one of ``options`` (numbers compared as numbers)."""
    def parse(text: str):
        for o in options:
            if str(o) == text or (not isinstance(o, str) and float(text) == float(o)):
                return o
        raise ValueError(text)
    return parse


def _p(url, default, options=None, parse=None):
    return Param(url, default, parse or _choice(options))


#: The two task seeds' settings (typed numbers under the app's input rule).
SEED_PARAMS = {"t_learn_seed": _p("t_learn_seed", 1, parse=int_in(0, 10_000)),
               "t_adam_seed": _p("t_adam_seed", 0, parse=int_in(0, 10_000))}

#: The tour: one record per step (title, what it draws, its controls with their URL names and defaults).
STEP_REGISTRY = [
    Step("The inner problem", step_inner, {"t_problem": _p("t_problem", "log_sin", list(PROBLEMS))}),
    Step("Momentum's path", step_momentum, {"t_lr": _p("t_lr", 0.1, LRS), "t_mom": _p("t_mom", 0.9, MOMENTA)}),
    Step("The learning-rate sweep", step_sweep, {"t_sw_mom": _p("t_sw_mom", 0.9, SWEEP_MOMENTA),
                                                 "t_sw_points": _p("t_sw_points", 500, SWEEP_POINTS)}),
    Step("A chaotic landscape", step_landscape, {
        "t_ls_res": _p("t_ls_res", 250, RESOLUTIONS), "t_ls_window": _p("t_ls_view", list(WINDOWS)[0], list(WINDOWS)),
        ZOOM_KEY: Param("t_zoom", None, _zoom_parse, lambda w: None if w is None else zoom.encode_stack([w]))}),
    Step("Gradient descent gets stuck", step_gd, {"t_gd_start": _p("t_gd_start", list(STARTS)[0], list(STARTS)),
                                                  "t_gd_lr": _p("t_gd_lr", 0.01, OUTER_LRS)}),
    Step("Evolution Strategies", step_es, {"t_es_steps": _p("t_es_steps", 1000, ES_STEPS),
                                           "t_es_std": _p("t_es_std", 0.1, ES_STDS)}),
    Step("Learning an optimizer", step_learn, {"t_learn_seed": SEED_PARAMS["t_learn_seed"]}),
    Step("Does it beat Adam?", step_adam, {"t_adam_seed": SEED_PARAMS["t_adam_seed"]}),
    Step("From one number to a network", step_fractal,
         {"t_fr_task": _p("t_fr_task", "fractal_single", list(FRACTAL_TASKS))}),
    Step("What theory predicts", step_theory, {}),
    Step("Inside one pixel: the edge of stability", step_pixel, {}),
    Step("What your tuner sees", step_tuner, {}),
]

