"""Sections of the Learned optimizer page that follow the task family: the family picker, the
held-out metrics of a network comparison, and "Where it generalizes" (the map from its file, the
failures in words, one cell recomputed live). Thin: widgets -> cached core calls -> figures."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pandas as pd
import streamlit as st

from l2l_core import tasks
from l2l_core.learned.checkpoints import checkpoint_file, load_checkpoint
from l2l_core.learned.generalization import CELLS, SHIPPED_OPTIMIZERS, evaluate_cell, failures
from l2l_core.tasks.families import CHECKPOINTS_DIR, TASK_FAMILIES, TRAINABLE
from l2l_core.viz import train_test
from l2l_core.viz.generalization import OPTIMIZER_LABELS, generalization_csv, generalization_figure, generalization_rows
from l2l_core.viz.learned import LABELS
from ui.shared import chart_config, heavy, show_error
from ui.state import PageState, Param, choice_in

#: The map as ``python -m l2l_core generalization --out checkpoints/generalization.json`` wrote it.
MAP_FILE = CHECKPOINTS_DIR / "generalization.json"
CELL_KEYS = [c.key for c in CELLS]
#: What the page races on: the named families, then every task of the maps as a family of one.
RACE_TASKS = list(TASK_FAMILIES) + [n for n in tasks.names("learned") if n not in TASK_FAMILIES]
OWN = "your run "  # the name of one of this session's runs on a recomputed cell starts with it


def mtime(path: Path) -> float:
    f = checkpoint_file(path)
    return f.stat().st_mtime if f.is_file() else 0.0


@st.cache_data(max_entries=32, show_spinner=False)
def cached_compare(path: str, mtime: float, task: str, seed: int, steps: int, dim: int | None) -> dict:
    """The page's race on fresh tasks (the tour's "Does it beat Adam?" reads the same)."""
    from l2l_core.learned.training_job import compare_file

    return heavy(compare_file, path, mtime, task=task, seed=seed, steps=steps, dim=dim)


def family_params() -> dict[str, Param]:
    """The page-state keys of this module: the task family and the map's cell."""
    return {"lo_task": Param("task", "quadratic", choice_in(RACE_TASKS)),
            "lo_cell": Param("cell", "quadratic_d20", choice_in(CELL_KEYS))}


def family_help() -> str:
    lines = [f"- **{name}**: {f.label}" + ("" if name in TRAINABLE else " (compare only: train on digits_mlp)")
             for name, f in TASK_FAMILIES.items()]
    lines.append("- **any task of the maps** (rosenbrock, log_sin, tanh_net, ...): a family of one. The race is "
                 "that one task, and an optimizer trained on it learns that task alone.")
    return "What the optimizer is trained on and raced on:\n\n" + "\n".join(lines)


def race_label(name: str) -> str:
    """What the picker shows for ``name``: a family's label, or a task's title from the registry
    (without building its family of one: the picker lists them all on every run)."""
    return TASK_FAMILIES[name].label if name in TASK_FAMILIES else tasks.get(name).title


def family_picker(ps: PageState) -> str:
    """The task family of the whole page; returns its name."""
    with ps:
        task = ps.widget(st.selectbox, "lo_task", "Task family", RACE_TASKS,
                         format_func=lambda n: f"{n}: {race_label(n)}", help=family_help())
    return task


def test_metrics_table(res: dict) -> None:
    """Held-out test loss and accuracy of every optimizer after a network comparison."""
    if "test" not in res:
        return
    rows = [{"optimizer": LABELS.get(k, k), "training loss": res["final"][k],
             "test loss": v.get("test_loss"), "test accuracy": v.get("test_accuracy")}
            for k, v in sorted(res["test"].items(), key=lambda kv: res["final"][kv[0]])]
    st.markdown("On the held-out test images (never used by any optimizer, nor to tune the baselines):")
    st.dataframe(pd.DataFrame(rows), hide_index=True, key="lo_test_table",
                 column_config={c: st.column_config.NumberColumn(format="%.4g")
                                for c in ("training loss", "test loss", "test accuracy")})
    st.markdown("**Training loss against test loss:**\n\n" + "\n".join(
        f"- {line}" for line in train_test.comparison_lines(res, labels=LABELS)))


# -- the generalization map --------------------------------------------------------------------


@st.cache_data(max_entries=4, show_spinner=False)
def load_map(path: str, mtime: float) -> dict:
    """The map file (JSON only: data, never code)."""
    with open(path, encoding="utf-8") as f:
        res = json.load(f)
    if not isinstance(res, dict) or not isinstance(res.get("rows"), list) or not res["rows"]:
        raise ValueError(f"{path} is not a generalization map")
    return res


def cell_file(cell_key: str, seed: int, batch, lr_points, paths: tuple) -> dict:
    """One cell computed now, with the shipped optimizers loaded from their files."""
    cell = next(c for c in CELLS if c.key == cell_key)
    optimizers = {name: load_checkpoint(p) for name, p in paths}
    return evaluate_cell(cell, optimizers, seed=seed, batch=batch, lr_points=lr_points)


@st.cache_data(max_entries=16, show_spinner=False)
def cached_cell(cell_key: str, seed: int, batch, lr_points, paths: tuple, mtimes: tuple) -> dict:
    return heavy(cell_file, cell_key, seed, batch, lr_points, paths)


def _mtime(path: Path) -> float:
    f = checkpoint_file(path)
    return f.stat().st_mtime if f.is_file() else 0.0


def _ratio(r: dict) -> str:
    return "diverged" if r["diverged"] else f"{r['ratio']:.3g}x ({r['verdict']})"


def verdict_lines(res: dict) -> list[str]:
    """One sentence per learned optimizer: where it loses, diverges and wins (ratio to the best baseline)."""
    out = []
    for name in res["rows"][0]["learned"]:
        by = {"wins": [], "loses": [], "diverged": []}
        for row in res["rows"]:
            r = row["learned"][name]
            home = ", its training setting" if row.get("trained_on") == name else ""
            by[r["verdict"]].append(row["label"] + (f" ({home[2:]})" if r["diverged"] and home else "")
                                    + ("" if r["diverged"] else f" ({r['ratio']:.3g}x{home})"))
        parts = [f"It diverges on {'; '.join(by['diverged'])}."] if by["diverged"] else []
        parts.append(f"It loses on {len(by['loses'])} of {len(res['rows'])} settings"
                     + (f": {'; '.join(by['loses'])}." if by["loses"] else "."))
        parts.append(f"It wins on {'; '.join(by['wins'])}." if by["wins"] else "It wins nowhere.")
        out.append(f"**{OPTIMIZER_LABELS.get(name, name)}.** " + " ".join(parts))
    return out


def generalization_section(ps: PageState, own: dict[str, Path] | None = None) -> None:
    """The map; ``own``: this session's finished runs (name -> folder), which a recomputed cell can run too."""
    st.subheader("Where it generalizes")
    st.markdown("Both shipped optimizers, weights frozen, on every setting of the map (Andrychowicz et al., "
                "section 3.2), against SGD, Adam, RMSprop and NAG each tuned over its learning rate on the very "
                "same tasks. A bar is the learned optimizer's final training loss divided by the best tuned "
                "baseline's: left of the dashed line it wins, right of it it loses. On the networks the test "
                "loss can disagree; the table has both, and the sentences below say where.")
    try:
        res = load_map(str(MAP_FILE), MAP_FILE.stat().st_mtime)
    except (OSError, ValueError) as e:
        st.warning(f"No generalization map to show ({e}). Make it with "
                   f"`python -m l2l_core generalization --out {MAP_FILE.relative_to(CHECKPOINTS_DIR.parent)}`.")
        return
    st.plotly_chart(generalization_figure(res), key="lo_map", config=chart_config("generalization_map"))
    st.caption(f"From `{MAP_FILE.relative_to(CHECKPOINTS_DIR.parent)}`, made by "
               f"`{res.get('command', 'python -m l2l_core generalization')}` "
               f"on {res.get('created', 'an unrecorded date')}: task seed {res.get('seed', 0)}, "
               f"{len(res['rows'])} settings in {res.get('seconds', float('nan')) / 60:.0f} minutes. "
               "Too slow to compute on every visit; recompute any setting below to check it.")
    with st.expander("The map as a table"):
        st.dataframe(pd.DataFrame(generalization_rows(res)), hide_index=True, key="lo_map_table")
        st.download_button("Download the map (CSV)", generalization_csv(res), file_name="generalization_map.csv",
                           mime="text/csv", key="lo_map_csv")
    fails = res.get("failures") or failures(res)
    st.markdown(f"**Where it fails, plainly, and where it wins** "
                f"({len(fails)} of {len(res['rows']) * len(SHIPPED_OPTIMIZERS)} runs lose to a "
                "tuned baseline or diverge):\n\n" + "\n".join(f"- {line}" for line in verdict_lines(res)))
    flips = train_test.map_lines(res, OPTIMIZER_LABELS)
    if flips:
        st.markdown("**Where training loss and test loss disagree** (networks, against the best tuned baseline "
                    "on training loss):\n\n" + "\n".join(f"- {line}" for line in flips))
    with st.expander("Every failure, one sentence each"):
        st.markdown("\n".join(f"- {f}" for f in fails) or "None.")
    recompute_cell(ps, res, own or {})


def recompute_cell(ps: PageState, res: dict, own: dict[str, Path]) -> None:
    """Recomputes one chosen cell now, through the job limit, beside the file's numbers; with up to
    two of this session's own runs (``own``) beside the shipped optimizers."""
    by_key = {r["key"]: r for r in res["rows"]}
    with ps:
        key = ps.widget(st.selectbox, "lo_cell", "Recompute one setting live", CELL_KEYS,
                        format_func=lambda k: next(c.label for c in CELLS if c.key == k),
                        help="Runs both shipped optimizers and tunes the four baselines on this setting's tasks "
                             "now, with the file's seed and sizes: the numbers are computed, not stored. "
                             "Quadratics take seconds, networks about a minute (1000 steps: several).")
    old = by_key.get(key)
    picked = []
    if own:
        picked = st.multiselect("Beside them: your own runs", list(own), key="lo_cell_own", max_selections=2,
                                help="Optimizers trained on this page in this session (finished runs), run on "
                                     "this setting's tasks with the shipped ones; newest first.")
    else:
        st.caption("An optimizer you train above can be run here too, beside the shipped ones, once it finishes.")
    shown = st.session_state.setdefault("lo_cells_recomputed", set())  # cells this session asked for
    if st.button("Recompute it", key="lo_recompute",
                 help="Waits for a free slot of the server's job limit like every heavy computation."):
        shown.add(key)
    if key not in shown:
        return
    paths = tuple((name, str(TASK_FAMILIES[name].default_checkpoint)) for name in SHIPPED_OPTIMIZERS)
    paths += tuple((f"{OWN}{n}", str(own[n])) for n in picked if n in own)
    t0 = time.perf_counter()
    with st.spinner(f"Tuning four baselines and running {len(paths)} learned optimizers..."):
        try:
            new = cached_cell(key, int(res.get("seed", 0)), old.get("batch") if old else None, None, paths,
                              tuple(_mtime(Path(p)) for _, p in paths))
        except ValueError as e:  # the server is busy, or the person stopped it
            show_error(e)
            return
    rows = []
    for name in new["learned"]:
        rows.append({"optimizer": OPTIMIZER_LABELS.get(name, name), "final loss now": new["learned"][name]["final"],
                     "vs best baseline now": _ratio(new["learned"][name]),
                     "in the file": _ratio(old["learned"][name]) if old and name in old["learned"] else "-"})
    rows.append({"optimizer": f"best tuned baseline ({new['best_baseline']})",
                 "final loss now": new["best_baseline_final"], "vs best baseline now": "1x",
                 "in the file": f"{old['best_baseline']} {old['best_baseline_final']:.4g}" if old else "-"})
    st.dataframe(pd.DataFrame(rows), hide_index=True, key="lo_cell_table",
                 column_config={"final loss now": st.column_config.NumberColumn(format="%.4g")})
    st.caption(f"{new['label']}: computed in {new['seconds']:.1f} s ({time.perf_counter() - t0:.1f} s for this view, "
               f"cache included), {new['batch']} tasks, {new['steps']} steps.")


def what_ifs(ps: PageState, path: Path, ckpt, task: str, eval_seed: int) -> None:
    """Longer horizons and larger dimensions than a quadratic optimizer was trained on, each raced
    against baselines re-tuned for it: where it first loses."""
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
