"""The "Open a pixel" page's settings: the URL (:mod:`ui.pixel_link`'s query, a second pixel with the
suffix ``_b``, plus the page's own view keys), the session memory and the sidebar widgets of one pixel.

Every widget key starts with ``px`` (``px_task``, ``px_b_hp_lr`` ...); their values are kept in one dict
of the session, so a page switch, or the second pixel switched off and on, loses nothing. A link (a URL
the page did not write itself) is read through :func:`ui.pixel_link.read_pixel_query`; the page writes
its URL back through :func:`ui.pixel_link.pixel_query`, so a reload reopens the same run(s).
"""

from __future__ import annotations

import math

import streamlit as st

from l2l_core import tasks as registry
from l2l_core.inner.optimizers import OPTIMIZERS
from l2l_core.landscape.general import default_hyperparameters
from l2l_core.probe.flat import resolve
from l2l_core.probe.run import MAX_EIGS, MAX_STEPS
from l2l_core.probe.slices import MAX_SLICE
from ui.inspect_compute import kind_of, task_start
from ui.pixel_link import pixel_query, read_pixel_query
from ui.shared import optimizer_label
from ui.state import bounded_number

FORMULA = "formula"
#: The maps' tasks and the trainability-fractal networks a pixel of the fractal page opens (these are not
#: tasks of the general maps: they are offered here only).
TASKS = list(registry.names("landscape"))  # the fractal networks' full-batch lr variants included
TASK_CHOICES = TASKS + [FORMULA]
#: The first pixel without a link: the edge-of-stability network at a learning rate above 2 / (start sharpness).
DEFAULT = {"task": "digits_fc_tanh", "optimizer": "sgd", "hparams": {"lr_in": 0.13, "lr_out": 0.13, "momentum": 0.0},
           "steps": 1000, "seed": 0, "x0": None}
DEFAULT_FORMULA = "x ** 2 + 3 * y ** 2"
SLICE_CHOICES = [0, 11, 21, 41, 81, 161]
#: The page's own URL keys (shared by both pixels): sharpness every K, top-k, slice resolution, span.
VIEW = {"every": ("px_every", 50), "k": ("px_k", 1), "sres": ("px_sres", 21), "span": ("px_span", 1.0)}
RATE_LIMITS = (1e-12, 1e6)
UNIT_LIMITS = (0.0, 1.0 - 1e-12)
LIMITS = {"lr": RATE_LIMITS, "lr_in": RATE_LIMITS, "lr_out": RATE_LIMITS, "momentum": UNIT_LIMITS, "b1": UNIT_LIMITS,
          "b2": UNIT_LIMITS, "decay": UNIT_LIMITS, "eps": (0.0, 1.0), "weight_decay": (0.0, 1e3)}
HELP = {"lr": "The learning rate, raw value. Gradient descent is stable on curvature below 2/lr.",
        "lr_in": "The first layer's learning rate (raw value). Equal to lr_out: one rate, threshold 2(1+m)/lr.",
        "lr_out": "The last layer's learning rate (raw value). Different from lr_in: the threshold is on the "
                  "sharpness preconditioned by the per-layer rates.",
        "momentum": "Heavy-ball (or Nesterov) momentum m in [0, 1); 0 is plain gradient descent. The threshold "
                    "rises to 2(1+m)/lr (heavy ball).",
        "b1": "Adam's first-moment decay; the preconditioned sharpness settles at (2+2 b1)/((1-b1) lr).",
        "b2": "Adam's second-moment decay.", "decay": "RMSprop's second-moment decay.",
        "eps": "Added to the preconditioner's square root.", "weight_decay": "AdamW's decoupled weight decay."}
STORE = "_px_store"
WRITTEN = "_px_written"
STEP_LIMITS = (1, MAX_STEPS)
SEED_LIMITS = (0, 2**31 - 1)
X0_LIMITS = (-1e6, 1e6)


def key(sfx: str, name: str) -> str:
    return f"px{sfx}_{name}"


def task_label(name: str) -> str:
    """The short name in the box (long titles would be cut in the sidebar); the title is in the caption."""
    if name == FORMULA:
        return "typed formula"
    return name


def hyper_defaults(task: str, optimizer: str) -> dict[str, float]:
    """Every hyperparameter of (task, optimizer) -> its default (a network: lr_in and lr_out, not lr)."""
    return default_hyperparameters(task, optimizer)


# -- memory ------------------------------------------------------------------------------------------------


def restore() -> None:
    """Puts back every widget value Streamlit dropped (a page switch, a pixel switched off)."""
    for k, v in st.session_state.setdefault(STORE, {}).items():
        if k not in st.session_state:
            st.session_state[k] = v


def remember() -> None:
    store = st.session_state.setdefault(STORE, {})
    for k in list(st.session_state):
        if isinstance(k, str) and k.startswith("px"):
            store[k] = st.session_state[k]


def ensure(k: str, default) -> None:
    if k not in st.session_state:
        st.session_state[k] = default


def seed_pixel(sfx: str, pixel: dict, notes: list[str]) -> None:
    """Puts one pixel (read_pixel_query's dict) into its widget keys; an unknown task is said and replaced."""
    s = st.session_state
    task = pixel["task"]
    try:
        kind_of(task, pixel.get("seed") or 0)
    except ValueError as e:
        notes.append(f"Unknown task {task!r} in the link{' (second pixel)' if sfx else ''}: {e}. Showing "
                     f"{DEFAULT['task']} instead.")
        task = DEFAULT["task"]
    if task in TASKS:
        s[key(sfx, "task")] = task
    else:
        s[key(sfx, "task")] = FORMULA
        s[key(sfx, "formula")] = task
    opt = pixel["optimizer"]
    s[key(sfx, "opt")] = opt
    names = hyper_defaults(task, opt)
    given = dict(pixel.get("hparams") or {})
    if "lr" in given and "lr" not in names:  # one rate for a network: both layers
        given.setdefault("lr_in", given["lr"])
        given.setdefault("lr_out", given["lr"])
    for name, default in names.items():
        s[key(sfx, f"hp_{name}")] = float(given.get(name, default))
    s[key(sfx, "steps")] = float(pixel.get("steps") or DEFAULT["steps"])
    s[key(sfx, "seed")] = float(pixel.get("seed") or 0)
    x0 = pixel.get("x0")
    for i, name in enumerate(("x0", "y0")):
        k = key(sfx, name)
        if x0 is None:
            s.pop(k, None)
        else:
            vals = x0 if isinstance(x0, (tuple, list)) else (x0,)
            if i < len(vals):
                s[k] = float(vals[i])


def _parse_view(q: dict, notes: list[str]) -> None:
    s = st.session_state
    for url, (k, default) in VIEW.items():
        if url not in q:
            s[k] = default
            continue
        try:
            v = float(q[url]) if url == "span" else int(q[url])
        except ValueError:
            notes.append(f"Ignored malformed link parameter {url}={q[url]!r} (default {default} used).")
            s[k] = default
            continue
        if url == "sres" and v not in SLICE_CHOICES:
            notes.append(f"Link value sres={q[url]} is not one of {SLICE_CHOICES}; using {default}.")
            v = default
        s[k] = v


def load_link() -> list[str]:
    """Applies the URL when it is a link (not what the page wrote itself); returns what to warn about."""
    restore()
    notes: list[str] = []
    q = st.query_params.to_dict()
    current = tuple(sorted(q.items()))
    if current and current != st.session_state.get(WRITTEN):
        for sfx, urlsfx in (("", ""), ("_b", "_b")):
            try:
                pixel = read_pixel_query(q, urlsfx)
            except ValueError as e:
                notes.append(f"The link's {'second ' if sfx else ''}pixel is malformed: {e}. Defaults used.")
                pixel = DEFAULT if not sfx else None
            if sfx:
                st.session_state["px_compare"] = pixel is not None
            if pixel is not None:
                seed_pixel(sfx, pixel, notes)
        _parse_view(q, notes)
    ensure("px_compare", False)
    if key("", "task") not in st.session_state:
        seed_pixel("", DEFAULT, notes)
    for _, (k, default) in VIEW.items():
        ensure(k, default)
    return notes


def second_from_first() -> None:
    """The toggle's callback: the second pixel starts as the first with its learning rate(s) doubled."""
    s = st.session_state
    if not s.get("px_compare"):
        return
    for k in list(s):
        if isinstance(k, str) and k.startswith("px_") and not k.startswith("px_b_") and k[3:] not in (
                "compare", "every", "k", "sres", "span"):
            s["px_b_" + k[3:]] = s[k]
    for name in ("lr", "lr_in", "lr_out"):
        k = key("_b", f"hp_{name}")
        if k in s:
            s[k] = 2.0 * float(s[k])


# -- the widgets of one pixel ------------------------------------------------------------------------------


def _forget_start(sfx: str) -> None:
    """A new task starts from its own start (the old task's x0 means nothing there)."""
    for name in ("x0", "y0"):
        st.session_state.pop(key(sfx, name), None)
        st.session_state.get(STORE, {}).pop(key(sfx, name), None)


def pixel_widgets(sfx: str) -> dict | None:
    """Draws one pixel's widgets (in the current container); returns the pixel, or None when its typed formula
    is not accepted (the error is shown beside it)."""
    ensure(key(sfx, "formula"), DEFAULT_FORMULA)
    choice = st.selectbox("Task", TASK_CHOICES, key=key(sfx, "task"), format_func=task_label,
                          on_change=_forget_start, args=(sfx,),
                          help="What is trained: a task of the maps (1-D and 2-D functions, the small tanh network, "
                               "the digits networks, the trainability-fractal networks at width 16) or your own "
                               "formula in x (1-D) or x and y (2-D). "
                               + " ".join(f"{n}: {registry.get(n).title}." for n in TASKS))
    task = choice
    if choice == FORMULA:
        text = st.text_input("f =", key=key(sfx, "formula"), max_chars=200, on_change=_forget_start, args=(sfx,),
                             help="A formula in x (a 1-D task) or in x and y (a 2-D task): numbers, + - * / **, "
                                  "parentheses and functions such as sin, cos, exp, log, tanh.")
        try:
            resolve(text)
        except ValueError as e:
            st.error(f"Formula not accepted: {e}", icon=":material/error:")
            return None
        task = text
    else:
        entry = registry.get(choice)
        st.caption(f"{entry.title}: {entry.description}")
    kind, dim = kind_of(task)
    opt = st.selectbox("Optimizer", list(OPTIMIZERS), key=key(sfx, "opt"), format_func=optimizer_label,
                       help=" ".join(f"{o.title}: {o.description}" for o in OPTIMIZERS.values()))
    hparams = {}
    for name, default in hyper_defaults(task, opt).items():
        k = key(sfx, f"hp_{name}")
        ensure(k, float(default))
        lo, hi = LIMITS.get(name, (-1e6, 1e6))
        hparams[name] = bounded_number(st, k, name, lo, hi, False, float(default),
                                       help=HELP.get(name, name) + f" Allowed {lo:g} to {hi:g}.")
    ensure(key(sfx, "steps"), float(DEFAULT["steps"]))
    steps = bounded_number(st, key(sfx, "steps"), "Training steps", *STEP_LIMITS, True, DEFAULT["steps"],
                           help=f"Full-batch updates, 1 to {MAX_STEPS}. The cost grows linearly: digits_fc_tanh takes "
                                "about 0.4 s per 1000 steps here (after a first compile of several seconds).")
    ensure(key(sfx, "seed"), 0.0)
    seed = bounded_number(st, key(sfx, "seed"), "Seed", *SEED_LIMITS, True, 0,
                          help="Draws a network's initial weights and the slice's random directions.")
    x0 = None
    if kind in ("1d", "2d"):
        start = task_start(task)
        names = ("x0", "y0")[:dim]
        vals = []
        for i, name in enumerate(names):
            ensure(key(sfx, name), float(start[i]))
            vals.append(bounded_number(st, key(sfx, name), f"Start {'x' if i == 0 else 'y'}", *X0_LIMITS, False,
                                       float(start[i]), help=f"Where the run starts (the task's own: {start[i]:g})."))
        x0 = tuple(vals)
    return {"task": task, "optimizer": opt, "hparams": hparams, "steps": int(steps), "seed": int(seed), "x0": x0,
            "kind": kind, "dim": dim}


def view_widgets() -> dict:
    """The settings shared by both pixels: sharpness every K, top-k, slice resolution and span."""
    every = bounded_number(st, "px_every", "Sharpness every K steps", 1, MAX_STEPS, True, 50,
                           help="Steps between curvature checkpoints (Lanczos on exact Hessian-vector products). "
                                "Smaller K: a finer curve and more cost (about 0.01 s a checkpoint on "
                                "digits_fc_tanh for k = 1).")
    k = bounded_number(st, "px_k", "Top-k eigenvalues", 1, MAX_EIGS, True, 1,
                       help=f"How many of the Hessian's largest eigenvalues per checkpoint (1 to {MAX_EIGS}, at most "
                            "the task's parameters). k > 1 costs a full Lanczos run at every checkpoint.")
    sres = st.select_slider("Slice resolution (cells per axis)", SLICE_CHOICES, key="px_sres",
                            help=f"The landscape around the end point (tasks with more than 2 parameters): N x N "
                                 f"cells, each the full training loss (0: no slices; up to {MAX_SLICE} with the CLI). "
                                 "digits_fc_tanh: 21² about 0.5 s, 81² several seconds.")
    span = bounded_number(st, "px_span", "Slice span", 0.01, 100.0, False, 1.0,
                          help="The filter-normalized slice covers a, b in [-span, span] (1: each filter's own norm).")
    return {"every": int(every), "k": int(k), "sres": int(sres), "span": float(span)}


def write_url(a: dict | None, b: dict | None, view: dict) -> None:
    """The address of what is shown: the first pixel, the second with ``_b``, and the view keys."""
    q: dict[str, str] = {}
    for sfx, p in (("", a), ("_b", b)):
        if p is None:
            continue
        try:
            q.update(pixel_query(p["task"], p["optimizer"], p["hparams"], steps=p["steps"], seed=p["seed"],
                                 x0=None if p["x0"] is None else (p["x0"][0] if len(p["x0"]) == 1 else p["x0"]),
                                 suffix=sfx))
        except ValueError:
            continue
    for url, v in view.items():
        q[url] = repr(v) if isinstance(v, float) and not v.is_integer() else str(int(v) if float(v).is_integer()
                                                                               else v)
    if dict(st.query_params.to_dict()) != q:
        st.query_params.from_dict(q)
    st.session_state[WRITTEN] = tuple(sorted(q.items()))


def is_finite_number(v) -> bool:
    return isinstance(v, (int, float)) and math.isfinite(v)


#: The tour's two pixels: the page's default (the edge of stability) and the same run at twice the rate.
TOUR_TRAINED = DEFAULT
TOUR_DIVERGED = dict(DEFAULT, hparams=dict(DEFAULT["hparams"], lr_in=0.26, lr_out=0.26))


def tour_query() -> dict[str, str]:
    """The page's URL with the tour's two pixels side by side (default view settings)."""
    q: dict[str, str] = {}
    for sfx, p in (("", TOUR_TRAINED), ("_b", TOUR_DIVERGED)):
        q.update(pixel_query(p["task"], p["optimizer"], p["hparams"], steps=p["steps"], seed=p["seed"], suffix=sfx))
    q.update({url: str(default) for url, (_, default) in VIEW.items()})
    return q
