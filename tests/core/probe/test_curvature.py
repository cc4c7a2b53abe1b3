"""Lanczos eigenvalues against numpy.linalg.eigvalsh of a dense float64 Hessian."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from l2l_core.probe import curvature
from l2l_core.probe.run import flat_task, resolve
from l2l_core.tasks.mlp import mlp_task


def _dense_top(loss, theta, k, eigvalsh=True):
    """Every column of the float64 Hessian (one exact Hessian-vector product each, 256 at a time)."""
    with jax.enable_x64(True):
        x = jnp.asarray(theta, jnp.float64)
        cols = jax.jit(jax.vmap(lambda e: curvature.hvp(loss, x, e)))
        eye = np.eye(x.size)
        h = np.concatenate([np.asarray(cols(jnp.asarray(eye[i:i + 256]))) for i in range(0, x.size, 256)])
    h = 0.5 * (h + h.T)
    if eigvalsh:
        return np.linalg.eigvalsh(h)[::-1][:k]
    from scipy.sparse.linalg import eigsh

    return np.sort(eigsh(h, k=k, which="LA", tol=1e-12, v0=np.ones(len(h)))[0])[::-1]


def _network(name):
    if name == "tanh_net":
        flat, loss, _ = flat_task(resolve("tanh_net"), 0)
        return flat, loss
    task = mlp_task(name).subset(64)  # a subsample keeps the dense Hessian quick
    return task.init(0), task.loss


def _check_network(name, eigvalsh):
    flat, loss = _network(name)
    rng = np.random.default_rng(1)
    theta = flat + 0.3 * rng.standard_normal(flat.shape) / np.sqrt(8)  # off the start: no special structure
    want = _dense_top(loss, theta, 3, eigvalsh)
    with jax.enable_x64(True):
        got64 = np.asarray(curvature.top_eigenvalues(loss, jnp.asarray(theta, jnp.float64), k=3))
    got32 = np.asarray(curvature.top_eigenvalues(loss, jnp.asarray(theta, jnp.float32), k=3), np.float64)
    np.testing.assert_allclose(got64, want, rtol=1e-2)
    np.testing.assert_allclose(got32, want, rtol=1e-2)
    assert got64.dtype == np.float64 and np.all(np.diff(got64) <= 0)


@pytest.mark.parametrize("name", ["tanh_net", "digits_mlp"])
def test_top_eigenvalues_match_dense_hessian(name):
    _check_network(name, eigvalsh=True)


def test_top_eigenvalues_match_dense_hessian_fc_tanh_arpack():
    """digits_fc_tanh's 3466 x 3466 Hessian: its top eigenvalues by ARPACK (quick); eigvalsh below is slow."""
    _check_network("digits_fc_tanh", eigvalsh=False)


@pytest.mark.slow
def test_top_eigenvalues_match_dense_hessian_fc_tanh():
    _check_network("digits_fc_tanh", eigvalsh=True)


def test_one_dimensional_task_gives_second_derivative():
    flat, loss, _ = flat_task(resolve("log_sin"), 0, x0=[0.7])
    with jax.enable_x64(True):
        x = jnp.asarray(flat, jnp.float64)
        got = float(curvature.top_eigenvalues(loss, x, k=1)[0])
        want = float(jax.grad(jax.grad(lambda s: loss(jnp.reshape(s, (1,)))))(x[0]))
    assert got == pytest.approx(want, rel=1e-9)


def test_lanczos_exact_with_repeated_eigenvalues():
    """An invariant subspace (a breakdown) restarts; with m = dim every eigenvalue comes out."""
    rng = np.random.default_rng(0)
    q, _ = np.linalg.qr(rng.standard_normal((12, 12)))
    evals = np.array([5.0, 5.0, 5.0, 2.0, 2.0, 1.0, 0.0, 0.0, -1.0, -1.0, -3.0, -3.0])
    a = q @ np.diag(evals) @ q.T
    with jax.enable_x64(True):
        mat = jnp.asarray(a)
        got, ritz = curvature.lanczos_top(lambda v: mat @ v, jnp.ones(12), k=12, iters=12)
        got = np.asarray(got)
    np.testing.assert_allclose(got, np.sort(evals)[::-1], atol=1e-8)
    np.testing.assert_allclose(np.abs(np.asarray(ritz)[0] @ a @ np.asarray(ritz)[0]), 5.0, rtol=1e-8)


def test_bad_k_is_refused():
    with pytest.raises(ValueError, match="k must be"):
        curvature.lanczos_top(lambda v: v, jnp.ones(3), k=5)
