"""The Learned optimizer page's training panel: the time estimate said before a run starts
(from the core's measured speeds, l2l_core.learned.estimates), and the live progress of a
run, whose bar runs to the end of its meta-steps or of its time budget."""

from __future__ import annotations

import time

import streamlit as st

from l2l_core.learned.config import MetaTrainConfig, preset_config
from l2l_core.learned.estimates import Estimate, estimate, progress_fraction
from l2l_core.learned.training_job import TrainingJob
from l2l_core.viz.learned import meta_loss_figure
from ui.shared import chart_config

#: A training whose page has not redrawn for this long (tab closed) stops, keeping its best parameters.
IDLE_STOP_SECONDS = 120.0
CACHE_WORDS = {"memory": "compiling nothing (this server compiled this meta-step already)",
               "disk": "loading the compiled meta-step from this server's compile cache",
               "cold": "compiling the meta-step (the first time on this server; the bar moves with the clock)"}


def budget_sentence(est: Estimate) -> str:
    """What stops the run, said before it starts."""
    if est.budget_s and est.stopped_by_budget:
        return (f"It stops after about {est.meta_steps} of its {est.requested} meta-steps: its time budget is "
                f"{est.budget_s:.0f} s, compiling included, and it keeps its best parameters.")
    if est.budget_s:
        return (f"It stops after about {est.meta_steps} meta-steps, all it asks for, within its time budget of "
                f"{est.budget_s:.0f} s.")
    return f"It stops after {est.meta_steps} meta-steps (no time budget)."


def estimate_caption(est: Estimate) -> str:
    return (f"Estimated time: about {est.total_s:.0f} s: {est.compile_s:.0f} s {CACHE_WORDS[est.cache]} and "
            f"{est.train_s:.0f} s for {est.meta_steps} meta-steps at about {est.per_step_s:.2g} s each "
            f"(speeds measured on a 2-core server idle and busy, taken at this server's present load of "
            f"{est.load:.1f} per core); longer if more runs start. "
            + budget_sentence(est))


def preset_estimate(task: str, preset: str) -> Estimate:
    return estimate(preset_config(preset, task=task), preset)


def run_estimate(cfg: MetaTrainConfig, preset: str) -> Estimate:
    return estimate(cfg, preset)


def stop_job() -> None:
    job = st.session_state.get("lo_job")
    if job is not None:
        job.stop()


def _bar(job: TrainingJob, state: str, message: str, progress) -> None:
    est: Estimate | None = st.session_state.get("lo_job_estimate")
    budget = job.cfg.max_seconds
    total = job.cfg.meta_steps
    if state != "running":
        done = progress.done if progress is not None else 0
        if state == "done":
            text = f"Finished: all {total} meta-steps."
        else:
            why = " by its time budget" if "time budget" in message else ""
            text = f"Stopped{why} after {done} of {total} meta-steps."
        st.progress(1.0, text=text)
        return
    elapsed = time.time() - job.started
    done = progress.done if progress is not None else 0
    frac = progress_fraction(done, total, elapsed, budget)
    expect = f"; expected to stop after about {est.meta_steps}" if est is not None else ""
    clock = f"{elapsed:.0f} s of its {budget:.0f} s budget" if budget else f"{elapsed:.0f} s"
    if progress is None:  # the first chunk: XLA compiles the meta-step, nothing trained yet
        about = f" (about {est.compile_s:.0f} s)" if est is not None else ""
        text = f"Compiling the meta-step{about}, {clock}; training starts right after{expect}."
    else:
        text = f"Meta-training: {message}, {clock}{expect}."
    st.progress(frac, text=text)


def job_panel() -> None:
    """Progress bar, live meta-loss curve, status; reruns itself while training."""
    job: TrainingJob | None = st.session_state.get("lo_job")
    if job is None:
        return
    job.touch()
    state, message, progress, _ = job.snapshot()
    if state != "failed":
        _bar(job, state, message, progress)
    if state == "running":
        st.button("Stop", key="lo_stop", on_click=stop_job, type="secondary",
                  help="Stops after the current chunk and keeps the best parameters so far.")
        st.caption(f"It shares the server's job slots chunk by chunk, and stops (keeping its best "
                   f"parameters) if this page stays closed for {IDLE_STOP_SECONDS:.0f} s.")
    elif state == "failed":
        st.error(f"Meta-training failed: {message}")
    else:
        (st.success if state == "done" else st.info)(f"Run {job.out_dir.name}: {message}")
    if progress is not None and len(progress.meta_loss):
        st.plotly_chart(meta_loss_figure(progress.meta_loss, progress.final_loss, progress.val_steps,
                                         progress.val_loss, title="Meta-loss, live"), key="lo_live",
                        config=chart_config("meta_loss_live"))
    if state != "running" and not st.session_state.get("lo_job_seen_end"):
        st.session_state.lo_job_seen_end = True
        if state != "failed":
            st.session_state.lo_run = job.out_dir.name  # select the new run below
        st.rerun()  # refresh the run list with the new checkpoint
