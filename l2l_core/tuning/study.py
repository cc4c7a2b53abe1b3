"""A user's own Optuna study, read from its SQLite file without letting anything write to it.

Optuna's RDB storage keeps a study in a real SQLite database (``create_study(
storage="sqlite:///x.db")``). :func:`read_study` reads the trials of such a file
for two named hyperparameters with Python's own ``sqlite3``, never with optuna or
SQLAlchemy (which would migrate or lock the file):

1. the file's size is capped (:data:`MAX_BYTES`) and its first 16 bytes must be
   the SQLite magic header; the header's page size x page count must fit in the
   file (a truncated upload is refused before SQLite opens it);
2. it is opened read-only (a ``mode=ro`` URI, ``immutable=1``, ``PRAGMA
   query_only``) and ``PRAGMA quick_check`` must say ``ok``;
3. Optuna's tables and the columns read here must exist;
4. only then are trials read: at most :data:`MAX_TRIALS`, each parameter's
   value and its distribution, which Optuna stores as JSON (parsed with
   ``json`` only; nothing is ever unpickled).

Anything wrong is one ``ValueError`` that says what, and nothing further is read.
"""

from __future__ import annotations

import json
import math
import os
import sqlite3
import struct
from pathlib import Path
from typing import NamedTuple
from urllib.parse import quote

import numpy as np

#: Largest study file read (uploads stay small).
MAX_BYTES = 32 << 20
#: Most trials read from one study.
MAX_TRIALS = 20_000
#: Longest distribution JSON accepted (Optuna's are about 100 characters).
MAX_JSON = 4096
SQLITE_MAGIC = b"SQLite format 3\x00"
#: Tables and columns of Optuna's RDB schema that are read.
REQUIRED = {
    "studies": {"study_id", "study_name"},
    "study_directions": {"study_id", "direction", "objective"},
    "trials": {"trial_id", "number", "study_id", "state"},
    "trial_params": {"trial_id", "param_name", "param_value", "distribution_json"},
    "trial_values": {"trial_id", "objective", "value", "value_type"},
}
#: Distribution names Optuna has written (current, then older) and whether they are on a log scale.
FLOAT_DISTRIBUTIONS = {"FloatDistribution": None, "IntDistribution": None, "UniformDistribution": False,
                       "LogUniformDistribution": True, "DiscreteUniformDistribution": False,
                       "IntUniformDistribution": False, "IntLogUniformDistribution": True}


class StudyTrials(NamedTuple):
    """The trials of one study on two hyperparameters (raw values, as the user's code suggested them)."""

    study_name: str
    direction: str  # "MINIMIZE" or "MAXIMIZE"
    x_name: str
    y_name: str
    number: np.ndarray  # trial numbers, in the order they were taken
    x: np.ndarray
    y: np.ndarray
    value: np.ndarray  # NaN where the trial has no finite value (failed, pruned, running)
    state: tuple  # each trial's state: COMPLETE, FAIL, PRUNED, ...
    x_distribution: dict  # {"low", "high", "log"}
    y_distribution: dict


def _check_file(path: Path) -> None:
    try:
        st = path.stat()
    except OSError as e:
        raise ValueError(f"study file {path}: {e.strerror or e}") from None
    if not path.is_file():
        raise ValueError(f"study file {path}: not a regular file")
    if st.st_size > MAX_BYTES:
        raise ValueError(f"study file {path}: {st.st_size:,} bytes is over the cap of {MAX_BYTES:,}")
    with open(path, "rb") as f:
        head = f.read(100)
    if len(head) < 100 or head[:16] != SQLITE_MAGIC:
        raise ValueError(f"study file {path}: not an SQLite database (an Optuna study saved with "
                         "storage='sqlite:///FILE.db')")
    page_size = struct.unpack(">H", head[16:18])[0]
    page_size = 65536 if page_size == 1 else page_size
    if page_size < 512 or page_size & (page_size - 1):
        raise ValueError(f"study file {path}: its SQLite header is damaged (page size {page_size})")
    change, pages, valid_for = (struct.unpack(">I", head[o:o + 4])[0] for o in (24, 28, 92))
    if pages and change == valid_for and pages * page_size > st.st_size:
        raise ValueError(f"study file {path}: truncated ({st.st_size:,} of {pages * page_size:,} bytes)")
    if st.st_size % page_size:
        raise ValueError(f"study file {path}: truncated (its size is not a whole number of pages)")


def _connect(path: Path) -> sqlite3.Connection:
    uri = f"file:{quote(str(path.resolve()))}?mode=ro&immutable=1"
    con = sqlite3.connect(uri, uri=True)
    con.execute("PRAGMA query_only = ON")
    return con


def _check_schema(con: sqlite3.Connection, path: Path) -> None:
    check = con.execute("PRAGMA quick_check").fetchall()
    if check != [("ok",)]:
        raise ValueError(f"study file {path}: the database is damaged ({check[0][0] if check else 'no answer'})")
    tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    missing = sorted(set(REQUIRED) - tables)
    if missing:
        raise ValueError(f"study file {path}: an SQLite database but not an Optuna study (no table {missing[0]!r})")
    for table, cols in REQUIRED.items():
        have = {r[1] for r in con.execute(f"PRAGMA table_info({table})")}
        lost = sorted(cols - have)
        if lost:
            raise ValueError(f"study file {path}: table {table!r} lacks column {lost[0]!r}; not an Optuna "
                             "study this reader knows")


def _distribution(text, name: str) -> dict:
    if not isinstance(text, str) or len(text) > MAX_JSON:
        raise ValueError(f"parameter {name!r}: its distribution is missing or too long")
    try:
        d = json.loads(text)
    except json.JSONDecodeError:
        raise ValueError(f"parameter {name!r}: its distribution is not valid JSON") from None
    if not isinstance(d, dict) or not isinstance(d.get("attributes"), dict):
        raise ValueError(f"parameter {name!r}: unexpected distribution record")
    kind = d.get("name")
    if kind not in FLOAT_DISTRIBUTIONS:
        raise ValueError(f"parameter {name!r} is {kind}; only numeric (float or int) parameters can be drawn")
    a = d["attributes"]
    log = FLOAT_DISTRIBUTIONS[kind]
    log = bool(a.get("log", False)) if log is None else log
    try:
        low, high = float(a["low"]), float(a["high"])
    except (KeyError, TypeError, ValueError):
        raise ValueError(f"parameter {name!r}: its distribution has no numeric low and high") from None
    return dict(low=low, high=high, log=log)


def list_studies(path) -> list[dict]:
    """The studies in a file: [{"name", "trials", "directions"}]; checks the file as :func:`read_study`."""
    path = Path(path)
    _check_file(path)
    try:
        con = _connect(path)
        try:
            _check_schema(con, path)
            rows = con.execute(
                "SELECT s.study_name, (SELECT COUNT(*) FROM trials t WHERE t.study_id = s.study_id), "
                "(SELECT COUNT(*) FROM study_directions d WHERE d.study_id = s.study_id) FROM studies s "
                "ORDER BY s.study_id LIMIT 1000").fetchall()
        finally:
            con.close()
    except sqlite3.Error as e:
        raise ValueError(f"study file {path}: SQLite cannot read it ({e})") from None
    return [dict(name=str(n), trials=int(t), directions=int(d)) for n, t, d in rows]


def read_study(path, x_param: str, y_param: str, *, study_name: str | None = None) -> StudyTrials:
    """The trials of one study of an Optuna SQLite file on two hyperparameters.

    Args:
      path: the ``.db`` file.
      x_param, y_param: the two parameter names as the user's code suggested them.
      study_name: which study; may be left out when the file holds exactly one.

    Returns:
      :class:`StudyTrials` of every trial that has both parameters, in trial order.

    Raises:
      ValueError: not a file, too large, not SQLite, truncated or damaged, not an Optuna
        study, a missing or non-numeric parameter, a multi-objective study, too many trials.
    """
    path = Path(os.fspath(path))
    if x_param == y_param:
        raise ValueError(f"the two parameters must differ, got {x_param!r} twice")
    _check_file(path)
    try:
        con = _connect(path)
        try:
            _check_schema(con, path)
            return _read(con, path, x_param, y_param, study_name)
        finally:
            con.close()
    except sqlite3.Error as e:
        raise ValueError(f"study file {path}: SQLite cannot read it ({e})") from None


def _read(con, path, x_param, y_param, study_name) -> StudyTrials:
    studies = con.execute("SELECT study_id, study_name FROM studies ORDER BY study_id LIMIT 1001").fetchall()
    if not studies:
        raise ValueError(f"study file {path}: holds no study")
    if study_name is None:
        if len(studies) > 1:
            names = ", ".join(repr(s[1]) for s in studies[:10])
            raise ValueError(f"study file {path} holds {len(studies)} studies ({names}); name one")
        sid, name = studies[0]
    else:
        match = [s for s in studies if s[1] == study_name]
        if not match:
            raise ValueError(f"study file {path}: no study named {study_name!r}")
        sid, name = match[0]
    dirs = con.execute("SELECT direction FROM study_directions WHERE study_id = ? ORDER BY objective",
                       (sid,)).fetchall()
    if len(dirs) != 1:
        raise ValueError(f"study {name!r} has {len(dirs)} objectives; only single-objective studies can be drawn")
    direction = str(dirs[0][0])
    if direction not in ("MINIMIZE", "MAXIMIZE", "NOT_SET"):
        raise ValueError(f"study {name!r}: unknown direction {direction!r}")
    n = con.execute("SELECT COUNT(*) FROM trials WHERE study_id = ?", (sid,)).fetchone()[0]
    if n > MAX_TRIALS:
        raise ValueError(f"study {name!r} has {n:,} trials, over the cap of {MAX_TRIALS:,}")
    rows = con.execute(
        "SELECT t.number, t.state, px.param_value, px.distribution_json, py.param_value, py.distribution_json, "
        "(SELECT v.value FROM trial_values v WHERE v.trial_id = t.trial_id AND v.objective = 0), "
        "(SELECT v.value_type FROM trial_values v WHERE v.trial_id = t.trial_id AND v.objective = 0) "
        "FROM trials t "
        "JOIN trial_params px ON px.trial_id = t.trial_id AND px.param_name = ? "
        "JOIN trial_params py ON py.trial_id = t.trial_id AND py.param_name = ? "
        "WHERE t.study_id = ? ORDER BY t.number LIMIT ?", (x_param, y_param, sid, MAX_TRIALS)).fetchall()
    if not rows:
        names = [r[0] for r in con.execute(
            "SELECT DISTINCT p.param_name FROM trial_params p JOIN trials t ON t.trial_id = p.trial_id "
            "WHERE t.study_id = ? LIMIT 50", (sid,))]
        raise ValueError(f"study {name!r} has no trial with both {x_param!r} and {y_param!r}; its parameters: "
                         f"{names}")
    xd, yd = _distribution(rows[0][3], x_param), _distribution(rows[0][5], y_param)
    number, xs, ys, values, states = [], [], [], [], []
    for num, state, px, _, py, _, v, vtype in rows:
        try:
            fx, fy = float(px), float(py)
        except (TypeError, ValueError):
            raise ValueError(f"study {name!r}, trial {num}: a parameter value is not a number") from None
        if not (math.isfinite(fx) and math.isfinite(fy)):
            raise ValueError(f"study {name!r}, trial {num}: a parameter value is not finite")
        value = np.nan
        if state == "COMPLETE":
            if vtype == "INF_POS":
                value = np.inf
            elif vtype == "INF_NEG":
                value = -np.inf
            elif v is not None:
                try:
                    value = float(v)
                except (TypeError, ValueError):
                    raise ValueError(f"study {name!r}, trial {num}: its value is not a number") from None
        number.append(int(num))
        xs.append(fx)
        ys.append(fy)
        values.append(value)
        states.append(str(state))
    return StudyTrials(str(name), direction, x_param, y_param, np.asarray(number), np.asarray(xs), np.asarray(ys),
                       np.asarray(values, float), tuple(states), xd, yd)


def to_display(values, axis) -> np.ndarray:
    """Raw hyperparameter values in ``axis``' display unit (log10 v or log10(1 - v));
    ValueError for a value with no point on the axis (v <= 0, or a momentum >= 1)."""
    return np.array([axis.to_display(float(v)) for v in np.asarray(values, float).ravel()])
