"""A single task is a family of one: every task of the maps is a batch a learned optimizer runs
on, its losses and gradients those of the task itself (checked against the task's own
value_and_grad and a closed form), and meta-training, compare and the CLI take it by name."""

from __future__ import annotations

import json

import jax
import numpy as np
import pytest
from jax.flatten_util import ravel_pytree

from l2l_core import cli, tasks
from l2l_core.learned.comparison import compare
from l2l_core.learned.config import preset_config
from l2l_core.learned.metatrain import metatrain
from l2l_core.tasks.base import TaskBatch
from l2l_core.tasks.families import TASK_FAMILIES, family_of_one, get_family
from l2l_core.tasks.general import resolve_task


def test_every_batch_kind_is_a_task_batch():
    key = jax.random.PRNGKey(0)
    for name in ("quadratic", "digits_mlp", "rosenbrock", "log_sin", "tanh_net"):
        batch = get_family(name).sample(key, 2)
        assert isinstance(batch, TaskBatch), name
        assert batch.theta0.shape[0] == 2


@pytest.mark.parametrize("name", [n for n in tasks.names("landscape") if n not in TASK_FAMILIES])
def test_every_task_of_the_maps_is_a_family_of_one(name):
    family = get_family(name)
    task = resolve_task(name)
    assert family.kind == "single" and family.eval_batch == 1 and family.params == task.dim
    batch = family.sample(jax.random.PRNGKey(3), 3)
    params0 = jax.tree.map(lambda a: np.asarray(a, np.float32), task.init(0))
    theta0 = ravel_pytree(params0)[0]
    np.testing.assert_array_equal(np.asarray(batch.theta0), np.tile(np.asarray(theta0), (3, 1)))
    losses, grads = batch.losses_and_grads(batch.theta0, 0)
    loss, grad = task.value_and_grad(params0)
    np.testing.assert_allclose(np.asarray(losses), float(loss), rtol=1e-6)
    np.testing.assert_allclose(np.asarray(grads[1]), np.asarray(ravel_pytree(grad)[0]), rtol=1e-5, atol=1e-7)
    assert batch.take(1, 3).theta0.shape == (2, task.dim)


def test_rosenbrock_batch_against_its_closed_form():
    batch = get_family("rosenbrock").sample(jax.random.PRNGKey(0), 2)
    theta = np.array([[-1.2, 1.0], [0.5, -0.25]], np.float32)
    losses, grads = batch.losses_and_grads(theta, 0)
    x, y = theta[:, 0].astype(np.float64), theta[:, 1].astype(np.float64)
    np.testing.assert_allclose(np.asarray(losses), (1 - x) ** 2 + 100 * (y - x * x) ** 2, rtol=1e-5)
    gx = -2 * (1 - x) - 400 * x * (y - x * x)
    gy = 200 * (y - x * x)
    np.testing.assert_allclose(np.asarray(grads), np.stack([gx, gy], 1), rtol=1e-5)
    _, mean_grads = batch.losses_and_grads(theta, 0, "mean")
    np.testing.assert_allclose(np.asarray(mean_grads), np.asarray(grads) / 2, rtol=1e-6)


def test_a_name_gives_one_family_and_a_wrong_one_says_what_exists():
    assert get_family("rosenbrock") is get_family("rosenbrock")  # one loss function: one compiled program
    assert get_family("quadratic").kind == "quadratic"  # the random quadratics, not x^2/2 (parabola)
    assert get_family("parabola").kind == "single"
    assert family_of_one(resolve_task("x**4 - x**2")).params == 1
    with pytest.raises(ValueError, match="choose a family"):
        get_family("no_such_task")


@pytest.mark.slow
def test_meta_training_on_one_task_learns_it(tmp_path):
    cfg = preset_config("tiny", task="rosenbrock")
    assert (cfg.task, cfg.batch, cfg.val_tasks) == ("rosenbrock", 1, 1)
    res = metatrain(cfg)
    meta_loss = np.asarray(res.curve["meta_loss"])
    assert np.isfinite(meta_loss).all() and meta_loss[-1] < meta_loss[0]
    with pytest.raises(ValueError, match="quadratics only"):
        preset_config("tiny", task="rosenbrock", dims=(3, 5))


@pytest.mark.slow
def test_compare_on_one_task_races_the_tuned_baselines():
    res = compare(task="log_sin", steps=20)
    assert res["task"] == "log_sin" and res["batch"] == 1
    assert "dim" not in res and "test" not in res
    assert set(res["final"]) == {"lstm", "sgd", "adam", "rmsprop", "nag"}
    assert res["losses"]["lstm"].shape == (21, 1)
    # the tuned SGD's curve is the task's own gradient descent at that rate
    task = resolve_task("log_sin")
    x = np.float32(task.init(0))
    for _ in range(20):
        x = x - np.float32(res["best_lr"]["sgd"]) * np.float32(task.value_and_grad(x)[1])
    assert res["final"]["sgd"] == pytest.approx(float(task.value_and_grad(x)[0]), rel=1e-3, abs=1e-5)


@pytest.mark.slow
def test_cli_takes_a_task_of_the_maps(capsys):
    assert cli.main(["compare", "--task", "rosenbrock", "--steps", "10", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["task"] == "rosenbrock" and out["batch"] == 1 and out["dim"] is None
    assert cli.main(["compare", "--task", "rosenbrok"]) == 2
    assert "choose a family" in capsys.readouterr().err
    assert cli.main(["compare", "--task", "rosenbrock", "--dim", "5"]) == 2
    assert "quadratics only" in capsys.readouterr().err
