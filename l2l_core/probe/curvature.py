"""Curvature of a loss: exact Hessian-vector products and the Lanczos method.

``hvp(loss, theta, v)`` is forward-over-reverse (``jax.jvp`` of ``jax.grad``):
one product costs about two gradients and never forms the Hessian.
:func:`lanczos_top` runs ``m`` Lanczos steps with full reorthogonalization
(classical Gram-Schmidt, twice) from a start vector and returns the top-k Ritz
values, largest first; it is jit-able (``m`` and ``k`` static), works in
float32 and float64, and survives an invariant subspace (a breakdown restarts
from a random vector orthogonal to the basis so far). With ``m`` equal to the
dimension it is exact, which is what a 1-D or 2-D task gets.
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp

#: Lanczos steps when not given (3k + 5 if more): on the project's networks the top eigenvalue agrees with
#: 60 steps to 1e-5 relative from 15 steps on.
DEFAULT_ITERS = 20


def hvp(loss, theta, v):
    """H(theta) v for a scalar ``loss`` of a flat vector ``theta`` (forward-over-reverse)."""
    return jax.jvp(jax.grad(loss), (theta,), (v,))[1]


def lanczos_iters(dim: int, k: int, iters: int | None = None) -> int:
    """The number of Lanczos steps used: ``iters`` (default max(DEFAULT_ITERS, 3k + 5)), at most ``dim``."""
    m = max(DEFAULT_ITERS, 3 * k + 5) if iters is None else int(iters)
    return max(1, min(int(dim), m))


def _orthogonalize(w, basis, mask):
    for _ in range(2):
        w = w - basis.T @ ((basis @ w) * mask)
    return w


def lanczos_traced(matvec, v0, key, *, m: int, k: int):
    """The Lanczos run itself, traceable inside any jitted function (``m`` at most the dimension)."""
    dim, dtype = v0.shape[0], v0.dtype
    tiny = jnp.asarray(jnp.finfo(dtype).eps, dtype) ** 0.75
    basis = jnp.zeros((m, dim), dtype)
    v = v0 / jnp.linalg.norm(v0)
    alphas = jnp.zeros((m,), dtype)
    betas = jnp.zeros((m,), dtype)  # betas[j]: the coupling between steps j and j + 1
    idx = jnp.arange(m)

    def body(j, carry):
        basis, v, alphas, betas = carry
        basis = basis.at[j].set(v)
        w = matvec(v)
        alpha = jnp.vdot(v, w)
        w = _orthogonalize(w, basis, (idx <= j).astype(dtype))
        beta = jnp.linalg.norm(w)
        scale = jnp.maximum(jnp.max(jnp.abs(alphas)), jnp.abs(alpha))
        broke = beta <= tiny * jnp.maximum(scale, 1.0)
        fresh = jax.random.normal(jax.random.fold_in(key, j), (dim,), dtype)
        fresh = _orthogonalize(fresh, basis, (idx <= j).astype(dtype))
        w = jnp.where(broke, fresh, w)
        nxt = w / jnp.maximum(jnp.linalg.norm(w), jnp.finfo(dtype).tiny)
        return basis, nxt, alphas.at[j].set(alpha), betas.at[j].set(jnp.where(broke, 0.0, beta))

    basis, v, alphas, betas = jax.lax.fori_loop(0, m, body, (basis, v, alphas, betas))
    off = betas[: m - 1]
    t = jnp.diag(alphas) + jnp.diag(off, 1) + jnp.diag(off, -1)
    evals, evecs = jnp.linalg.eigh(t)
    top = evals[::-1][:k]
    ritz = (evecs[:, ::-1][:, :k]).T @ basis  # (k, dim) Ritz vectors
    return top, ritz


def lanczos_top(matvec, v0, k: int = 1, iters: int | None = None, key=None):
    """Top-``k`` eigenvalues (largest first) and Ritz vectors (k, dim) of a symmetric operator.

    Args:
      matvec: v -> A v, jax-traceable (a Hessian-vector product); must be hashable for jit
        (a module-level function or a ``functools.partial``), else it is traced anew per call.
      v0: start vector (dim,); its dtype is the computation's.
      k: how many eigenvalues, at most the number of steps.
      iters: Lanczos steps (default :func:`lanczos_iters`).
      key: a PRNG key for restarts after a breakdown (default ``PRNGKey(0)``).
    """
    v0 = jnp.asarray(v0)
    m = lanczos_iters(v0.shape[0], k, iters)
    if not 1 <= k <= m:
        raise ValueError(f"k must be from 1 to {m} (the Lanczos steps), got {k}")
    key = jax.random.PRNGKey(0) if key is None else key
    return _lanczos_jit(matvec, v0, key, m=m, k=int(k))


_lanczos_jit = jax.jit(lanczos_traced, static_argnames=("matvec", "m", "k"))


@partial(jax.jit, static_argnames=("loss", "k", "m"))
def _top_hessian(loss, theta, key, *, k: int, m: int):
    v0 = jax.random.normal(jax.random.fold_in(key, 1), theta.shape, theta.dtype)
    return lanczos_traced(lambda v: hvp(loss, theta, v), v0, key, m=m, k=k)[0]


def top_eigenvalues(loss, theta, k: int = 1, iters: int | None = None, seed: int = 0):
    """Top-``k`` Hessian eigenvalues of ``loss`` (hashable: jit keys on it) at the flat ``theta``, largest
    first, in ``theta``'s dtype (float32 or float64)."""
    theta = jnp.asarray(theta)
    m = lanczos_iters(theta.shape[0], k, iters)
    if not 1 <= k <= m:
        raise ValueError(f"k must be from 1 to {m} (the Lanczos steps), got {k}")
    return _top_hessian(loss, theta, jax.random.PRNGKey(seed), k=int(k), m=m)
