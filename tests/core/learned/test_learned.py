"""Learned LSTM optimizer: interface, baselines, meta-training, checkpoints, CLI.

Numbers are checked against independent computations: a numpy LSTM step, optax
run by hand with autodiff gradients, a fresh training's validation loss."""

from __future__ import annotations

import dataclasses
import json
import os

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from l2l_core import cli
from l2l_core.learned import checkpoints as ck
from l2l_core.learned.baselines import BASELINES, optimizer_losses, tune_baseline
from l2l_core.learned.config import MetaTrainConfig, preset_config
from l2l_core.learned.lstm import LSTMConfig, init_meta_params, lstm_optimizer
from l2l_core.learned.metatrain import lstm_losses, metatrain
from l2l_core.tasks.quadratics import batch_loss, losses_and_grads, sample_tasks, task_losses

TINY = preset_config("tiny")


def _np_lstm_step(p, g, carry, hidden, preprocess):
    """The LSTM optimizer's step written again in numpy, from the paper's equations."""
    sig = lambda x: 1 / (1 + np.exp(-x))  # noqa: E731
    if preprocess == "log_sign":
        big = np.abs(g) >= np.exp(-10.0)
        x = np.stack([np.where(big, np.log(np.abs(g) + 1e-45) / 10, -1.0),
                      np.where(big, np.sign(g), np.exp(10.0) * g)])
    else:
        x = g[None]
    (c1, h1), (c2, h2) = carry
    H = hidden

    def cell(k, b, inp, c):
        z = k @ inp + b[:, None]
        i, f, o, gg = sig(z[:H]), sig(z[H:2 * H]), sig(z[2 * H:3 * H]), np.tanh(z[3 * H:])
        c = f * c + i * gg
        return c, o * np.tanh(c)

    c1, h1 = cell(p["lstm1_kernel"], p["lstm1_bias"], np.concatenate([x, h1]), c1)
    c2, h2 = cell(p["lstm2_kernel"], p["lstm2_bias"], np.concatenate([h1, h2]), c2)
    out = (p["readout_kernel"] @ h2)[0] + p["readout_bias"][0]
    return 0.1 * np.exp(p["log_scale"]) * out, ((c1, h1), (c2, h2))


@pytest.mark.slow
@pytest.mark.parametrize("preprocess", ["log_sign", "raw"])
def test_lstm_optax_interface_matches_hand_written_steps(preprocess):
    cfg = LSTMConfig(preprocess=preprocess)
    meta = init_meta_params(jax.random.PRNGKey(3), cfg)
    # perturb so that every weight (biases, log_scale) matters
    meta = jax.tree.map(lambda x: x + 0.3 * jax.random.normal(jax.random.PRNGKey(4), x.shape), meta)
    p = jax.tree.map(np.asarray, meta["params"])
    opt = lstm_optimizer(meta, cfg)
    params = {"a": jnp.zeros((3, 4)), "b": jnp.zeros((5,))}
    state = opt.init(params)
    rng = np.random.default_rng(0)
    carries = {k: tuple((np.zeros((20, v.size)), np.zeros((20, v.size))) for _ in range(2)) for k, v in params.items()}
    for _ in range(3):  # three steps: the hidden state must carry over
        grads = {"a": rng.normal(size=(3, 4)) * 10.0 ** rng.integers(-6, 3, (3, 4)), "b": rng.normal(size=5)}
        grads["b"][0] = 0.0  # the tiny-gradient branch of log_sign
        updates, state = opt.update(jax.tree.map(jnp.float32, grads), state, params)
        for k in params:
            want, carries[k] = _np_lstm_step(p, grads[k].reshape(-1).astype(np.float32), carries[k], 20, preprocess)
            assert updates[k].shape == params[k].shape
            np.testing.assert_allclose(np.asarray(updates[k]).reshape(-1), want, rtol=2e-4, atol=1e-6)


@pytest.mark.slow
def test_closed_form_gradients_match_autodiff():
    t = sample_tasks(jax.random.PRNGKey(0), 6, 4)
    for reduction in ("sum", "mean"):
        losses, g = losses_and_grads(t.theta0, t.w, t.y, reduction)
        np.testing.assert_allclose(losses, task_losses(t.theta0, t.w, t.y), rtol=1e-6)
        auto = jax.grad(batch_loss)(t.theta0, t.w, t.y, reduction)
        np.testing.assert_allclose(g, auto, rtol=1e-4, atol=1e-5)


@pytest.mark.slow
@pytest.mark.parametrize("preprocess", ["log_sign", "raw"])
def test_custom_vjp_meta_gradient_matches_autodiff(preprocess, monkeypatch):
    """The hand-written LSTM backward gives the meta-gradient that plain jax
    autodiff of the same forward gives (second truncation: non-zero carries)."""
    from functools import partial

    from l2l_core.learned import lstm as learned
    from l2l_core.learned.meta_step import truncation_loss

    cfg = dataclasses.replace(TINY, lstm=LSTMConfig(hidden=5, preprocess=preprocess), truncation_length=6)
    params = init_meta_params(jax.random.PRNGKey(1), cfg.lstm)
    params = jax.tree.map(lambda p: p + 0.3 * jax.random.normal(jax.random.PRNGKey(3), p.shape), params)
    t = sample_tasks(jax.random.PRNGKey(2), cfg.batch, cfg.dim)
    carry = learned.zero_carry(cfg.batch * cfg.dim, cfg.lstm.hidden)
    out = {}
    for custom in (False, True):
        monkeypatch.setattr(learned, "CUSTOM_VJP", custom)
        f = jax.jit(lambda *a: jax.value_and_grad(partial(truncation_loss, cfg=cfg), has_aux=True)(*a))
        (_, (theta, c, _)), _ = f(params, t.theta0, carry, t, 0)
        (loss, _), g = f(params, theta, c, t, cfg.truncation_length)
        out[custom] = (loss, g)
    np.testing.assert_allclose(out[True][0], out[False][0], rtol=1e-6)
    leaves_c, leaves_a = jax.tree.leaves(out[True][1]), jax.tree.leaves(out[False][1])
    assert all(float(jnp.max(jnp.abs(a))) > 0 for a in leaves_a)
    for gc, ga in zip(leaves_c, leaves_a):
        np.testing.assert_allclose(gc, ga, rtol=1e-4, atol=1e-4 * float(jnp.max(jnp.abs(ga))))


EXPECTED = {  # written independently of the registry
    "sgd": lambda lr: optax.sgd(lr),
    "adam": lambda lr: optax.adam(lr, b1=0.9, b2=0.999, eps=1e-8),
    "rmsprop": lambda lr: optax.rmsprop(lr, decay=0.9, eps=1e-8),
    "nag": lambda lr: optax.sgd(lr, momentum=0.9, nesterov=True),
}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(BASELINES))
def test_baselines_match_optax_run_by_hand(name):
    assert set(BASELINES) == set(EXPECTED)
    t = sample_tasks(jax.random.PRNGKey(1), 4, 3)
    lr = 0.01
    got = np.asarray(optimizer_losses(BASELINES[name][1](lr), t, 15))
    opt = EXPECTED[name](lr)
    theta, state, want = t.theta0, None, []
    state = opt.init(theta)
    for _ in range(15):
        want.append(task_losses(theta, t.w, t.y))
        g = jax.grad(lambda th: jnp.sum(task_losses(th, t.w, t.y)))(theta)
        u, state = opt.update(g, state, theta)
        theta = optax.apply_updates(theta, u)
    want.append(task_losses(theta, t.w, t.y))
    np.testing.assert_allclose(got, np.stack(want), rtol=1e-4, atol=1e-5)


def test_tuning_picks_the_best_learning_rate():
    t = sample_tasks(jax.random.PRNGKey(2), 16, 5)
    log_lrs = np.linspace(-3, 1, 9, dtype=np.float32)
    r = tune_baseline("sgd", t, 30, log_lrs)
    finals = []
    for llr in log_lrs:
        f = np.asarray(optimizer_losses(optax.sgd(10.0 ** llr), t, 30))[-1].mean()
        finals.append(f if np.isfinite(f) else np.inf)
    assert r["best_lr"] == pytest.approx(10.0 ** log_lrs[int(np.argmin(finals))], rel=1e-5)
    assert np.isnan(r["final_by_lr"][-1])  # lr = 10 diverges on these tasks: counted, not crashed
    with pytest.raises(ValueError, match="unknown baseline"):
        tune_baseline("lbfgs", t, 3)


@pytest.mark.slow
def test_tiny_metatraining_lowers_the_meta_loss():
    cfg = dataclasses.replace(TINY, meta_steps=40, chunk=10)
    seen = []
    r = metatrain(cfg, callback=seen.append)
    assert r.stopped is None and r.meta_steps_done == 40 and [p.done for p in seen] == [10, 20, 30, 40]
    ml = r.curve["meta_loss"]
    assert ml.shape == (40,) and np.all(np.isfinite(ml))
    assert ml[-10:].mean() < 0.5 * ml[:10].mean()
    assert r.best_val < 0.5 * r.curve["val_loss"][0]
    assert r.seconds_per_meta_step > 0
    # the returned params are the best by validation, and reproduce its score
    val = jax.random.fold_in(jax.random.PRNGKey(cfg.seed), 10**6 + 7)
    tasks = sample_tasks(val, cfg.val_tasks, cfg.dim)
    score = float(np.mean(np.asarray(lstm_losses(r.params, tasks, lstm=cfg.lstm, steps=cfg.eval_steps))[-1]))
    assert score == pytest.approx(r.best_val, rel=1e-4)


def test_stop_keeps_best_parameters_and_nan_guard_stops():
    calls = []
    r = metatrain(dataclasses.replace(TINY, meta_steps=1000), callback=calls.append,
                  should_stop=lambda: len(calls) >= 2)
    assert r.meta_steps_done == 2 * TINY.chunk and "stopped by request" in r.stopped
    assert r.best_val == min(r.curve["val_loss"])
    # a meta-parameter that makes every update overflow: stop at once, say why, keep finite params
    bad = init_meta_params(jax.random.PRNGKey(0))
    bad = jax.tree.map(lambda x: x, bad)
    bad["params"]["log_scale"] = jnp.float32(80.0)
    r = metatrain(TINY, init_params=bad)
    assert r.meta_steps_done == 0 and "non-finite" in r.stopped


def test_config_validation_messages():
    with pytest.raises(ValueError, match="meta_steps"):
        MetaTrainConfig(meta_steps=0).validate()
    with pytest.raises(ValueError, match="reduction"):
        MetaTrainConfig(reduction="max").validate()
    with pytest.raises(ValueError, match="preprocess"):
        MetaTrainConfig(lstm=LSTMConfig(preprocess="fft")).validate()
    with pytest.raises(ValueError, match="unknown preset"):
        preset_config("huge")


def test_checkpoint_round_trip_and_clear_errors(tmp_path, monkeypatch):
    params = init_meta_params(jax.random.PRNGKey(5))
    curve = {"meta_loss": np.arange(5, dtype=np.float32), "val_steps": np.arange(3, dtype=np.int32)}
    path = ck.save_checkpoint(tmp_path / "run", params, TINY, curve, {"best_step": 3})
    back = ck.load_checkpoint(tmp_path / "run")
    assert back.config == TINY and back.summary == {"best_step": 3}
    np.testing.assert_array_equal(back.curve["meta_loss"], curve["meta_loss"])
    for a, b in zip(jax.tree.leaves(params), jax.tree.leaves(back.params)):
        np.testing.assert_array_equal(np.asarray(a), b)
    assert json.loads((tmp_path / "run" / "run.json").read_text())["config"]["batch"] == TINY.batch

    data = path.read_bytes()
    cases = {
        "truncated": (data[: len(data) // 2], "truncated|corrupt"),
        "foreign": (b'{"not": "a checkpoint"}', "truncated or not a checkpoint|not a learned-optimizer"),
        "other msgpack": (__import__("flax").serialization.msgpack_serialize({"a": 1}), "not a learned-optimizer"),
        "tampered": (data[:-40] + bytes(40), "checksum|truncated|corrupt"),
    }
    for name, (blob, msg) in cases.items():
        d = tmp_path / name
        d.mkdir()
        (d / ck.FILENAME).write_bytes(blob)
        with pytest.raises(ValueError, match=msg):
            ck.load_checkpoint(d)
    with pytest.raises(ValueError, match="no checkpoint"):
        ck.load_checkpoint(tmp_path / "missing")

    # a save killed before its rename leaves the old checkpoint intact and no temp file
    def boom(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(KeyboardInterrupt):
        ck.save_checkpoint(tmp_path / "run", jax.tree.map(lambda x: x * 0, params), TINY, curve, {})
    monkeypatch.undo()
    assert ck.load_checkpoint(tmp_path / "run").summary == {"best_step": 3}
    assert sorted(p.name for p in (tmp_path / "run").iterdir()) == ["checkpoint.msgpack", "run.json"]


def test_cli_metatrain_then_compare(tmp_path, capsys):
    out = tmp_path / "ck"
    assert cli.main(["metatrain", "--preset", "tiny", "--meta-steps", "4", "--seed", "1",
                     "--out", str(out), "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert res["meta_steps_done"] == 4 and res["seconds_per_meta_step"] > 0 and "meta_loss_last" in res
    assert cli.main(["compare", "--checkpoint", str(out), "--seed", "7", "--batch", "16", "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert set(res["final"]) == {"lstm", "sgd", "adam", "rmsprop", "nag"}
    assert set(res["best_lr"]) == {"sgd", "adam", "rmsprop", "nag"}
    assert res["initial"] > 10 and res["batch"] == 16
    assert cli.main(["compare", "--checkpoint", str(tmp_path / "nothing"), "--json"]) == 2


def test_shipped_default_beats_tuned_baselines_on_unseen_tasks(capsys):
    assert cli.main(["compare", "--seed", "3", "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    lstm = res["final"]["lstm"]
    for name in ("sgd", "adam", "rmsprop", "nag"):
        assert lstm <= 0.9 * res["final"][name], (name, res["final"])
    assert 80 < res["initial"] < 150  # about dim * (dim + 1) = 110
