"""The Learned optimizer page's new-run form and its runs: each trainable family's settings
(page-state keys, defaults from its presets), the form's widgets and the estimate said before a
run starts, starting a run in this session's private folder, and the picker of the runs it can
race (the shipped one, this session's, the shared ones)."""

from __future__ import annotations

import os
import secrets
import time
from pathlib import Path

import streamlit as st

from l2l_core.learned import training_job
from l2l_core.learned.checkpoints import load_checkpoint
from l2l_core.learned.config import PRESETS, TASK_PRESETS, preset_config, preset_lstm
from l2l_core.learned.lstm import BASES, PREPROCESSORS, LSTMConfig, base_learning_rate
from l2l_core.learned.training_job import TrainingJob, prune_private, publish, records_file
from l2l_core.runtime.jobs import default_limiter
from l2l_core.tasks.families import TRAINABLE, get_family
from l2l_core.tasks.quadratics import REDUCTIONS
from l2l_core.viz.learned import meta_loss_figure
from ui.learned_training import IDLE_STOP_SECONDS, budget_sentence, estimate_caption, preset_estimate, run_estimate
from ui.learned_views import mtime
from ui.shared import chart_config, float_in, heavy, int_in, show_error
from ui.state import PageState, Param, choice_in


def tkey(task: str, base: str) -> str:
    """A setting that differs by trainable family (quadratics keep the names they always had)."""
    return base if task == "quadratic" else f"{base}_{task}"


def lr_key(task: str, preset: str) -> str:
    """The meta learning rate differs by preset (digits: 1e-2 short, 5e-3 full); short keeps the old name."""
    return tkey(task, "lo_meta_lr" if preset == "short" else f"lo_meta_lr_{preset}")


def family_form(task: str) -> dict[str, Param]:
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




def form_params() -> dict[str, Param]:
    """The page-state keys of a new run: the preset, every trainable family's own form, the seed and knobs."""
    return {"lo_preset": Param("preset", "short", choice_in(PRESETS)),
            **{k: v for task in TRAINABLE for k, v in family_form(task).items()},
            "lo_seed": Param("train_seed", 0, int_in(0, 2**31 - 1)),
            "lo_reduction": Param("reduction", REDUCTIONS[0], choice_in(REDUCTIONS)),
            "lo_preprocess": Param("preprocess", PREPROCESSORS[0], choice_in(PREPROCESSORS))}


def one_task_form(task: str) -> tuple[str, dict]:
    """A family of one trains with the short preset on its one task: the estimate, then (preset, overrides)."""
    try:
        est = run_estimate(preset_config("short", task=task), "short")
        st.caption(f"{task} is one task of the maps: a run learns an optimizer for that task alone (the short "
                   "preset, one copy per meta-step). " + estimate_caption(est))
    except ValueError as e:
        show_error(e)
    return "short", {}


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


def runs_dir() -> Path:
    """The server's runs folder (``L2L_RUNS_DIR``, default ``runs``), read on every use."""
    return Path(os.environ.get("L2L_RUNS_DIR", "runs"))


def private_dir() -> Path:
    """This session's own runs: nobody else lists them unless shared on purpose."""
    uid = st.session_state.setdefault("lo_uid", secrets.token_hex(8))
    return runs_dir() / "private" / uid


def list_runs(task: str) -> dict[str, Path]:
    """The family's shipped optimizer, this session's private runs, then the shared list."""
    return training_job.list_runs(get_family(task).default_checkpoint, private_dir(), runs_dir(), DEFAULT_LABEL)


def preset_help(task: str) -> str:
    """Each preset's length, budget and estimated time (the core's measured speeds)."""
    ests = {p: preset_estimate(task, p) for p in ("short", "full")}
    return " ".join(f"{p}: {est.requested} meta-steps, about {est.total_s:.0f} s here now "
                    f"({est.compile_s:.0f} s of it compiling). " + budget_sentence(est) for p, est in ests.items())


def settings_ui(ps: PageState, task: str) -> tuple[str, dict]:
    """Widgets of a new run on ``task`` (a trainable family) -> (preset, overrides)."""
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


def run_picker(ps: PageState, task: str, busy) -> tuple[str, Path, object]:
    """The learned optimizer to race: the family's shipped one, this session's runs, the shared ones;
    what it was trained on and its meta-training curve. Returns (its name, its folder, the checkpoint)."""
    family = get_family(task)
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
                publish(path, runs_dir())
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
    best = s.get("best_val_loss")
    st.caption(f"Trained on {ckpt.config.task}: {s.get('meta_steps_done', '?')} meta-steps in "
               f"{s.get('seconds', float('nan')):.0f} s ({s.get('seconds_per_meta_step', float('nan')):.3f} s each); "
               f"best validation loss {best if best is not None else float('nan'):.4g}"
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
            fig = meta_loss_figure(c["meta_loss"], c.get("final_loss"), c.get("val_steps"), c.get("val_loss"))
            st.plotly_chart(fig,
                            key="lo_ckpt_curve", config=chart_config(f"meta_training_curve_{choice}"))
    return choice, path, ckpt
