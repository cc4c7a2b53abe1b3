"""Learned optimizer: meta-train a coordinatewise LSTM in the browser and race it
against tuned SGD, Adam, RMSprop and NAG. Thin: widgets -> cached core calls -> figures."""

from __future__ import annotations

from ui.adapter import through_router

through_router(__file__)

import os
import secrets
import time
from pathlib import Path

import pandas as pd
import streamlit as st

from l2l_core.learned import training_job
from l2l_core.learned.checkpoints import load_checkpoint
from l2l_core.learned.config import PRESETS, TASK_PRESETS, preset_config, preset_lstm
from l2l_core.learned.lstm import BASES, PREPROCESSORS, LSTMConfig, base_learning_rate
from l2l_core.learned.training_job import TrainingJob, prune_private, publish, records_file
from l2l_core.runtime.jobs import default_limiter
from l2l_core.tasks.families import TRAINABLE, get_family
from l2l_core.tasks.quadratics import REDUCTIONS
from l2l_core.viz.learned import comparison_figure, comparison_rows, curves_csv, meta_loss_figure, update_figure
from ui.learned_training import (
    IDLE_STOP_SECONDS,
    budget_sentence,
    estimate_caption,
    job_panel,
    preset_estimate,
    run_estimate,
)
from ui.learned_views import (
    cached_compare,
    family_params,
    family_picker,
    generalization_section,
    mtime,
    test_metrics_table,
)
from ui.shared import chart_config, float_in, heavy, int_in, safe_filename, show_error
from ui.state import PageState, Param, choice_in


def tkey(task: str, base: str) -> str:
    """A setting that differs by trainable family (quadratics keep the names they always had)."""
    return base if task == "quadratic" else f"{base}_{task}"


def lr_key(task: str, preset: str) -> str:
    """The meta learning rate differs by preset (digits: 1e-2 short, 5e-3 full); short keeps the old name."""
    return tkey(task, "lo_meta_lr" if preset == "short" else f"lo_meta_lr_{preset}")


def _family_form(task: str) -> dict[str, Param]:
    """A trainable family's own meta-steps, batch, base path and meta learning rate, defaulting to its presets."""
    pre = TASK_PRESETS[task]
    return {**{tkey(task, f"lo_steps_{p}"): Param(tkey(task, f"meta_steps_{p}"), pre[p]["meta_steps"], int_in(1, 5000))
               for p in ("short", "full")},
            tkey(task, "lo_batch"): Param(tkey(task, "batch"), pre["short"].get("batch", 128), int_in(1, 512)),
            tkey(task, "lo_base"): Param(tkey(task, "base"), pre["short"].get("lstm", LSTMConfig()).base,
                                         choice_in(BASES)),
            tkey(task, "lo_base_lr"): Param(tkey(task, "base_lr"), get_family(task).base_lr, float_in(1e-6, 100.0)),
            **{lr_key(task, p): Param(tkey(task, "meta_lr" if p == "short" else f"meta_lr_{p}"),
                                      pre[p].get("meta_lr", 1e-2), float_in(1e-4, 1.0)) for p in ("short", "full")}}


# Settings: the family, the new run's form and the race's, kept across page switches; ?seed= is the task seed.
ps = PageState("learned_optimizer", {
    **family_params(),
    "lo_preset": Param("preset", "short", choice_in(PRESETS)),
    **{k: v for task in TRAINABLE for k, v in _family_form(task).items()},
    "lo_seed": Param("train_seed", 0, int_in(0, 2**31 - 1)),
    "lo_reduction": Param("reduction", REDUCTIONS[0], choice_in(REDUCTIONS)),
    "lo_preprocess": Param("preprocess", PREPROCESSORS[0], choice_in(PREPROCESSORS)),
    "lo_run": Param("run", "default (shipped)"),
    "lo_eval_seed": Param("seed", 1, int_in(0, 2**31 - 1)),
    "lo_horizon": Param("horizon", 100, int_in(100, 200, [100, 200])),
    "lo_dim": Param("dim", 10, int_in(10, 20, [10, 20])),
    "lo_further": Param("further", False, lambda t: {"1": True, "0": False}[t], lambda v: str(int(bool(v)))),
})

RUNS_DIR = Path(os.environ.get("L2L_RUNS_DIR", "runs"))
DEFAULT_LABEL = "default (shipped)"
#: Unshared runs kept per session (the oldest go when a new one starts), and how long
#: an idle session's runs stay on disk.
PRIVATE_RUNS_KEPT, PRIVATE_MAX_AGE_S = 10, 7 * 24 * 3600


@st.cache_resource(max_entries=16)
def cached_checkpoint(path: str, mtime: float):
    return load_checkpoint(path)


@st.cache_data(max_entries=16, show_spinner=False)
def cached_records(path: str, mtime: float, seed: int, best_lr: tuple) -> dict:
    return heavy(records_file, path, mtime, best_lr, seed=seed)


def private_dir() -> Path:
    """This session's own runs: nobody else lists them unless shared on purpose."""
    uid = st.session_state.setdefault("lo_uid", secrets.token_hex(8))
    return RUNS_DIR / "private" / uid


def list_runs(task: str) -> dict[str, Path]:
    """The family's shipped optimizer, this session's private runs, then the shared list."""
    return training_job.list_runs(get_family(task).default_checkpoint, private_dir(), RUNS_DIR, DEFAULT_LABEL)


def preset_help(task: str) -> str:
    """Each preset's length, budget and estimated time (the core's measured speeds)."""
    ests = {p: preset_estimate(task, p) for p in ("short", "full")}
    return " ".join(f"{p}: {est.requested} meta-steps, about {est.total_s:.0f} s here now "
                    f"({est.compile_s:.0f} s of it compiling). " + budget_sentence(est) for p, est in ests.items())


def settings_ui(task: str) -> tuple[str, dict] | None:
    """Widgets of a new run on ``task`` -> (preset, overrides); None if nothing to start."""
    w = ps.widget
    quad = get_family(task).is_quadratic
    with ps:
        c1, c2, c3, c4 = st.columns(4)
        preset = w(c1.radio, "lo_preset", "Preset", ["short", "full"], horizontal=True, help=preset_help(task))
        meta_steps = ps.number(c2, tkey(task, f"lo_steps_{preset}"), "Meta-steps",
                       help="Each meta-step draws fresh tasks and unrolls 5 x 20 optimizer steps.")
        seed = ps.number(c3, "lo_seed", "Seed", help="Seeds the LSTM's init and the training tasks.")
        batch = ps.number(c4, tkey(task, "lo_batch"), "Tasks per meta-step",
                  help="The post uses 128 quadratics per meta-step." if quad else
                       "4 networks per meta-step by default: 6040 coordinates through the LSTM.")
        with st.expander("More knobs"):
            k1, k2, k3 = st.columns(3)
            reduction = w(k1.selectbox, "lo_reduction", "Task loss", REDUCTIONS,
                          help="sum: every task's own gradient (default); mean: the post's batch mean, "
                               "which divides each gradient by the batch size.")
            preprocess = w(k2.selectbox, "lo_preprocess", "Gradient preprocessing", PREPROCESSORS,
                           help="log_sign: the paper's (log|g|/10, sign g); raw: the gradient itself.")
            meta_lr = ps.number(k3, lr_key(task, preset), "Meta learning rate", format="%.4f",
                        help="Adam on the LSTM's weights (the post: 0.01; digits: 0.01 short, 0.005 full).")
            base = w(k1.selectbox, tkey(task, "lo_base"), "Base path", BASES,
                     help="none: the LSTM alone, as in the paper (the quadratics' default). nag: the LSTM's "
                          "output is added to a Nesterov momentum step (momentum 0.9) whose learning rate is "
                          "learned too (the digits default, as the shipped digits optimizer has).")
            base_lr = ps.number(k2, tkey(task, "lo_base_lr"), "Base learning rate",
                        format="%.4g", disabled=base == "none",
                        help="The base path's starting learning rate, then meta-learned. Start near tuned "
                             f"NAG's: this family's default is {get_family(task).base_lr:g}.")
    overrides = dict(meta_steps=int(meta_steps), seed=int(seed), batch=int(batch), reduction=reduction,
                     meta_lr=float(meta_lr),
                     lstm=preset_lstm(task, preset, preprocess=preprocess, base=base, base_lr=float(base_lr)))
    try:
        st.caption(estimate_caption(run_estimate(preset_config(preset, task=task, **overrides), preset)),
                   help="From speeds measured per preset on this project's 2-core server "
                        "(l2l_core/learned/estimates.py), scaled to the tasks per meta-step.")
    except ValueError as e:
        show_error(e)
    return preset, overrides


def start_job(task: str, preset: str, overrides: dict) -> None:
    cfg = preset_config(preset, task=task, **overrides)  # ValueError -> shown by the caller
    name = ("" if task == "quadratic" else f"{task}-") + f"{preset}-seed{cfg.seed}-{time.strftime('%Y%m%d-%H%M%S')}"
    # Private runs stay bounded on disk: this session's newest few, nobody's older than a week.
    prune_private(private_dir().parent, keep=PRIVATE_RUNS_KEPT - 1, max_age_s=PRIVATE_MAX_AGE_S)
    est = run_estimate(cfg, preset)  # before it starts: the cache's state is the one it will meet
    st.session_state.lo_job = TrainingJob(cfg, private_dir() / name, limiter=default_limiter(),
                                          idle_timeout=IDLE_STOP_SECONDS).start()
    st.session_state.lo_job_estimate = est


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
    "et al., 2016), or a small network on 8x8 handwritten digits, the paper's MNIST network scaled down. "
    "Train one below or use the shipped one, then race it against SGD, Adam, RMSprop and NAG, each "
    "given its best learning rate, and see where it stops generalizing."
)
task = family_picker(ps)
family = get_family(task)
busy = st.empty()  # a sign up here while a newly picked family's race computes further down
if st.session_state.get("lo_ready_family") != task:
    busy.info(f"Computing for {family.label}: the race below runs the learned optimizer and tunes four baselines "
              f"over {family.lr_points} learning rates ("
              + ("seconds" if family.is_quadratic else "up to a minute for a network") + " the first time).",
              icon=":material/hourglass_top:")

with st.container(border=True):
    st.subheader("Meta-train a new optimizer")
    if task in TRAINABLE:
        preset, overrides = settings_ui(task)
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

runs = list_runs(task)
st.subheader("Runs")
names = list(runs)
if st.session_state.get("lo_run") not in names:
    ps["lo_run"] = DEFAULT_LABEL
choice = ps.widget(st.selectbox, "lo_run", "Learned optimizer to evaluate", names,
                   help=f"The shipped default for {task} is `{family.default_checkpoint.name}` (see the Learned "
                        "optimizer notes for the command that trained it); your runs are listed newest first, "
                        "whatever family they were trained on.")
path = runs[choice]
if path.parent == private_dir():
    st.caption("Only this session lists this run.")
    if st.button("Share it: list it for everyone on this server", key="lo_share"):
        try:
            publish(path, RUNS_DIR)
            st.rerun()
        except ValueError as e:
            show_error(e)
try:
    ckpt = cached_checkpoint(str(path), mtime(path))
except ValueError as e:
    busy.empty()
    st.error(f"Cannot load {choice}: {e}")
    st.stop()
s = ckpt.summary
st.caption(f"Trained on {ckpt.config.task}: {s.get('meta_steps_done', '?')} meta-steps in "
           f"{s.get('seconds', float('nan')):.0f} s ({s.get('seconds_per_meta_step', float('nan')):.3f} s each); "
           f"best validation loss {s.get('best_val_loss') if s.get('best_val_loss') is not None else float('nan'):.4g}"
           f" at meta-step {s.get('best_step', '?')}; "
           f"task loss: {ckpt.config.reduction}; preprocessing: {ckpt.config.lstm.preprocess}"
           + (f"; {s['stopped']}" if s.get("stopped") else "")
           + (f"; fine-tuned from the run then saved in {s['init_from']}" if s.get("init_from") else ""))
if ckpt.config.lstm.base == "nag":
    st.caption(f"Its update is the LSTM's output plus a Nesterov momentum step (momentum "
               f"{ckpt.config.lstm.base_momentum:g}) at a learned learning rate of "
               f"{base_learning_rate(ckpt.params):.3g}: the LSTM learns a correction to NAG "
               "(docs/learned_optimizer.md, \"A base path\").")
if len(ckpt.curve.get("meta_loss", [])):
    with st.expander("Its meta-training curve"):
        c = ckpt.curve
        st.plotly_chart(meta_loss_figure(c["meta_loss"], c.get("final_loss"), c.get("val_steps"), c.get("val_loss")),
                        key="lo_ckpt_curve", config=chart_config(f"meta_training_curve_{choice}"))

st.subheader("Race on fresh tasks")
with ps:
    c1, c2, c3 = st.columns(3)
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
where = f"dim {res['dim']}" if family.is_quadratic else family.label
st.plotly_chart(comparison_figure(res["losses"], title=f"{res['batch']} tasks, {where}, seed {res['seed']}"),
                key="lo_compare", config=chart_config(f"comparison_{task}_{choice}_seed{eval_seed}_h{steps}_d{dim}"))
st.dataframe(pd.DataFrame(comparison_rows(res)), hide_index=True, key="lo_final_table",
             column_config={"best learning rate": st.column_config.NumberColumn(format="%.3g")})
test_metrics_table(res)
st.caption(f"Computed in {res['seconds']:.1f} s ({elapsed:.1f} s for this view, cache included). "
           f"Initial loss {res['initial']:.4g}" + ("." if family.is_quadratic else
                                                   ", each network's loss on its whole training split."))
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
    st.subheader("What-ifs: where does it stop generalizing?")
    st.markdown("The optimizer only ever saw 100-step runs on tasks of the trained dimension. Because it is "
                "coordinatewise it runs on any horizon and any dimension; whether its rule still works there is "
                "an experiment (same task seed as above; baselines re-tuned for each setting).")
    d0 = ckpt.config.dim
    settings = [(100, d0), (200, d0), (100, 2 * d0)]
    with ps:
        further = ps.widget(st.toggle, "lo_further",
                           "Push further: 1000 steps, dimensions 40 and 80 (compiles for ~30 s the first time)",
                            help="Where the shipped optimizer finally breaks down.")
    if further:
        settings += [(1000, d0), (100, 4 * d0), (100, 8 * d0)]
    rows, first_loss = [], None
    for h, d in settings:
        r = cached_compare(str(path), mtime(path), task, int(eval_seed), h, d)
        best = min((k for k in r["final"] if k != "lstm"), key=lambda k: r["final"][k])
        rel = r["final"]["lstm"] / r["final"][best] - 1
        label = f"{h} steps, dim {d}" + (" (as trained)" if (h, d) == (100, d0) else "")
        if rel >= 0 and first_loss is None:
            first_loss = (label, rel, best)
        rows.append({"setting": label, "LSTM": r["final"]["lstm"], "best tuned baseline": r["final"][best],
                     "which": best, "LSTM relative to it": f"{100 * rel:+.0f}%"})
    st.dataframe(pd.DataFrame(rows), hide_index=True,
                 column_config={"LSTM": st.column_config.NumberColumn(format="%.4g"),
                                "best tuned baseline": st.column_config.NumberColumn(format="%.4g")})
    if first_loss is None:
        st.markdown("Negative means the learned optimizer wins: on these tasks it still wins in every setting "
                    "listed" + ("." if further else "; switch on *Push further* to find where it breaks down."))
    else:
        st.markdown(f"Negative means the learned optimizer wins. It first loses at **{first_loss[0]}** "
                    f"({100 * first_loss[1]:+.0f}% against tuned {first_loss[2]}): larger tasks have larger "
                    "gradients and curvatures than any it was trained on, and its learned step sizes no longer fit, "
                    "while the baselines are re-tuned for every setting. Pick dimension 20 above to see the curves.")

job = st.session_state.get("lo_job")
generalization_section(ps, {d.name: d for d in training_job.runs_in(private_dir())
                            if not (job is not None and job.running and d == job.out_dir)})
