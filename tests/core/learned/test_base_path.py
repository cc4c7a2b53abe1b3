"""The learned optimizer's base path (``LSTMConfig(base="nag")``): the LSTM's
output added to a Nesterov momentum step with a learned learning rate.

Checked against optax's own ``sgd(lr, momentum, nesterov=True)`` run beside
the base-less LSTM, step by step; and through meta-training, checkpoints and
the CLI's ``--init-from ... --base nag``."""

from __future__ import annotations

import dataclasses
import json

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from l2l_core import cli
from l2l_core.learned import checkpoints as ck
from l2l_core.learned.config import preset_config, preset_lstm
from l2l_core.learned.lstm import LSTMConfig, init_meta_params, lstm_optimizer, with_base, zero_carry
from l2l_core.learned.meta_step import truncation_loss
from l2l_core.learned.metatrain import metatrain
from l2l_core.learned.objective import meta_training_tasks
from l2l_core.tasks.families import get_family

NAG = LSTMConfig(base="nag", base_lr=0.7, base_momentum=0.8)


def _grads(rng):
    return {"a": jnp.asarray(rng.normal(size=(3, 4)), jnp.float32), "b": jnp.asarray(rng.normal(size=5), jnp.float32)}


@pytest.mark.slow
def test_the_base_path_adds_optax_nesterov_to_the_lstm_step():
    plain = LSTMConfig()
    meta = init_meta_params(jax.random.PRNGKey(3), plain)
    meta = jax.tree.map(lambda x: x + 0.3 * jax.random.normal(jax.random.PRNGKey(4), x.shape), meta)
    weight = 0.4
    blended = with_base(meta, NAG, lstm_weight=weight)
    assert float(blended["params"]["base_log_lr"]) == pytest.approx(np.log(0.7))
    # a fresh init of the nag config has the same structure, starting at base_lr
    fresh = init_meta_params(jax.random.PRNGKey(3), NAG)
    assert jax.tree.structure(fresh) == jax.tree.structure(blended)
    assert float(fresh["params"]["base_log_lr"]) == pytest.approx(np.log(0.7))

    opt, lstm, nag = lstm_optimizer(blended, NAG), lstm_optimizer(meta, plain), optax.sgd(0.7, 0.8, nesterov=True)
    params = {"a": jnp.zeros((3, 4)), "b": jnp.zeros((5,))}
    s, s_lstm, s_nag = opt.init(params), lstm.init(params), nag.init(params)
    rng = np.random.default_rng(0)
    for _ in range(4):  # the momentum and the LSTM's state both carry over
        g = _grads(rng)
        u, s = opt.update(g, s, params)
        u_lstm, s_lstm = lstm.update(g, s_lstm, params)
        u_nag, s_nag = nag.update(g, s_nag, params)
        for k in params:
            np.testing.assert_allclose(u[k], weight * u_lstm[k] + u_nag[k], rtol=1e-5, atol=1e-6)


def test_bad_base_settings_are_refused():
    with pytest.raises(ValueError, match="base must be one of"):
        LSTMConfig(base="adam").validate()
    with pytest.raises(ValueError, match="base_momentum"):
        LSTMConfig(base="nag", base_momentum=1.0).validate()
    with pytest.raises(ValueError, match="base_lr"):
        LSTMConfig(base="nag", base_lr=0.0).validate()
    meta = init_meta_params(jax.random.PRNGKey(0))
    with pytest.raises(ValueError, match="needs a config with a base path"):
        with_base(meta, LSTMConfig())
    with pytest.raises(ValueError, match="already have a base path"):
        with_base(with_base(meta, NAG), NAG)
    with pytest.raises(ValueError, match="lstm_weight"):
        with_base(meta, NAG, lstm_weight=0.0)


@pytest.mark.slow
def test_the_meta_gradient_reaches_the_base_learning_rate():
    # One step: the meta-gradient drops the optimizee gradient's dependence on phi (the
    # paper's stop-gradient), which a finite difference over a longer run would keep
    nag = dataclasses.replace(NAG, base_lr=0.005)  # stable on these quadratics
    cfg = dataclasses.replace(preset_config("tiny"), lstm=nag, truncation_length=1)
    params = init_meta_params(jax.random.PRNGKey(1), nag)
    tasks = meta_training_tasks(get_family(cfg.task).sample(jax.random.PRNGKey(2), cfg.batch, cfg.dim), "same")
    carry = zero_carry(tasks.theta0.size, nag.hidden, nag.base)

    def loss(p):
        return truncation_loss(p, tasks.theta0, carry, tasks, 0, cfg=cfg)[0]

    g = jax.grad(loss)(params)["params"]["base_log_lr"]
    shift = lambda d: {**params, "params": {**params["params"],  # noqa: E731
                                            "base_log_lr": params["params"]["base_log_lr"] + d}}
    fd = (loss(shift(1e-2)) - loss(shift(-1e-2))) / 2e-2
    assert abs(float(g)) > 1e-3
    assert float(g) == pytest.approx(float(fd), rel=5e-2)


@pytest.mark.slow
def test_meta_training_with_a_base_path_runs_and_saves_it(tmp_path):
    cfg = dataclasses.replace(preset_config("tiny"), meta_steps=20, chunk=10, lstm=LSTMConfig(base="nag", base_lr=0.01))
    r = metatrain(cfg)
    assert r.meta_steps_done == 20 and np.all(np.isfinite(r.curve["meta_loss"]))
    assert r.curve["meta_loss"][-5:].mean() < r.curve["meta_loss"][:5].mean()
    ck.save_checkpoint(tmp_path / "run", r.params, cfg, summary={"best_step": r.best_step})
    back = ck.load_checkpoint(tmp_path / "run")
    assert back.config.lstm == cfg.lstm
    np.testing.assert_array_equal(back.params["params"]["base_log_lr"], r.params["params"]["base_log_lr"])


@pytest.mark.slow
def test_cli_adds_a_base_path_to_a_checkpoint_without_one(tmp_path, capsys):
    plain, based = tmp_path / "plain", tmp_path / "based"
    assert cli.main(["metatrain", "--preset", "tiny", "--meta-steps", "2", "--out", str(plain), "--json"]) == 0
    capsys.readouterr()
    assert cli.main(["metatrain", "--preset", "tiny", "--meta-steps", "2", "--init-from", str(plain), "--base", "nag",
                     "--base-lr", "0.05", "--init-lstm-weight", "0.5", "--out", str(based), "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert res["config"]["lstm"]["base"] == "nag" and res["config"]["lstm"]["base_lr"] == 0.05
    assert ck.load_checkpoint(based).config.lstm.base == "nag"
    assert cli.main(["compare", "--checkpoint", str(based), "--seed", "7", "--batch", "8", "--json"]) == 0
    assert set(json.loads(capsys.readouterr().out)["final"]) == {"lstm", "sgd", "adam", "rmsprop", "nag"}
    # fine-tuning it with no LSTM settings keeps its base path; dropping the path is refused
    again = tmp_path / "again"
    assert cli.main(["metatrain", "--preset", "tiny", "--meta-steps", "2", "--init-from", str(based),
                     "--out", str(again), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["config"]["lstm"]["base"] == "nag"
    assert cli.main(["metatrain", "--preset", "tiny", "--init-from", str(based), "--base", "none",
                     "--out", str(tmp_path / "z")]) == 2
    assert "is not this run's" in capsys.readouterr().err
    # the weight needs a checkpoint to scale and a base path to add
    assert cli.main(["metatrain", "--preset", "tiny", "--init-lstm-weight", "0.5", "--out", str(tmp_path / "x")]) == 2
    assert "--init-lstm-weight" in capsys.readouterr().err
    assert cli.main(["metatrain", "--preset", "tiny", "--init-from", str(based), "--base", "nag",
                     "--init-lstm-weight", "0.5", "--out", str(tmp_path / "y")]) == 2
    assert "already has a base path" in capsys.readouterr().err


def test_a_fresh_base_path_starts_at_its_familys_rate(tmp_path, capsys):
    # near tuned NAG's on each family: 0.01 on quadratics (1, the networks' rate, diverges there)
    assert get_family("quadratic").base_lr == 0.01 and get_family("digits_mlp").base_lr == 1.0
    out = tmp_path / "q"
    assert cli.main(["metatrain", "--preset", "tiny", "--meta-steps", "2", "--base", "nag", "--out", str(out),
                     "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["config"]["lstm"]["base_lr"] == 0.01
    params = ck.load_checkpoint(out).params["params"]
    assert float(jnp.exp(params["base_log_lr"])) == pytest.approx(0.01, rel=0.2)  # two meta-steps from its start


def test_the_digits_presets_train_with_a_base_path_and_given_settings_go_over_them():
    for preset in ("short", "full"):
        assert preset_config(preset, task="digits_mlp").lstm == LSTMConfig(base="nag", base_lr=1.0)
        assert preset_config(preset).lstm.base == "none"  # quadratics: the paper's optimizer
    assert preset_lstm("digits_mlp", "short", preprocess=None, base=None, base_lr=None) is None  # the preset's
    raw = preset_lstm("digits_mlp", "short", preprocess="raw", base=None, base_lr=None)
    assert raw == LSTMConfig(preprocess="raw", base="nag", base_lr=1.0)  # the preset's base path stays
    assert preset_lstm("digits_mlp", "full", preprocess=None, base="none", base_lr=None).base == "none"
    assert preset_lstm("quadratic", "short", preprocess=None, base="nag", base_lr=None).base_lr == 0.01
    assert preset_lstm("quadratic", "short", preprocess=None, base="nag", base_lr=0.3).base_lr == 0.3


@pytest.mark.slow
def test_the_shipped_digits_optimizer_beats_tuned_nag_in_loss_and_accuracy(capsys):
    assert ck.load_checkpoint(get_family("digits_mlp").default_checkpoint).config.lstm.base == "nag"
    assert cli.main(["compare", "--task", "digits_mlp", "--seed", "3", "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    best = min(v for k, v in res["final"].items() if k != "lstm")
    assert res["final"]["lstm"] <= 0.9 * best, res["final"]
    test = res["test"]
    assert test["lstm"]["test_accuracy"] >= max(test[k]["test_accuracy"] for k in ("nag", "adam")), test


def test_without_a_base_path_the_settings_are_the_clis_so_the_compiled_program_is_shared():
    """The page always passes a base rate (its box); with no base path it is unused and must not
    make a second compiled program beside the command line's."""
    from l2l_core.learned.config import chunk_structure, preset_config, preset_lstm

    page = preset_config("short", task="quadratic", seed=0,
                         lstm=preset_lstm("quadratic", "short", preprocess="log_sign", base="none", base_lr=0.01))
    cli = preset_config("short", task="quadratic", seed=0)
    assert chunk_structure(page) == chunk_structure(cli)
    nag = preset_lstm("digits_mlp", "short", base="nag", base_lr=0.5)
    assert nag.base_lr == 0.5  # a base path keeps its rate
