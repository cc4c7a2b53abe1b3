"""Filter normalization and slice cells against an independent float64 numpy recomputation."""

import numpy as np
import pytest

from l2l_core.probe import slices
from l2l_core.probe.run import flat_task, resolve
from l2l_core.tasks.mlp import mlp_task


def _np_loss(task, theta):
    """The MLP's loss in float64 numpy, written from its definition (not from the task's code)."""
    act = {"tanh": np.tanh, "sigmoid": lambda z: 1 / (1 + np.exp(-z))}[task.activation]
    h, i = np.asarray(task.inputs, np.float64), 0
    sizes = task.layer_sizes
    for layer, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        w = theta[i:i + a * b].reshape(a, b)
        i += a * b
        h = h @ w + theta[i:i + b]
        i += b
        if layer < len(sizes) - 2:
            h = act(h)
    y = np.asarray(task.targets, np.float64)
    if task.loss_kind == "mse":
        return 0.5 * np.mean(np.sum((h - y) ** 2, axis=1))
    z = h - h.max(axis=1, keepdims=True)
    logp = z - np.log(np.sum(np.exp(z), axis=1, keepdims=True))
    return -np.mean(logp[np.arange(len(y)), y.argmax(axis=1)])


@pytest.mark.parametrize("name", ["digits_mlp", "digits_fc_tanh"])
def test_filter_normalization(name):
    task = mlp_task(name)
    center = task.init(3) + 0.1
    da, db = slices.filter_normalized(task, center, seed=5)
    assert not np.allclose(da, db)
    i = 0
    for a, b in task.shapes:
        for d in (da, db):
            w_d, w_c = d[i:i + a * b].reshape(a, b), center[i:i + a * b].reshape(a, b)
            np.testing.assert_allclose(np.linalg.norm(w_d, axis=0), np.linalg.norm(w_c, axis=0), rtol=1e-12)
            assert np.all(d[i + a * b:i + a * b + b] == 0.0)  # bias directions are zero
        i += a * b + b
    assert i == task.n_params
    again = slices.filter_normalized(task, center, seed=5)
    np.testing.assert_array_equal(again[0], da)


def test_filter_normalization_of_a_registry_network():
    task = resolve("tanh_net")
    flat, _, sizes = flat_task(task, 0)
    da, _ = slices.filter_normalized(task, flat, seed=0)
    w0_d, w0_c = da[:sizes[0]].reshape(8, 8), flat[:sizes[0]].reshape(8, 8)  # W0 is (out, in): rows
    np.testing.assert_allclose(np.linalg.norm(w0_d, axis=1), np.linalg.norm(w0_c, axis=1), rtol=1e-12)


@pytest.mark.parametrize("name", ["digits_mlp", "digits_fc_tanh"])
def test_slice_cells_match_numpy(name):
    task = mlp_task(name)
    rng = np.random.default_rng(2)
    center = task.init(1) + 0.05 * rng.standard_normal(task.n_params)
    da, db = slices.filter_normalized(task, center, seed=0)
    da = da + 0.01 * rng.standard_normal(task.n_params)  # bias entries too: the shared product must carry them
    a_vals, b_vals = np.linspace(-1, 1, 7), np.linspace(-0.5, 1.5, 5)
    got64 = slices.slice_2d(task, task.loss, center, da, db, a_vals, b_vals, np.float64)
    got32 = slices.slice_2d(task, task.loss, center, da, db, a_vals, b_vals, np.float32)
    assert got64.shape == (5, 7)
    for i, b in enumerate(b_vals):
        for j, a in enumerate(a_vals):
            want = _np_loss(task, center + a * da + b * db)
            assert got64[i, j] == pytest.approx(want, rel=1e-10)
            assert got32[i, j] == pytest.approx(want, rel=1e-4)


def test_generic_slice_and_interpolation():
    task = resolve("tanh_net")
    flat, loss, _ = flat_task(task, 0)
    da, db = slices.filter_normalized(task, flat, 0)
    z = slices.slice_2d(task, loss, flat, da, db, [0.0, 0.5], [-0.5, 0.0], np.float32)
    assert z[1, 0] == pytest.approx(float(loss(flat.astype(np.float32))), rel=1e-6)
    line = slices.interpolation(loss, flat, flat + da, np.array([0.0, 1.0]), np.float32)
    assert line[0] == pytest.approx(z[1, 0], rel=1e-6)
    assert line[1] == pytest.approx(float(loss((flat + da).astype(np.float32))), rel=1e-5)


def test_pca_directions():
    rng = np.random.default_rng(0)
    u = np.linalg.qr(rng.standard_normal((50, 2)))[0].T
    t = np.linspace(0, 1, 30)[:, None]
    path = 3.0 * t * u[0] + 0.5 * np.sin(6 * t) * u[1] + 1e-4 * rng.standard_normal((30, 50))
    dirs, explained, coords = slices.pca_directions(path)
    assert explained.sum() == pytest.approx(1.0, abs=1e-6) and explained[0] > explained[1]
    np.testing.assert_allclose(np.linalg.norm(u @ dirs.T, axis=1), 1.0, atol=1e-3)  # they span the path's plane
    np.testing.assert_allclose(dirs @ dirs.T, np.eye(2), atol=1e-12)
    np.testing.assert_allclose(coords, (path - path[-1]) @ dirs.T)
    np.testing.assert_allclose(coords[-1], 0.0)


def test_slice_refusals():
    with pytest.raises(ValueError, match="slice size"):
        slices.check_slice(1, 1.0)
    with pytest.raises(ValueError, match="slice size"):
        slices.check_slice(slices.MAX_SLICE + 1, 1.0)
    with pytest.raises(ValueError, match="slice span"):
        slices.check_slice(5, 0.0)
