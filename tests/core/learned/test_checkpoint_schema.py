"""Checkpoint contents are checked as a schema: the issue's cases, a fuzz over
every field's type, the Learned optimizer page and ``compare`` on a bad run."""

from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path

import jax
import numpy as np
import pytest
from flax import serialization
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from l2l_core.cli.commands import main
from l2l_core.learned import checkpoints
from l2l_core.learned.config import MetaTrainConfig
from l2l_core.learned.lstm import init_meta_params

PAGE = str(Path(__file__).resolve().parents[3] / "pages" / "learned_optimizer.py")
CFG = MetaTrainConfig()
PARAMS = serialization.to_state_dict(jax.tree.map(np.asarray, init_meta_params(jax.random.PRNGKey(0), CFG.lstm)))
SUMMARY = dict(meta_steps_done=10, meta_loss_first=11.0, meta_loss_last=1.0, final_loss_last=0.2, best_step=10,
               best_val_loss=0.1, stopped=None, seconds=5.0, compile_seconds=1.0, seconds_per_meta_step=0.4,
               preset="short")
CURVE = dict(meta_loss=np.linspace(11, 1, 10, dtype=np.float32), final_loss=np.ones(10, np.float32),
             val_steps=np.array([0, 10], np.int32), val_loss=np.array([2.0, 0.1], np.float32))


def valid_payload() -> dict:
    """Config and summary as decoded JSON (encoded on write), curve and params as arrays."""
    return {"config": CFG.to_dict(), "summary": dict(SUMMARY), "curve": dict(CURVE), "params": copy.deepcopy(PARAMS)}


def write_raw(directory: Path, payload: dict) -> Path:
    """Frames ``payload`` as a checkpoint with a valid checksum, bypassing every check on save."""
    inner = dict(payload)
    for k in ("config", "summary"):
        if k in inner and not isinstance(inner[k], bytes):
            inner[k] = json.dumps(inner[k])
    data = serialization.msgpack_serialize(inner)
    blob = serialization.msgpack_serialize({"format": checkpoints.FORMAT, "version": checkpoints.VERSION,
                                            "sha256": hashlib.sha256(data).hexdigest(), "payload": data})
    directory.mkdir(parents=True, exist_ok=True)
    (directory / checkpoints.FILENAME).write_bytes(blob)
    return directory


def test_the_valid_payload_loads(tmp_path):
    ck = checkpoints.load_checkpoint(write_raw(tmp_path, valid_payload()))
    assert ck.summary["best_step"] == 10 and ck.config == CFG


def _bad(**change):
    p = valid_payload()
    for path, value in change.items():
        node = p
        *head, last = path.split("__")
        for k in head:
            node = node[k]
        node[last] = value
    return p


ISSUE_CASES = {
    "summary as a list": (_bad(summary=[1, 2]), "summary is a list"),
    "seconds as text": (_bad(summary__seconds="5"), "summary.seconds"),
    "a loss too large for a float": (_bad(summary__best_val_loss=10**400), "summary.best_val_loss"),
    "curve as a list": (_bad(curve=[1.0, 2.0]), "curve is a list"),
    "float64 weights of 1e39": (_bad(params__params__lstm1_bias=np.full(80, 1e39)), "not finite in float32"),
    "meta_lr as text": (_bad(config__meta_lr="0.01"), "config.meta_lr"),
    "hidden as a bool": (_bad(config__lstm__hidden=True), "config.lstm.hidden"),
    "a 2-D curve": (_bad(curve__meta_loss=np.ones((2, 2))), "curve 'meta_loss'"),
    "complex weights": (_bad(params__params__readout_bias=np.ones(1, np.complex64)), "real numbers"),
}


@pytest.mark.parametrize("name", ISSUE_CASES)
def test_bad_contents_with_a_valid_checksum_are_a_clear_error(tmp_path, name):
    payload, message = ISSUE_CASES[name]
    with pytest.raises(ValueError, match=message):
        checkpoints.load_checkpoint(write_raw(tmp_path, payload))


def test_compare_on_bad_contents_is_one_line_and_exit_2(tmp_path, capsys):
    write_raw(tmp_path / "bad", ISSUE_CASES["float64 weights of 1e39"][0])
    assert main(["compare", "--checkpoint", str(tmp_path / "bad"), "--batch", "4"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not finite in float32" in err


# -- fuzz: every field, every type --------------------------------------------------------------

FIELDS = (["config", "summary", "curve", "params", "config__lstm", "params__params"]
          + [f"config__{k}" for k in CFG.to_dict() if k != "lstm"]
          + [f"config__lstm__{k}" for k in CFG.lstm.to_dict()]
          + [f"summary__{k}" for k in SUMMARY] + [f"curve__{k}" for k in CURVE]
          + [f"params__params__{k}" for k in PARAMS["params"]])
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.sampled_from([10**400, -(10**400)])
    | st.floats() | st.text(max_size=6),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=6)
ARRAYS = hnp.arrays(st.sampled_from(["f8", "f4", "f2", "i8", "u1", "?", "c8"]),
                    hnp.array_shapes(min_dims=0, max_dims=2, max_side=4))
BIG = st.sampled_from([np.full(80, 1e39), np.full((80, 22), 3e38), np.full(1, np.nan), np.zeros(0)])


def _check_usable(ck) -> None:
    """What the page and ``compare`` rely on after a load."""
    for leaf in jax.tree.leaves(ck.params):
        assert leaf.dtype == np.float32 and np.all(np.isfinite(leaf))
    s = ck.summary
    assert isinstance(s, dict) and isinstance(ck.curve, dict)
    f"{s.get('meta_steps_done', '?')} {s.get('seconds', float('nan')):.0f} {s.get('seconds_per_meta_step', 0):.3f}"
    best = s.get('best_val_loss')  # may be null (a run that never validated finite)
    f"{best if best is not None else float('nan'):.4g} {s.get('best_step', '?')}"
    for v in ck.curve.values():
        assert v.ndim == 1 and v.dtype.kind in "iuf"
    ck.config.validate()


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@pytest.mark.slow
@given(field=st.sampled_from(FIELDS), value=st.one_of(JSON_VALUES, ARRAYS, BIG), drop=st.booleans())
def test_fuzz_every_field_of_a_checkpoint(tmp_path, field, value, drop):
    payload = valid_payload()
    node = payload
    *head, last = field.split("__")
    for k in head:
        node = node[k]
    if drop:
        del node[last]
    else:
        if field in ("config", "summary") or head[:1] in (["config"], ["summary"]):
            if isinstance(value, np.ndarray):
                value = value.tolist()
        node[last] = value
    try:
        d = write_raw(tmp_path / "fz", payload)
    except (TypeError, ValueError, OverflowError):
        return  # not encodable as JSON or msgpack: no file can hold it
    try:
        ck = checkpoints.load_checkpoint(d)
    except ValueError as e:
        assert "\n" not in str(e)
        return
    _check_usable(ck)


# -- the page ----------------------------------------------------------------------------------


def test_learned_page_shows_the_error_for_a_bad_run_and_lists_the_others(tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    write_raw(tmp_path / "broken", ISSUE_CASES["summary as a list"][0])
    write_raw(tmp_path / "fine", valid_payload())
    monkeypatch.setenv("L2L_RUNS_DIR", str(tmp_path))
    at = AppTest.from_file(PAGE, default_timeout=180)
    at.session_state["lo_run"] = "broken"
    at.run()
    assert not at.exception, at.exception
    assert set(at.selectbox(key="lo_run").options) >= {"broken", "fine", "default (shipped)"}
    assert any("summary is a list" in e.value for e in at.error)
