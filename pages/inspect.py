"""Open a pixel: one run of a map, its curvature against the optimizer's threshold (the edge of
stability), and the landscape it crossed; a second pixel beside it."""

from ui.adapter import through_router

through_router(__file__)

import json
import time

import numpy as np
import streamlit as st

from l2l_core.viz import probe as viz
from ui import inspect_state as ist
from ui.inspect_compute import run_pixel, run_slices
from ui.shared import columns_csv, npz_bytes, plotly_chart, show_error
from ui.state import PROJECTOR_CSS

st.html(f"<style>{PROJECTOR_CSS}</style>")
notes = ist.load_link()

st.title("Open a pixel")
st.markdown(
    "Every pixel of a map is a whole training run. Here one run is opened: the run itself, the top Hessian "
    "eigenvalues of the full training loss along it against the optimizer's stability threshold (2/lr for "
    "gradient descent; a run whose curvature stays above it cannot settle), and, for a network, the landscape "
    "it crossed. Switch on a second pixel to put a trained run next to a diverged one.")
for note in notes:
    st.warning(note, icon=":material/link_off:")

with st.sidebar:
    st.header("Open a pixel")
    a = ist.pixel_widgets("")
    st.subheader("Curvature and slices")
    view = ist.view_widgets()
    st.subheader("Second pixel")
    compare = st.toggle("Compare with a second pixel", key="px_compare", on_change=ist.second_from_first,
                        help="Opens a second run beside the first. It starts as the first with the learning rate(s) "
                             "doubled; change anything. Its settings are in the URL with the suffix _b.")
    b = None
    if compare:
        b = ist.pixel_widgets("_b")
    ist.remember()
    ist.write_url(a, b if compare else None, view)

if a is None or (compare and b is None):
    st.error("A typed formula is not accepted; the reason is beside it in the sidebar.", icon=":material/error:")
    st.stop()


def _slug(p: dict, sfx: str) -> str:
    name = p["task"] if p["task"] in ist.TASKS else "formula"
    return f"pixel{sfx}_{name}_{p['optimizer']}"


def _describe(p: dict) -> str:
    hp = ", ".join(f"{k} = {v:g}" for k, v in p["hparams"].items())
    x0 = "" if p["x0"] is None else f", from {', '.join(f'{v:g}' for v in p['x0'])}"
    return f"**{p['task']}**, {p['optimizer']} ({hp}), {p['steps']} steps, seed {p['seed']}{x0}"


def show_pixel(p: dict, sfx: str) -> None:
    slug = _slug(p, sfx)
    st.markdown(_describe(p))
    slice_n = view["sres"] if p["dim"] > 2 else 0
    try:
        with st.spinner("Training and measuring the curvature ..."):
            args = (p["task"], p["optimizer"], tuple(sorted(p["hparams"].items())), p["steps"], p["seed"], p["x0"],
                    view["every"], view["k"])
            tic = time.perf_counter()
            r, _ = run_pixel(*args, 0, 1.0)
            wall = time.perf_counter() - tic
    except Exception as e:  # ValueError from the core (said as it is), or the job limit's Cancelled / ServerBusy
        show_error(e)
        return
    loss = r["loss"]
    final = loss[-1]
    diverged = viz.diverged_at(loss)
    st.metric("final training loss", "diverged" if diverged is not None else f"{final:.4g}",
              help="The full-batch training loss after the last step (diverged: it left the finite numbers).")

    st.markdown("##### The run")
    if p["kind"] == "1d":
        fig = viz.run_1d_figure(loss, r["path"])
    elif p["kind"] == "2d":
        fig = viz.contour_figure(r["contour_x"], r["contour_y"], r["contour_loss"], r["path"])
    else:
        fig = viz.loss_figure(loss)
    plotly_chart(fig, key=f"insp{sfx}_run_chart", filename=f"{slug}_run")

    st.markdown("##### Curvature against the threshold")
    plotly_chart(viz.curvature_figure(r), key=f"insp{sfx}_curv_chart", filename=f"{slug}_curvature")
    st.info(viz.curvature_sentence(r), icon=":material/insights:")

    sl = None
    if slice_n:
        st.markdown("##### The landscape it crossed")
        try:
            with st.spinner(f"Slicing the landscape around the end point ({slice_n}x{slice_n} cells, twice) ..."):
                sl, slice_wall = run_slices(*args, slice_n, view["span"])
        except Exception as e:  # a run diverged at its start, or the job limit
            show_error(e)
            sl = None
        if sl is not None:
            r = dict(r, **sl, seconds=dict(r["seconds"], slice=slice_wall))
    if slice_n and sl is not None:
        center = (0.0, 0.0)
        plotly_chart(viz.slice_figure(r["slice_a"], r["slice_b"], r["slice_loss"], center=center,
                                      title="around the end point: two filter-normalized random directions",
                                      x_title="a (direction 1)", y_title="b (direction 2)"),
                     key=f"insp{sfx}_slice_chart", filename=f"{slug}_slice")
        ex = r["pca_explained"]
        plotly_chart(viz.slice_figure(r["pca_slice_a"], r["pca_slice_b"], r["pca_slice_loss"], path=r["pca_path"],
                                      center=center, title=f"the path on its top-2 PCA directions ({ex[0]:.0%} and "
                                      f"{ex[1]:.0%} of its variance)", x_title=f"PCA 1 ({ex[0]:.1%})",
                                      y_title=f"PCA 2 ({ex[1]:.1%})"),
                     key=f"insp{sfx}_pca_chart", filename=f"{slug}_pca")
        st.caption(f"The two PCA directions explain {ex[0] + ex[1]:.1%} of the variance of the path's checkpoints "
                   "around the end point; a random plane would show the path as a dot.")
        plotly_chart(viz.interpolation_figure(r["interp_alpha"], r["interp_loss"]), key=f"insp{sfx}_interp_chart",
                     filename=f"{slug}_interpolation")
    elif p["dim"] > 2 and not slice_n:
        st.caption("Slices are off (slice resolution 0).")

    sec = r["seconds"]
    parts = ", ".join(f"{k} {v:.2f} s" for k, v in sec.items() if v > 0 or k != "slice")
    cached = wall < 0.5 * sum(sec.values())
    st.caption(f"Computed in {sum(sec.values()):.2f} s ({parts}){' (served from the cache)' if cached else ''}; "
               f"{r['meta']['dim']} parameter{'s' * (r['meta']['dim'] != 1)}, Lanczos {r['meta']['lanczos_iters']} "
               "steps per checkpoint. "
               "The first run of a task or a new number of steps per chunk compiles first (several seconds).")
    arrays = {k: v for k, v in r.items() if k not in ("meta", "seconds") and isinstance(v, np.ndarray)}
    arrays["meta"] = np.asarray(json.dumps(dict(r["meta"], seconds=sec)))
    steps_all = np.arange(loss.size)
    curves = {"step": steps_all, "loss": loss}
    curve_at = np.full(loss.size, np.nan)
    sharp = np.asarray(r["sharpness"])
    for i in range(sharp.shape[1]):
        col = curve_at.copy()
        col[r["sharpness_steps"]] = sharp[:, i]
        curves[f"eig{i + 1}"] = col
    if "precond_sharpness" in r:
        col = curve_at.copy()
        col[r["sharpness_steps"]] = np.asarray(r["precond_sharpness"])[:, 0]
        curves["precond_sharpness"] = col
    curves["threshold"] = np.full(loss.size, float(r["threshold"]))
    d1, d2 = st.columns(2)
    d1.download_button("Run (NPZ)", npz_bytes(**arrays), f"{slug}.npz", "application/octet-stream",
                       key=f"insp{sfx}_dl_npz", help="Every array of the run (loss, sharpness_steps, sharpness, params "
                       "at the checkpoints, threshold, slices) and its settings as JSON (meta).")
    d2.download_button("Curves (CSV)", columns_csv(**curves), f"{slug}_curves.csv", "text/csv",
                       key=f"insp{sfx}_dl_csv", help="One row per step: the loss, the top-k eigenvalues and the "
                       "preconditioned sharpness where measured (nan between checkpoints), and the threshold.")


if compare:
    col_a, col_b = st.columns(2)
    with col_a:
        st.subheader("First pixel")
        show_pixel(a, "")
    with col_b:
        st.subheader("Second pixel")
        show_pixel(b, "_b")
else:
    show_pixel(a, "")
