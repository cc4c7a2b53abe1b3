"""The tour's cached computations: small, hashable inputs only, so every step
draws in about a second and repeats come from the cache. A step that links
into a full page computes its numbers with that page's own cached call and the
settings its link carries (:func:`landscape_grid`, :func:`landscape_runs`), so
the page it opens shows the same numbers."""

from __future__ import annotations

from urllib.parse import urlencode

import numpy as np
import streamlit as st
from streamlit.errors import StreamlitAPIException

from l2l_core import outer
from l2l_core.tasks.problems import PROBLEMS
from ui import landscape_compute as lc
from ui.shared import heavy

STARTS = {"(-2, -0.5): the post's first start": (-2.0, -0.5), "(0, -1.5): the unstable start": (0.0, -1.5)}
TOUR_RES = 250  # landscape cells per axis behind the outer-optimization steps (62,500 runs)


@st.cache_data(max_entries=16, show_spinner=False)
def inner_curve(problem: str):
    p = PROBLEMS[problem]
    xs = np.linspace(*p.x_range, 400)
    return xs, np.asarray(p.loss(xs.astype(np.float32)), dtype=np.float64)


@st.cache_data(max_entries=16, show_spinner=False)
def local_shift(point: tuple):
    return outer.local_shift(point)


@st.cache_resource(show_spinner=False)
def shipped_checkpoint():
    """(checkpoint, None) or (None, why not)."""
    try:
        from l2l_core.learned.checkpoints import DEFAULT_CHECKPOINT, load_checkpoint

        return load_checkpoint(DEFAULT_CHECKPOINT), None
    except (ImportError, ValueError, OSError) as e:
        return None, str(e)


def checkpoint_key(ckpt) -> str:
    """Keys the cached results on the checkpoint file (path and mtime), not only on the settings."""
    from l2l_core.learned.checkpoints import checkpoint_file

    f = checkpoint_file(ckpt.path)
    return f"{f}:{f.stat().st_mtime_ns if f.exists() else 0}"


@st.cache_data(max_entries=8, show_spinner=False)
def lstm_before_after(seed: int, tasks: int, ckpt_key: str):
    import jax

    from l2l_core.learned.lstm import init_meta_params
    from l2l_core.learned.metatrain import lstm_losses
    from l2l_core.tasks.quadratics import tasks_for_seed

    ckpt, _ = shipped_checkpoint()
    t = tasks_for_seed(seed, tasks, ckpt.config.dim)
    untrained = init_meta_params(jax.random.PRNGKey(seed), ckpt.config.lstm)
    kw = dict(lstm=ckpt.config.lstm, steps=100, reduction=ckpt.config.reduction)
    return {"untrained LSTM": np.asarray(heavy(lstm_losses, untrained, t, **kw)),
            "lstm": np.asarray(heavy(lstm_losses, ckpt.params, t, **kw))}


def adam_race(seed: int):
    """(result, family): the learned page's own race on fresh quadratics (its cached call, its defaults:
    the shipped optimizer, horizon 100, dimension 10, the family's batch and learning-rate grid)."""
    from l2l_core.tasks.families import get_family
    from ui.learned_views import cached_compare, mtime

    family = get_family("quadratic")
    path = family.default_checkpoint
    return cached_compare(str(path), mtime(path), "quadratic", int(seed), 100, 10), family


# -- links into the full pages, and the numbers those pages show for them -------------------------------


def link(page: str, label: str, **params) -> None:
    """A link into the full page with these settings in its URL.

    Falls back to a plain link when the page is not in this app's navigation
    (the tour run on its own, or a page not yet registered).
    """
    query = {k: str(v) for k, v in params.items()}
    try:
        st.page_link(page, label=label, icon=":material/open_in_new:", query_params=query)
    except StreamlitAPIException:
        slug = page.rsplit("/", 1)[-1].removesuffix(".py")
        st.markdown(f"[{label}](./{slug}{'?' + urlencode(query) if query else ''})")


def landscape_query(**params) -> dict:
    """The landscape page's URL for these settings (the post's view and inner run otherwise)."""
    base = dict(problem="log_sin", res=500, lr_lo=-3.0, lr_hi=2.0, mom_lo=-3.0, mom_hi=0.0, cap=10.0,
                methods="", osteps=100)
    return dict(base, **params)


def landscape_link(label: str, query: dict) -> None:
    link("pages/landscape.py", label, **query)


def _landscape_settings(query: dict) -> dict:
    from ui.outer_panel import PARAMS

    return lc.settings_of_link(PARAMS, query)


def landscape_grid(query: dict):
    """(log_lrs, log_omm, z, precision): the landscape page's own cached grid for the view ``query`` opens."""
    s = _landscape_settings(query)
    data, _ = lc.grid(float(s["lr_lo"]), float(s["lr_hi"]), float(s["mom_lo"]), float(s["mom_hi"]), int(s["res"]),
                      s["problem"], float(s["x0"]), int(s["steps"]), s["reduce"])
    return data


def landscape_runs(query: dict) -> list[dict]:
    """The outer runs the landscape page draws for ``query``: its own cached call, its settings."""
    s = _landscape_settings(query)
    return lc.outer_runs(s, s["problem"], float(s["x0"]), int(s["steps"]), s["reduce"])


def starts_text(starts) -> str:
    return "; ".join(f"{a:g},{b:g}" for a, b in starts)


def gd_query(start, olr) -> dict:
    """Step 5's runs: gradient descent from one start, the post's recipe (100 steps)."""
    return landscape_query(res=TOUR_RES, methods="grad", starts=starts_text([start]), osteps=100, olr=olr)


def es_query(steps, std) -> dict:
    """Step 6's runs: gradient descent and ES from both starts, the same number of steps."""
    return landscape_query(res=TOUR_RES, methods="grad,es", starts=starts_text(STARTS.values()), osteps=int(steps),
                           std=std)


def es_verdict(runs) -> str:
    """What the numbers say, start by start: ES's end against gradient descent's (never a fixed claim)."""
    ends: dict = {}
    for r in runs:
        ends.setdefault(tuple(r["start"]), {})[r["method"]] = r["end_loss"]
    parts = []
    for (a, b), e in ends.items():
        es, gd = e.get("es"), e.get("grad")
        if es is None or gd is None:
            continue
        if not (np.isfinite(es) and np.isfinite(gd)):
            word = "ES diverged" if not np.isfinite(es) else "gradient descent diverged"
            parts.append(f"from ({a:g}, {b:g}) {word}")
            continue
        rel = "lower than" if es < gd else ("the same as" if es == gd else "**higher** than")
        parts.append(f"from ({a:g}, {b:g}) ES ends at {es:.4f}, {rel} gradient descent's {gd:.4f}")
    text = "; ".join(parts) + "."
    return text[0].upper() + text[1:] if parts else ""
