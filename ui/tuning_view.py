"""The "What tuning sees" page's widgets and drawing: the sidebar read into :class:`Settings`,
then each section drawn from its cached result (:mod:`ui.tuning_compute`): the maps over seeds,
the tuner's study against the dense map, the table over N x sampler x tuner seeds, and a
user's uploaded Optuna study over the dense map.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import streamlit as st

from l2l_core.inner.optimizers import OPTIMIZERS
from l2l_core.landscape.seeds import MAX_SEEDS
from l2l_core.tasks import fractal_networks
from l2l_core.tasks.general import TASKS as GENERAL_TASKS
from l2l_core.tuning.audit import DIVERGED_PENALTY, GOOD_QUANTILE, SAMPLERS, TABLE_TRIALS
from l2l_core.viz.tuning import color_range, picture_figure, seed_map_figure, short_number, study_figure, trials_figure
from ui import tuning_compute as tc
from ui.shared import columns_csv, npz_bytes, optimizer_label, plotly_chart, show_error
from ui.state import PageState

RESOLUTIONS = [16, 24, 32, 48, 64, 96, 128]
STEPS = [10, 20, 50, 100, 200]
TABLE_TUNER_SEEDS = (0, 1, 2)
SAMPLER_TITLES = {"tpe": "TPE (Optuna's default)", "random": "random", "cmaes": "CMA-ES"}


def task_title(name: str) -> str:
    if tc.is_fractal(name):
        return f"{fractal_networks.SPECS[name].title} (trainability fractal)"
    return GENERAL_TASKS[name].title if name in GENERAL_TASKS else name


@dataclass(frozen=True)
class Settings:
    """The sidebar's choices; ``axes`` is :func:`ui.tuning_compute.axes_for` of the task and optimizer."""

    task: str
    optimizer: str
    fractal_task: bool
    axes: dict
    x_axis: str
    y_axis: str
    res: int
    steps: int
    seed0: int
    n_seeds: int
    sampler: str
    trials: int
    tuner_seed: int

    @property
    def seed_list(self) -> tuple:
        return tuple(range(int(self.seed0), int(self.seed0) + int(self.n_seeds)))

    @property
    def x_title(self) -> str:
        return self.axes[self.x_axis][0]

    @property
    def y_title(self) -> str:
        return self.axes[self.y_axis][0]

    @property
    def slug(self) -> str:
        return f"{self.task}_{self.optimizer}_{self.x_axis}_{self.y_axis}_{self.res}"

    @property
    def objective(self) -> tuple:
        """(task, optimizer, x, y, res, first seed, steps): the one seed's objective of sections 2 and 3."""
        return (self.task, self.optimizer, self.x_axis, self.y_axis, int(self.res), self.seed_list[0],
                int(self.steps))


def sidebar(ps: PageState) -> Settings:
    """The sidebar's widgets (their keys are the page's :class:`ui.state.Param` keys), read into Settings."""
    w = ps.widget
    s = st.session_state
    with st.sidebar, ps:
        st.header("What tuning sees")
        task = w(st.selectbox, "tn_task", "Task (with a seed)", tc.TASKS, format_func=task_title,
                 help="Tasks whose map depends on a seed (data and initial weights): the small tanh network, the "
                      "digits networks (slow on a CPU: they loop over seeds), and the trainability-fractal networks "
                      "(the paper's plain gradient descent; sections 2 and 3 need a general network).")
        fractal_task = tc.is_fractal(task)
        if fractal_task:
            st.caption("Optimizer: the paper's full-batch gradient descent, one learning rate per layer.")
            optimizer = "sgd"
        else:
            optimizer = w(st.selectbox, "tn_opt", "Optimizer", list(OPTIMIZERS), format_func=optimizer_label,
                          help=" ".join(f"{o.title}: {o.description}" for o in OPTIMIZERS.values()))
        axes = tc.axes_for(task, optimizer)
        names = list(axes)
        for key, default in (("tn_x", names[0]), ("tn_y", names[1])):
            if s[key] not in axes:  # a task or optimizer change (or a link) left an axis this choice lacks
                ps[key] = default
        if s["tn_x"] == s["tn_y"]:
            ps["tn_y"] = next(n for n in names if n != s["tn_x"])
        if fractal_task:  # the paper's two axes, in the paper's order
            ps["tn_x"], ps["tn_y"] = names[0], names[1]
            x_axis, y_axis = names
            st.caption(f"Axes: {names[0]} across, {names[1]} up (the paper's).")
        else:
            x_axis = w(st.selectbox, "tn_x", "x axis", names, format_func=lambda n: axes[n][0],
                       help="The hyperparameter across the map, in its display unit (log10 of a rate, log10(1 - m) "
                            "of a momentum-like m), over its default range.")
            y_axis = w(st.selectbox, "tn_y", "y axis", [n for n in names if n != x_axis],
                       format_func=lambda n: axes[n][0], help="The hyperparameter up the map; it must differ from "
                       "the x axis.")
        res = w(st.select_slider, "tn_res", "Resolution (cells per axis)", RESOLUTIONS,
                help="The dense map's cells per axis; every cell is one full training run per seed.")
        steps = w(st.select_slider, "tn_steps", "Training steps", STEPS,
                  help="Inner steps of every run (the summary is the mean loss over the run; for the "
                       "trainability-fractal networks, the paper's convergence measure).")
        st.subheader("Seeds")
        seed0 = ps.number(st, "tn_seed", "First seed", help="The seeds are this one and the next ones; the first "
                          "seed's map is also the tuner's objective (section 2). 0 to 10000.")
        n_seeds = ps.number(st, "tn_nseeds", "Number of seeds", help=f"How many seeds' maps (1 to {MAX_SEEDS}); "
                            "they run as one vmapped kernel where the task allows.")
        st.subheader("Tuner")
        sampler = w(st.radio, "tn_sampler", "Sampler", list(SAMPLERS), format_func=SAMPLER_TITLES.get,
                    horizontal=True, help="Optuna's TPE (its default), random search, or CMA-ES.")
        trials = w(st.select_slider, "tn_trials", "Trials (N)", list(TABLE_TRIALS),
                   help="How many runs the tuner spends; each trial is one run of the engine at the trial's point.")
        tuner_seed = ps.number(st, "tn_tseed", "Tuner seed", help="The sampler's own random seed, 0 to 10000.")
        ps.link_panel()
    return Settings(task, optimizer, fractal_task, axes, x_axis, y_axis, res, steps, seed0, n_seeds, sampler, trials,
                    tuner_seed)


# -- 1. seeds as an axis -----------------------------------------------------------------------------


def seed_maps_view(cfg: Settings, sm: dict, seconds: float) -> None:
    """The three maps over seeds (mean, spread, P(diverge)), the picks, the timing and the downloads."""
    seed_list, x_title, y_title, slug = cfg.seed_list, cfg.x_title, cfg.y_title, cfg.slug
    xs, ys = sm["x_values"], sm["y_values"]
    robust, single = sm["robust_best"], sm["single_best"][0]
    c1, c2, c3 = st.columns(3)
    with c1:
        plotly_chart(seed_map_figure(sm["loss"], xs, ys, kind="mean", x_title=x_title, y_title=y_title,
                                     robust=robust, single=single, title="mean over seeds"),
                     key="tn_mean", filename=f"seeds_mean_{slug}")
    with c2:
        plotly_chart(seed_map_figure(sm["spread"], xs, ys, kind="spread", x_title=x_title, y_title=y_title,
                                     robust=robust, title="spread (std)"),
                     key="tn_spread", filename=f"seeds_spread_{slug}")
    with c3:
        plotly_chart(seed_map_figure(sm["p_diverge"], xs, ys, kind="p_diverge", x_title=x_title, y_title=y_title,
                                     robust=robust, single=single, title="P(diverge)"),
                     key="tn_pdiv", filename=f"seeds_pdiverge_{slug}")
    m1, m2, m3 = st.columns(3)
    if robust is not None:
        m1.metric("robust pick", f"{robust[2]:.3g}",
                  help=f"The best mean where no seed diverges: cell ({robust[0]:.3f}, {robust[1]:.3f}), the lowest "
                       f"mean among the cells where none of the {len(seed_list)} seeds diverged; spread over the "
                       f"seeds {robust[3]:.2g}.")
    else:
        m1.metric("robust pick", "none", help="Every cell diverged for at least one seed.")
    if single is not None:
        m2.metric(f"seed {seed_list[0]}'s own best", f"{single[2]:.3g}",
                  help=f"Cell ({single[0]:.3f}, {single[1]:.3f}): the best cell of the first seed's map alone, what "
                       "one seed's sweep would pick.")
        if len(seed_list) > 1:
            i = int(np.argmin(np.abs(ys - single[1])))
            j = int(np.argmin(np.abs(xs - single[0])))
            m3.metric("its P(diverge)", f"{sm['p_diverge'][i, j]:.2f}",
                      help="The single-seed best cell over every seed: its probability of divergence, and its mean "
                           f"{sm['loss'][i, j]:.4g}.")
    note = ""
    if len(seed_list) > 1 and cfg.task in tc.VMAPPED:
        one = tc.one_seed_seconds(cfg.task, cfg.optimizer, cfg.x_axis, cfg.y_axis, int(cfg.res), seed_list[0],
                                  int(cfg.steps))
        loop = one * len(seed_list)
        note = (f" One seed's map alone: {one:.2f} s, so {len(seed_list)} separate maps would take about "
                f"{loop:.2f} s; the vmapped run took {seconds / loop:.2f}x of that.")
    elif len(seed_list) > 1:
        note = " This network's seeds run one after another (no vmapped kernel for it)."
    st.caption(f"{len(seed_list)} seeds computed in {seconds:.2f} s (the first call includes compiling; a repeat is "
               f"served from the cache).{note}")
    flat = dict(x=np.tile(xs, ys.size), y=np.repeat(ys, xs.size), mean=sm["loss"].ravel(),
                spread=sm["spread"].ravel(), p_diverge=sm["p_diverge"].ravel())
    d1, d2 = st.columns(2)
    d1.download_button("Seeds' maps (CSV)", columns_csv(**flat), f"seeds_{slug}.csv", "text/csv",
                       key="tn_dl_seeds_csv", help="One row per cell: x, y (display units), mean over non-diverged "
                       "seeds, spread, P(diverge).")
    d2.download_button("Seeds' maps (NPZ)", npz_bytes(loss_seeds=sm["loss_seeds"], loss=sm["loss"],
                                                 spread=sm["spread"], p_diverge=sm["p_diverge"],
                                                 seeds=np.asarray(seed_list), x_values=xs, y_values=ys),
                       f"seeds_{slug}.npz", "application/octet-stream", key="tn_dl_seeds_npz",
                       help="Every seed's map (loss_seeds: seeds x rows x cols) and the summaries, with the axes.")


# -- 2. a real tuner ----------------------------------------------------------------------------------


def tuner_view(cfg: Settings, au: dict) -> None:
    """The truth with the trials, the dashboard's picture, the errors and the downloads of one study."""
    x_title, y_title, slug, sampler, trials = cfg.x_title, cfg.y_title, cfg.slug, cfg.sampler, cfg.trials
    zmin, zmax = color_range(au["loss"])  # the picture in the truth's colours
    t1, t2 = st.columns(2)
    with t1:
        plotly_chart(trials_figure(au["loss"], au["x_values"], au["y_values"], au["trial_x"], au["trial_y"],
                                   x_title=x_title, y_title=y_title, best_trial=au["best_trial"],
                                   best_dense=au["best_dense"], title="the truth, with the trials in order"),
                     key="tn_trials_chart", filename=f"tuner_trials_{slug}")
    with t2:
        plotly_chart(picture_figure(au["contour"], au["x_values"], au["y_values"], au["trial_x"], au["trial_y"],
                                    x_title=x_title, y_title=y_title, penalty=DIVERGED_PENALTY, zmin=zmin, zmax=zmax,
                                    title="what the tuner's dashboard would draw"),
                     key="tn_picture_chart", filename=f"tuner_picture_{slug}")
    r1, r2, r3, r4 = st.columns(4)
    r1.metric("regret", short_number(au["regret"]),
              help="The tuner's best value minus the dense map's best value (0: it found the best cell; below 0: "
                   "its best point lies between cells and beats every cell of the grid).")
    r2.metric("beaten by", "-" if au["beaten_by"] is None else f"{au['beaten_by']:.1%}",
              help="The fraction of non-diverging cells whose value is below the tuner's best.")
    r3.metric("false good", f"{au['false_good']:.1%}",
              help="The fraction of all cells that diverge but the interpolated picture calls good.")
    r4.metric("false diverging", f"{au['false_diverging']:.1%}",
              help="The fraction of all cells that are good but the interpolated picture calls diverging.")
    sec = au["seconds"]
    st.caption(
        f"**regret**: the tuner's best minus the dense best. **false good**: diverging cells the picture calls good. "
        f"**false diverging**: good cells (the best {GOOD_QUANTILE:.0%} of converging runs) the picture calls "
        f"diverging. The picture interpolates the trials' told values linearly between them (nearest trial outside "
        f"their hull), as a dashboard fills the plane. {au['trials_diverged']} of {len(au['trial_x'])} trials "
        f"diverged. Study {sec['study']:.2f} s (engine {sec['engine']:.2f} s, the tuner's own work "
        f"{sec['tuner']:.2f} s); dense map {sec['dense']:.2f} s.")
    trial_cols = dict(number=np.arange(len(au["trial_x"])), x=au["trial_x"], y=au["trial_y"],
                      value=au["trial_value"], told=au["told"])
    e1, e2 = st.columns(2)
    e1.download_button("Trials (CSV)", columns_csv(**trial_cols), f"tuner_{sampler}_{trials}_{slug}.csv", "text/csv",
                       key="tn_dl_trials_csv", help="One row per trial in the order taken: x, y (display units), the "
                       "engine's value (empty where diverged) and what the tuner was told.")
    e2.download_button("Trials, truth and picture (NPZ)",
                       npz_bytes(trial_x=au["trial_x"], trial_y=au["trial_y"], trial_value=au["trial_value"],
                                 told=au["told"], loss=au["loss"], contour=au["contour"], x_values=au["x_values"],
                                 y_values=au["y_values"]),
                       f"tuner_{sampler}_{trials}_{slug}.npz", "application/octet-stream", key="tn_dl_trials_npz",
                       help="The trials, the dense map (loss) and the interpolated picture (contour) on the same "
                            "grid.")


def table_view(cfg: Settings) -> None:
    """The expander with the table over N x sampler (mean and spread over the tuner seeds), on its button."""
    s = st.session_state
    table_key = cfg.objective
    with st.expander("How the errors change with N and the sampler", expanded=s.get("_tn_table_key") == table_key):
        st.caption(f"One study of {max(TABLE_TRIALS)} trials per sampler and tuner seed {TABLE_TUNER_SEEDS}; the "
                   f"study of N trials is its first N. Each metric: the mean over the tuner seeds (_std: their "
                   f"spread).")
        if st.button("Compute the table", key="tn_table_btn",
                     help=f"{len(SAMPLERS)} samplers x {len(TABLE_TUNER_SEEDS)} tuner seeds x {max(TABLE_TRIALS)} "
                          "trials on this objective; progress is shown per sampler."):
            bar = st.progress(0.0, text="starting ...")
            rows = []
            try:
                for k, sm_name in enumerate(SAMPLERS):
                    bar.progress(k / len(SAMPLERS), text=f"{SAMPLER_TITLES[sm_name]} ({k + 1} of {len(SAMPLERS)})")
                    rows += tc.table_rows(*table_key, sm_name, tuple(TABLE_TRIALS), TABLE_TUNER_SEEDS)
                bar.progress(1.0, text="done")
                s["_tn_table"], s["_tn_table_key"] = rows, table_key
            except Exception as e:
                show_error(e)
        if s.get("_tn_table_key") == table_key:
            rows = sorted(s["_tn_table"], key=lambda r: (r["trials"], r["sampler"]))
            st.dataframe(rows, hide_index=True, key="tn_table_df")
            st.download_button("Table (CSV)", tc.rows_csv(rows), f"tuner_table_{cfg.slug}.csv", "text/csv",
                               key="tn_dl_table", help="One row per (N, sampler): each metric's mean and spread "
                               "over the tuner seeds.")


# -- 3. bring your study ---------------------------------------------------------------------------------


def study_view(cfg: Settings, data: bytes, sm: dict) -> None:
    """An uploaded study's pickers (study, parameters, units) and its trials over the first seed's dense map;
    a bad file or choice is shown as an error and the page stops there."""
    x_title, y_title, slug = cfg.x_title, cfg.y_title, cfg.slug
    try:
        studies = tc.inspect_upload(data)
        if not studies:
            raise ValueError("the uploaded file holds no study")
    except ValueError as e:
        show_error(e)
        st.stop()
    by_name = {x["name"]: x for x in studies}
    u1, u2, u3, u4 = st.columns(4)
    name = u1.selectbox("Study", list(by_name), key="tn_study",
                        format_func=lambda n: f"{n} ({by_name[n]['trials']} trials)",
                        help="Which study of the file to draw.")
    params = by_name[name]["params"] or ["(none)"]
    px = u2.selectbox(f"Its parameter on x ({x_title})", params, key="tn_px",
                      help="The study's parameter that is this map's x axis.")
    py = u3.selectbox(f"Its parameter on y ({y_title})", params, index=min(1, len(params) - 1), key="tn_py",
                      help="The study's parameter that is this map's y axis.")
    units = u4.radio("Its values are", ["raw", "display"], key="tn_units",
                     format_func=lambda u: "raw values (e.g. lr = 0.01)" if u == "raw" else "already log10 units",
                     help="raw: converted to the map's units (log10 of a rate, log10(1 - m) of a momentum); "
                          "display: the study suggested the log10 values itself.")
    try:
        trials_u = tc.read_upload(data, name, px, py)
        sx, sy = tc.study_display(trials_u, cfg.task, cfg.optimizer, cfg.x_axis, cfg.y_axis, units)
    except ValueError as e:
        show_error(e)
        st.stop()
    plotly_chart(study_figure(sm["loss_seeds"][0], sm["x_values"], sm["y_values"], sx, sy, trials_u.number,
                              trials_u.value, x_title=x_title, y_title=y_title,
                              title=f"study {trials_u.study_name!r} ({trials_u.direction.lower()}) on the dense map"),
                 key="tn_study_chart", filename=f"study_{slug}")
    st.caption(f"{len(sx)} trials with both parameters; their own values are in the hover text, the map's colour "
               "is this page's objective at that point.")
    st.download_button("Your trials in map units (CSV)",
                       columns_csv(number=trials_u.number, x=sx, y=sy, value=trials_u.value),
                       f"study_{slug}.csv", "text/csv", key="tn_dl_study",
                       help="Each trial's x and y in this map's display units and the value the study recorded.")
