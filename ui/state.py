"""One mechanism for every page's settings: session memory, the URL, teacher mode.

Streamlit forgets a widget's value when its page is not shown (a sidebar
switch), so a page's settings live in a plain dict in ``st.session_state``
that no widget owns, one per page, and widgets are re-seeded from it. A page:

    ps = PageState("inner_problem", {"ip_lr": Param("lr", 0.1, float_in(0, 1e6)), ...})
    ps.load()                      # before any widget
    with st.sidebar, ps:           # leaving the block stores the values and writes the URL
        lr = ps.number(st, "ip_lr", "Learning rate", help=...)

``load`` applies a link (URL parameters the page did not write itself: a
shared address, a tour link), otherwise keeps what was there; every widget
key of the page is then set before its widget is drawn, so no page reads a
key it did not set and no page touches another page's keys.

The *selection* (:func:`selection_params`: task, optimizer, the values of the
hyperparameters, a network's seed) is one setting shared by the landscape, the
inner-problem and the sweep pages: each page declares it under its own widget
keys, its values live once in the session (not in any page's memory), and
every page writes it into its own URL, so a link reproduces it and a choice
made on one page is what the next page shows.

Teacher mode: ``?hide=lr,momentum`` draws the page without those controls
(their values still come from the link), ``?hide=sidebar`` without the
sidebar, so that a class sees a curated view. Every page offers
"Copy link to this view" (:func:`PageState.link_panel`), which also builds
such links.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable
from urllib.parse import urlencode

import streamlit as st

from l2l_core import expr
from l2l_core.inner.optimizers import OPTIMIZERS
from l2l_core.tasks.general import NETWORK_TASKS, TASKS, resolve_task
from l2l_core.tasks.problems import DEFAULT_PROBLEM, PROBLEMS, canonical_name

CUSTOM = "custom formula"


# -- URL values: parsers that say when a well-formed value is out of range ----------------------


class OutOfRange(ValueError):
    """A well-formed URL value outside what the widget allows; ``nearest`` is the
    closest allowed value (None: use the default)."""

    def __init__(self, allowed: str, nearest=None, shown=None):
        super().__init__(f"outside {allowed}")
        self.allowed, self.nearest = allowed, nearest
        self.shown = nearest if shown is None else shown  # the value as the link spells it


def float_in(lo: float, hi: float):
    """A parser for a float URL value that must lie in [lo, hi]."""

    def parse(text: str) -> float:
        v = float(text)
        if not lo <= v <= hi:
            raise OutOfRange(f"[{lo:g}, {hi:g}]", min(max(v, lo), hi) if v == v else None)
        return v

    parse.lo, parse.hi, parse.integer = lo, hi, False  # what a typed box allows (PageState.number)
    return parse


def int_in(lo: int, hi: int, choices=None):
    def parse(text: str) -> int:
        v = int(text)
        if choices is not None and v not in choices:
            raise OutOfRange("{" + ", ".join(map(str, choices)) + "}")
        if not lo <= v <= hi:
            raise OutOfRange(f"{lo}-{hi}", min(max(v, lo), hi))
        return v

    parse.lo, parse.hi, parse.integer = lo, hi, True
    return parse


_REFUSED = "_l2l_refused"  # session key: widget key -> why its typed value was not used


def _num(v: float) -> str:
    """A number as short as it can be written without changing it (at most 12 digits)."""
    return f"{v:g}" if float(f"{v:g}") == v else f"{v:.12g}"


def refusal(value: float, lo: float, hi: float, integer: bool, fallback):
    """(the value to use, why) for a typed ``value`` against [lo, hi] (None: it is used as typed)."""
    if value != value:
        return fallback, f"{value} is not a number; using {fallback:g} instead."
    if integer and math.isfinite(value) and value != int(value) and lo <= value <= hi:
        used = int(round(value))
        return used, f"{value:g} is not a whole number; using {used} instead."
    if not lo <= value <= hi:
        used = min(max(value, lo), hi)
        used = int(used) if integer else float(used)
        return used, f"{value:g} is outside {_num(lo)} to {_num(hi)}; using {_num(used)} instead."
    return None

_STORE = "_l2l_settings"  # session key: page -> {widget key: value, ...}
_SHARED = "_shared"  # in it: URL name -> value of the settings all pages share (the selection)
HIDE = "hide"  # URL parameter of teacher mode
SIDEBAR = "sidebar"
#: Less empty space above the title and a smaller title, so that the main chart fits a
#: 1280x720 or 1024x768 projector without scrolling.
PROJECTOR_CSS = ("[data-testid='stMainBlockContainer'] {padding-top: 2.25rem; padding-bottom: 2rem}"
                 " h1 {font-size: 1.9rem !important; padding-top: 0.25rem !important}")


_UNSET = object()


def _plain(v: Any) -> str:
    return repr(v) if isinstance(v, float) else str(v)


@dataclass(frozen=True)
class Param:
    """One setting of a page.

    Attributes:
      url: its URL parameter.
      default: the value without a link.
      parse: URL text -> value; raises ValueError (or TypeError) for a bad value.
      dump: value -> URL text, or None to leave it out of the URL.
      problem: the setting is an inner loss (a preset name or a typed formula),
        drawn by :func:`ui.shared.problem_picker` with the same key.
      shared: the value is shared by every page that declares this URL name (the
        selection), not kept by the page alone.
    """

    url: str
    default: Any
    parse: Callable[[str], Any] = str
    dump: Callable[[Any], str] = _plain
    problem: bool = False
    shared: bool = False


def problem_param(url: str = "problem", default: str = "log_sin") -> Param:
    def parse(text: str) -> str:
        text = canonical_name(text)
        if text in PROBLEMS:
            return text
        return expr.normalize(text)

    return Param(url, default, parse, str, problem=True)


class PageState:
    """The settings of one page (see the module docstring)."""

    def __init__(self, page: str, params: dict[str, Param]):
        self.page = page
        self.params = params
        self.bad: list[str] = []  # URL parameters that were malformed and ignored
        self.notes: list[str] = []  # URL values outside their range, and the value used instead
        self.changed_elsewhere: set[str] = set()  # shared settings another page changed since this one ran

    # -- memory --------------------------------------------------------------------------------

    @property
    def store(self) -> dict:
        return st.session_state.setdefault(_STORE, {}).setdefault(self.page, {})

    def _seed(self, key: str, value: Any) -> None:
        """Puts a value into the page's widget key(s)."""
        p = self.params[key]
        if p.problem:
            if value in PROBLEMS:
                st.session_state[key] = value
                st.session_state.setdefault(f"{key}_formula", PROBLEMS[DEFAULT_PROBLEM].formula)
            else:
                st.session_state[key] = CUSTOM
                st.session_state[f"{key}_formula"] = value
        else:
            st.session_state[key] = value

    def _current(self, key: str) -> Any:
        """The value the page's widget holds now (a problem: its name or its formula text)."""
        p = self.params[key]
        v = st.session_state.get(key, self.store.get(key, p.default))
        if getattr(p.parse, "integer", False) and isinstance(v, float) and v.is_integer():
            v = int(v)  # a typed whole number (PageState.number's boxes hold floats)
        if p.problem and v == CUSTOM:
            return st.session_state.get(f"{key}_formula", PROBLEMS[DEFAULT_PROBLEM].formula)
        return v

    def _relevant_url(self) -> tuple:
        qp = st.query_params
        names = {p.url for p in self.params.values()} | {HIDE}
        return tuple(sorted((k, qp[k]) for k in names if k in qp))

    def load(self) -> "PageState":
        """Applies a new link, else what the page held before; seeds every widget key."""
        store = self.store
        url = self._relevant_url()
        if url and url not in (store.get("_seen"), store.get("_written")):
            qp = st.query_params
            for key, p in self.params.items():
                value = p.default
                if p.url in qp:
                    try:
                        value = p.parse(qp[p.url])
                    except OutOfRange as e:  # well-formed but outside the widget's range: the nearest allowed
                        value = p.default if e.nearest is None else e.nearest
                        self.notes.append(f"Link value {p.url}={qp[p.url]} is outside {e.allowed}; "
                                          f"using {p.default if e.nearest is None else e.shown}.")
                    except (ValueError, TypeError):
                        self.bad.append(p.url)
                store[key] = value
                self._seed(key, value)
                if p.shared:
                    self._share(key, value)
            store["_hide"] = [h for h in qp.get(HIDE, "").split(",") if h]
        store["_seen"] = url
        synced, shared = store.setdefault("_synced", {}), self.shared
        for key, p in self.params.items():
            if p.shared and p.url in shared and shared[p.url] != synced.get(key, _UNSET):
                store[key] = shared[p.url]  # chosen on another page since this one last ran
                self._seed(key, shared[p.url])
                synced[key] = shared[p.url]
                self.changed_elsewhere.add(key)
            store.setdefault(key, p.default)
            if key not in st.session_state:
                self._seed(key, store[key])
        return self

    @property
    def shared(self) -> dict:
        return st.session_state.setdefault(_STORE, {}).setdefault(_SHARED, {})

    def _share(self, key: str, value: Any) -> None:
        self.shared[self.params[key].url] = value
        self.store.setdefault("_synced", {})[key] = value

    def save(self) -> None:
        """Widget values -> the page's memory -> the address bar."""
        store = self.store
        for key, p in self.params.items():
            store[key] = self._current(key)
            if p.shared:
                self._share(key, store[key])
        self.write_url()

    def __enter__(self) -> "PageState":
        return self

    def __exit__(self, *exc) -> None:
        self.save()  # also when the page stops early (st.stop), so nothing is lost

    def __getitem__(self, key: str) -> Any:
        return self._current(key)

    def __setitem__(self, key: str, value: Any) -> None:
        self.store[key] = value
        self._seed(key, value)
        if self.params[key].shared:
            self._share(key, value)

    # -- URL --------------------------------------------------------------------------------------

    def query(self, hide: list[str] | None = None) -> dict[str, str]:
        q = {p.url: p.dump(self._current(k)) for k, p in self.params.items()}
        q = {k: v for k, v in q.items() if v is not None}  # dump -> None: left out (an empty zoom history)
        hide = self.hidden if hide is None else hide
        if hide:
            q[HIDE] = ",".join(hide)
        return q

    def write_url(self, extra: dict[str, str] | None = None) -> None:
        q = self.query()
        q.update(extra or {})
        if dict(st.query_params) != q:
            st.query_params.from_dict(q)
        self.store["_written"] = tuple(sorted((k, v) for k, v in q.items()
                                              if k in {p.url for p in self.params.values()} | {HIDE}))

    def warn_bad_url(self) -> None:
        for note in self.notes:
            st.warning(note, icon=":material/link_off:")
        if self.bad:
            st.warning(f"Ignored malformed link parameter(s): {', '.join(self.bad)} (defaults used instead).",
                       icon=":material/link_off:")

    # -- teacher mode --------------------------------------------------------------------------------

    @property
    def hidden(self) -> list[str]:
        return list(self.store.get("_hide", []))

    def shown(self, key: str) -> bool:
        return self.params[key].url not in self.hidden

    def widget(self, fn, key: str, *args, **kwargs):
        """Draws ``fn(*args, key=key, **kwargs)`` unless teacher mode hides it; returns its value."""
        if not self.shown(key):
            return st.session_state[key]
        return fn(*args, key=key, **kwargs)

    def number(self, where, key: str, label: str, **kwargs):
        """A typed number under the app's one input rule (:func:`typed_number`); returns the value used."""
        p = self.params[key]
        if not self.shown(key):
            v = st.session_state[key]
            return int(v) if p.parse.integer else float(v)
        return typed_number(where, key, label, p, **kwargs)

    def apply_view(self) -> None:
        """The page's frame: room for the chart on a projector (1280x720, 1024x768), and teacher mode."""
        css = PROJECTOR_CSS
        if SIDEBAR in self.hidden:
            css += ("[data-testid='stSidebar'], [data-testid='stSidebarCollapsedControl'],"
                    " [data-testid='stExpandSidebarButton'] {display: none}")
        st.html(f"<style>{css}</style>")

    def link_panel(self) -> None:
        """"Copy link to this view": the address with every setting, and a teacher-mode link builder."""
        with st.popover("Copy link to this view", icon=":material/link:"):
            base = st.context.url or ""
            st.caption("Click the copy icon at the right of the link.")
            st.code(f"{base}?{urlencode(self.query())}", language=None, wrap_lines=True)
            labels = {p.url: p.url for p in self.params.values()}
            hide = st.multiselect("For a class: hide these controls in the link", list(labels),
                                  key=f"_hide_pick_{self.page}",
                                  help="The link opens with these settings fixed and their controls hidden "
                                       "(URL parameter hide=...).")
            if st.checkbox("and hide the sidebar", key=f"_hide_sidebar_{self.page}"):
                hide = hide + [SIDEBAR]
            if hide:
                st.code(f"{base}?{urlencode(self.query(hide=hide))}", language=None, wrap_lines=True)


def typed_number(where, key: str, label: str, param: Param, **kwargs):
    """A number box under the app's one input rule; returns the value used.

    The allowed range is the parameter's (its ``float_in`` / ``int_in``); see :func:`bounded_number`.
    """
    return bounded_number(where, key, label, param.parse.lo, param.parse.hi, param.parse.integer, param.default,
                          **kwargs)


def refuse(key: str, why: str) -> None:
    """Says beside the box ``key`` (drawn by :func:`bounded_number`) why its typed value was not used."""
    st.session_state.setdefault(_REFUSED, {})[key] = why


def bounded_number(where, key: str, label: str, lo: float, hi: float, integer: bool = False, fallback=None,
                   **kwargs):
    """A number box that takes values in [lo, hi]; returns the value used.

    The box takes any number (no browser-side limits, which would keep the old value
    silently, and whole numbers are read as numbers, so "1e300" is 1e300, not 1);
    a value outside the range, or not whole where a whole number is needed, is
    replaced by the nearest allowed one, and a visible error beside the box says
    what was typed and what is used instead. ``on_change`` runs after the check.
    """
    st.session_state[key] = float(st.session_state[key])
    outer_change = kwargs.pop("on_change", None)
    fallback = lo if fallback is None else fallback

    def check() -> None:
        got = refusal(float(st.session_state[key]), lo, hi, integer, fallback)
        if got is not None:
            st.session_state[key] = float(got[0])
            refuse(key, f"{label}: {got[1]}")
        if outer_change is not None:
            outer_change()

    kwargs.setdefault("format", "%.0f" if integer else "%g")
    step = kwargs.pop("step", 1.0 if integer else None)
    kwargs["step"] = None if step is None else float(step)  # a float box throughout (never mixed types)
    value = where.number_input(label, key=key, on_change=check, **kwargs)
    why = st.session_state.get(_REFUSED, {}).pop(key, None)
    if why:
        where.error(why, icon=":material/block:")
    return int(value) if integer else float(value)


def choice_in(options) -> Callable[[str], str]:
    """A parser for a URL value that must be one of ``options``."""
    allowed = list(options)

    def parse(text: str) -> str:
        if text not in allowed:
            raise ValueError(f"{text!r} is not one of {allowed}")
        return text

    return parse


# -- the selection: one (task, optimizer, hyperparameters) shared by the pages that train something -----

ONE_D = "1d"  # the task is the page's own 1-D inner loss (a preset or a formula in x)
CUSTOM_XY = "formula_xy"
TASK_CHOICES = list(dict.fromkeys([ONE_D, *(n for n, t in TASKS.items() if t.problem is None), *NETWORK_TASKS,
                                   CUSTOM_XY]))  # a network task is in both registries: listed once
HYPER_NAMES = sorted({a for o in OPTIMIZERS.values() for a in o.defaults}
                     | {a for n in NETWORK_TASKS for a in resolve_task(n).axes})
DEFAULT_FXY = "x ** 2 + 3 * y ** 2"  # in normal form (expr.normalize)
MAX_SEED = 2**31 - 1


def xy_formula(text: str) -> str:
    return expr.normalize(text, ("x", "y"))


def parse_fixed(text: str) -> dict:
    """URL text "b2=0.99;eps=1e-08" -> {"b2": 0.99, "eps": 1e-08}; ValueError if malformed."""
    out = {}
    for part in (p for p in text.split(";") if p.strip()):
        name, value = part.split("=")
        name, v = name.strip(), float(value)
        if name not in HYPER_NAMES or not math.isfinite(v):
            raise ValueError(part)
        out[name] = v
    return out


def dump_fixed(d: dict):
    return ";".join(f"{k}={v!r}" for k, v in sorted(d.items())) or None


def _unless(default):
    """A dump that leaves the default out of the URL (the post's links stay as they were)."""
    return lambda v: None if v == default else str(v)


def selection_params(prefix: str) -> dict[str, Param]:
    """The shared selection under the widget keys ``prefix + "task"``, ``"fxy"``, ``"opt"``,
    ``"fixed"`` (hyperparameter values, URL ``set``) and ``"seed"`` (a network's draw)."""
    return {
        f"{prefix}task": Param("task", ONE_D, choice_in(TASK_CHOICES), _unless(ONE_D), shared=True),
        f"{prefix}fxy": Param("fxy", DEFAULT_FXY, xy_formula, _unless(DEFAULT_FXY), shared=True),
        f"{prefix}opt": Param("opt", "sgd", choice_in(OPTIMIZERS), _unless("sgd"), shared=True),
        f"{prefix}fixed": Param("set", {}, parse_fixed, dump_fixed, shared=True),
        f"{prefix}seed": Param("nseed", 0, int_in(0, MAX_SEED), _unless(0), shared=True),
    }
