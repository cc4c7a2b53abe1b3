"""The two ways to run a chunk of meta-steps (l2l_core/learned/meta_step.py) agree:
one jitted scan, and each truncation's batch split in two halves on two threads."""

from __future__ import annotations

import jax
import numpy as np
import pytest

from l2l_core.learned.config import chunk_structure, preset_config
from l2l_core.learned.lstm import LSTMConfig, init_meta_params
from l2l_core.learned.meta_step import TrainState, meta_optimizer, run_chunk, run_chunk_split, split_ways


@pytest.mark.parametrize("task,kw", [("quadratic", {}), ("quadratic", dict(dims=(10, 20))),
                                     ("quadratic", dict(lstm=LSTMConfig(base="nag", base_lr=0.005))),
                                     ("digits_mlp", dict(meta_loss_on="train+heldout", meta_weight_power=1.0))])
@pytest.mark.slow
def test_the_split_chunk_gives_the_scanned_chunk(task, kw):
    cfg = chunk_structure(preset_config("tiny", task=task, **kw))
    p = init_meta_params(jax.random.PRNGKey(0), cfg.lstm)
    state = TrainState(p, meta_optimizer(cfg).init(p), jax.random.PRNGKey(3))
    a = run_chunk(state, 3, cfg=cfg, length=4)  # 3 active meta-steps of 4: the last is skipped
    b = run_chunk_split(state, 3, cfg=cfg, length=4).result()
    np.testing.assert_allclose(np.asarray(a[2]), b[2], rtol=1e-3)  # mean losses, NaN where skipped; the
    # halves sum in another order, and three meta-updates carry that rounding on
    np.testing.assert_allclose(np.asarray(a[3]), b[3], rtol=1e-3)
    assert np.array_equal(np.asarray(a[4]), b[4]) and bool(a[1]) == bool(b[1]) is False
    np.testing.assert_array_equal(a[0].key, b[0].key)
    for x, y in zip(jax.tree.leaves(a[0].params), jax.tree.leaves(b[0].params)):
        np.testing.assert_allclose(np.asarray(x), np.asarray(y), rtol=1e-3, atol=2e-4)  # Adam: 3 x 1e-2 steps


def test_the_split_chunk_stops_at_a_non_finite_meta_step_as_the_scan_does():
    cfg = chunk_structure(preset_config("tiny"))
    p = init_meta_params(jax.random.PRNGKey(0), cfg.lstm)
    p = {**p, "params": {**p["params"], "log_scale": np.float32(80.0)}}  # every update overflows
    state = TrainState(p, meta_optimizer(cfg).init(p), jax.random.PRNGKey(3))
    a = run_chunk(state, 4, cfg=cfg, length=4)
    b = run_chunk_split(state, 4, cfg=cfg, length=4).result()
    assert bool(a[1]) and bool(b[1]) and not a[4][0] and not b[4][0]
    for x, y in zip(jax.tree.leaves(a[0].params), jax.tree.leaves(b[0].params)):
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))  # phi kept as it was


def test_split_ways(monkeypatch):
    cfg = preset_config("tiny")
    monkeypatch.setattr("os.sched_getaffinity", lambda pid: {0, 1})
    assert split_ways(cfg) == 2
    assert split_ways(preset_config("tiny", batch=7)) == 1  # an odd batch
    assert split_ways(preset_config("tiny", reduction="mean")) == 1  # a mean's scale depends on the batch
    monkeypatch.setattr("os.sched_getaffinity", lambda pid: {0})
    assert split_ways(cfg) == 1  # one core: the scan
    monkeypatch.setattr("os.sched_getaffinity", lambda pid: {0, 1})
    monkeypatch.setenv("L2L_META_SPLIT", "1")
    assert split_ways(cfg) == 1
