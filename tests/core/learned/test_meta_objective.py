"""The meta-objective's options: which data scores a step (``meta_loss_on``) and
how the steps of a run are weighted (``meta_weight_power``), checked against a
plain Python loop over the same steps."""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from l2l_core.learned.checkpoints import load_checkpoint
from l2l_core.learned.comparison import lstm_run
from l2l_core.learned.config import preset_config
from l2l_core.learned.lstm import make_module, zero_carry
from l2l_core.learned.meta_step import truncation_loss
from l2l_core.learned.objective import ERROR_SHARPNESS, HELDOUT_FRACTION, meta_training_tasks, validation_losses
from l2l_core.tasks.families import get_family
from l2l_core.tasks.mlp_families import MLPSpec, sample_mlp_tasks


def _numpy_logits(spec, theta, x):
    """Logits of one sigmoid MLP (P,) on x, in float64 numpy."""
    h = np.asarray(x, np.float64)
    layers = [(np.asarray(w, np.float64), np.asarray(b, np.float64)) for w, b in spec.unflatten(theta)]
    for w, b in layers[:-1]:
        h = 1.0 / (1.0 + np.exp(-(h @ w + b)))
    return h @ layers[-1][0] + layers[-1][1]


def _numpy_loss(spec, theta, x, y):
    z = _numpy_logits(spec, theta, x)
    z = z - z.max(axis=1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    return -np.mean(logp[np.arange(len(y)), np.asarray(y)])


def _numpy_error(spec, theta, x, y):
    """Mean softmax probability of the wrong classes at logits x ERROR_SHARPNESS."""
    z = ERROR_SHARPNESS * _numpy_logits(spec, theta, x)
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    return np.mean(1.0 - p[np.arange(len(y)), np.asarray(y)]) + 1e-6


def _heldout_reference(tasks, theta, on):
    """Per-task scores of the held-out objectives from the full training split, sliced here."""
    n = tasks.x.shape[0]
    keep = n - round(HELDOUT_FRACTION * n)
    x, y = np.asarray(tasks.x), np.asarray(tasks.y)
    out = []
    for row in np.asarray(theta):
        held = (_numpy_error if on.endswith("_error") else _numpy_loss)(tasks.spec, row, x[keep:], y[keep:])
        rest = _numpy_loss(tasks.spec, row, x[:keep], y[:keep])
        out.append(held if on == "heldout" else np.sqrt(held * rest))
    return np.asarray(out)


def _reference(params, cfg, tasks, step0):
    """Sum over the truncation's steps of w_t * mean over tasks of log(loss), step by step."""
    module = make_module(cfg.lstm)
    full, tasks = tasks, meta_training_tasks(tasks, cfg.meta_loss_on)
    theta, carry = tasks.theta0, zero_carry(tasks.theta0.size, cfg.lstm.hidden, cfg.lstm.base)
    horizon = cfg.truncations * cfg.truncation_length
    shift = 1 if cfg.meta_loss_on == "next" else 0
    total = 0.0
    for i in range(cfg.truncation_length):
        _, g = tasks.losses_and_grads(theta, step0 + i, cfg.reduction)
        upd, carry = module.apply(params, g.reshape(-1), carry)
        theta = theta + upd.reshape(theta.shape)
        t = (step0 + i + 1) / horizon
        w = (cfg.meta_weight_power + 1) * t**cfg.meta_weight_power
        if "heldout" in cfg.meta_loss_on:
            losses = _heldout_reference(full, theta, cfg.meta_loss_on)
        elif cfg.meta_loss_on == "train":
            losses = tasks.final_losses(theta)
        else:
            losses = tasks.step_losses(theta, step0 + i + shift)
        total += w * float(jnp.mean(jnp.log(losses)))
    return total


@pytest.fixture(scope="module")
def setup():
    # the shipped digits optimizer (with its base path): its steps fit the minibatch they are taken on
    shipped = load_checkpoint(get_family("digits_mlp").default_checkpoint)
    cfg = preset_config("tiny", task="digits_mlp", truncation_length=4, truncations=3, lstm=shipped.config.lstm)
    tasks = sample_mlp_tasks(jax.random.PRNGKey(5), 2, MLPSpec(batch=16))
    return cfg, tasks, shipped.params


@pytest.mark.parametrize("on,power", [("same", 0.0), ("next", 0.0), ("next", 2.0), ("same", 1.0),
                                      ("train", 1.0), ("heldout", 1.0), ("train+heldout", 0.0),
                                      ("train+heldout_error", 1.0)])
@pytest.mark.slow
def test_truncation_loss_matches_a_step_by_step_reference(setup, on, power):
    cfg, tasks, params = setup
    cfg = dataclasses.replace(cfg, meta_loss_on=on, meta_weight_power=power).validate()
    carry = zero_carry(tasks.theta0.size, cfg.lstm.hidden, cfg.lstm.base)
    step0 = 4  # the second truncation: weights depend on the global step
    loss, _ = truncation_loss(params, tasks.theta0, carry, meta_training_tasks(tasks, on), step0, cfg=cfg)
    np.testing.assert_allclose(float(loss), _reference(params, cfg, tasks, step0), rtol=1e-4)


def test_the_options_change_the_objective(setup):
    cfg, tasks, params = setup
    carry = zero_carry(tasks.theta0.size, cfg.lstm.hidden, cfg.lstm.base)

    def loss(**kw):
        c = dataclasses.replace(cfg, **kw).validate()
        return float(truncation_loss(params, tasks.theta0, carry, tasks, 0, cfg=c)[0])

    same, nxt, ramp = loss(meta_loss_on="same"), loss(meta_loss_on="next"), loss(meta_weight_power=1.0)
    train = loss(meta_loss_on="train")
    # scored on the minibatch it just stepped on, a step looks better than on a fresh one or the whole split
    assert same < nxt and same < train
    assert abs(ramp - same) > 1e-3


def test_the_heldout_slice_is_out_of_reach_of_the_minibatches(setup):
    _, tasks, _ = setup
    t = meta_training_tasks(tasks, "train+heldout")
    n, k = tasks.x.shape[0], round(HELDOUT_FRACTION * tasks.x.shape[0])
    assert t.x.shape[0] == n - k and t.x_test.shape[0] == k
    np.testing.assert_array_equal(np.asarray(t.x_test), np.asarray(tasks.x[n - k:]))
    # minibatches index the shortened split only; the real test split is not touched
    xb, _ = t._minibatch(t.keys[0], 3)
    rows = {r.tobytes() for r in np.asarray(t.x)}
    assert all(r.tobytes() in rows for r in np.asarray(xb))
    assert meta_training_tasks(tasks, "train") is tasks
    assert not np.array_equal(np.asarray(t.x_test[:5]), np.asarray(tasks.x_test[:5]))


@pytest.mark.slow
@pytest.mark.parametrize("on", ["train", "heldout", "train+heldout", "train+heldout_error"])
def test_validation_scores_what_the_objective_scores(setup, on):
    cfg, tasks, params = setup
    t = meta_training_tasks(tasks, on)
    got = validation_losses(params, t, lstm=cfg.lstm, steps=5, reduction="sum", meta_loss_on=on)
    losses, theta = lstm_run(params, t, lstm=cfg.lstm, steps=5)
    want = np.asarray(losses[-1]) if on == "train" else _heldout_reference(tasks, theta, on)
    np.testing.assert_allclose(np.asarray(got), want, rtol=1e-4)


@pytest.mark.parametrize("kw,match", [(dict(meta_loss_on="test"), "meta_loss_on"),
                                      (dict(meta_weight_power=-1.0), "meta_weight_power"),
                                      (dict(meta_weight_power=float("nan")), "meta_weight_power")])
def test_bad_objective_settings_are_refused(kw, match):
    with pytest.raises(ValueError, match=match):
        preset_config("tiny", task="digits_mlp", **kw)
