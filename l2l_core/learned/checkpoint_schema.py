"""The contents of a learned-optimizer checkpoint, checked field by field before use.

A checksum proves a file is whole, not that what it holds makes sense: a
summary that is a list, a time that is a string or float64 weights of 1e39
(inf once cast to the float32 they run in) would pass it and crash a page
later. :func:`check_payload` checks every field's type and range and returns
plain, typed values; anything else is a ValueError naming the field.

Rules (also in ``docs/robustness.md``):

- ``config``: a JSON object with exactly the :class:`MetaTrainConfig` fields
  (``lstm`` a JSON object of :class:`LSTMConfig` fields); integers are
  integers (not booleans), real numbers are numbers, names are strings; then
  the config's own range checks (``validate``).
- ``summary``: a JSON object; the fields the pages and commands read have
  fixed types (:data:`SUMMARY_FIELDS`); other fields must be JSON scalars.
- ``curve``: a map from names to 1-D arrays of real numbers, at most
  ``MAX_CURVE`` long (non-finite entries are data: a diverged step).
- ``params``: every leaf a real-number array of the template's shape whose
  values are finite in float32, the dtype the learned optimizer runs in.
"""

from __future__ import annotations

import dataclasses
import json
import math
import numbers
from typing import Any

import jax
import numpy as np
from flax import serialization

from l2l_core.learned.config import MAX_META_STEPS, MetaTrainConfig
from l2l_core.learned.lstm import LSTMConfig, init_meta_params

MAX_CURVE = 2**21  # entries per curve; the 16 MiB file cap bounds them anyway
_NUMBER = "a number"
_COUNT = "a non-negative integer"
_SECONDS = "a non-negative number"
_TEXT = "text"
#: summary fields read by the pages and the commands -> (kind, may be null)
SUMMARY_FIELDS = {
    "meta_steps_done": (_COUNT, False), "best_step": (_COUNT, False),
    "meta_loss_first": (_NUMBER, True), "meta_loss_last": (_NUMBER, True), "final_loss_last": (_NUMBER, True),
    "best_val_loss": (_NUMBER, True), "seconds": (_SECONDS, False), "compile_seconds": (_SECONDS, False),
    "seconds_per_meta_step": (_SECONDS, False), "stopped": (_TEXT, True), "preset": (_TEXT, False),
}


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_real(v) -> bool:
    return isinstance(v, numbers.Real) and not isinstance(v, bool)


def _finite(v) -> bool:
    try:
        return math.isfinite(v)
    except OverflowError:  # an integer too large for a float
        return False


def _check_fields(d, cls, where: str) -> dict:
    if not isinstance(d, dict):
        raise ValueError(f"{where} is a {type(d).__name__}, not a JSON object")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(d) - set(fields))
    missing = sorted(n for n in set(fields) - set(d) if fields[n].default is dataclasses.MISSING)
    if unknown or missing:
        raise ValueError(f"{where}: unknown fields {unknown}, missing fields {missing}")
    out = {}
    for name, f in fields.items():
        if name not in d:  # a field newer than the checkpoint: its default
            continue
        v, default = d[name], f.default
        if isinstance(default, (LSTMConfig,)):
            out[name] = LSTMConfig(**_check_fields(v, LSTMConfig, f"{where}.{name}"))
            continue
        if isinstance(default, tuple):  # a list of integers (JSON has no tuples)
            if not isinstance(v, list) or not all(_is_int(x) for x in v):
                raise ValueError(f"{where}.{name} must be a list of integers, got {type(v).__name__} {v!r:.40}")
            out[name] = tuple(int(x) for x in v)
            continue
        ok = (_is_int(v) if isinstance(default, int) else
              _is_real(v) and _finite(v) if isinstance(default, float) else isinstance(v, str))
        if not ok:
            want = "an integer" if isinstance(default, int) else "a finite number" if isinstance(default, float) \
                else "text"
            raise ValueError(f"{where}.{name} must be {want}, got {type(v).__name__} {v!r:.40}")
        out[name] = float(v) if isinstance(default, float) else v
    return out


def check_config(d) -> MetaTrainConfig:
    return MetaTrainConfig(**_check_fields(d, MetaTrainConfig, "config")).validate()


def _summary_value_ok(v, kind: str) -> bool:
    if kind == _TEXT:
        return isinstance(v, str)
    if kind == _COUNT:
        return _is_int(v) and 0 <= v <= MAX_META_STEPS
    if not _is_real(v):
        return False
    if kind == _SECONDS:
        return _finite(v) and v >= 0
    return isinstance(v, float) or _finite(v)  # _NUMBER: NaN and inf are data; an int must fit a float


def check_summary(d) -> dict:
    if not isinstance(d, dict):
        raise ValueError(f"summary is a {type(d).__name__}, not a JSON object")
    for k, v in d.items():
        if k in SUMMARY_FIELDS:
            kind, nullable = SUMMARY_FIELDS[k]
            if not ((v is None and nullable) or _summary_value_ok(v, kind)):
                raise ValueError(f"summary.{k} must be {kind}{' or null' if nullable else ''}, got {v!r:.40}")
        elif not (v is None or isinstance(v, (str, int, float))):
            raise ValueError(f"summary.{k} must be a JSON scalar, got {type(v).__name__}")
    return dict(d)


def check_curve(d) -> dict:
    if not isinstance(d, dict):
        raise ValueError(f"curve is a {type(d).__name__}, not a map of arrays")
    out = {}
    for k, v in d.items():
        try:
            a = np.asarray(v) if isinstance(v, (np.ndarray, list, tuple)) else None
        except (ValueError, TypeError, OverflowError):  # ragged or mixed lists
            a = None
        if not isinstance(k, str) or a is None or a.ndim != 1 or a.dtype.kind not in "iuf" \
                or len(a) > MAX_CURVE:
            raise ValueError(f"curve {k!r:.40} must be a 1-D array of at most {MAX_CURVE:,} real numbers")
        out[k] = a
    return out


def check_params(state, cfg: MetaTrainConfig) -> Any:
    """The parameters as float32 arrays in the LSTM's structure; ValueError otherwise."""
    template = init_meta_params(jax.random.PRNGKey(0), cfg.lstm)
    try:
        params = serialization.from_state_dict(template, state)
    except Exception as e:  # flax raises several types for a wrong structure
        raise ValueError(f"parameters do not match its LSTM config ({e})") from None
    t_leaves = jax.tree_util.tree_leaves_with_path(template)
    got_leaves = jax.tree.leaves(params)
    if len(got_leaves) != len(t_leaves):
        raise ValueError(f"{len(got_leaves)} parameter arrays, expected {len(t_leaves)}")
    out = []
    for (kp, want), got in zip(t_leaves, got_leaves):
        name = jax.tree_util.keystr(kp)
        if not isinstance(got, np.ndarray) or got.dtype.kind not in "iuf":
            raise ValueError(f"parameter {name} is not an array of real numbers")
        if got.shape != want.shape:
            raise ValueError(f"parameter {name} has shape {got.shape}, expected {want.shape}")
        with np.errstate(over="ignore", invalid="ignore"):
            f32 = got.astype(np.float32)
        if not np.all(np.isfinite(f32)):
            raise ValueError(f"parameter {name} has values that are not finite in float32")
        out.append(f32)
    return jax.tree.unflatten(jax.tree.structure(template), out)


def check_payload(inner) -> tuple[MetaTrainConfig, dict, dict, Any]:
    """Decoded payload -> (config, summary, curve, float32 params); ValueError naming the bad field."""
    if not isinstance(inner, dict):
        raise ValueError("payload is not a map")
    missing = sorted({"config", "summary", "curve", "params"} - set(inner))
    if missing:
        raise ValueError(f"payload lacks {missing}")
    texts = {}
    for k in ("config", "summary"):
        if not isinstance(inner[k], str):
            raise ValueError(f"{k} must be JSON text, got {type(inner[k]).__name__}")
        try:
            texts[k] = json.loads(inner[k])
        except (json.JSONDecodeError, RecursionError):
            raise ValueError(f"{k} is not valid JSON") from None
    cfg = check_config(texts["config"])
    return cfg, check_summary(texts["summary"]), check_curve(inner["curve"]), check_params(inner["params"], cfg)
