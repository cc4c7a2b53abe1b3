"""The meta-training loop: validation beside the next chunk, the whole-run
finishing stage (``finish_after``) and the time cap's prediction of the next chunk."""

from __future__ import annotations

import dataclasses
import time

import jax
import numpy as np
import pytest

from l2l_core.learned.config import MetaTrainConfig, chunk_structure, preset_config
from l2l_core.learned.meta_step import TrainState, meta_optimizer, run_chunk, run_chunk_split, split_ways
from l2l_core.learned.metatrain import _why_stop, lstm_losses, metatrain, validation_tasks
from l2l_core.learned.run_record import Snapshot

STAGED = preset_config("tiny", meta_steps=4, finish_after=2, finish_meta_lr=3e-3)


def _same(a, b) -> bool:
    return all(np.array_equal(x, y) for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=True))


@pytest.fixture(scope="module")
def staged():
    snaps = []
    return metatrain(STAGED, on_chunk=snaps.append), snaps


def test_the_finishing_stage_is_a_whole_run_fine_tuning_from_the_best_parameters(staged):
    result, _ = staged
    # the reference: the first stage alone, then the fine-tuning recipe as a run of its own
    # (one truncation of the whole run, training-split meta-loss, p = 1, a fresh Adam at
    # finish_meta_lr) continued from the first stage's best parameters and task key
    snaps = []
    metatrain(dataclasses.replace(STAGED, meta_steps=2, finish_after=0), on_chunk=snaps.append)
    s = snaps[-1]
    fine = dataclasses.replace(STAGED, finish_after=0, truncations=1,
                               truncation_length=STAGED.truncations * STAGED.truncation_length,
                               meta_loss_on="train", meta_weight_power=1.0, meta_lr=STAGED.finish_meta_lr)
    fresh = TrainState(s.best_params, meta_optimizer(fine).init(s.best_params), s.state.key)
    ref = metatrain(fine, resume=Snapshot(2, fresh, s.best_params, s.best_val, s.best_step, s.curve))
    np.testing.assert_array_equal(result.curve["meta_loss"], ref.curve["meta_loss"])
    np.testing.assert_array_equal(result.curve["val_loss"], ref.curve["val_loss"])
    assert _same(result.last_params, ref.last_params)
    # and it is not what the first stage's settings would have done
    plain = metatrain(dataclasses.replace(STAGED, finish_after=0))
    assert not np.array_equal(plain.curve["meta_loss"][2:], result.curve["meta_loss"][2:])


def test_a_run_resumed_at_the_stage_boundary_is_the_same_run(staged):
    result, snaps = staged
    at_boundary = next(s for s in snaps if s.done == STAGED.finish_after)
    resumed = metatrain(STAGED, resume=at_boundary)
    np.testing.assert_array_equal(result.curve["meta_loss"], resumed.curve["meta_loss"])
    assert _same(result.last_params, resumed.last_params)


def test_the_time_cap_stops_before_a_chunk_that_would_end_after_it():
    cfg = MetaTrainConfig(max_seconds=10.0)
    started = time.perf_counter() - 6.0
    assert _why_stop(cfg, 3, started, None, next_chunk=3.0) is None
    assert "time budget of 10 s" in _why_stop(cfg, 3, started, None, next_chunk=5.0)
    assert _why_stop(MetaTrainConfig(), 3, started, None, next_chunk=1e9) is None  # no cap


@pytest.mark.parametrize("kw, match", [(dict(finish_after=7, meta_steps=6), "finish_after"),
                                       (dict(finish_after=-1), "finish_after"),
                                       (dict(finish_meta_lr=0.0), "finish_meta_lr"),
                                       (dict(finish_meta_lr=float("nan")), "finish_meta_lr")])
def test_bad_stage_settings_are_refused(kw, match):
    with pytest.raises(ValueError, match=match):
        MetaTrainConfig(**kw).validate()


def test_the_pipelined_loop_gives_the_chunks_run_one_after_another():
    # metatrain validates chunk k while chunk k + 1 runs; by hand, one thing at a time:
    from l2l_core.learned.lstm import init_meta_params

    cfg = preset_config("tiny", meta_steps=6, chunk=2)
    result = metatrain(cfg)
    k_init, k_train = jax.random.split(jax.random.PRNGKey(cfg.seed))
    params = init_meta_params(k_init, cfg.lstm)
    state = TrainState(params, meta_optimizer(cfg).init(params), k_train)
    val = validation_tasks(cfg)
    score = lambda p: float(np.mean(lstm_losses(p, val, lstm=cfg.lstm, steps=cfg.eval_steps)[-1]))  # noqa: E731
    meta_loss, val_loss = [], [score(params)]
    structure = chunk_structure(cfg)
    if split_ways(structure) == 2:  # the way metatrain runs it on this machine
        def run(state):
            return run_chunk_split(state, 2, cfg=structure, length=2).result()
    else:
        def run(state):
            return run_chunk(state, 2, cfg=structure, length=2)
    for _ in range(3):
        state, bad, ml, _, _ = run(state)
        meta_loss += list(np.asarray(ml))
        val_loss.append(score(state.params))
    np.testing.assert_array_equal(result.curve["meta_loss"], np.asarray(meta_loss, np.float32))
    np.testing.assert_array_equal(result.curve["val_loss"], np.asarray(val_loss, np.float32))
    assert _same(result.last_params, state.params)
