"""Learned optimizer: meta-train a coordinatewise LSTM in the browser and race it
against tuned SGD, Adam, RMSprop and NAG. Thin: widgets -> cached core calls -> figures."""

from __future__ import annotations

from ui.adapter import through_router

through_router(__file__)

import time

import pandas as pd
import streamlit as st

from l2l_core.learned import training_job
from l2l_core.tasks.families import TRAINABLE, get_family
from l2l_core.viz.learned import comparison_figure, comparison_rows, curves_csv, update_figure
from ui.learned_form import (
    cached_records,
    form_params,
    one_task_form,
    private_dir,
    run_picker,
    settings_ui,
    start_job,
)
from ui.learned_training import (
    job_panel,
)
from ui.learned_views import (
    cached_compare,
    family_params,
    family_picker,
    generalization_section,
    mtime,
    test_metrics_table,
    what_ifs,
)
from ui.shared import chart_config, int_in, safe_filename, show_error
from ui.state import PageState, Param

# Settings: the family, the new run's form and the race's, kept across page switches; ?seed= is the task seed.
ps = PageState("learned_optimizer", {
    **family_params(),
    **form_params(),
    "lo_run": Param("run", "default (shipped)"),
    "lo_eval_seed": Param("seed", 1, int_in(0, 2**31 - 1)),
    "lo_horizon": Param("horizon", 100, int_in(100, 200, [100, 200])),
    "lo_dim": Param("dim", 10, int_in(10, 20, [10, 20])),
    "lo_further": Param("further", False, lambda t: {"1": True, "0": False}[t], lambda v: str(int(bool(v)))),
})

ps.load()
ps.apply_view()
st.title("Learned optimizer")
ps.warn_bad_url()
with st.sidebar:
    ps.link_panel()
st.markdown(
    "An optimizer is a rule that turns gradients into steps. Here a tiny two-layer LSTM, applied to every "
    "coordinate separately, *is* that rule: it is trained by gradient descent (through 100 unrolled "
    "optimization steps) to minimize a family of tasks as fast as possible: random quadratics "
    "$\\|W\\theta-y\\|^2$ as in *Learning to learn by gradient descent by gradient descent* (Andrychowicz "
    "et al., 2016), a small network on 8x8 handwritten digits, the paper's MNIST network scaled down, or "
    "any one task of the maps (Rosenbrock's valley, the seed post's 1-D loss ...) as a family of one. "
    "Train one below or use the shipped one, then race it against SGD, Adam, RMSprop and NAG, each "
    "given its best learning rate, and see where it stops generalizing."
)
task = family_picker(ps)
family = get_family(task)
busy = st.empty()  # a sign up here while a newly picked family's race computes further down
if st.session_state.get("lo_ready_family") != task:
    busy.info(f"Computing for {family.label}: the race below runs the learned optimizer and tunes four baselines "
              f"over {family.lr_points} learning rates ("
              + ("up to a minute for a network" if family.has_data else "seconds") + " the first time).",
              icon=":material/hourglass_top:")

with st.container(border=True):
    st.subheader("Meta-train a new optimizer")
    if task in TRAINABLE:
        preset, overrides = settings_ui(ps, task)
    elif family.kind == "single":
        preset, overrides = one_task_form(task)
    else:
        preset = overrides = None
        st.info(f"{task} is a variant for the generalization map, with no training presets: pick digits_mlp to "
                "train a network optimizer, then race it here.")
    job = st.session_state.get("lo_job")
    running = job is not None and job.running
    if st.button("Start meta-training", type="primary", disabled=running or preset is None, key="lo_start"):
        try:
            start_job(task, preset, overrides)
            st.session_state.lo_job_seen_end = False
        except ValueError as e:
            st.error(str(e))
    running = st.session_state.get("lo_job") is not None and st.session_state.lo_job.running
    st.fragment(job_panel, run_every=1.0 if running else None)()

choice, path, ckpt = run_picker(ps, task, busy)

st.subheader("Race on fresh tasks")
with ps:
    c1, c2, c3 = st.columns(3)
    if family.kind == "single":  # one task: nothing to draw
        eval_seed = 0
        c1.markdown(f"**{task}**: one task, its own start")
    else:
        eval_seed = ps.number(c1, "lo_eval_seed", "Task seed",
                              help=f"{family.eval_batch} fresh tasks ({family.label}) drawn from this seed "
                                   "(training never sees them).")
    steps = ps.widget(c2.selectbox, "lo_horizon", "Horizon (steps)", [100, 200],
                      help="Trained on 100 steps; 200 asks whether it generalizes to a longer run.")
    if family.is_quadratic:
        dim = ps.widget(c3.selectbox, "lo_dim", "Dimension", [10, 20],
                        help="Trained on 10-dimensional tasks; the LSTM is coordinatewise, so it runs on any size.")
dim = int(dim) if family.is_quadratic else None
t0 = time.perf_counter()
with st.spinner(f"Running the LSTM and tuning four baselines over {family.lr_points} learning rates..."):
    try:
        res = cached_compare(str(path), mtime(path), task, int(eval_seed), int(steps), dim)
    except ValueError as e:  # the server is busy, or the person stopped it
        busy.empty()
        show_error(e)
        st.stop()
elapsed = time.perf_counter() - t0
st.session_state["lo_ready_family"] = task
busy.empty()
if family.kind == "single":
    title = f"{family.label}: one task"
else:
    where = f"dim {res['dim']}" if family.is_quadratic else family.label
    title = f"{res['batch']} tasks, {where}, seed {res['seed']}"
st.plotly_chart(comparison_figure(res["losses"], title=title),
                key="lo_compare", config=chart_config(f"comparison_{task}_{choice}_seed{eval_seed}_h{steps}_d{dim}"))
st.dataframe(pd.DataFrame(comparison_rows(res)), hide_index=True, key="lo_final_table",
             column_config={"best learning rate": st.column_config.NumberColumn(format="%.3g")})
test_metrics_table(res)
st.caption(f"Computed in {res['seconds']:.1f} s ({elapsed:.1f} s for this view, cache included). "
           f"Initial loss {res['initial']:.4g}"
           + (", each network's loss on its whole training split." if family.has_data else "."))
st.download_button("Download curves (CSV)", curves_csv(res["losses"]),
                   file_name=safe_filename(f"curves_{task}_{choice}_seed{eval_seed}.csv"), mime="text/csv",
                   key="lo_csv")

if family.is_quadratic:
    st.subheader("What the LSTM learned")
    st.markdown("Every dot is one coordinate at one step: the gradient it saw and the step it took. SGD is a "
                "straight line through the origin; Adam's steps are bounded by its learning rate whatever the "
                "gradient; the LSTM's rule is whatever meta-training found.")
    rec = cached_records(str(path), mtime(path), int(eval_seed), tuple(sorted(res["best_lr"].items())))
    st.plotly_chart(update_figure(rec), key="lo_updates", config=chart_config(f"updates_{choice}_seed{eval_seed}"))

if family.is_quadratic and get_family(ckpt.config.task).is_quadratic:
    what_ifs(ps, path, ckpt, task, int(eval_seed))

job = st.session_state.get("lo_job")
generalization_section(ps, {d.name: d for d in training_job.runs_in(private_dir())
                            if not (job is not None and job.running and d == job.out_dir)})
