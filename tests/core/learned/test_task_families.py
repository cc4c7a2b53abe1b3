"""Task families beyond quadratics: the bundled datasets, the MLP tasks, mixed-dimension
quadratics, meta-training on digits, compare for every family, the generalization map.

Numbers are checked against independent computations: a float64 numpy forward
pass and its finite differences, the closed-form quadratic gradient, tuned
baselines run separately."""

from __future__ import annotations

import dataclasses
import json
import socket

import jax
import numpy as np
import pytest

from l2l_core import cli
from l2l_core.learned import generalization as gen
from l2l_core.learned.baselines import tune_baseline
from l2l_core.learned.checkpoints import load_checkpoint, save_checkpoint
from l2l_core.learned.config import preset_config
from l2l_core.learned.lstm import init_meta_params
from l2l_core.learned.metatrain import metatrain
from l2l_core.tasks.datasets import DATASETS, load_dataset
from l2l_core.tasks.families import TASK_FAMILIES, TRAINABLE, get_family
from l2l_core.tasks.mlp_families import MLPSpec, sample_mlp_tasks
from l2l_core.tasks.quadratics import losses_and_grads, sample_mixed_tasks
from l2l_core.viz.generalization import generalization_csv, generalization_figure, generalization_rows


@pytest.fixture
def no_network(monkeypatch):
    def refuse(*a, **k):
        raise OSError("network access during a test")

    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


@pytest.mark.parametrize("name,n,d,k", [("digits", 1797, 64, 10), ("wine", 178, 13, 3), ("breast_cancer", 569, 30, 2)])
def test_datasets_load_offline_with_a_fixed_disjoint_split(name, n, d, k, no_network):
    load_dataset.cache_clear()
    ds = load_dataset(name)
    assert ds.x_train.shape[1] == ds.x_test.shape[1] == d and ds.n_classes == k
    assert len(ds.x_train) + len(ds.x_test) == n and len(ds.x_test) == round(0.25 * n)
    assert ds.x_train.dtype == np.float32 and ds.y_train.dtype == np.int32
    assert set(np.unique(ds.y_train)) == set(range(k)) and set(np.unique(ds.y_test)) <= set(range(k))
    # no example in both halves (rows of the raw data are distinct enough to check by value)
    train_rows = {r.tobytes() for r in ds.x_train}
    assert sum(r.tobytes() in train_rows for r in ds.x_test) <= 0.02 * len(ds.x_test)
    if name == "digits":
        assert 0.0 <= ds.x_train.min() and ds.x_train.max() <= 1.0
    else:
        np.testing.assert_allclose(ds.x_train.mean(axis=0), 0.0, atol=1e-5)
    again = load_dataset.__wrapped__(name)
    np.testing.assert_array_equal(again.y_test, ds.y_test)
    with pytest.raises(ValueError, match="unknown dataset"):
        load_dataset("mnist")


def _np_loss(spec: MLPSpec, theta: np.ndarray, x: np.ndarray, y: np.ndarray) -> float:
    """The MLP's cross-entropy written again in float64 numpy."""
    sizes = spec.layer_sizes()
    h, i = x.astype(np.float64), 0
    for layer, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        w = theta[i:i + a * b].reshape(a, b)
        bias = theta[i + a * b:i + a * b + b]
        i += a * b + b
        h = h @ w + bias
        if layer < len(sizes) - 2:
            h = 1 / (1 + np.exp(-h)) if spec.activation == "sigmoid" else np.maximum(h, 0)
    h = h - h.max(axis=1, keepdims=True)
    logp = h - np.log(np.exp(h).sum(axis=1, keepdims=True))
    return float(-logp[np.arange(len(y)), y].mean())


@pytest.mark.slow
@pytest.mark.parametrize("spec", [MLPSpec(), MLPSpec(hidden=(7, 5), activation="relu"), MLPSpec(dataset="wine")])
def test_mlp_losses_and_gradients_match_numpy_and_finite_differences(spec):
    tasks = sample_mlp_tasks(jax.random.PRNGKey(1), 3, dataclasses.replace(spec, batch=16))
    theta = tasks.theta0 + 0.1 * jax.random.normal(jax.random.PRNGKey(2), tasks.theta0.shape)
    assert theta.shape == (3, spec.n_params)
    step = 7
    losses, grads = tasks.losses_and_grads(theta, step, "sum")
    th = np.asarray(theta, np.float64)
    rng = np.random.default_rng(0)
    for b in range(3):
        idx = jax.random.randint(jax.random.fold_in(tasks.keys[b], step), (16,), 0, tasks.x.shape[0])
        xb, yb = np.asarray(tasks.x)[np.asarray(idx)], np.asarray(tasks.y)[np.asarray(idx)]
        assert losses[b] == pytest.approx(_np_loss(spec, th[b], xb, yb), rel=1e-4)
        for j in rng.choice(spec.n_params, 12, replace=False):
            e = np.zeros(spec.n_params)
            e[j] = 1e-5
            fd = (_np_loss(spec, th[b] + e, xb, yb) - _np_loss(spec, th[b] - e, xb, yb)) / 2e-5
            assert grads[b, j] == pytest.approx(fd, rel=2e-2, abs=2e-5)
    full = tasks.final_losses(theta)
    assert full[0] == pytest.approx(_np_loss(spec, th[0], np.asarray(tasks.x), np.asarray(tasks.y)), rel=1e-4)
    np.testing.assert_allclose(tasks.losses_and_grads(theta, step, "mean")[1], grads / 3, rtol=1e-6)
    m = tasks.metrics(theta)
    assert m["test_loss"].shape == m["test_accuracy"].shape == (3,)
    assert np.all((0 <= m["test_accuracy"]) & (m["test_accuracy"] <= 1))
    # fresh initializations and minibatch orders per task seed, the same for the same seed
    other = sample_mlp_tasks(jax.random.PRNGKey(2), 3, spec)
    assert not np.allclose(other.theta0, tasks.theta0)
    np.testing.assert_array_equal(sample_mlp_tasks(jax.random.PRNGKey(1), 3, spec).theta0, tasks.theta0)
    assert not np.allclose(tasks.step_losses(theta, 0), tasks.step_losses(theta, 1))


def test_mixed_dimension_quadratics_are_padded_without_changing_the_loss():
    t = sample_mixed_tasks(jax.random.PRNGKey(0), 8, (2, 5))
    assert t.theta0.shape == (8, 5) and list(np.asarray(t.dims)) == [2, 5] * 4
    theta = t.theta0 + jax.random.normal(jax.random.PRNGKey(1), t.theta0.shape)  # moves the padding too
    losses, grads = t.losses_and_grads(theta)
    for b in (0, 2):  # dimension-2 tasks: exactly their own 2-D problem
        w, y = np.asarray(t.w[b, :2, :2]), np.asarray(t.y[b, :2])
        r = w @ np.asarray(theta[b, :2]) - y
        assert losses[b] == pytest.approx(float(r @ r), rel=1e-5)
        np.testing.assert_allclose(grads[b, :2], 2 * w.T @ r, rtol=1e-4, atol=1e-5)
        np.testing.assert_array_equal(grads[b, 2:], 0.0)
    np.testing.assert_allclose(t.meta_losses(theta), losses * 10 / np.asarray(t.dims), rtol=1e-6)
    np.testing.assert_allclose(t.meta_transform(losses), losses * 10 / np.asarray(t.dims), rtol=1e-6)
    np.testing.assert_allclose(losses, losses_and_grads(theta, t.w, t.y)[0], rtol=1e-6)


@pytest.mark.slow
def test_tiny_digits_metatraining_lowers_the_meta_loss():
    cfg = preset_config("tiny", task="digits_mlp", meta_steps=24, chunk=6)
    r = metatrain(cfg)
    ml = r.curve["meta_loss"]
    assert r.meta_steps_done == 24 and r.stopped is None and np.all(np.isfinite(ml))
    assert ml[-6:].mean() < 0.97 * ml[:6].mean(), ml  # plain minibatch losses (the objective is their log)
    assert r.best_val < r.curve["val_loss"][0]
    assert r.seconds_per_meta_step > 0


def _tiny_checkpoint(tmp_path, task):
    cfg = preset_config("tiny", task=task)
    params = init_meta_params(jax.random.PRNGKey(0), cfg.lstm)
    save_checkpoint(tmp_path / task, params, cfg, {}, {})
    return tmp_path / task


@pytest.mark.slow
@pytest.mark.parametrize("task", TRAINABLE)
def test_compare_json_has_the_same_shape_for_every_task(task, tmp_path, capsys):
    ckpt = _tiny_checkpoint(tmp_path, task)
    assert load_checkpoint(ckpt).config.task == task
    assert cli.main(["compare", "--task", task, "--checkpoint", str(ckpt), "--seed", "3", "--steps", "5",
                     "--batch", "4", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) >= {"initial", "final", "best_lr", "seed", "steps", "batch", "checkpoint", "seconds", "task"}
    assert set(out["final"]) == {"lstm", "sgd", "adam", "rmsprop", "nag"}
    assert set(out["best_lr"]) == {"sgd", "adam", "rmsprop", "nag"}
    assert out["task"] == task and out["steps"] == 5 and out["batch"] == 4 and out["seed"] == 3
    if get_family(task).is_quadratic:
        assert out["dim"] == 10 and "test" not in out
    else:
        assert set(out["test"]) == set(out["final"])
        assert all(0 <= v["test_accuracy"] <= 1 for v in out["test"].values())


@pytest.mark.slow
def test_generalization_cells_are_computed(tmp_path):
    opts = {t: load_checkpoint(_tiny_checkpoint(tmp_path, t)) for t in TRAINABLE}
    res = gen.generalization_map(cells=["quadratic_d20", "wine"], optimizers=opts, batch=4, lr_points=4, seed=5)
    rows = {r["key"]: r for r in res["rows"]}
    assert set(rows) == {"quadratic_d20", "wine"}
    q = rows["quadratic_d20"]
    family = get_family("quadratic")
    tasks = family.tasks_for_seed(5, 4, 20)
    lrs = np.linspace(-4.0, 1.0, 4).astype(np.float32)
    adam = tune_baseline("adam", tasks, 100, lrs)
    assert q["baselines"]["adam"] == pytest.approx(adam["final"], rel=1e-5)
    best = min(q["baselines"].values())
    for c in q["learned"].values():
        if not c["diverged"]:
            assert c["ratio"] == pytest.approx(c["final"] / best, rel=1e-6)
        assert c["verdict"] == ("diverged" if c["diverged"] else "wins" if c["ratio"] < 1 else "loses")
    # a different optimizer gives different cells: nothing is stored
    scaled = dataclasses.replace(opts["quadratic"], params=jax.tree.map(lambda a: a * 0.5, opts["quadratic"].params))
    again = gen.evaluate_cell(gen.CELLS[1], {"quadratic": scaled}, seed=5, batch=4, lr_points=4)
    assert again["learned"]["quadratic"]["final"] != q["learned"]["quadratic"]["final"]
    assert "test_accuracy" in rows["wine"]["learned"]["digits_mlp"]
    fig = generalization_figure(res)
    assert len(fig.data) == len(TRAINABLE) and len(fig.data[0].y) == 2
    table = generalization_rows(res)
    assert len(table) == 2 and generalization_csv(res).count("\n") == 3
    with pytest.raises(ValueError, match="unknown cells"):
        gen.generalization_map(cells=["nope"], optimizers=opts)


def test_registry_names_every_family_and_rejects_unknown_ones():
    assert set(TRAINABLE) <= set(TASK_FAMILIES) and {c.task for c in gen.CELLS} <= set(TASK_FAMILIES)
    assert {"wine", "breast_cancer", "digits"} == set(DATASETS)
    with pytest.raises(ValueError, match="unknown task"):
        get_family("cifar")
    with pytest.raises(ValueError, match="no meta-training presets"):
        preset_config("short", task="wine_mlp")
