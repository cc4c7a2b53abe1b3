"""The landscape page's widgets and drawing: the sidebar read into a plain dict of settings, the
header, then each part of the post's view drawn from its cached result (:mod:`ui.landscape_compute`):
the heatmap with its outer runs, the summary metrics and downloads, the local shifts.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from l2l_core import landscape, outer, viz
from l2l_core.inner.diverge import divergence_cause
from l2l_core.io.files import csv_text
from l2l_core.landscape.summaries import SUMMARIES as SUMMARY_REGISTRY
from l2l_core.landscape.summaries import summaries_help
from l2l_core.viz.style import legend_below
from ui import general_view as gv
from ui import landscape_compute as lc
from ui import outer_panel as oui
from ui import pixel_pick
from ui import stability_view as sv
from ui.shared import chart_config, columns_csv, problem_picker, problem_slug, show_error, timing_caption
from ui.shared import npz_bytes as _npz
from ui.state import PageState

RESOLUTIONS = oui.RESOLUTIONS

#: Heatmap height: the whole chart fits a 1280x720 or 1024x768 projector below the title.
CHART_HEIGHT = 420


def header(general: bool) -> None:
    if general:
        st.title("Meta-loss landscape: any optimizer, any two hyperparameters")
        st.caption("Every pixel is one complete inner training run of the chosen task by the chosen optimizer, "
                   "coloured by its outer loss. A coarse image comes first, then the chosen resolution. Drag a box "
                   "on the heatmap to zoom in.")
    else:
        st.title("Meta-loss landscape: learning rate × momentum")
        st.caption("Every pixel is one complete inner training run (SGD with momentum on the 1-D problem), coloured "
                   "by its outer loss. Drag a box on the heatmap to zoom in; it is recomputed at full resolution.")
    with st.expander("How to read it"):
        text = (
            "Every pixel is one complete inner training run of the task by the optimizer, with the two "
            "hyperparameters of the axes set by its position (in display units: log10 v, or log10(1 − v) for "
            "the momentum-like ones, whose top is close to 1) and every other one at its value under "
            "\"Hyperparameters off the axes\" (the optimizer's default unless typed). Magenta cells diverged; "
            "the star is the best cell. Choosing the post's task, SGD, lr and momentum gives the post's view."
        ) if general else (
            "Every pixel is one complete inner training run: SGD with momentum on the 1-D problem, "
            "summarised by its outer loss (mean inner loss over the unroll). The horizontal axis is the "
            "learning rate, the vertical one `log10(1 − momentum)` (top: momentum 0.999, bottom: 0). "
            "The post's picture: smooth in places, but full of ripples, local minima and chaotic, "
            "fractal-looking regions, which is why tuning these two numbers by gradient descent is hard."
        )
        st.markdown(text)


def sidebar(ps: PageState) -> dict:
    """The sidebar's settings -> plain values."""
    w = ps.widget
    with st.sidebar, ps:
        st.header("Landscape")
        problem = gv.pickers(ps, problem_picker)
        general = not gv.is_post_plane() or st.session_state["reduce"] not in landscape.POST_SUMMARIES
        w(st.select_slider, "res", "Resolution (cells per axis)", RESOLUTIONS,
          help="The post uses 2000 x 2000. Display is subsampled to at most "
               f"{viz.MAX_DISPLAY} per axis; downloads keep full resolution.")
        s = st.session_state
        if not general or (problem and sv.applies(problem, s["g_opt"], s["g_x"], s["g_y"])):
            sv.toggle(ps)
        if not general:
            c1, c2 = st.columns(2)
            typed = dict(step=0.5, on_change=oui.leave_zoom)
            ps.number(c1, "lr_lo", "log10 lr from", help="The post: -3 (lr = 0.001).", **typed)
            ps.number(c2, "lr_hi", "log10 lr to", help="The post: 2 (lr = 100).", **typed)
            ps.number(c1, "mom_lo", "log10(1-mom) from", help="The post: -3 (momentum 0.999).", **typed)
            ps.number(c2, "mom_hi", "log10(1-mom) to", help="The post: 0 (momentum 0).", **typed)
        stack = st.session_state.get(oui.ZOOM_KEY) or []
        if stack and not general:
            lo, hi, mlo, mhi = stack[-1]
            deep = f"{len(stack)} level{'s' if len(stack) > 1 else ''} deep"
            st.caption(f"Zoomed in ({deep}): the heatmap shows log10 lr {lo:.6g} to {hi:.6g}, "
                       f"log10(1-mom) {mlo:.6g} to {mhi:.6g}. "
                       "The ranges above are the whole view; typing one leaves the zoom.")
        ps.number(st, "cap", "Colour cap", step=1.0,
          help="Outer losses above this saturate the colour scale (the post uses 10).")
        with st.expander("Inner run"):
            if st.session_state["g_task"] == gv.ONE_D:  # 2-D tasks and networks start where they are defined to
                ps.number(st, "x0", "Initial x0", step=0.5, help="The post starts at -4.")
            w(st.slider, "steps", "Inner steps", 1, 500, help="Length of each unroll. The post uses 50.")
            if st.session_state["reduce"] not in gv.summary_choices(problem):
                ps["reduce"] = "mean"
            w(st.selectbox, "reduce", "Outer loss", gv.summary_choices(problem),
              format_func=lambda r: SUMMARY_REGISTRY[r].label,
              help=summaries_help(gv.summary_choices(problem), "How a run's inner losses are summarised into one "
                                  "number (the convergence measure only on tasks whose loss stays positive)."))
        oui.outer_sidebar(ps)
        ps.link_panel()
    s = st.session_state
    return dict(problem=problem, general=general, res=int(s["res"]), cap=float(s["cap"]), x0=float(s["x0"]),
                inner_steps=int(s["steps"]), summary=s["reduce"])


def outer_runs_view(cfg: dict) -> list[dict]:
    """Every (method, start, seed) run, one batch per method; errors are shown, the heatmap still draws."""
    try:
        return lc.outer_runs(st.session_state, cfg["problem"], cfg["x0"], cfg["inner_steps"], cfg["summary"])
    except ValueError as e:
        show_error(e)
        return []


def heatmap_view(cfg, window, frame, data, seconds, wall, runs, best) -> None:
    """The heatmap across the main area (legible on a projector), the runs' loss curves below it."""
    log_lrs, log_omm, z, precision = data
    slug = problem_slug(cfg["problem"])
    fig = viz.landscape_outer_figure(z, log_lrs, log_omm, cap=cfg["cap"], frame=frame, runs=runs,
                                               best=best, max_display=viz.MAX_DISPLAY)
    fig.update_layout(height=CHART_HEIGHT, title=None, margin=dict(t=10, b=10))
    theory = sv.draw(fig, cfg["problem"], "sgd", "lr", "momentum", (log_lrs[0], log_lrs[-1]), log_omm,
                     x0=cfg["x0"], frame=frame, hover_x="log10 lr", hover_y="log10(1-mom)")
    legend_below(fig)  # the modebar (top right) would cover a legend above the plot
    st.plotly_chart(fig, key="landscape_chart", on_select=oui.on_box_select, selection_mode=("points", "box"),
                    config=chart_config(f"meta_loss_{slug}_{cfg['res']}x{cfg['res']}"))
    if theory:
        st.caption(theory)
    pixel_pick.resolve_pending("landscape_chart", window, log_lrs, log_omm, lambda i, j: post_cell(cfg, data, i, j))
    pixel_pick.panel("landscape_chart")
    timing_caption(seconds, wall, what=f"{z.size:,} inner runs computed in {precision}")
    if runs:
        st.plotly_chart(viz.outer_loss_curves_figure(runs, cap=cfg["cap"]).update_layout(height=420),
                        key="outer_curves", config=chart_config(f"outer_loss_curves_{slug}"))
        st.download_button("Download the runs (NPZ)", lambda: _npz(**{
            f"{r['method']}_{i}_{k}": r[k] for i, r in enumerate(runs) for k in ("trajectory", "losses")}),
            file_name=f"outer_runs_{slug}.npz", mime="application/octet-stream",
            help="Each run's trajectory (log10 lr, log10(1-mom)) and outer losses, in the order of the legend.")


def post_cell(cfg, data, i, j) -> dict:
    """Row i, column j of the post's grid: the run it is (raw lr and momentum) and its outer loss."""
    log_lrs, log_omm, z, _ = data
    x, y = float(log_lrs[j]), float(log_omm[i])
    lr, mom = float(10.0 ** x), float(1.0 - 10.0 ** y)
    v = float(z[i, j])
    return dict(label=f"lr = {lr:.6g}, momentum = {mom:.6g} (log10 lr {x:.6g}, log10(1-mom) {y:.6g})",
                value=f"outer loss {v:.6g}" if np.isfinite(v) else "diverged",
                query_args=dict(task=cfg["problem"], optimizer="sgd", hparams={"lr": lr, "momentum": mom},
                                steps=cfg["inner_steps"], seed=0, x0=cfg["x0"]))


def summary_view(cfg, data, best) -> None:
    log_lrs, log_omm, z, _ = data
    n_nan = int(np.isnan(z).sum())
    if n_nan == z.size:
        st.warning(f"Every run in this view diverged: {divergence_cause(cfg['problem'], cfg['x0'])}.",
                   icon=":material/warning:")
    (c1, c2), (c3, c4) = st.columns(2), st.columns(2)  # two a row: long values stay whole at 1024 px
    if best is not None:
        c1.metric("best learning rate", f"{10 ** best[0]:.4g}", help=f"log10 learning rate = {best[0]:.6g}")
        c2.metric("best momentum", f"{1 - 10 ** best[1]:.4g}", help=f"log10(1 - momentum) = {best[1]:.6g}")
        c3.metric("best outer loss", f"{best[2]:.4f}")
    c4.metric("diverged cells", f"{n_nan:,} ({100 * n_nan / z.size:.1f}%)",
              help=f"Runs that became non-finite, drawn in magenta ({viz.DIVERGED_COLOR}).")

    def npz_bytes() -> bytes:
        return _npz(loss=z, log_lrs=log_lrs, log_one_minus_moms=log_omm)

    name = f"meta_loss_{problem_slug(cfg['problem'])}_{cfg['res']}x{cfg['res']}"
    d1, d2 = st.columns(2)
    d1.download_button("Download full grid (NPZ)", npz_bytes, file_name=name + ".npz",
                       mime="application/octet-stream",
                       help="Arrays loss (rows: momentum, columns: lr), log_lrs, log_one_minus_moms.")
    d2.download_button("Download full grid (CSV)",
                       lambda: csv_text({"loss": z, "log_lrs": log_lrs, "log_one_minus_moms": log_omm}),
                       file_name=name + ".csv", mime="text/csv",
                       help="First row: log10 lr; first column: log10(1 - momentum); NaN = diverged.")


def end_points_view(cfg, runs, z) -> None:
    st.subheader("Where each run ended")
    rows = [dict(run=r["label"], **{"end log10 lr": float(r["trajectory"][-1][0]),
                                    "end log10(1-mom)": float(r["trajectory"][-1][1]),
                                    "end outer loss": r["end_loss"],
                                    "better than % of this view": outer.landscape_percentile(r["end_loss"], z)})
            for r in runs]
    st.dataframe(rows, hide_index=True)
    st.subheader("Local shifts: why gradient descent stopped there")
    st.caption("The post's plot: the outer loss along ±0.05 in log10 lr and in log10(1 − momentum) around a "
               "run's end point. Ripples this sharp trap clipped gradient descent; ES sees them smoothed.")
    labels = [r["label"] for r in runs]
    # A long list of runs would be a wall of radio buttons: a selectbox then.
    chooser = st.radio if len(labels) <= 6 else st.selectbox
    kw = dict(horizontal=True) if chooser is st.radio else {}
    pick = chooser("End point of", labels, key="o_shift", **kw)
    r = runs[labels.index(pick)] if pick in labels else runs[0]
    tag = f"{r['method']}_{r['start'][0]:g}_{r['start'][1]:g}"
    try:
        curves = outer.local_shift(r["trajectory"][-1], problem=cfg["problem"], x0=cfg["x0"],
                                   inner_steps=cfg["inner_steps"], summary=cfg["summary"])
        st.plotly_chart(viz.local_shift_figure(curves, title=f"local shifts around the end of {pick}"),
                        key="local_shift", config=chart_config(f"local_shift_{tag}"))
        st.download_button("Download the local shifts (CSV)", columns_csv(**curves),
                           file_name=f"local_shift_{tag}.csv", mime="text/csv")
    except ValueError as e:
        show_error(e)
