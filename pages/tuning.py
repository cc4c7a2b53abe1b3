"""What tuning sees: maps across seeds, and a real tuner's sparse view held against the dense truth."""

from ui.adapter import through_router

through_router(__file__)

import streamlit as st

from l2l_core.inner.optimizers import OPTIMIZERS
from l2l_core.landscape.seeds import MAX_SEEDS, check_view_work
from l2l_core.tuning.audit import DIVERGED_PENALTY, SAMPLERS, TABLE_TRIALS
from ui import tuning_compute as tc
from ui import tuning_view as tv
from ui.shared import int_in, show_error
from ui.state import PageState, Param, choice_in

# Settings: ?task=&opt=&x=&y=&res=&seed=&nseeds=&steps=&sampler=&trials=&tseed= , kept across page switches.
ps = PageState("tuning", {
    "tn_task": Param("task", "tanh_net", choice_in(tc.TASKS)),
    "tn_opt": Param("opt", "sgd", choice_in(OPTIMIZERS)),
    "tn_x": Param("x", "lr_in"),
    "tn_y": Param("y", "lr_out"),
    "tn_res": Param("res", 48, int_in(16, 128, tv.RESOLUTIONS)),
    "tn_seed": Param("seed", 0, int_in(0, 10_000)),
    "tn_nseeds": Param("nseeds", 4, int_in(1, MAX_SEEDS)),
    "tn_steps": Param("steps", 50, int_in(10, 200, tv.STEPS)),
    "tn_sampler": Param("sampler", "tpe", choice_in(SAMPLERS)),
    "tn_trials": Param("trials", 25, int_in(25, 100, list(TABLE_TRIALS))),
    "tn_tseed": Param("tseed", 0, int_in(0, 10_000)),
}).load()
ps.apply_view()

st.title("What tuning sees")
st.markdown(
    "A practitioner does not see a landscape; they see a sweep: 25-100 trials of a tuner, drawn as an "
    "interpolated contour and one \"best trial\". Here the same objective is also computed densely, so the "
    "sweep can be held against the truth. **1.** A network's map depends on its seed: the map over several "
    "seeds says which cells are *reliably* good. **2.** A real tuner (Optuna) spends N trials on exactly one "
    "seed's map. **3.** Your own Optuna study, drawn over the dense map."
)
ps.warn_bad_url()

cfg = tv.sidebar(ps)
seed_list = cfg.seed_list
task, optimizer, res, steps = cfg.task, cfg.optimizer, cfg.res, cfg.steps

# -- 1. seeds as an axis -----------------------------------------------------------------------------
st.subheader("1. Seeds as an axis of the map")
st.caption(f"{len(seed_list)} seeds ({seed_list[0]}..{seed_list[-1]}) of {tv.task_title(task)}"
           + ("" if cfg.fractal_task else f", {OPTIMIZERS[optimizer].title}") + f", {res}x{res} cells, {steps} steps.")
try:
    if not cfg.fractal_task:  # the fractal networks' own cap is their kernel's
        check_view_work(task, int(res) ** 2, len(seed_list), int(steps))
    with st.spinner(f"Training {res * res * len(seed_list):,} networks ..."):
        sm, seconds = tc.seed_maps(task, optimizer, cfg.x_axis, cfg.y_axis, int(res), seed_list, int(steps))
except ValueError as e:
    show_error(e)
    st.stop()
except Exception as e:  # the job limit's Cancelled / ServerBusy: said, not raised
    show_error(e)
    st.stop()
tv.seed_maps_view(cfg, sm, seconds)

# -- 2. a real tuner ----------------------------------------------------------------------------------
st.subheader("2. A real tuner on the same objective")
if cfg.fractal_task:
    st.info("The tuner and your own study run on the general networks (tanh_net, the digits networks); "
            "pick one of them as the task.", icon=":material/info:")
    st.stop()
st.caption(f"Optuna, sampler {tv.SAMPLER_TITLES[cfg.sampler]}, {cfg.trials} trials, tuner seed {cfg.tuner_seed}, on "
           f"seed {seed_list[0]}'s map: each trial is one run of the engine at the trial's point. A diverged run is "
           f"told to the tuner as {DIVERGED_PENALTY:g}.")
try:
    with st.spinner(f"Running {cfg.trials} trials and the dense {res}x{res} map ..."):
        au = tc.tuner_study(*cfg.objective, cfg.sampler, int(cfg.trials), int(cfg.tuner_seed))
except Exception as e:  # ValueError from the core, or the job limit's Cancelled / ServerBusy
    show_error(e)
    st.stop()
tv.tuner_view(cfg, au)
tv.table_view(cfg)

# -- 3. bring your study ---------------------------------------------------------------------------------
st.subheader("3. Bring your study")
st.caption("An Optuna study saved with storage='sqlite:///FILE.db' on two of this task's hyperparameters, drawn "
           f"over seed {seed_list[0]}'s dense map. The file is read read-only in a temporary copy that is deleted "
           "at once; nothing else is kept.")
upload = st.file_uploader("Optuna SQLite file", type=["db", "sqlite", "sqlite3"], key="tn_upload",
                          help="The database Optuna writes (create_study(storage='sqlite:///FILE.db')); "
                               "small files only.")
if upload is not None:
    tv.study_view(cfg, upload.getvalue(), sm)
